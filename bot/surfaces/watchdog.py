"""A loop-stall watchdog for debug mode: says when the event loop stops answering, and where.

Nothing blocking may run on the event loop (a 40 s stall misses Discord's heartbeats and
drops the session). A daemon thread asks the loop to run a no-op every ``interval_s``; if it
has not run after ``threshold_s``, the loop thread's stack is logged once, and the stall's
length when the loop answers again. Enabled by ``--debug`` or ``MIKAN_DEBUG=1``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
import traceback

log = logging.getLogger(__name__)

DEBUG_ENV = "MIKAN_DEBUG"
STALL_MESSAGE = "event loop blocked for more than %.1f s; the loop thread is at:\n%s"
RECOVERED_MESSAGE = "event loop stalled for %.1f s"


def debug_enabled(flag: bool = False) -> bool:
    """``--debug`` given, or ``MIKAN_DEBUG`` set to something other than 0/empty."""
    return flag or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


class LoopWatchdog:
    """Watches one running loop from a daemon thread; ``stop()`` ends the thread."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        threshold_s: float = 1.0,
        interval_s: float = 0.25,
    ) -> None:
        self._loop = loop
        self._threshold_s = threshold_s
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._loop_thread = threading.get_ident()  # constructed on the loop's thread
        self._thread = threading.Thread(target=self._watch, name="mikan-watchdog", daemon=True)
        self.stalls: list[float] = []  # seconds, one per stall seen (for tests and logs)

    def start(self) -> LoopWatchdog:
        """Start watching; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching; the thread ends soon after.

        Within one interval, or ``threshold_s`` more if it is timing a stall just then.
        """
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self._interval_s):
            answered = threading.Event()
            started = time.monotonic()
            try:
                self._loop.call_soon_threadsafe(answered.set)
            except RuntimeError:  # the loop is closed
                return
            if answered.wait(self._threshold_s):
                continue
            frame = sys._current_frames().get(self._loop_thread)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(unknown)"
            log.warning(STALL_MESSAGE, self._threshold_s, stack)
            while not answered.wait(self._interval_s):
                if self._stop.is_set() or self._loop.is_closed():
                    return
            took = time.monotonic() - started
            self.stalls.append(took)
            log.warning(RECOVERED_MESSAGE, took)
