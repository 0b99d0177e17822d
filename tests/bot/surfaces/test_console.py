"""The console surface: lines typed ahead wait for your turn, and the end of input right
behind them does not swallow them (a race seen as a flaky end-to-end test)."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from bot.rounds.engine import SubmitResult
from bot.surfaces.console import CONSOLE_USER, ConsoleSurface


class Engine:
    """What the surface uses of a RoundEngine: submit, stop, the spec's chat prefix."""

    class spec:  # the engine's RoundSpec, as far as the surface reads it
        chat_prefix = "//"

    def __init__(self) -> None:
        self.submitted: list[tuple[str, str]] = []
        self.stopped: list[str] = []

    def submit(self, user_id: str, text: str) -> SubmitResult:
        self.submitted.append((user_id, text))
        return SubmitResult.ACCEPTED

    def stop(self, reason: str = "stopped") -> None:
        self.stopped.append(reason)


def surface() -> tuple[ConsoleSurface, Engine]:
    s = ConsoleSurface(Console(file=io.StringIO()))
    engine = Engine()
    s.engine = engine  # type: ignore[assignment]
    return s, engine


async def test_a_line_typed_ahead_survives_the_end_of_input_behind_it() -> None:
    s, engine = surface()
    s._line("みみず")  # piped before the round asked: queued
    s._your_turn()  # its turn: handed over on the next loop pass
    s._line(None)  # end of input arrives in between
    assert engine.stopped == []
    await asyncio.sleep(0)  # one loop pass, not a wait: the delivery scheduled above runs
    assert engine.submitted == [(CONSOLE_USER, "みみず")]
    assert engine.stopped == []


async def test_the_end_of_input_on_an_empty_turn_stops_the_round() -> None:
    s, engine = surface()
    s._your_turn()
    s._line(None)
    assert engine.stopped == ["input closed"]


async def test_a_line_during_a_delivery_waits_its_own_turn() -> None:
    s, engine = surface()
    s._line("りんご")
    s._your_turn()
    s._line("ごりら")  # typed while the first is on its way: queued, not submitted now
    await asyncio.sleep(0)
    assert engine.submitted == [(CONSOLE_USER, "りんご")]
    assert list(s.pending) == ["ごりら"]
