"""A round's definition and its state, as a fold over committed turns.

The live engine and a resumed round go through the same two steps per turn
(:meth:`RoundState.begin_model_turn` for a model, then :meth:`RoundState.apply`), so a
round rebuilt from the database is the round that was being played — conversations
included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.referee.judge import Referee, next_morae
from bot.referee.kana import joint_key
from bot.referee.rules import Rules
from bot.rounds.conversation import Conversation
from bot.rounds.events import SeatInfo, SeatKind
from bot.rounds.prompts import Lang, MoveNote, system_prompt, turn_prompt

Mode = Literal["elimination", "sudden_death"]
MODES: tuple[Mode, ...] = ("elimination", "sudden_death")
NO_ANSWER_LIMIT = 3  # consecutive no_answer turns before a seat leaves


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """Who sits in a seat: a model (``player_key``, a roster key) or a person (``user_id``)."""

    kind: SeatKind
    name: str
    player_key: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """A round's definition, fixed before its first turn: the seats in turn order and options."""

    seats: tuple[SeatSpec, ...]
    rules: Rules = field(default_factory=Rules)
    mode: Mode = "elimination"
    start_word: str = "しりとり"
    max_turns: int = 200
    person_timeout_s: float = 60.0
    pacing_s: float = 0.0
    prompt_lang: Lang = "ja"
    probes: tuple[str, ...] = ("intent",)
    chat_prefix: str = "//"
    surface: str = "arena"
    guild_id: str | None = None
    channel_id: str | None = None
    salt: str = ""


@dataclass(slots=True)
class TurnRecord:
    """One committed turn (the ``turns`` row, by seat position)."""

    idx: int
    position: int
    outcome: str  # accepted | violation | no_answer | left
    required: tuple[str, ...]
    prev_word: str | None
    raw_text: str | None
    word: str | None
    reading: str | None
    reading_source: str | None
    first: str | None
    next: tuple[str, ...]
    violations: tuple[str, ...]
    self_flag: str | None
    no_answer_reason: str | None
    started_at: str
    ended_at: str
    duration_ms: float
    reader: str | None = None  # the reply reader's version (None: not read by one)
    corrected_to: str | None = None  # the word a self-correcting reply switched to


@dataclass(slots=True)
class SeatState:
    """One seat during a round: in or out, its no-answer streak, its model's conversation.

    ``pending`` holds the other seats' moves the model has not been told yet.
    """

    position: int
    spec: SeatSpec
    seat_id: int = 0
    status: str = "playing"  # playing | out | left
    out_reason: str | None = None
    out_turn: int | None = None
    no_answers: int = 0
    conversation: Conversation | None = None
    pending: list[MoveNote] = field(default_factory=list)
    prompted: bool = False
    violations: list[str] = field(default_factory=list)

    @property
    def info(self) -> SeatInfo:
        """The seat as events show it."""
        return SeatInfo(
            self.position, self.spec.name, self.spec.kind, self.spec.player_key, self.spec.user_id
        )

    @property
    def playing(self) -> bool:
        """True while the seat is still in the round (neither out nor left)."""
        return self.status == "playing"


@dataclass(slots=True)
class Consequences:
    """What applying a turn changed beyond the turn itself (for storage and events)."""

    seats_out: list[SeatState] = field(default_factory=list)
    ended: bool = False


