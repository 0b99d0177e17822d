"""Database files: what a path holds, decided without changing it, and SQLite URIs for it.

Every connection Mikan makes to a file goes through ``uri``: the absolute path,
percent-encoded, so ``?``, ``#``, ``%``, a leading ``file:`` or any other character a
filesystem allows names exactly that file (this SQLite takes a ``file:`` name as a URI
even without ``uri=True``).

``examine`` says what a path holds by reading the first bytes and, for an SQLite file,
its schema through a connection that cannot write: the file's bytes and times stay as
they were and no ``-wal``, ``-shm`` or ``-journal`` file is left behind. ``require`` turns
that into the rules of ``Database.open``, ``upgrade_file`` and ``connect_readonly``.

Standard library only (``storage.migrations`` imports it).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from storage.errors import (
    EMPTY,
    EMPTY_SQLITE,
    INITIALISABLE,
    NOT_A_FILE,
    NOT_SQLITE,
    OTHER_PROGRAM,
    DatabaseFileError,
    ForeignDatabaseError,
    MissingDatabaseError,
    SchemaTooNewError,
    shown,
)

ABSENT = "absent"
MIKAN = "mikan"

HEADER = b"SQLite format 3\x00"
# The tables of Mikan's first schema (migration 1) besides ``schema_version``.
MIKAN_TABLES = frozenset({"rounds", "seats", "turns", "probes", "calls", "channel_settings"})
SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Found:
    """What a path holds: ``kind`` (``ABSENT``, ``MIKAN`` or a ForeignDatabaseError kind).

    ``version`` is a Mikan database's schema version (0: its first migration never
    finished); ``tables`` the tables another program's database holds; ``detail`` what
    SQLite or the filesystem said about a file that is not a database.
    """

    kind: str
    version: int | None = None
    tables: tuple[str, ...] = ()
    detail: str | None = None


def uri(path: str | os.PathLike[str], **params: str | int) -> str:
    """Return the SQLite URI of the file at ``path``: absolute, percent-encoded.

    ``params`` become the query (``mode="ro"``, ``immutable=1``).
    """
    text = Path(path).resolve().as_uri()  # as_uri percent-encodes the path's bytes
    return f"{text}?{urlencode(params)}" if params else text


def sidecar(path: str | os.PathLike[str], suffix: str) -> Path:
    """Return the path of the file SQLite keeps next to ``path`` (``-wal``, ``-shm``…).

    Next to the file itself: a symbolic link is followed, as SQLite does.
    """
    return Path(os.fspath(Path(path).resolve()) + suffix)


def _sidecars_present(path: str | os.PathLike[str]) -> set[str]:
    return {s for s in SIDECARS if os.path.lexists(sidecar(path, s))}


def examine(path: str | os.PathLike[str]) -> Found:
    """Say what ``path`` holds, without changing the file or leaving anything beside it.

    A regular file's first 100 bytes say whether it is SQLite at all (and whether it is
    in WAL mode); an SQLite file's schema is then read through a connection that cannot
    write: ``immutable=1`` for a WAL file with no ``-wal`` (all there is, is in the main
    file, and no ``-shm`` is made), else ``mode=ro`` (which in rollback mode makes no
    files; a ``-shm`` it had to make next to an existing ``-wal`` is removed). Raises
    ``DatabaseFileError`` for a file that cannot be read (permissions);
    ``sqlite3.OperationalError`` (a lock held past the busy timeout) passes through.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return Found(ABSENT)
    except OSError as exc:
        raise DatabaseFileError(
            path, f"{shown(path)} cannot be looked at ({exc.strerror}); check the path"
        ) from exc
    if not stat.S_ISREG(info.st_mode):
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        return Found(NOT_A_FILE, detail=what)
    if info.st_size == 0:
        return Found(EMPTY)
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise DatabaseFileError(
            path,
            f"{shown(path)} cannot be read ({exc.strerror}); check its permissions",
        ) from exc
    if len(header) < 100 or not header.startswith(HEADER):
        return Found(NOT_SQLITE)
    return _examine_sqlite(path, wal=header[18] == 2 or header[19] == 2)


