"""Surfaces other than Discord: the headless arena and the terminal console.

Holds ``mikan arena`` (``arena``), ``mikan console`` (``console``), the wording of
verdicts shared with the Discord surface (``messages``), signal handling for
long-running commands (``lifecycle``) and the debug-mode loop-stall watchdog
(``watchdog``).

May import: ``bot.referee``, ``bot.players``, ``bot.rounds``, ``bot.research``,
``storage``. Nothing of ``cogs`` or ``discord`` (the Discord surface lives in
``cogs``, which may import this package, not the other way round).
"""
