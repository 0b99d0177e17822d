"""The Discord layer: the only package that imports ``discord``.

Holds the ``commands.Bot`` subclass and the ``mikan run``/``sync``/``commands`` entry
points (``client``), where discord.py is pointed at another host for the loopback
tests (``endpoint``), the run-time permission checks (``checks``), the wording of
failures (``replies``), and the extensions: ``admin`` (owner commands) and
``shiritori`` (rounds in channels: commands, the channel round driver, presentation).

May import: ``bot`` and ``storage``. Nothing in ``bot`` or ``storage`` imports this
package (the command line reaches ``cogs.client`` lazily, by name, only for the
Discord commands).
"""
