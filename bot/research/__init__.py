"""Research outputs derived from the database: statistics, exports and charts.

Holds ``mikan stats`` (``stats``: per model, with Wilson 95% intervals, read from the
rollups), ``mikan export`` (``export``: CSV tables and JSONL transcripts) and the
matplotlib charts (``charts``).

May import: ``storage`` and ``bot.referee``. Nothing of ``bot.rounds``,
``bot.players``, ``bot.surfaces``, ``cogs`` or ``discord``: every figure is derived
from stored rows, so it can be recomputed from a database alone.
"""
