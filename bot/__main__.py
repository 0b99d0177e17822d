"""``python -m bot`` is ``mikan``."""

from bot.cli import entry

entry()
