"""The round engine: drives every turn, commits it, then tells the surface.

Order of a turn (docs/ARCHITECTURE.md, "A turn, as data"): ask the seat (a model through its
adapter, a person through :meth:`RoundEngine.submit`), judge, **commit**, announce.
A model's violation then triggers the silent probes on a fork of its conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.players.base import Adapter, CallRecord, TurnHint, now_iso
from bot.players.finish import NO_ANSWER_CODES
from bot.referee.judge import Referee, Verdict
from bot.referee.rules import Violation
from bot.rounds import records
from bot.rounds.events import (
    ModelThinking,
    PersonTurn,
    ProbeRecorded,
    RoundEnded,
    RoundStarted,
    SeatOut,
    Surface,
    TurnJudged,
)
from bot.rounds.probes import (
    admits_breach,
    intent_label,
    intent_prompt,
    pushback_label,
    pushback_prompts,
)
from bot.rounds.state import RoundSpec, RoundState, SeatState, TurnRecord
from storage.db import Database

log = logging.getLogger(__name__)


class SubmitResult(StrEnum):
    """What :meth:`RoundEngine.submit` did with a person's message."""

    ACCEPTED = "accepted"  # it is this person's turn: the message will be judged
    CHAT = "chat"  # marked as chat: never judged
    NOT_YOUR_TURN = "not_your_turn"
    NOT_IN_ROUND = "not_in_round"


class RoundSetupError(ValueError):
    """A round that cannot start (unknown player, no seats...); the message says why."""


@dataclass(slots=True)
class RoundSummary:
    """How a round ended (``finished`` or ``stopped``), as :meth:`RoundEngine.run` returns it.

    ``winner`` is a seat name; ``turns`` counts every committed turn; ``violations``
    maps each seat's name to its violation codes.
    """

    round_id: int
    status: str
    winner: str | None
    reason: str
    turns: int
    violations: dict[str, list[str]] = field(default_factory=dict)


def _turn_from_verdict(
    idx: int,
    position: int,
    required: tuple[str, ...],
    prev: str | None,
    raw: str,
    verdict: Verdict,
    started: str,
    t0: float,
) -> TurnRecord:
    return TurnRecord(
        idx=idx,
        position=position,
        outcome="accepted" if verdict.ok else "violation",
        required=required,
        prev_word=prev,
        raw_text=raw,
        word=verdict.word,
        reading=verdict.reading,
        reading_source=verdict.reading_label,
        first=verdict.first,
        next=verdict.next,
        violations=tuple(str(v) for v in verdict.violations),
        self_flag=str(verdict.self_flag),
        no_answer_reason=None,
        started_at=started,
        ended_at=now_iso(),
        duration_ms=(time.perf_counter() - t0) * 1000,
        reader=verdict.reader,
        corrected_to=verdict.corrected_to,
    )


def _reaches_the_cut(text: str, word: str | None) -> bool:
    """Whether a cut reply ends on its word (nothing after it, not even a closing quote),
    so that the word itself may have been cut."""
    return word is not None and word != "" and text.rstrip().endswith(word)


def _wordless_turn(
    idx: int,
    position: int,
    outcome: str,
    required: tuple[str, ...],
    prev: str | None,
    started: str,
    t0: float,
    *,
    next_: tuple[str, ...] = (),
    violations: tuple[str, ...] = (),
    no_answer_reason: str | None = None,
    raw_text: str | None = None,
) -> TurnRecord:
    """A turn with no move: a model's no_answer (with what text it had) or a timeout."""
    return TurnRecord(
        idx=idx,
        position=position,
        outcome=outcome,
        required=required,
        prev_word=prev,
        raw_text=raw_text,
        word=None,
        reading=None,
        reading_source=None,
        first=None,
        next=next_,
        violations=violations,
        self_flag=None,
        no_answer_reason=no_answer_reason,
        started_at=started,
        ended_at=now_iso(),
        duration_ms=(time.perf_counter() - t0) * 1000,
    )


