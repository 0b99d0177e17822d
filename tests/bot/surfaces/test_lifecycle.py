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


async def test_two_signals_back_to_back_set_stop_then_again_and_never_reach_python() -> None:
    # The handler stays installed from the first signal to the second: two SIGINTs
    # delivered without a pause between them must not meet KeyboardInterrupt.
    import asyncio
    import os
    import signal

    from bot.surfaces.lifecycle import install_stop_handlers

    stop, again = asyncio.Event(), asyncio.Event()
    remove = install_stop_handlers(stop, again=again)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.wait_for(again.wait(), 10)
        assert stop.is_set()
    finally:
        remove()


async def test_without_again_every_signal_only_sets_stop() -> None:
    import asyncio
    import os
    import signal

    from bot.surfaces.lifecycle import install_stop_handlers

    stop = asyncio.Event()
    remove = install_stop_handlers(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 10)
    finally:
        remove()
