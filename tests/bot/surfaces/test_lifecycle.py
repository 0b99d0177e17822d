"""Shutdown is bounded: the deadline ends a hung process, and never a clean one."""

from __future__ import annotations

import threading

from bot.surfaces.lifecycle import ShutdownDeadline


def test_a_hung_shutdown_is_ended_when_the_deadline_passes() -> None:
    exited = threading.Event()
    codes: list[int] = []

    def fake_exit(code: int) -> None:
        codes.append(code)
        exited.set()

    deadline = ShutdownDeadline(0.01, code=3, exit=fake_exit)
    deadline.start()
    deadline.start()  # a second signal does not start a second countdown
    assert exited.wait(10), "the deadline never fired"
    assert codes == [3]


def test_a_shutdown_that_finishes_cancels_the_deadline() -> None:
    fired = threading.Event()
    deadline = ShutdownDeadline(0.05, exit=lambda code: fired.set())
    deadline.start()
    deadline.cancel()
    timer = deadline._timer
    assert timer is not None
    timer.join(10)  # the timer thread ends, cancelled, without calling exit
    assert not timer.is_alive() and not fired.is_set()


def test_a_deadline_never_started_does_nothing_on_cancel() -> None:
    ShutdownDeadline(0.01, exit=lambda code: (_ for _ in ()).throw(AssertionError)).cancel()
