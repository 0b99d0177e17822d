"""Finding the word a player meant in a message: kept for its importers; the reader decides.

The word is found by :mod:`bot.referee.reader` (reader-3), which reads the move and the
self-flag together and knows the turn's context; :func:`extract` is that reader without
context, as used for words already played (``Referee.reading_of``) and by tools.
"""

from __future__ import annotations

from bot.referee.reader import MAX_WORD_CHARS, Extracted, Source, extract

__all__ = ["MAX_WORD_CHARS", "Extracted", "Source", "extract"]
