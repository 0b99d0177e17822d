"""The channel round driver: one lobby or round per channel, each one task.

Modelled on Red's trivia sessions: a channel's lobby or round runs as a task with one
done-callback, which forgets it, logs a failure and tells the channel. ``close_all``
(the cog's unload) cancels them: a cancelled round stays ``running`` in the database
and resumes at the next start, with every committed turn kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.players.roster import PlayerConfig
from bot.rounds.engine import RoundEngine, RoundSetupError
from bot.rounds.settings import ChannelSettings
from bot.rounds.state import RoundSpec, SeatSpec
from cogs.host import Host
from cogs.shiritori.presentation import safe
from cogs.shiritori.surface import ChannelSurface
from storage.errors import DatabaseUnavailableError, LeaseLostError

log = logging.getLogger(__name__)

DRAIN_S = 5.0  # at shutdown, how long rounds may take to reach a turn boundary

FAILED_NOTICE = (
    "⚠️ 内部エラーでラウンドが止まりました。"
    "記録は保存済みで、ボットの再起動で再開します。"
    "\n(The round stopped on an internal error; its records are saved and it resumes "
    "when the bot restarts.)"
)
UNAVAILABLE_NOTICE = (
    "⚠️ 記録用のデータベースに書き込めないため、ラウンドを一時停止しました"
    "（ディスクがいっぱい、または他のプロセスがロック中）。"
    "確定した手はすべて保存済みで、ボットの再起動で再開します。"
    "\n(The round is paused: its database cannot be written — a full disk, or a lock "
    "held elsewhere. Every committed turn is saved; it resumes when the bot restarts.)"
)


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
    task: asyncio.Task[Any] | None = None


@dataclass(eq=False)
class Session:
    """A round in play in a channel: its engine, its surface and its task."""

    engine: RoundEngine
    surface: ChannelSurface
    task: asyncio.Task[Any] | None = None


class ChannelRounds:
    """Every channel's lobby or round, keyed by channel id."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.channels: dict[int, Lobby | Session] = {}
        self._notices: set[asyncio.Task[Any]] = set()

    def get(self, channel_id: int | None) -> Lobby | Session | None:
        """The lobby or round in this channel, if any."""
        return self.channels.get(channel_id or 0)

    async def close_all(self, drain_s: float = DRAIN_S) -> None:
        """End every lobby, and every round at its next turn boundary (within ``drain_s``).

        Rounds in play are suspended: they stay ``running`` and resume at the next start.
        A round its last turn decided is finished as decided (its probes too). Whatever
        has not reached a boundary by ``drain_s`` is cancelled: its turn in flight is not
        recorded and is asked again on resume; a decided result is kept even then.
        """
        entries = list(self.channels.values())
        for entry in entries:
            if isinstance(entry, Session):
                entry.engine.suspend()
            elif entry.task is not None:
                entry.task.cancel()
        tasks = [e.task for e in entries if e.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=drain_s)
            for task in pending:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for entry in self.channels.values():
            if isinstance(entry, Session):
                entry.surface.close()
        self.channels.clear()

    # -- tasks ------------------------------------------------------------------------
    def _spawn(
        self, channel_id: int, entry: Lobby | Session, coro: Coroutine[Any, Any, Any], name: str
    ) -> None:
        task = asyncio.create_task(coro, name=name)
        entry.task = task
        self.channels[channel_id] = entry
        task.add_done_callback(lambda t: self._done(channel_id, entry, t))

    def _done(self, channel_id: int, entry: Lobby | Session, task: asyncio.Task[Any]) -> None:
        if self.channels.get(channel_id) is entry:
            del self.channels[channel_id]
        if isinstance(entry, Session):
            entry.surface.close()
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(entry, Lobby):
            if exc is not None:
                log.error("lobby in channel %s failed", channel_id, exc_info=exc)
            return
        if exc is None:
            log.info("round %s in channel %s ended", entry.engine.round_id, channel_id)
            return
        if isinstance(exc, LeaseLostError):
            # Another bot process took the round over: it is that one's to announce.
            log.warning("round %s in channel %s: %s", entry.engine.round_id, channel_id, exc)
            return
        if isinstance(exc, DatabaseUnavailableError):
            log.error("round %s in channel %s paused: %s", entry.engine.round_id, channel_id, exc)
            self._notice(entry.surface.send(UNAVAILABLE_NOTICE))
            return
        log.error("round %s in channel %s failed", entry.engine.round_id, channel_id, exc_info=exc)
        # Committed turns are safe; the round stays running and resumes at the next start.
        self._notice(entry.surface.send(FAILED_NOTICE))

    def _notice(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def surface(self, channel_id: int, guild_id: int | None) -> ChannelSurface:
        """A surface posting to this channel."""
        return ChannelSurface(self.host.get_partial_messageable(channel_id, guild_id=guild_id))

    def launch(self, channel_id: int, engine: RoundEngine, surface: ChannelSurface) -> Session:
        """Play ``engine``'s round in this channel as a task."""
        session = Session(engine, surface)
        surface.on_unavailable = lambda reason: engine.stop(reason)
        self._spawn(
            channel_id,
            session,
            engine.run(interrupt_on_cancel=False),
            name=f"round-{engine.round_id}",
        )
        return session

    def open_lobby(self, lobby: Lobby) -> None:
        """Recruit people in this channel; the round begins when full or at the deadline."""
        self._spawn(lobby.channel_id, lobby, self._recruit(lobby), name=f"lobby-{lobby.channel_id}")

    def cancel_lobby(self, lobby: Lobby) -> None:
        """Call off a lobby (no round was created)."""
        if self.channels.get(lobby.channel_id) is lobby:
            del self.channels[lobby.channel_id]
        if lobby.task is not None:
            lobby.task.cancel()

    # -- rounds -----------------------------------------------------------------------
    async def resume(self) -> list[int]:
        """Carry on every Discord round that was running when the bot stopped.

        Only rounds no live worker holds (``Database.claim_rounds``): a round another
        bot process plays is left to it.
        """
        host = self.host
        resumed = []
        for row in await host.db.claim_rounds("discord"):
            if not row["channel_id"]:
                await host.db.release(row["id"])  # not a channel's: nothing to play it in
                continue
            channel_id = int(row["channel_id"])
            guild_id = int(row["guild_id"]) if row["guild_id"] else None
            surface = self.surface(channel_id, guild_id)
            try:
                engine = await RoundEngine.resume(
                    host.db, row["id"], host.players.adapters, surface, host.referee
                )
            except RoundSetupError as exc:
                await host.db.end_round(row["id"], "interrupted", None, str(exc))
                await surface.send(
                    f"⚠️ round #{row['id']} を再開できません: {safe(str(exc))} (could not resume)"
                )
                continue
            if channel_id in self.channels:  # two running rounds in one channel: keep one
                await host.db.end_round(row["id"], "interrupted", None, "channel busy")
                continue
            self.launch(channel_id, engine, surface)
            resumed.append(row["id"])
        if resumed:
            log.info("resumed rounds %s", resumed)
        return resumed

    async def begin(
        self,
        channel_id: int,
        guild_id: int | None,
        models: list[PlayerConfig],
        people: dict[str, str],
        s: ChannelSettings,
    ) -> Session:
        """Create a round with these seats and settings, and play it in this channel."""
        host = self.host
        seats = (
            *(SeatSpec("model", c.name, c.key) for c in models),
            *(SeatSpec("person", name, user_id=uid) for uid, name in people.items()),
        )
        pacing = host.pacing_s
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
        surface = self.surface(channel_id, guild_id)
        engine = await RoundEngine.create(
            host.db, spec, host.players.adapters, surface, host.referee
        )
        return self.launch(channel_id, engine, surface)

    async def _recruit(self, lobby: Lobby) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lobby.full.wait(), timeout=lobby.join_s)
        if self.channels.get(lobby.channel_id) is not lobby:
            return
        del self.channels[lobby.channel_id]
        if len(lobby.models) + len(lobby.people) < 2:
            await self.surface(lobby.channel_id, lobby.guild_id).send(
                "⌛ 参加者が足りないので取り消しました。(Not enough players joined; cancelled.)"
            )
            return
        await self.begin(
            lobby.channel_id, lobby.guild_id, lobby.models, lobby.people, lobby.settings
        )
