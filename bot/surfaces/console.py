"""``mikan console``: the terminal as a channel. You play against model players."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import deque
from typing import TextIO

from rich.console import Console
from rich.markup import escape

from bot.rounds.engine import RoundEngine, SubmitResult
from bot.rounds.events import (
    Event,
    ModelThinking,
    PersonTurn,
    RoundEnded,
    RoundStarted,
    SeatOut,
    TurnJudged,
)
from bot.surfaces.messages import describe, morae_text, shorten, with_reading

CONSOLE_USER = "console"


class ConsoleSurface:
    """Prints each word, verdict and next mora, and feeds your lines to the round.

    The terminal is one person's channel, so lines typed (or piped) ahead of your turn
    wait for it rather than being lost. Probes are never shown.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self.engine: RoundEngine | None = None
        self.pending: deque[str] = deque()
        self.my_turn = False
        self.eof = False
        self.delivering = False  # a queued line handed to the turn, not yet submitted

    # -- input --------------------------------------------------------------------
    def attach(self, engine: RoundEngine, stream: TextIO = sys.stdin) -> None:
        """Start reading ``stream`` in a daemon thread (exit never waits on the keyboard)."""
        self.engine = engine
        loop = asyncio.get_running_loop()

        def reader() -> None:
            for line in stream:
                loop.call_soon_threadsafe(self._line, line.rstrip("\n"))
            loop.call_soon_threadsafe(self._line, None)

        threading.Thread(target=reader, name="mikan-console-input", daemon=True).start()

    def _line(self, line: str | None) -> None:
        assert self.engine is not None
        if line is None:
            self.eof = True
            # A line on its way to the turn is not lost to the end of input behind it.
            if self.my_turn and not self.pending and not self.delivering:
                self.engine.stop("input closed")
            return
        if self.my_turn and not self.pending and not self.delivering:
            result = self.engine.submit(CONSOLE_USER, line)
            if result is SubmitResult.ACCEPTED:
                self.my_turn = False
            return
        if line.lstrip().startswith(self.engine.spec.chat_prefix):
            return  # chat is never judged, and never queued
        self.pending.append(line)

    def _your_turn(self) -> None:
        assert self.engine is not None
        self.my_turn = True
        if self.pending:
            line = self.pending.popleft()
            # After emit returns: the engine is then waiting for this line.
            self.delivering = True
            asyncio.get_running_loop().call_soon(self._deliver, line)
        elif self.eof:
            self.engine.stop("input closed")

    def _deliver(self, line: str) -> None:
        assert self.engine is not None
        self.delivering = False
        if self.engine.submit(CONSOLE_USER, line) is SubmitResult.ACCEPTED:
            self.my_turn = False
        elif self.eof and not self.pending:
            self.engine.stop("input closed")

    # -- output -------------------------------------------------------------------
    async def emit(self, event: Event) -> None:
        """Print ``event`` (never a probe); on your turn, hand in a queued line, if any.

        With input closed and nothing queued, your turn stops the round instead.
        """
        c = self.console
        if isinstance(event, RoundStarted):
            names = "、".join(s.name for s in event.seats)
            c.print(
                f"[bold]しりとり開始[/bold] ({escape(names)}) — 最初の言葉は"
                f"「{escape(event.start_word)}」。次は {morae_text(event.allowed)}"
            )
        elif isinstance(event, ModelThinking):
            c.print(f"[dim]… {escape(event.seat.name)} が考えています[/dim]")
        elif isinstance(event, PersonTurn):
            c.print(
                f"[bold cyan]あなたの番です[/bold cyan]: {morae_text(event.allowed)} から"
                f"始まる言葉をどうぞ（{event.timeout_s:.0f}秒、// で始めると雑談）"
            )
            if self.engine is not None and event.seat.user_id == CONSOLE_USER:
                self._your_turn()
        elif isinstance(event, TurnJudged):
            if event.seat.user_id == CONSOLE_USER:
                self.my_turn = False
            name = escape(event.seat.name)
            if event.outcome == "no_answer":
                c.print(
                    f"{name}: [yellow]応答なし (no answer)[/yellow] "
                    f"{escape(event.no_answer_reason or '')}"
                )
                return
            shown = (
                with_reading(event.word, event.reading)
                if event.word
                else shorten(event.raw_text or "", 80)
            )
            if event.outcome == "accepted":
                c.print(f"{name}: {escape(shown)} ✅  次は {morae_text(event.next)}")
            else:
                c.print(f"{name}: {escape(shown)} ❌ {escape(describe(event.violations))}")
        elif isinstance(event, SeatOut):
            c.print(f"[red]{escape(event.seat.name)} は脱落しました[/red] ({event.reason})")
        elif isinstance(event, RoundEnded):
            winner = escape(event.winner.name) if event.winner else "なし (none)"
            c.print(
                f"[bold]おしまい[/bold] — 勝者 / winner: {winner}、{event.turns} 手 "
                f"({event.status}: {event.reason})"
            )
        # ProbeRecorded: deliberately nothing.
