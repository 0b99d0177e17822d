"""Rounds: the game as data, the engine that plays it, and the silent probes.

Holds a round's state as a fold over committed turns (``state``), the engine that
asks seats for moves, judges and commits them before announcing (``engine``), the
mapping of rounds, seats, turns and calls to storage rows (``records``), the events a
round sends its surface (``events``), each model's conversation (``conversation``),
the versioned prompts (``prompts``), the probes asked after a violation (``probes``)
and each channel's round settings (``settings``).

May import: ``bot.referee``, ``bot.players``, ``storage``. Nothing of
``bot.research``, ``bot.surfaces``, ``cogs`` or ``discord``: a round talks to its
surface only through the events protocol.
"""
