"""Signals for long-running commands: SIGINT and SIGTERM ask to stop, they do not kill."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def install_stop_handlers(
    stop: asyncio.Event, *, again: asyncio.Event | None = None
) -> Callable[[], None]:
    """Ctrl-C / SIGTERM set ``stop`` (instead of killing tasks mid-commit).

    Call from the running loop's thread. A signal whose handler cannot be installed
    there (no Unix signals, or not the main thread) keeps its default behaviour.
    With ``again``, a signal that arrives once ``stop`` is set sets ``again``: the
    handlers stay installed throughout, so there is no moment in which a second
    Ctrl-C meets Python's default handler (a traceback instead of a clean stop).

    Returns:
        A function that removes the handlers this installed.
    """
    loop = asyncio.get_running_loop()
    installed = []

    def on_signal() -> None:
        if again is not None and stop.is_set():
            again.set()
        else:
            stop.set()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            previous[sig] = signal.getsignal(sig)
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)
            # asyncio leaves SIG_DFL behind (death by SIGTERM); put back what was there.
            if previous.get(sig) is not None:
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(sig, previous[sig])

    return remove


class ShutdownDeadline:
    """A bound on shutdown: once started, the process ends within ``limit_s``.

    A clean shutdown cancels the deadline. If something hangs (a close that never
    returns, a worker thread the interpreter would wait for), the deadline logs one line
    and ends the process with ``code``. Nothing committed is lost that way: every write
    is one SQLite transaction, kept or rolled back whole.
    """

    def __init__(
        self, limit_s: float, *, code: int = 1, exit: Callable[[int], object] = os._exit
    ) -> None:
        self.limit_s = limit_s
        self._code = code
        self._exit = exit
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        """Start counting (once; later calls do nothing)."""
        if self._timer is None:
            self._timer = threading.Timer(self.limit_s, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        """Shutdown finished in time: never exit."""
        if self._timer is not None:
            self._timer.cancel()

    def _expire(self) -> None:
        log.error("shutdown did not finish within %.0f s; exiting now", self.limit_s)
        for handler in logging.getLogger().handlers:  # the line reaches the log first
            handler.flush()
        self._exit(self._code)
