"""``/shiritori``: rounds in channels. One round (or lobby) per channel, each a task held
in ``self.channels`` with a done-callback that logs; all cancelled in ``cog_unload``
(the rounds stay ``running`` in the database and resume at the next start)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import secrets
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import settings as channel_settings
from bot.engine import RoundEngine, RoundSetupError, SubmitResult
from bot.messages import morae_text
from bot.roster import PlayerConfig
from bot.rounds import RoundSpec, SeatSpec
from bot.settings import ChannelSettings, SettingsError
from cogs.channel import ORANGE, ChannelSurface, safe
from cogs.checks import is_round_admin, round_admin
from cogs.replies import UserError, respond

if TYPE_CHECKING:
    from bot.client import MikanBot

log = logging.getLogger(__name__)

MAX_PEOPLE = 8
DEFAULT_JOIN_S = 60
UPLOAD_LIMIT = 10 * 1024 * 1024  # Discord's limit for servers without boosts
MAX_ATTACHMENTS = 10
RULE_OPTIONS = ("small_kana", "long_vowel", "dakuten", "dictionary", "min_mora")


@dataclass(eq=False)
class Lobby:
    """A round waiting for people to ``/shiritori join``."""

    channel_id: int
    guild_id: int | None
    models: list[PlayerConfig]
    settings: ChannelSettings
    wanted: int
    join_s: int
    people: dict[str, str] = field(default_factory=dict)  # user id -> display name
    full: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class Session:
    engine: RoundEngine
    surface: ChannelSurface
    task: asyncio.Task[object] | None = None


def parse_keys(text: str | None) -> list[str]:
    return [k for k in re.split(r"[\s,、，]+", text or "") if k]


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


def given(**options: object) -> dict[str, object]:
    """The options a command was given (Discord omits the rest; they arrive as None)."""
    return {k: v for k, v in options.items() if v is not None}


def parse_since(text: str | None) -> str | None:
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

    def __init__(self, bot: MikanBot) -> None:
        self.bot = bot
        self.channels: dict[int, Lobby | Session] = {}
        self._notices: set[asyncio.Task[object]] = set()

    async def cog_unload(self) -> None:
        tasks = [e.task for e in self.channels.values() if e.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for entry in self.channels.values():
            if isinstance(entry, Session):
                entry.surface.close()
        self.channels.clear()

    # -- rounds as tasks --------------------------------------------------------------
    def _launch(self, channel_id: int, engine: RoundEngine, surface: ChannelSurface) -> Session:
        session = Session(engine, surface)
        surface.on_unavailable = lambda reason: engine.stop(reason)
        task = asyncio.create_task(
            engine.run(interrupt_on_cancel=False), name=f"round-{engine.round_id}"
        )
        session.task = task
        self.channels[channel_id] = session
        task.add_done_callback(lambda t: self._round_done(channel_id, session, t))
        return session

    def _round_done(self, channel_id: int, session: Session, task: asyncio.Task[object]) -> None:
        if self.channels.get(channel_id) is session:
            del self.channels[channel_id]
        session.surface.close()
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            log.info("round %s in channel %s ended", session.engine.round_id, channel_id)
            return
        log.error(
            "round %s in channel %s failed", session.engine.round_id, channel_id, exc_info=exc
        )
        # Committed turns are safe; the round stays running and resumes at the next start.
        self._notice(
            session.surface.send(
                "⚠️ 内部エラーでラウンドが止まりました。"
                "記録は保存済みで、ボットの再起動で再開します。"
                "\n(The round stopped on an internal error; its records are saved and it resumes "
                "when the bot restarts.)"
            )
        )

    def _notice(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def _surface(self, channel_id: int, guild_id: int | None) -> ChannelSurface:
        return ChannelSurface(self.bot.get_partial_messageable(channel_id, guild_id=guild_id))

    async def resume_rounds(self) -> list[int]:
        """Carry on every Discord round that was running when the bot stopped."""
        resumed = []
        for row in await self.bot.db.unfinished_rounds("discord"):
            if not row["channel_id"]:
                continue
            channel_id = int(row["channel_id"])
            guild_id = int(row["guild_id"]) if row["guild_id"] else None
            surface = self._surface(channel_id, guild_id)
            try:
                engine = await RoundEngine.resume(
                    self.bot.db, row["id"], self.bot.players.adapters, surface, self.bot.referee
                )
            except RoundSetupError as exc:
                await self.bot.db.end_round(row["id"], "interrupted", None, str(exc))
                await surface.send(
                    f"⚠️ round #{row['id']} を再開できません: {safe(str(exc))} (could not resume)"
                )
                continue
            if channel_id in self.channels:  # two running rounds in one channel: keep one
                await self.bot.db.end_round(row["id"], "interrupted", None, "channel busy")
                continue
            self._launch(channel_id, engine, surface)
            resumed.append(row["id"])
        if resumed:
            log.info("resumed rounds %s", resumed)
        return resumed

    async def _begin(
        self,
        channel_id: int,
        guild_id: int | None,
        models: list[PlayerConfig],
        people: dict[str, str],
        s: ChannelSettings,
    ) -> Session:
        seats = (
            *(SeatSpec("model", c.name, c.key) for c in models),
            *(SeatSpec("person", name, user_id=uid) for uid, name in people.items()),
        )
        pacing = self.bot.config.pacing_s
        spec = RoundSpec(
            seats=seats,
            rules=s.rules,
            mode=s.mode,
            start_word=s.start_word,
            max_turns=s.max_turns,
            person_timeout_s=s.person_timeout_s,
            pacing_s=s.pacing_s if pacing is None else pacing,
            prompt_lang=s.prompt_lang,
            probes=s.probes(),
            surface="discord",
            guild_id=str(guild_id) if guild_id else None,
            channel_id=str(channel_id),
            salt=secrets.token_hex(4),
        )
        surface = self._surface(channel_id, guild_id)
        engine = await RoundEngine.create(
            self.bot.db, spec, self.bot.players.adapters, surface, self.bot.referee
        )
        return self._launch(channel_id, engine, surface)

    async def _lobby(self, lobby: Lobby) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lobby.full.wait(), timeout=lobby.join_s)
        if self.channels.get(lobby.channel_id) is not lobby:
            return
        del self.channels[lobby.channel_id]
        channel = self.bot.get_partial_messageable(lobby.channel_id, guild_id=lobby.guild_id)
        if len(lobby.models) + len(lobby.people) < 2:
            await ChannelSurface(channel).send(
                "⌛ 参加者が足りないので取り消しました。(Not enough players joined; cancelled.)"
            )
            return
        await self._begin(
            lobby.channel_id, lobby.guild_id, lobby.models, lobby.people, lobby.settings
        )

    # -- people's words ---------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None:
            return
        entry = self.channels.get(message.channel.id)
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
    ) -> None:
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
        if channel_id in self.channels:
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
            lobby = Lobby(channel_id, guild_id, models, s, wanted, join_s)
            self.channels[channel_id] = lobby
            lobby.task = asyncio.create_task(self._lobby(lobby), name=f"lobby-{channel_id}")
            lobby.task.add_done_callback(
                lambda t: (
                    None
                    if t.cancelled() or not t.exception()
                    else log.error("lobby failed", exc_info=t.exception())
                )
            )
            await respond(
                interaction,
                f"🍊 しりとりの参加者を募集中 / recruiting: `/shiritori join` で参加 "
                f"（人 {wanted} 人・{join_s} 秒まで）\nモデル (models): {names}",
                ephemeral=False,
            )
            return
        await respond(interaction, f"🍊 ラウンドを始めます / starting: {names}", ephemeral=False)
        await self._begin(channel_id, guild_id, models, {}, s)

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
        entry = self.channels.get(interaction.channel_id or 0)
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
        entry = self.channels.get(interaction.channel_id or 0)
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
        entry = self.channels.get(interaction.channel_id or 0)
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
        state = entry.engine.state
        lines = [f"**round #{entry.engine.round_id}** · {state.spec.mode} · {state.next_idx} 手"]
        current = state.current()
        for seat in state.seats:
            mark = "▶" if seat is current and not state.over else "・"
            status = "" if seat.playing else f" ({seat.status}: {seat.out_reason})"
            lines.append(f"{mark} {safe(seat.spec.name)}{status}")
        last = state.last_word or "—"
        lines.append(f"前の言葉 (last word): 「{safe(last)}」 → 次は {morae_text(state.allowed())}")
        await respond(interaction, "\n".join(lines))

    @group.command(name="stop", description="ラウンドを止める (stop the round)")
    @round_admin
    async def stop(self, interaction: discord.Interaction) -> None:
        entry = self.channels.get(interaction.channel_id or 0)
        if entry is None:
            raise UserError("止めるラウンドがありません。(No round here.)")
        if isinstance(entry, Lobby):
            del self.channels[entry.channel_id]
            if entry.task is not None:
                entry.task.cancel()
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
        pacing_s: app_commands.Range[float, 0, 30] | None = None,
        turn_timeout_s: app_commands.Range[float, 3, 600] | None = None,
        max_turns: app_commands.Range[int, 2, 1000] | None = None,
        pushback: bool | None = None,
        admin_role: discord.Role | None = None,
        reset: bool = False,
    ) -> None:
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
        await respond(interaction, embed=self._rules_embed(current, saved=bool(changes or reset)))

    @staticmethod
    def _rules_embed(s: ChannelSettings, *, saved: bool) -> discord.Embed:
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
        embed.add_field(name="pacing_s", value=f"{s.pacing_s:g}")
        embed.add_field(name="turn_timeout_s", value=f"{s.person_timeout_s:g}")
        embed.add_field(name="max_turns", value=str(s.max_turns))
        embed.add_field(name="pushback", value=str(s.pushback).lower())
        embed.add_field(
            name="admin_role", value=f"<@&{s.admin_role_id}>" if s.admin_role_id else "—"
        )
        return embed

    @group.command(name="players", description="ロスターのプレイヤー (the roster; never keys)")
    async def players(self, interaction: discord.Interaction) -> None:
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
        from bot import stats as stats_mod
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
        png = await asyncio.to_thread(_chart_png, result)
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
        from bot.export import export as export_files
        from storage.queries import Scope

        scope = Scope(channel_id=str(interaction.channel_id), since=parse_since(since))
        await interaction.response.defer(ephemeral=True, thinking=True)
        limit = interaction.guild.filesize_limit if interaction.guild else UPLOAD_LIMIT
        with tempfile.TemporaryDirectory(prefix="mikan-export-") as tmp:
            counts = await asyncio.to_thread(export_files, self.bot.db.path, tmp, format, scope)
            files = await asyncio.to_thread(_attachable, Path(tmp), limit)
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


def _chart_png(result: dict) -> bytes:
    from bot.charts import draw

    with tempfile.TemporaryDirectory(prefix="mikan-chart-") as tmp:
        return draw(result, Path(tmp) / "chart.png").read_bytes()


def _attachable(folder: Path, limit: int) -> list[Path] | None:
    """The export's files if they fit one message, else one zip of them, else None."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    if sum(p.stat().st_size for p in files) <= limit and len(files) <= MAX_ATTACHMENTS:
        return files
    archive = folder / "mikan-export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.name)
    return [archive] if archive.stat().st_size <= limit else None


def stats_embed(result: dict) -> discord.Embed:
    from bot.charts import ROW
    from bot.stats import pct

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
            ]
        )
        name = f"{g['player']} · {g['model'] or '?'} · {g['prompt_lang']}"
        embed.add_field(name=safe(name)[:256], value=value[:1024], inline=False)
    embed.set_footer(text="rates with 95% Wilson intervals (k/n)")
    return embed


async def setup(bot: MikanBot) -> None:
    await bot.add_cog(Shiritori(bot))