class RoundEngine:
    """Plays one stored round: asks each seat in turn, judges, commits, then announces.

    Build it with :meth:`create` (a new round) or :meth:`resume`; :meth:`run` plays it.
    """

    def __init__(
        self,
        db: Database,
        state: RoundState,
        adapters: dict[str, Adapter],
        surface: Surface,
        round_id: int,
        *,
        resumed: bool = False,
    ) -> None:
        self.db = db
        self.state = state
        self.adapters = adapters
        self.surface = surface
        self.round_id = round_id
        self.resumed = resumed
        self._awaiting: tuple[SeatState, asyncio.Future[str]] | None = None
        self._probe_pending: tuple[SeatState, TurnRecord, int] | None = None
        self._probes_owed = False  # from a violating model turn's commit to its probes' end
        self._stop_reason: str | None = None
        self._suspended = False  # shutting down: stop at the next turn boundary, resume later
        self._wake = asyncio.Event()  # cuts a pacing pause short (suspend)
        self._ended = False  # the round's result is written
        # The end write once begun: a cancel landing while it commits must not write it
        # again (the second write would find the lease it released and fail).
        self._end_write: asyncio.Future[None] | None = None
        self._leaving: set[int] = set()  # positions of people who asked to leave

    @property
    def spec(self) -> RoundSpec:
        """The round's spec."""
        return self.state.spec

    # -- construction -----------------------------------------------------------------
    @classmethod
    async def create(
        cls,
        db: Database,
        spec: RoundSpec,
        adapters: dict[str, Adapter],
        surface: Surface,
        referee: Referee | None = None,
    ) -> RoundEngine:
        """Store a new round and its seats; its engine is returned, not yet running.

        Raises:
            RoundSetupError: A model seat's player is not in ``adapters``.
        """
        for seat in spec.seats:
            if seat.kind == "model" and seat.player_key not in adapters:
                raise RoundSetupError(f"no player {seat.player_key!r} in the roster")
        state = RoundState(spec, referee or Referee())
        round_row = records.round_row(spec)
        seat_rows = records.seat_rows(spec, adapters)
        round_id, seat_ids = await db.create_round(round_row, seat_rows)
        for seat, seat_id in zip(state.seats, seat_ids, strict=True):
            seat.seat_id = seat_id
        return cls(db, state, adapters, surface, round_id)

    @classmethod
    async def resume(
        cls,
        db: Database,
        round_id: int,
        adapters: dict[str, Adapter],
        surface: Surface,
        referee: Referee | None = None,
    ) -> RoundEngine:
        """Rebuild an unfinished round from its committed turns; :meth:`run` carries on.

        Probes still owed for the last turn (a crash between a violation and its probes)
        are asked when the run starts.

        Raises:
            RoundSetupError: No such round, or a model seat's player is not in ``adapters``.
        """
        row = await db.round(round_id)
        if row is None:
            raise RoundSetupError(f"no round {round_id}")
        seat_rows = await db.seats(round_id)
        spec = records.spec_from_rows(row, seat_rows)
        for seat in spec.seats:
            if seat.kind == "model" and seat.player_key not in adapters:
                raise RoundSetupError(f"player {seat.player_key!r} is not in the roster now")
        state = RoundState(spec, referee or Referee())
        by_id: dict[int, SeatState] = {}
        for seat, srow in zip(state.seats, seat_rows, strict=True):
            seat.seat_id = srow["id"]
            by_id[srow["id"]] = seat
        last: tuple[SeatState, TurnRecord, int] | None = None
        for trow in await db.turns(round_id):
            seat = by_id[trow["seat_id"]]
            if seat.conversation is not None:
                state.begin_model_turn(seat)
            turn = records.turn_from_row(trow, seat.position)
            state.apply(turn)
            last = (seat, turn, trow["id"])
        engine = cls(db, state, adapters, surface, round_id, resumed=True)
        if last and last[0].spec.kind == "model" and last[1].outcome == "violation":
            done = {p["kind"] for p in await db.probes(round_id) if p["turn_id"] == last[2]}
            if set(spec.probes) - done:
                engine._probe_pending = last  # killed between the turn and its probes
        return engine

    # -- people -----------------------------------------------------------------------
    def submit(self, user_id: str, text: str) -> SubmitResult:
        """A person's message from the surface. Only the seat whose turn it is plays.

        A message starting with ``chat_prefix`` is chat, from anyone; otherwise it is
        handed to the waiting turn, to be judged, only if it is this person's turn.
        """
        if text.lstrip().startswith(self.spec.chat_prefix):
            return SubmitResult.CHAT
        seat = self.state.seat_for_user(user_id)
        if seat is None:
            return SubmitResult.NOT_IN_ROUND
        if self._awaiting is None or self._awaiting[0] is not seat or self._awaiting[1].done():
            return SubmitResult.NOT_YOUR_TURN
        self._awaiting[1].set_result(text)
        return SubmitResult.ACCEPTED

    def leave(self, user_id: str) -> bool:
        """A person leaves: at once if it is their turn, else when their turn comes.

        A leave is a turn, so a resumed round replays it. Returns False (and does
        nothing) when the user has no seat in the round or is no longer playing.
        """
        seat = self.state.seat_for_user(user_id)
        if seat is None or not seat.playing:
            return False
        self._leaving.add(seat.position)
        if self._awaiting and self._awaiting[0] is seat and not self._awaiting[1].done():
            self._awaiting[1].cancel()
        return True

    def stop(self, reason: str = "stopped") -> None:
        """Ask the round to end as ``stopped`` with ``reason`` (an admin's stop).

        A model's turn in flight is still judged, committed (and probed) first; a
        person's turn being waited for ends at once with nothing recorded. A round that
        ends on that last turn ends ``finished``.
        """
        self._stop_reason = reason
        if self._awaiting and not self._awaiting[1].done():
            self._awaiting[1].cancel()

    def suspend(self) -> None:
        """Shutting down: stop at the next turn boundary and leave the round ``running``.

        A model's turn in flight is still judged, committed and probed; a person's turn
        being waited for, or a pause between turns, ends at once with nothing recorded.
        A round decided by its last turn is still finished as decided. A suspended round
        resumes from its committed turns (``resume``) at the next start.
        """
        self._suspended = True
        self._wake.set()
        if self._awaiting and not self._awaiting[1].done():
            self._awaiting[1].cancel()

    @property
    def decided(self) -> bool:
        """True once the committed turns decide the round (its result may not be written)."""
        return self.state.over

    # -- the loop ---------------------------------------------------------------------
    async def run(self, *, interrupt_on_cancel: bool = True) -> RoundSummary:
        """Play to the end, or until :meth:`stop`, and store how the round ended.

        Cancelled: the round is marked ``interrupted`` unless the caller will resume it
        later (a bot restarting passes ``interrupt_on_cancel=False``).

        Returns:
            The summary: ``finished`` (with the winner, if any) or ``stopped``.
        """
        try:
            await self.surface.emit(
                RoundStarted(
                    self.round_id,
                    tuple(s.info for s in self.state.seats),
                    self.spec.start_word,
                    self.state.allowed(),
                    self.spec.mode,
                    self.resumed,
                )
            )
            if self._probe_pending:
                await self._probes(*self._probe_pending)
                self._probe_pending = None
            while not self.state.over and self._stop_reason is None and not self._suspended:
                seat = self.state.current()
                if seat.spec.kind == "model":
                    await self._model_turn(seat)
                    if self.spec.pacing_s > 0 and not self.state.over:
                        await self._pause(self.spec.pacing_s)
                else:
                    await self._person_turn(seat)
            if self._stop_reason is not None and not self.state.over:
                return await self._finish("stopped", None, self._stop_reason)
            if not self.state.over:  # suspended: left running, to resume
                return RoundSummary(
                    self.round_id, "running", None, "suspended", self.state.next_idx
                )
            winner = self.state.winner
            return await self._finish("finished", winner, self.state.end_reason or "finished")
        except asyncio.CancelledError:
            owed = self._probes_owed and not interrupt_on_cancel
            if self.state.over and not self._ended and owed:
                # Decided, but its probes were cut short: left running, the resume asks
                # them and then records the result the committed turns decided.
                log.info(  # expected at a shutdown deadline: not a line for the operator
                    "round %s cancelled while probing after it was decided: left running, "
                    "its probes and result follow at resume",
                    self.round_id,
                )
            elif self.state.over and not self._ended:
                # Decided by a committed turn: the result stands, whatever stopped us.
                log.info("round %s cancelled after it was decided: result kept", self.round_id)
                await asyncio.shield(self._record_end(*self._result()))
            elif interrupt_on_cancel and not self._ended and self._end_write is None:
                await asyncio.shield(
                    self.db.end_round(self.round_id, "interrupted", None, "cancelled")
                )
            raise

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` between turns, or less if the round is suspended."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _result(self) -> tuple[str, SeatState | None, str]:
        return "finished", self.state.winner, self.state.end_reason or "finished"

    async def _record_end(self, status: str, winner: SeatState | None, reason: str) -> None:
        if self._ended:
            return
        if self._end_write is None:
            self._end_write = asyncio.ensure_future(
                self.db.end_round(
                    self.round_id, status, winner.position if winner else None, reason
                )
            )
        await asyncio.shield(self._end_write)
        self._ended = True

    async def _finish(self, status: str, winner: SeatState | None, reason: str) -> RoundSummary:
        await self._record_end(status, winner, reason)
        violations = {s.spec.name: tuple(s.violations) for s in self.state.seats}
        await self.surface.emit(
            RoundEnded(
                self.round_id,
                status,
                winner.info if winner else None,
                reason,
                self.state.next_idx,
                violations,
            )
        )
        return RoundSummary(
            self.round_id,
            status,
            winner.spec.name if winner else None,
            reason,
            self.state.next_idx,
            {k: list(v) for k, v in violations.items()},
        )

    async def _model_turn(self, seat: SeatState) -> None:
        state = self.state
        assert seat.conversation is not None and seat.spec.player_key
        adapter = self.adapters[seat.spec.player_key]
        required, prev = state.allowed(), state.last_word
        state.begin_model_turn(seat)
        await self.surface.emit(ModelThinking(self.round_id, seat.info))
        started, t0 = now_iso(), time.perf_counter()
        hint = TurnHint(
            required, frozenset(state.used), self.spec.rules.dakuten == "lenient", self.spec.salt
        )
        record = await adapter.call(
            replace(seat.conversation.request(hint), cache_key=self._cache_key(seat))
        )
        turn: TurnRecord | None = None
        if record.ok:
            verdict = state.referee.judge(
                record.text,
                prev_reading=state.last_reading,
                used_readings=state.used,
                rules=self.spec.rules,
                lang=self.spec.prompt_lang,
            )
            turn = _turn_from_verdict(
                state.next_idx, seat.position, required, prev, record.text, verdict, started, t0
            )
            if record.finish in NO_ANSWER_CODES and (
                turn.outcome == "violation" or _reaches_the_cut(record.text, verdict.word)
            ):
                # A reply cut short (or refused, filtered, failed) mid-way is judged only
                # for a legal move complete before the cut: a breach may be the cut's doing
                # (a word cut to end in ん), and a word the text ends on may be a cut one
                # (かば from かばん): no_answer, never a violation.
                turn = None
        if turn is None:
            turn = _wordless_turn(
                state.next_idx,
                seat.position,
                "no_answer",
                required,
                prev,
                started,
                t0,
                next_=required,
                no_answer_reason=record.finish if record.ok else record.no_answer_reason,
                raw_text=record.text or None,
            )
        # Owed from before the commit: a cancel that lands anywhere from here to the last
        # probe leaves a decided round running, for the resume to ask them.
        self._probes_owed = turn.outcome == "violation" and bool(turn.word and self.spec.probes)
        turn_id = await self._commit(seat, turn, record)
        if turn.outcome == "violation":
            await self._probes(seat, turn, turn_id)

    def _cache_key(self, seat: SeatState) -> str:
        """One key per seat of a round: its conversation only grows, so its prefix holds."""
        return f"mikan-{self.spec.salt or 'r'}-{self.round_id}-{seat.position}"

    async def _person_turn(self, seat: SeatState) -> None:
        state = self.state
        required, prev = state.allowed(), state.last_word
        started, t0 = now_iso(), time.perf_counter()
        text: str | None = None
        if seat.position not in self._leaving:
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._awaiting = (seat, future)
            await self.surface.emit(
                PersonTurn(self.round_id, seat.info, required, self.spec.person_timeout_s)
            )
            try:
                text = await asyncio.wait_for(future, timeout=self.spec.person_timeout_s)
            except TimeoutError:
                text = None
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not future.cancelled() or (task is not None and task.cancelling()):
                    raise  # the round itself is cancelled (Ctrl-C): not this person's timeout
                stopped = self._stop_reason is not None or self._suspended
                if stopped and seat.position not in self._leaving:
                    return  # stopped while waiting: nothing to judge
            finally:
                self._awaiting = None
        if seat.position in self._leaving:
            self._leaving.discard(seat.position)
            turn = _wordless_turn(
                state.next_idx, seat.position, "left", required, prev, started, t0, next_=required
            )
        elif text is None:
            turn = _wordless_turn(
                state.next_idx,
                seat.position,
                "violation",
                required,
                prev,
                started,
                t0,
                violations=(str(Violation.TIMEOUT),),
            )
        else:
            verdict = state.referee.judge(
                text,
                prev_reading=state.last_reading,
                used_readings=state.used,
                rules=self.spec.rules,
            )
            turn = _turn_from_verdict(
                state.next_idx, seat.position, required, prev, text, verdict, started, t0
            )
        await self._commit(seat, turn, None)

    async def _commit(self, seat: SeatState, turn: TurnRecord, record: CallRecord | None) -> int:
        """Apply, write (one transaction), then announce. Never announce first."""
        cons = self.state.apply(turn)
        turn_id = await self.db.add_turn(
            records.turn_row(turn, self.round_id, seat.seat_id),
            records.call_row(record, self.round_id, seat.seat_id) if record else None,
            [records.seat_update(s) for s in cons.seats_out],
        )
        shown_next = turn.next if turn.outcome == "accepted" else self.state.allowed()
        await self.surface.emit(
            TurnJudged(
                self.round_id,
                turn.idx,
                seat.info,
                turn.outcome,
                turn.raw_text,
                turn.word,
                turn.reading,
                turn.reading_source,
                turn.violations,
                shown_next,
                turn.self_flag,
                turn.no_answer_reason,
            )
        )
        for s in cons.seats_out:
            violations = turn.violations if s is seat else ()
            await self.surface.emit(
                SeatOut(self.round_id, s.info, s.out_reason or "out", violations)
            )
        return turn_id

    # -- the silent probes -----------------------------------------------------------
    async def _probes(self, seat: SeatState, turn: TurnRecord, turn_id: int) -> None:
        self._probes_owed = bool(turn.word and self.spec.probes)
        await self._ask_probes(seat, turn, turn_id)
        self._probes_owed = False  # not on a cancel: still owed, asked at resume

    async def _ask_probes(self, seat: SeatState, turn: TurnRecord, turn_id: int) -> None:
        if not turn.word or seat.conversation is None or not seat.spec.player_key:
            return  # no word to ask about (a reply with no move)
        adapter = self.adapters[seat.spec.player_key]
        lang = self.spec.prompt_lang
        done = {p["kind"] for p in await self.db.probes(self.round_id) if p["turn_id"] == turn_id}
        for kind in self.spec.probes:
            if kind in done:
                continue
            fork = seat.conversation.fork()
            calls: list[CallRecord] = []
            exchange: list[dict[str, str | None]] = []

            async def ask(
                text: str, purpose: str, fork=fork, calls=calls, exchange=exchange
            ) -> CallRecord:
                fork.user(text)
                # The fork shares the seat's prefix: the same cache key.
                rec = await adapter.call(
                    replace(fork.request(purpose=purpose), cache_key=self._cache_key(seat))
                )
                calls.append(rec)
                exchange.extend(
                    [
                        {"role": "user", "content": text},
                        {"role": "assistant", "content": rec.text if rec.ok else None},
                    ]
                )
                if rec.ok:
                    fork.assistant(rec.text)
                return rec

            if kind == "intent":
                prompt = intent_prompt(lang, turn.word)
                rec = await ask(prompt, "probe:intent")
                reply = rec.text if rec.ok else None
                label = str(intent_label(rec.text)) if rec.ok else "no_answer"
            elif kind == "pushback":
                prompt, doubt = pushback_prompts(lang, turn.word)
                first = await ask(prompt, "probe:pushback")
                reply = first.text if first.ok else None
                if not first.ok:
                    label = "no_answer"
                elif not admits_breach(first.text):
                    label = "no_admission"
                else:
                    second = await ask(doubt, "probe:pushback")
                    reply = second.text if second.ok else None
                    label = str(pushback_label(second.text)) if second.ok else "no_answer"
            else:
                log.warning("unknown probe kind %r skipped", kind)
                continue
            await self.db.add_probe(
                records.probe_row(
                    self.round_id, seat.seat_id, turn_id, kind, prompt, reply, label, exchange
                ),
                [records.call_row(c, self.round_id, seat.seat_id) for c in calls],
            )
            await self.surface.emit(ProbeRecorded(self.round_id, turn.idx, seat.info, kind))
