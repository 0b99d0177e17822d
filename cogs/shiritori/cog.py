"""``/shiritori``: the commands, and the listener for people's words.

What a command does to a channel's lobby or round goes through ``ChannelRounds``
(``session``); how it looks in Discord is ``presentation``. The cog depends on the bot
only through the ``Host`` protocol, and resumes rounds in ``cog_load``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.players.roster import PlayerConfig
from bot.rounds import settings as channel_settings
from bot.rounds.engine import SubmitResult
from bot.rounds.settings import ChannelSettings, SettingsError
from cogs.checks import is_round_admin, round_admin
from cogs.host import Host
from cogs.replies import UserError, respond
from cogs.shiritori.presentation import (
    UPLOAD_LIMIT,
    attachable,
    chart_png,
    needed_permissions,
    rules_embed,
    safe,
    stats_embed,
    status_lines,
)
from cogs.shiritori.session import ChannelRounds, Lobby, Session

log = logging.getLogger(__name__)

MAX_PEOPLE = 8
DEFAULT_JOIN_S = 60
RULE_OPTIONS = ("small_kana", "long_vowel", "dakuten", "dictionary", "min_mora", "compounds")


def parse_keys(text: str | None) -> list[str]:
    """Roster keys from a list separated by commas, 、, ， or spaces."""
    return [k for k in re.split(r"[\s,、，]+", text or "") if k]


def given(**options: object) -> dict[str, object]:
    """The options a command was given (Discord omits the rest; they arrive as None)."""
    return {k: v for k, v in options.items() if v is not None}


def parse_since(text: str | None) -> str | None:
    """A ``since`` option as an ISO date, or None; anything else is a ``UserError``."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError as exc:
        raise UserError(
            f"since は 2026-11-01 のような日付で指定してください。(since must be a date: {text!r})"
        ) from exc


