"""A Discord channel as a round's surface: events in, messages out.

Every turn is committed before its event reaches this class, so a message that cannot
be sent loses nothing from the records; it is retried, then logged — never dropped
silently. Probes are never posted (``ProbeRecorded`` is ignored on purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.rounds.events import (
    Event,
    ModelThinking,
    PersonTurn,
    RoundEnded,
    RoundStarted,
    SeatInfo,
    SeatOut,
    TurnJudged,
)
from bot.surfaces.messages import morae_text
from cogs.shiritori.presentation import safe, summary_embed, turn_text

log = logging.getLogger(__name__)

TYPING_EVERY_S = 8.0  # Discord shows "typing…" for about 10 s per trigger
SEND_ATTEMPTS = 4


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, discord.HTTPException) and not isinstance(
        exc, discord.Forbidden | discord.NotFound
    ):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, OSError | TimeoutError)


class ChannelSurface:
    """Posts a round's events to one channel (a ``PartialMessageable`` is enough)."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        *,
        on_unavailable: Callable[[str], None] | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.channel = channel
        self.on_unavailable = on_unavailable
        self.sleep = sleep
        self.seats: tuple[SeatInfo, ...] = ()
        self.unavailable = False
        self.sent: list[int] = []  # ids of the messages this round posted
        self._typing: asyncio.Task[None] | None = None
        self._last_message: dict[str, int] = {}  # user id -> their last submitted word

    def submitted(self, user_id: str, message_id: int) -> None:
        """The cog hands a person's accepted submission over for the ✅ reaction."""
        self._last_message[user_id] = message_id

    # -- sending ------------------------------------------------------------------
    async def _call(self, what: str, factory: Callable[[], Awaitable[Any]]) -> Any:
        if self.unavailable:
            return None
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(SEND_ATTEMPTS),
                wait=wait_exponential_jitter(initial=1, max=30),
                retry=retry_if_exception(_transient),
                sleep=self.sleep,
                reraise=True,
            ):
                with attempt:
                    return await factory()
        except (discord.Forbidden, discord.NotFound) as exc:
            # Permission revoked or channel deleted: the round cannot be shown here.
            log.error("channel %s unavailable (%s): %s", self._channel_id(), what, exc)
            self.unavailable = True
            if self.on_unavailable is not None:
                self.on_unavailable(f"channel unavailable: {exc.status}")
        except Exception:
            # The turn is already committed; the message is what is lost. Say so loudly.
            log.exception("could not %s in channel %s", what, self._channel_id())
        return None

    def _channel_id(self) -> Any:
        return getattr(self.channel, "id", "?")

    async def send(self, content: str | None = None, **kwargs: Any) -> discord.Message | None:
        """Send with no mentions unless asked, retrying transient failures; None if not sent."""
        kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
        message = await self._call("send a message", lambda: self.channel.send(content, **kwargs))
        if message is not None:
            self.sent.append(message.id)
        return message

    # -- typing -------------------------------------------------------------------
    def _start_typing(self) -> None:
        self._stop_typing()

        async def loop() -> None:
            while True:
                with contextlib.suppress(discord.HTTPException, OSError, TimeoutError):
                    await self.channel.typing()  # one trigger; fire and forget
                await self.sleep(TYPING_EVERY_S)

        self._typing = asyncio.create_task(loop())

    def _stop_typing(self) -> None:
        if self._typing is not None:
            self._typing.cancel()
            self._typing = None

    def close(self) -> None:
        """Stop the typing indicator (the round is over or cancelled)."""
        self._stop_typing()

    # -- events -------------------------------------------------------------------
    async def emit(self, event: Event) -> None:
        """Show one round event in the channel (probes never)."""
        if isinstance(event, ModelThinking):
            self._start_typing()
            return
        self._stop_typing()
        if isinstance(event, RoundStarted):
            self.seats = event.seats
            order = " → ".join(f"**{safe(s.name)}**" for s in event.seats)
            head = "🍊 しりとり再開 / resumed" if event.resumed else "🍊 しりとり開始 / start"
            await self.send(
                f"{head} (round #{event.round_id}, {event.mode})\n{order}\n"
                f"最初の言葉「{safe(event.start_word)}」→ 次は {morae_text(event.allowed)}"
            )
        elif isinstance(event, PersonTurn):
            uid = event.seat.user_id
            mention = f"<@{uid}>" if uid and uid.isdigit() else f"**{safe(event.seat.name)}**"
            allow = (
                discord.AllowedMentions(users=[discord.Object(int(uid))])
                if uid and uid.isdigit()
                else discord.AllowedMentions.none()
            )
            await self.send(
                f"{mention} の番です: {morae_text(event.allowed)} から始まる言葉を"
                f"（{event.timeout_s:.0f}秒・`//` で雑談） / your turn",
                allowed_mentions=allow,
            )
        elif isinstance(event, TurnJudged):
            await self._turn(event)
        elif isinstance(event, SeatOut):
            if event.reason != "left":  # a leave was already announced with its turn
                await self.send(f"🚫 **{safe(event.seat.name)}** 脱落 (out)")
        elif isinstance(event, RoundEnded):
            if event.status == "interrupted":
                return  # the bot is shutting down; the round resumes on restart
            await self.send(embed=summary_embed(event, self.seats))
        # ProbeRecorded: deliberately nothing, not even to admins.

    async def _turn(self, event: TurnJudged) -> None:
        uid = event.seat.user_id
        if event.seat.kind == "person" and uid and event.outcome == "accepted":
            message_id = self._last_message.pop(uid, None)
            if message_id is not None:
                msg = self.channel.get_partial_message(message_id)  # type: ignore[attr-defined]
                await self._call("add a reaction", lambda: msg.add_reaction("✅"))
                return
        reference = None
        if event.seat.kind == "person" and uid and event.raw_text is not None:
            message_id = self._last_message.pop(uid, None)
            if message_id is not None:
                msg = self.channel.get_partial_message(message_id)  # type: ignore[attr-defined]
                # The word's message may have been deleted: then post without the reply.
                reference = msg.to_reference(fail_if_not_exists=False)
        if reference is not None:
            await self.send(turn_text(event), reference=reference, mention_author=False)
        else:
            await self.send(turn_text(event))
