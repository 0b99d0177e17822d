"""``python -m bot`` is ``mikan``."""

from bot.cli import main

raise SystemExit(main())
