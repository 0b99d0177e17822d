"""Signals for long-running commands: SIGINT and SIGTERM ask to stop, they do not kill."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable


def install_stop_handlers(stop: asyncio.Event) -> Callable[[], None]:
    """Ctrl-C / SIGTERM set ``stop`` (instead of killing tasks mid-commit)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove
