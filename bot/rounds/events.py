"""What a round tells its surface (Discord channel, terminal, headless arena).

Surfaces receive these and nothing else; they never reach into engine state. Probe
contents are never in an event: ``ProbeRecorded`` only says that one was stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

SeatKind = Literal["model", "person"]


@dataclass(frozen=True, slots=True)
class SeatInfo:
    """A seat as surfaces see it: position, name, and who plays it (roster key or user id)."""

    position: int
    name: str
    kind: SeatKind
    player_key: str | None = None
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class RoundStarted:
    """First event of every run, resumed or not; ``allowed``: what the next move starts from."""

    round_id: int
    seats: tuple[SeatInfo, ...]
    start_word: str
    allowed: tuple[str, ...]
    mode: str
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class ModelThinking:
    """A model seat has been asked for its move; its reply is not in yet."""

    round_id: int
    seat: SeatInfo


@dataclass(frozen=True, slots=True)
class PersonTurn:
    """A person's turn: the engine now waits up to ``timeout_s`` for their message."""

    round_id: int
    seat: SeatInfo
    allowed: tuple[str, ...]
    timeout_s: float


@dataclass(frozen=True, slots=True)
class TurnJudged:
    """A turn's verdict, emitted only after the turn is committed to the database."""

    round_id: int
    idx: int
    seat: SeatInfo
    outcome: str  # accepted | violation | no_answer | left (a person left)
    raw_text: str | None
    word: str | None
    reading: str | None
    reading_source: str | None
    violations: tuple[str, ...]
    next: tuple[str, ...]  # the morae the following seat must start from
    self_flag: str | None
    no_answer_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SeatOut:
    """A seat went out or left with the turn just judged (after its ``TurnJudged``)."""

    round_id: int
    seat: SeatInfo
    reason: str  # violation | no_answer | left
    violations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoundEnded:
    """The round is over and its end is stored; the last event of a run not cancelled."""

    round_id: int
    status: str  # finished | stopped | interrupted
    winner: SeatInfo | None
    reason: str
    turns: int
    violations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> codes


@dataclass(frozen=True, slots=True)
class ProbeRecorded:
    """A probe of ``kind`` about turn ``idx`` was stored; its contents are never sent."""

    round_id: int
    idx: int
    seat: SeatInfo
    kind: str


Event = (
    RoundStarted | ModelThinking | PersonTurn | TurnJudged | SeatOut | RoundEnded | ProbeRecorded
)


class Surface(Protocol):
    """Where a round's events go, in order; the engine awaits each ``emit`` before going on."""

    async def emit(self, event: Event) -> None:
        """Show ``event`` (or not); the round waits until this returns."""
        ...


class NullSurface:
    """A surface that shows nothing (headless rounds)."""

    async def emit(self, event: Event) -> None:
        """Discard ``event``."""
        return None
