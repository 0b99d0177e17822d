"""Storage: the schema, its migrations, the queries, and the SQLite backend.

Holds the database (``db``: one writer, group commit, WAL), the numbered, frozen
migrations (``migrations``), the statistics rollups written with each turn
(``rollups``), the read queries behind statistics and exports (``queries``), the check
of what a database path holds and the SQLite URIs for it (``files``), and the errors
that refuse a file that is not a Mikan database (``errors``).

May import: the standard library and the database driver only. Nothing of ``bot``,
``cogs`` or ``discord``: it stores and returns plain rows and knows nothing of the game.
"""