def _examine_sqlite(path: str | os.PathLike[str], *, wal: bool) -> Found:
    before = _sidecars_present(path)
    immutable = wal and "-wal" not in before
    target = uri(path, immutable=1) if immutable else uri(path, mode="ro")
    con = sqlite3.connect(target, uri=True, isolation_level=None)
    try:
        objects = con.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).fetchall()
        tables = sorted(name for kind, name in objects if kind == "table")
        if not objects:
            return Found(EMPTY_SQLITE)
        if "schema_version" not in tables:
            return Found(OTHER_PROGRAM, tables=tuple(tables))
        columns = [r[1] for r in con.execute("PRAGMA table_info(schema_version)")]
        if columns != ["version", "applied_at"]:
            return Found(OTHER_PROGRAM, tables=tuple(tables))
        latest = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
        return Found(NOT_SQLITE, detail=str(exc))
    finally:
        con.close()
        if not immutable:
            for suffix in _sidecars_present(path) - before:
                with contextlib.suppress(OSError):
                    sidecar(path, suffix).unlink()
    if latest is None and objects == [("table", "schema_version")]:
        return Found(MIKAN, version=0)  # a first open that stopped before migration 1
    if isinstance(latest, int) and latest >= 1 and set(tables) >= MIKAN_TABLES:
        return Found(MIKAN, version=latest)
    return Found(OTHER_PROGRAM, tables=tuple(tables))


def require(path: str | os.PathLike[str], *, create: bool, init: bool, latest: int) -> Found:
    """Check that ``path`` may be opened as the Mikan database; return what it holds.

    ``create``: a writer (``Database.open``), for which an absent file is fine (it will
    be created); a reader (``create=False``) raises ``MissingDatabaseError`` for it.
    ``init``: an empty file or an SQLite database with no tables may become a Mikan
    database (else ``ForeignDatabaseError``, which says to pass ``--init``). A file that
    is not SQLite, or another program's database, raises ``ForeignDatabaseError``
    whatever ``init`` says; a Mikan database newer than ``latest`` raises
    ``SchemaTooNewError``. Nothing is written in any case.
    """
    found = examine(path)
    if found.kind == ABSENT:
        if not create:
            raise MissingDatabaseError(path)
        return found
    if found.kind == MIKAN:
        if (found.version or 0) > latest:
            raise SchemaTooNewError(path, found.version or 0, latest)
        return found
    if found.kind in INITIALISABLE and init and create:
        return found
    raise ForeignDatabaseError(
        path, found.kind, reader=not create, tables=found.tables, detail=found.detail
    )


def connect(path: str | os.PathLike[str], *, create: bool) -> sqlite3.Connection:
    """Open the file at ``path`` for reading and writing (autocommit mode).

    ``create``: make the file if there is none (``mode=rwc``); else it must exist
    (``mode=rw``). Check it with ``require`` first.
    """
    return sqlite3.connect(
        uri(path, mode="rwc" if create else "rw"), uri=True, isolation_level=None
    )


class ReadOnlyConnection(sqlite3.Connection):
    """A ``mode=ro`` connection that, closed, takes away the ``-wal``/``-shm`` it made.

    A read-only connection to a WAL database with no ``-wal`` makes one (and a ``-shm``)
    and, unable to write, leaves them. On ``close`` a moment's read-write connection is
    opened and closed instead: SQLite removes both when that is the last connection (and
    leaves them, as it should, while another one, a running bot say, still uses them).
    """

    _tidy: str | None = None

    def close(self) -> None:
        """Close the connection, then tidy away the WAL files it made (if it made any)."""
        super().close()
        target, self._tidy = self._tidy, None
        if target is None or not {"-wal", "-shm"} & _sidecars_present(target):
            return
        with contextlib.suppress(sqlite3.Error):
            tidy = sqlite3.connect(uri(target, mode="rw"), uri=True)
            try:
                tidy.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            finally:
                tidy.close()


def connect_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open the existing file at ``path`` read-only (``mode=ro``): it never blocks writers.

    Check it with ``require`` first. Closing the connection leaves nothing beside the
    file that was not there before (see ``ReadOnlyConnection``).
    """
    made_here = not {"-wal", "-shm"} & _sidecars_present(path)
    con = sqlite3.connect(uri(path, mode="ro"), uri=True, factory=ReadOnlyConnection)
    if made_here:
        con._tidy = os.fspath(path)
    return con
