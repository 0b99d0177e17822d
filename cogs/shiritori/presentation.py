"""How rounds look in Discord: message text, embeds, charts and attachments.

Pure functions of events, settings and statistics; nothing here sends anything. Echoed
text goes through ``safe`` (no mentions, no markdown), and every length stays inside
Discord's limits.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections import Counter
from pathlib import Path

import discord

from bot.rounds.events import RoundEnded, SeatInfo, TurnJudged
from bot.rounds.settings import ChannelSettings
from bot.rounds.state import RoundState
from bot.surfaces.messages import describe, morae_text, shorten, with_reading

ORANGE = discord.Colour(0xF39800)
REPLY_PREVIEW = 200  # characters of a model's reply shown under its word
UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's limit for servers without boosts
MAX_ATTACHMENTS = 10


def safe(text: str) -> str:
    """Echoed text: no mentions, no markdown (the message also allows no mentions)."""
    return discord.utils.escape_markdown(discord.utils.escape_mentions(text))


# A reply that ended without a move (bot/players/finish.py), said in both languages.
NO_ANSWER_WORDS = {
    "truncated": "途中で切れました (the reply was cut short)",
    "refused": "回答を拒否しました (the model refused)",
    "filtered": "フィルタされました (the reply was filtered)",
    "error": "生成エラー (the provider failed mid-reply)",
}


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (runs of whitespace as one space), at most ``limit`` long."""
    return shorten(" ".join(text.split()), limit)


def turn_text(event: TurnJudged) -> str:
    """A model's (or a person's rejected) move: name, word (reading), verdict, next mora."""
    name = f"**{safe(event.seat.name)}**"
    if event.outcome == "no_answer":
        code = event.no_answer_reason or ""
        reason = NO_ANSWER_WORDS.get(code) or one_line(code, 120)
        return f"⚠️ {name}: 応答なし (no answer) — {safe(reason)}"
    if event.outcome == "left":
        return f"🚪 {name} が抜けました (left the round)"
    if event.word is None and "timeout" in event.violations:
        return f"⌛ {name}: {describe(event.violations)}"
    parts = [name]
    if event.word:
        parts.append(safe(with_reading(event.word, event.reading, quoted=True)))
    if event.outcome == "accepted":
        parts.append(f"✅ 次は {morae_text(event.next)}")
    else:
        parts.append(f"❌ {describe(event.violations)}")
    line = " ".join(parts)
    raw = (event.raw_text or "").strip()
    # The reply is shown (shortened) when it says more than the word itself.
    if raw and raw.strip("「」『』*\"' 。") != event.word and event.seat.kind == "model":
        line += f"\n-# {safe(one_line(raw, REPLY_PREVIEW))}"
    return line


REASONS = {
    "last_seat_standing": "最後の一人 (last seat standing)",
    "sudden_death": "一発勝負 (sudden death)",
    "max_turns": "手数の上限 (turn limit)",
    "no_seats_left": "全員脱落 (no seats left)",
    "finished": "終了 (finished)",
}


def reason_text(reason: str) -> str:
    """Why a round ended, in Japanese and English (a stopper is shown, never pinged)."""
    if reason in REASONS:
        return REASONS[reason]
    if reason.startswith("stopped by ") and reason[11:].isdigit():
        return f"中止 (stopped by <@{reason[11:]}>)"  # embeds never ping
    return safe(one_line(reason, 100))


def summary_embed(event: RoundEnded, seats: tuple[SeatInfo, ...]) -> discord.Embed:
    """The round's end: winner, turns, reason, each seat's violations."""
    stopped = event.status != "finished"
    embed = discord.Embed(
        title="🍊 おしまい / Round over" + ("（中止 / stopped）" if stopped else ""),
        colour=ORANGE,
    )
    winner = safe(event.winner.name) if event.winner else "なし (none)"
    embed.add_field(name="勝者 / Winner", value=winner, inline=True)
    embed.add_field(name="手数 / Turns", value=str(event.turns), inline=True)
    embed.add_field(name="終了理由 / Reason", value=reason_text(event.reason), inline=True)
    lines = []
    for seat in seats:
        codes = event.violations.get(seat.name, ())
        if codes:
            text = "、".join(
                describe((c,)) + (f" ×{n}" if n > 1 else "") for c, n in Counter(codes).items()
            )
        else:
            text = "反則なし (no violations)"
        lines.append(f"**{safe(seat.name)}**: {text}")
    embed.add_field(
        name="反則 / Violations", value=shorten("\n".join(lines), 1024) or "—", inline=False
    )
    embed.set_footer(text=f"round #{event.round_id}")
    return embed