class Shiritori(commands.Cog):
    """Rounds in channels."""

    group = app_commands.Group(
        name="shiritori",
        description="しりとり: モデルと人の対戦 (shiritori rounds between models and people)",
        guild_only=True,
    )

    def __init__(self, bot: Host) -> None:
        self.bot = bot
        self.rounds = ChannelRounds(bot)

    async def cog_load(self) -> None:
        """Resume the rounds left running, once the bot's resources are open."""
        if self.bot.hosting:
            await self.rounds.resume()

    async def cog_unload(self) -> None:
        """Cancel every lobby and round; rounds stay ``running`` and resume later."""
        await self.rounds.close_all()

    # -- people's words ---------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Hand a person's message to the round in its channel (chat and others ignored)."""
        if message.author.bot or message.guild is None:
            return
        entry = self.rounds.get(message.channel.id)
        if not isinstance(entry, Session):
            return
        uid = str(message.author.id)
        if entry.engine.submit(uid, message.content) is SubmitResult.ACCEPTED:
            entry.surface.submitted(uid, message.id)
        # Out of turn, chat (//) and people outside the round: left alone.

    # -- helpers ----------------------------------------------------------------------
    def _pick(self, keys: list[str]) -> list[PlayerConfig]:
        roster = self.bot.roster
        unknown = [k for k in keys if k not in roster.players]
        if unknown:
            raise UserError(
                f"ロスターにないプレイヤー: {', '.join(map(safe, unknown))}\n"
                f"(unknown player; the roster has: {', '.join(roster.players) or 'none'} — "
                "`/shiritori players`)"
            )
        if len(set(keys)) != len(keys):
            raise UserError("同じプレイヤーは一度だけ指定できます。(Name each player once.)")
        missing = [roster.players[k] for k in keys if not roster.players[k].key_configured()]
        if missing:
            envs = ", ".join(f"`{c.api_key_env}`" for c in missing)
            raise UserError(
                f"APIキーが未設定です: {', '.join(c.key for c in missing)}。ボットの環境変数 "
                f"{envs} を設定して再起動してください。\n(Missing API key: set {envs} in the "
                "bot's environment and restart it.)"
            )
        return [roster.players[k] for k in keys]

    async def _settings(self, channel_id: int | None) -> ChannelSettings:
        return await channel_settings.load(self.bot.db, str(channel_id))

    # -- commands ---------------------------------------------------------------------
    @group.command(name="start", description="ラウンドを始める (start a round in this channel)")
    @app_commands.describe(
        players="参加するモデル: ロスターのキーをカンマ区切りで (roster keys, comma-separated)",
        people="人の参加枠。/shiritori join で参加 (seats for people; they /join)",
        join_s="参加受付の秒数 (seconds to wait for people)",
        mode="elimination: 反則で脱落 / sudden_death: 最初の反則で終わり",
        lang="モデルへのプロンプトの言語 (prompt language)",
        start_word="最初の言葉 (start word)",
        small_kana="きしゃ → や / しゃ / either",
        long_vowel="コーヒー → ひ (previous) / い (vowel)",
        dakuten="lenient: は・ば・ぱ を同じとみなす",
        dictionary="辞書にある名詞だけ (nouns the dictionary knows only)",
        min_mora="最短の音数 (minimum morae)",
        compounds="dictionary: 辞書の見出し語だけ / analysed: 名詞の組み合わせも可",
    )
    @round_admin
    async def start(
        self,
        interaction: discord.Interaction,
        players: str | None = None,
        people: app_commands.Range[int, 0, MAX_PEOPLE] | None = None,
        join_s: app_commands.Range[int, 10, 600] = DEFAULT_JOIN_S,
        mode: Literal["elimination", "sudden_death"] | None = None,
        lang: Literal["ja", "en"] | None = None,
        start_word: app_commands.Range[str, 1, 20] | None = None,
        small_kana: Literal["enlarge", "whole", "either"] | None = None,
        long_vowel: Literal["previous", "vowel"] | None = None,
        dakuten: Literal["strict", "lenient"] | None = None,
        dictionary: bool | None = None,
        min_mora: app_commands.Range[int, 1, 10] | None = None,
        compounds: Literal["dictionary", "analysed"] | None = None,
    ) -> None:
        """Start a round here, or open a lobby for people (round admins)."""
        channel_id = interaction.channel_id
        assert channel_id is not None
        in_thread = isinstance(interaction.channel, discord.Thread)
        missing = needed_permissions(interaction.app_permissions, in_thread)
        if missing:
            raise UserError(
                "ボットにこのチャンネルでの権限が足りないので始められません: "
                + "、".join(missing)
                + "\n(The bot lacks these permissions in this channel; the round did not start.)"
            )
        if self.rounds.get(channel_id) is not None:
            raise UserError(
                "このチャンネルではもうラウンドが進行中です。`/shiritori status` で確認、"
                "`/shiritori stop` で終了。(A round is already running here.)"
            )
        models = self._pick(parse_keys(players))
        wanted = people if people is not None else (0 if models else 2)
        if len(models) + wanted < 2:
            raise UserError(
                "二人以上必要です: players にモデルを、または people に人数を。"
                "(A round needs two or more seats: name players or set people.)"
            )
        changes = given(
            mode=mode,
            prompt_lang=lang,
            start_word=start_word,
            small_kana=small_kana,
            long_vowel=long_vowel,
            dakuten=dakuten,
            dictionary=dictionary,
            min_mora=min_mora,
            compounds=compounds,
        )
        try:
            s = (await self._settings(channel_id)).updated(**changes)
        except SettingsError as exc:
            raise UserError(f"オプションが正しくありません: {exc}") from exc
        if self.bot.referee.reading_of(s.start_word) is None:
            raise UserError(
                f"最初の言葉「{safe(s.start_word)}」が読めません。かなで指定してください。"
                "(The start word has no reading; give it in kana.)"
            )
        guild_id = interaction.guild_id
        names = "、".join(safe(c.name) for c in models) or "—"
        if wanted:
            self.rounds.open_lobby(Lobby(channel_id, guild_id, models, s, wanted, join_s))
            await respond(
                interaction,
                f"🍊 しりとりの参加者を募集中 / recruiting: `/shiritori join` で参加 "
                f"（人 {wanted} 人・{join_s} 秒まで）\nモデル (models): {names}",
                ephemeral=False,
            )
            return
        await respond(interaction, f"🍊 ラウンドを始めます / starting: {names}", ephemeral=False)
        await self.rounds.begin(channel_id, guild_id, models, {}, s)

    @start.autocomplete("players")
    async def _players_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = parse_keys(current)
        done = typed[:-1] if current and not current.endswith((",", " ")) else typed
        last = "" if len(done) == len(typed) else typed[-1]
        prefix = ",".join(done)
        out = []
        for key in self.bot.roster.players:
            if key in done or not key.startswith(last):
                continue
            value = f"{prefix},{key}" if prefix else key
            out.append(app_commands.Choice(name=value[:100], value=value[:100]))
        return out[:25]

    @group.command(name="join", description="募集中のラウンドに参加 (join the round being set up)")
    async def join(self, interaction: discord.Interaction) -> None:
        """Take a seat in the lobby recruiting in this channel."""
        entry = self.rounds.get(interaction.channel_id)
        if isinstance(entry, Session):
            raise UserError(
                "ラウンドは進行中です。途中参加はできないので、次のラウンドでどうぞ。"
                "(A round is in progress; join the next one.)"
            )
        if entry is None:
            raise UserError(
                "募集中のラウンドはありません。"
                "管理者が `/shiritori start people:1` で募集できます。"
                "(No round is recruiting here.)"
            )
        uid = str(interaction.user.id)
        if uid in entry.people:
            raise UserError("もう参加しています。(You have already joined.)")
        if len(entry.people) >= entry.wanted:
            raise UserError("満員です。(The round is full.)")
        entry.people[uid] = interaction.user.display_name
        await respond(
            interaction,
            f"✋ **{safe(interaction.user.display_name)}** が参加 "
            f"({len(entry.people)}/{entry.wanted})",
            ephemeral=False,
        )
        if len(entry.people) >= entry.wanted:
            entry.full.set()

    @group.command(name="leave", description="ラウンドから抜ける (leave the round)")
    async def leave(self, interaction: discord.Interaction) -> None:
        """Leave the lobby at once, or the round at your turn."""
        entry = self.rounds.get(interaction.channel_id)
        uid = str(interaction.user.id)
        if isinstance(entry, Lobby) and uid in entry.people:
            del entry.people[uid]
            await respond(interaction, "参加を取り消しました。(You left the lobby.)")
            return
        if isinstance(entry, Session) and entry.engine.leave(uid):
            await respond(interaction, "あなたの番で抜けます。(You leave the round at your turn.)")
            return
        raise UserError(
            "このチャンネルのラウンドに参加していません。(You are not in a round here.)"
        )

    @group.command(name="status", description="このチャンネルのラウンドの様子 (round status)")
    async def status(self, interaction: discord.Interaction) -> None:
        """Show this channel's lobby or round (ephemeral)."""
        entry = self.rounds.get(interaction.channel_id)
        if entry is None:
            await respond(interaction, "このチャンネルでは何も進行していません。(No round here.)")
            return
        if isinstance(entry, Lobby):
            joined = "、".join(safe(n) for n in entry.people.values()) or "—"
            models = "、".join(safe(c.name) for c in entry.models) or "—"
            await respond(
                interaction,
                f"募集中 (recruiting): models {models} · people {joined} "
                f"({len(entry.people)}/{entry.wanted})",
            )
            return
        await respond(interaction, status_lines(entry.engine.round_id, entry.engine.state))

    @group.command(name="stop", description="ラウンドを止める (stop the round)")
    @round_admin
    async def stop(self, interaction: discord.Interaction) -> None:
        """Cancel the lobby, or stop the round after the current turn (round admins)."""
        entry = self.rounds.get(interaction.channel_id)
        if entry is None:
            raise UserError("止めるラウンドがありません。(No round here.)")
        if isinstance(entry, Lobby):
            self.rounds.cancel_lobby(entry)
            await respond(
                interaction, "🛑 募集を取り消しました。(Recruiting cancelled.)", ephemeral=False
            )
            return
        entry.engine.stop(f"stopped by {interaction.user.id}")
        await respond(
            interaction,
            "🛑 今の手のあとで止めます。(Stopping after the current turn.)",
            ephemeral=False,
        )

    @group.command(
        name="rules",
        description="このチャンネルの既定のルール (channel defaults)",
        extras={"access": "anyone views; changing needs Manage Server or the admin role"},
    )
    @app_commands.describe(
        mode="elimination / sudden_death",
        lang="プロンプトの言語 (prompt language)",
        start_word="最初の言葉 (start word)",
        small_kana="きしゃ → や / しゃ / either",
        long_vowel="コーヒー → ひ (previous) / い (vowel)",
        dakuten="lenient: は・ば・ぱ を同じとみなす",
        dictionary="辞書にある名詞だけ (nouns only)",
        min_mora="最短の音数 (minimum morae)",
        compounds="dictionary: 辞書の見出し語だけ / analysed: 名詞の組み合わせも可",
        pacing_s="モデルの手の間隔・秒 (seconds between model turns)",
        turn_timeout_s="人の持ち時間・秒 (a person's time per turn)",
        max_turns="最大手数 (turn limit)",
        pushback="反則のあと「いやいや」プローブも (also the pushback probe)",
        admin_role="start/stop/export を使える役職 (role that may start/stop/export)",
        reset="既定値に戻す (reset to defaults)",
    )
    async def rules(
        self,
        interaction: discord.Interaction,
        mode: Literal["elimination", "sudden_death"] | None = None,
        lang: Literal["ja", "en"] | None = None,
        start_word: app_commands.Range[str, 1, 20] | None = None,
        small_kana: Literal["enlarge", "whole", "either"] | None = None,
        long_vowel: Literal["previous", "vowel"] | None = None,
        dakuten: Literal["strict", "lenient"] | None = None,
        dictionary: bool | None = None,
        min_mora: app_commands.Range[int, 1, 10] | None = None,
        compounds: Literal["dictionary", "analysed"] | None = None,
        pacing_s: app_commands.Range[float, 0, 30] | None = None,
        turn_timeout_s: app_commands.Range[float, 3, 600] | None = None,
        max_turns: app_commands.Range[int, 2, 1000] | None = None,
        pushback: bool | None = None,
        admin_role: discord.Role | None = None,
        reset: bool = False,
    ) -> None:
        """Show this channel's defaults; change them (round admins)."""
        channel_id = interaction.channel_id
        changes = given(
            mode=mode,
            prompt_lang=lang,
            start_word=start_word,
            small_kana=small_kana,
            long_vowel=long_vowel,
            dakuten=dakuten,
            dictionary=dictionary,
            min_mora=min_mora,
            compounds=compounds,
            pacing_s=pacing_s,
            person_timeout_s=turn_timeout_s,
            max_turns=max_turns,
            pushback=pushback,
            admin_role_id=str(admin_role.id) if admin_role else None,
        )
        current = await self._settings(channel_id)
        if changes or reset:
            await is_round_admin(interaction)  # viewing is open; changing is not
            if start_word is not None and self.bot.referee.reading_of(start_word) is None:
                raise UserError(f"「{safe(start_word)}」が読めません。(No reading for that word.)")
            try:
                current = (ChannelSettings() if reset else current).updated(**changes)
            except SettingsError as exc:
                raise UserError(f"オプションが正しくありません: {exc}") from exc
            gid = str(interaction.guild_id) if interaction.guild_id else None
            await channel_settings.save(self.bot.db, str(channel_id), gid, current)
        await respond(interaction, embed=rules_embed(current, saved=bool(changes or reset)))

    @group.command(name="players", description="ロスターのプレイヤー (the roster; never keys)")
    async def players(self, interaction: discord.Interaction) -> None:
        """List the roster and whether each key is set (never a key)."""
        lines = []
        for cfg in self.bot.roster.players.values():
            if not cfg.api_key_env:
                key = "キー不要 (no key needed)"
            elif cfg.key_configured():
                key = "✅ キー設定済み (key configured)"
            else:
                key = f"❌ `{cfg.api_key_env}` 未設定 (not set)"
            model = f" · `{safe(cfg.model)}`" if cfg.model else ""
            lines.append(f"**{safe(cfg.key)}** ({safe(cfg.name)}) · {cfg.provider}{model} · {key}")
        text = "\n".join(lines) or "ロスターが空です。(The roster is empty.)"
        await respond(interaction, text[:1990])

    @group.command(name="stats", description="このチャンネルの統計と図 (channel statistics)")
    @app_commands.describe(
        player="このプレイヤーだけ (one roster key)", since="この日以降 (YYYY-MM-DD)"
    )
    async def stats(
        self, interaction: discord.Interaction, player: str | None = None, since: str | None = None
    ) -> None:
        """Post this channel's statistics and chart."""
        from bot.research import stats as stats_mod
        from storage.queries import Scope

        scope = Scope(
            channel_id=str(interaction.channel_id), since=parse_since(since), player=player
        )
        await interaction.response.defer(thinking=True)
        result = await asyncio.to_thread(stats_mod.compute, self.bot.db.path, scope)
        if not result["groups"]:
            await respond(
                interaction,
                "まだ記録がありません。(No model turns recorded here yet.)",
                ephemeral=False,
            )
            return
        png = await asyncio.to_thread(chart_png, result)
        embed = stats_embed(result)
        embed.set_image(url="attachment://mikan-stats.png")
        await respond(
            interaction,
            embed=embed,
            file=discord.File(io.BytesIO(png), "mikan-stats.png"),
            ephemeral=False,
        )

    @group.command(name="export", description="記録を書き出す (export records as files)")
    @app_commands.describe(format="csv (tables) / jsonl (transcripts)", since="YYYY-MM-DD")
    @round_admin
    async def export(
        self,
        interaction: discord.Interaction,
        format: Literal["csv", "jsonl"] = "csv",
        since: str | None = None,
    ) -> None:
        """Attach this channel's records as CSV or JSONL (round admins, ephemeral)."""
        from bot.research.export import export as export_files
        from storage.queries import Scope

        scope = Scope(channel_id=str(interaction.channel_id), since=parse_since(since))
        await interaction.response.defer(ephemeral=True, thinking=True)
        limit = interaction.guild.filesize_limit if interaction.guild else UPLOAD_LIMIT
        with tempfile.TemporaryDirectory(prefix="mikan-export-") as tmp:
            counts = await asyncio.to_thread(export_files, self.bot.db.path, tmp, format, scope)
            files = await asyncio.to_thread(attachable, Path(tmp), limit)
            summary = ", ".join(f"{k} {v}" for k, v in counts.items())
            if files is None:
                await respond(
                    interaction,
                    f"ファイルが大きすぎて添付できません ({summary})。ボットのホストで "
                    f"`mikan export --channel {interaction.channel_id} --format {format} "
                    "--out DIR` を使ってください。\n(Too large for a Discord upload; export "
                    "on the bot's host with that command.)",
                )
                return
            await respond(
                interaction,
                f"📦 {format} export: {summary}",
                files=[discord.File(p, p.name) for p in files],
            )