class RoundState:
    """A round in play, advanced only by :meth:`apply`, one committed turn at a time.

    Starts at seat 0 with the start word as the last word (its reading counts as used);
    every model seat gets a conversation holding the system prompt. Raises ``ValueError``
    for a spec without seats.
    """

    def __init__(self, spec: RoundSpec, referee: Referee) -> None:
        if not spec.seats:
            raise ValueError("a round needs at least one seat")
        self.spec = spec
        self.referee = referee
        system = system_prompt(spec.prompt_lang, spec.rules)
        self.seats = [
            SeatState(i, s, conversation=Conversation(system) if s.kind == "model" else None)
            for i, s in enumerate(spec.seats)
        ]
        start = referee.reading_of(spec.start_word) if spec.start_word else None
        self.last_word: str | None = spec.start_word or None
        self.last_reading: str | None = start
        self.used: set[str] = {joint_key(start)} if start else set()
        self.next_idx = 0
        self.pointer = 0
        self.over = False
        self.winner: SeatState | None = None
        self.end_reason: str | None = None

    # -- queries --------------------------------------------------------------------
    def allowed(self) -> tuple[str, ...]:
        """The morae the next word must start from; ``()`` (any start) with no last reading."""
        return next_morae(self.last_reading, self.spec.rules) if self.last_reading else ()

    def current(self) -> SeatState:
        """The seat whose turn it is."""
        return self.seats[self.pointer]

    def playing(self) -> list[SeatState]:
        """The seats still in the round, in seat order."""
        return [s for s in self.seats if s.playing]

    def seat_for_user(self, user_id: str) -> SeatState | None:
        """The seat of the person with ``user_id`` (in or out), or None."""
        return next((s for s in self.seats if s.spec.user_id == user_id), None)

    # -- the two steps of a turn ----------------------------------------------------
    def begin_model_turn(self, seat: SeatState) -> None:
        """Tell the model it is its turn (appends the turn prompt to its conversation)."""
        assert seat.conversation is not None
        seat.conversation.user(
            turn_prompt(
                self.spec.prompt_lang,
                allowed=self.allowed(),
                moves=seat.pending,
                start_word=None if seat.prompted else self.spec.start_word or None,
            )
        )
        seat.pending = []
        seat.prompted = True

    def apply(self, turn: TurnRecord) -> Consequences:
        """Fold one committed turn into the round, then pass the turn on or end the round.

        A model's reply joins its conversation (not on a no_answer); an accepted word
        becomes the last word and is used; a violation puts the seat out (and ends a
        ``sudden_death`` round); ``left``, or the ``NO_ANSWER_LIMIT``-th no_answer in a
        row, makes it leave. Accepted and violating moves are queued for the other playing
        model seats. The round ends with no seat left, one of several left, or at
        ``max_turns``.

        Args:
            turn: The next turn (index ``next_idx``), played by the current seat.

        Returns:
            The seats that went out or left with this turn, and whether the round ended.

        Raises:
            ValueError: The turn is not the current seat's or not the next index.
        """
        seat = self.seats[turn.position]
        if turn.position != self.pointer:
            raise ValueError(f"turn {turn.idx} is seat {turn.position}'s, expected {self.pointer}")
        if turn.idx != self.next_idx:
            raise ValueError(f"turn index {turn.idx}, expected {self.next_idx}")
        out = Consequences()
        if seat.conversation is not None and turn.outcome != "no_answer":
            seat.conversation.assistant(turn.raw_text or "")
        went_out = False
        if turn.outcome == "accepted":
            seat.no_answers = 0
            self.last_word, self.last_reading = turn.word, turn.reading
            if turn.reading:
                self.used.add(joint_key(turn.reading))
        elif turn.outcome == "violation":
            seat.no_answers = 0
            seat.violations.extend(turn.violations)
            self._leave(seat, "out", "violation", turn.idx, out)
            went_out = True
            if self.spec.mode == "sudden_death":
                others = [s for s in self.seats if s is not seat]
                self._end(others[0] if len(others) == 1 else None, "sudden_death")
        elif turn.outcome == "left":  # a person left the round on their turn
            self._leave(seat, "left", "left", turn.idx, out)
            went_out = True
        elif turn.outcome == "no_answer":
            seat.no_answers += 1
            if seat.no_answers >= NO_ANSWER_LIMIT:
                self._leave(seat, "left", "no_answer", turn.idx, out)
                went_out = True
        note = MoveNote(seat.spec.name, turn.word, turn.outcome != "violation", went_out)
        if turn.outcome not in ("no_answer", "left"):
            for other in self.seats:
                if other is not seat and other.conversation is not None and other.playing:
                    other.pending.append(note)
        self.next_idx += 1
        if not self.over:
            self._check_end()
        if not self.over:
            self._advance()
        out.ended = self.over
        return out

    # -- internals ------------------------------------------------------------------
    def _leave(
        self, seat: SeatState, status: str, reason: str, idx: int, out: Consequences
    ) -> None:
        seat.status, seat.out_reason, seat.out_turn = status, reason, idx
        out.seats_out.append(seat)

    def _end(self, winner: SeatState | None, reason: str) -> None:
        self.over = True
        self.winner = winner
        self.end_reason = reason

    def _check_end(self) -> None:
        playing = self.playing()
        many = len(self.seats) > 1
        if not playing:
            self._end(None, "no_seats_left")
        elif many and len(playing) == 1:
            self._end(playing[0], "last_seat_standing")
        elif self.next_idx >= self.spec.max_turns:
            self._end(None, "max_turns")

    def _advance(self) -> None:
        n = len(self.seats)
        for step in range(1, n + 1):
            candidate = (self.pointer + step) % n
            if self.seats[candidate].playing:
                self.pointer = candidate
                return