def needed_permissions(perms: discord.Permissions, in_thread: bool) -> list[str]:
    """What the bot lacks to run a round in this channel (Japanese, English)."""
    missing = []
    post = perms.send_messages_in_threads if in_thread else perms.send_messages
    for ok, name in (
        (perms.view_channel, "チャンネルを見る (View Channel)"),
        (post, "メッセージを送信 (Send Messages)"),
        (perms.embed_links, "埋め込みリンク (Embed Links)"),
        (perms.add_reactions, "リアクションの追加 (Add Reactions)"),
        (perms.read_message_history, "メッセージ履歴を読む (Read Message History)"),
    ):
        if not ok:
            missing.append(name)
    return missing


def rules_embed(s: ChannelSettings, *, saved: bool) -> discord.Embed:
    """A channel's round settings as an embed."""
    title = "ルールを保存しました / rules saved" if saved else "このチャンネルのルール / rules"
    embed = discord.Embed(title=title, colour=ORANGE)
    r = s.rules
    embed.add_field(name="mode", value=s.mode)
    embed.add_field(name="lang", value=s.prompt_lang)
    embed.add_field(name="start_word", value=safe(s.start_word))
    embed.add_field(name="small_kana", value=r.small_kana)
    embed.add_field(name="long_vowel", value=r.long_vowel)
    embed.add_field(name="dakuten", value=r.dakuten)
    embed.add_field(name="dictionary", value=str(r.dictionary).lower())
    embed.add_field(name="min_mora", value=str(r.min_mora))
    embed.add_field(name="compounds", value=r.compounds)
    embed.add_field(name="pacing_s", value=f"{s.pacing_s:g}")
    embed.add_field(name="turn_timeout_s", value=f"{s.person_timeout_s:g}")
    embed.add_field(name="max_turns", value=str(s.max_turns))
    embed.add_field(name="pushback", value=str(s.pushback).lower())
    embed.add_field(name="admin_role", value=f"<@&{s.admin_role_id}>" if s.admin_role_id else "—")
    return embed


def status_lines(round_id: int | None, state: RoundState) -> str:
    """``/shiritori status`` for a round in play: seats, whose turn, the last word."""
    lines = [f"**round #{round_id}** · {state.spec.mode} · {state.next_idx} 手"]
    current = state.current()
    for seat in state.seats:
        mark = "▶" if seat is current and not state.over else "・"
        status = "" if seat.playing else f" ({seat.status}: {seat.out_reason})"
        lines.append(f"{mark} {safe(seat.spec.name)}{status}")
    last = state.last_word or "—"
    lines.append(f"前の言葉 (last word): 「{safe(last)}」 → 次は {morae_text(state.allowed())}")
    return "\n".join(lines)


def chart_png(result: dict) -> bytes:
    """The statistics chart as PNG bytes (matplotlib: run it in a thread)."""
    from bot.research.charts import draw

    with tempfile.TemporaryDirectory(prefix="mikan-chart-") as tmp:
        return draw(result, Path(tmp) / "chart.png").read_bytes()


def attachable(folder: Path, limit: int) -> list[Path] | None:
    """The export's files if they fit one message, else one zip of them, else None."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if sum(p.stat().st_size for p in files) <= limit and len(files) <= MAX_ATTACHMENTS:
        return files
    archive = folder / "mikan-export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.name)
    return [archive] if archive.stat().st_size <= limit else None


def _reasons(group: dict) -> str:
    """The no_answer turns by reason, where there are any: ' (truncated 3, refused 1)'."""
    counts = [f"{r} {w['k']}" for r, w in group.get("no_answer_by_reason", {}).items() if w["k"]]
    return f" ({', '.join(counts)})" if counts else ""


def stats_embed(result: dict) -> discord.Embed:
    """Per-model statistics (up to 20 groups), every rate with its 95% interval."""
    from bot.research.charts import ROW
    from bot.research.stats import pct

    embed = discord.Embed(title="🍊 しりとり統計 / statistics", colour=ORANGE)
    for g in result["groups"][:20]:
        after_row = g["ends_with_n_by_required"].get(ROW)
        intent = "; ".join(f"{k} {pct(w, ci=False)}" for k, w in g["intent"].items()) or "—"
        value = "\n".join(
            [
                f"{g['rounds']} rounds · {g['turns']} turns",
                f"反則 (violation): {pct(g['violation_any'])}",
                f"「ん」で終わる (ends in ん): {pct(g['ends_with_n'])}",
                f"「{ROW}」のあと (after {ROW}): {pct(after_row) if after_row else '—'}",
                f"intent: {intent}",
                f"応答なし (no answer): {pct(g['no_answer'])}" + _reasons(g),
            ]
        )
        name = f"{g['player']} · {g['model'] or '?'} · {g['prompt_lang']}"
        embed.add_field(name=safe(name)[:256], value=value[:1024], inline=False)
    embed.set_footer(text="rates with 95% Wilson intervals (k/n)")
    return embed
