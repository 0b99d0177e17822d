"""Errors about the database file a path names, each refused before anything is written.

``str(exc)`` is always one line: the file (as ``shown`` prints it), what is wrong with it,
and what to do. The command line prints it after ``mikan:``; the attributes say the same
for code that wants to decide by kind. Standard library only: ``storage.migrations``
imports this module, so it must stay free of live code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# ForeignDatabaseError kinds: what the file turned out to be.
EMPTY = "empty"  # a zero-byte file
EMPTY_SQLITE = "empty_sqlite"  # an SQLite database with nothing in it
NOT_SQLITE = "not_sqlite"  # no SQLite header, or SQLite cannot read it
NOT_A_FILE = "not_a_file"  # a directory, a FIFO, a device
OTHER_PROGRAM = "other_program"  # an SQLite database with tables that are not Mikan's
INITIALISABLE = frozenset({EMPTY, EMPTY_SQLITE})

_UNTOUCHED = "(left untouched)"


def shown(path: str | os.PathLike[str]) -> str:
    """Return ``path`` as one printable line: as it is, or quoted with escapes.

    A path with a control character (a newline, a tab), undecodable bytes, or leading or
    trailing spaces is shown as a Python string literal, so a message naming it stays one
    line and says exactly which file; any other path (Japanese, emoji) is shown as is.
    """
    text = os.fsdecode(path)
    if text and text.isprintable() and text == text.strip():
        return text
    return repr(text)


class DatabaseFileError(Exception):
    """The file at ``path`` cannot be used as the Mikan database (base of these errors).

    ``str(exc)`` is one line naming the file, saying what is wrong and what to do.
    """

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


class ForeignDatabaseError(DatabaseFileError):
    """The file exists but is not a Mikan database; it was neither read on nor changed.

    ``kind`` is one of ``EMPTY``, ``EMPTY_SQLITE`` (both ``initialisable``: a writer
    given ``init=True`` makes them a new Mikan database), ``NOT_SQLITE``, ``NOT_A_FILE``
    and ``OTHER_PROGRAM`` (refused whatever ``init`` says). ``tables`` names what an
    ``OTHER_PROGRAM`` database holds. ``reader`` is True when the caller only reads (the
    advice then cannot be ``--init``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        kind: str,
        *,
        reader: bool = False,
        tables: Iterable[str] = (),
        detail: str | None = None,
    ) -> None:
        self.kind = kind
        self.reader = reader
        self.tables = tuple(tables)
        self.initialisable = kind in INITIALISABLE
        super().__init__(path, self._message(shown(path), detail))

    def _message(self, name: str, detail: str | None) -> str:
        if self.kind == EMPTY:
            what = "is an empty file, not a Mikan database"
        elif self.kind == EMPTY_SQLITE:
            what = "is an SQLite database with no tables, not a Mikan database"
        elif self.kind == NOT_A_FILE:
            what = f"is {detail or 'not a regular file'}, not a database file"
        elif self.kind == OTHER_PROGRAM:
            listed = ", ".join(shown(t) for t in self.tables[:5])
            more = ", …" if len(self.tables) > 5 else ""
            what = (
                f"is another program's SQLite database (tables: {listed}{more}), "
                "not a Mikan database"
            )
        else:
            what = (
                f"is not a readable SQLite database ({detail})"
                if detail
                else "is not an SQLite database"
            )
        if self.initialisable and not self.reader:
            advice = "pass --init to make it a new Mikan database, or give another --db"
        elif self.reader:
            advice = "give the path of a Mikan database with --db"
        else:
            advice = "give another --db: a Mikan database, or a path with no file yet for a new one"
        return f"{name} {what} {_UNTOUCHED}; {advice}"


class MissingDatabaseError(DatabaseFileError):
    """There is no file at ``path`` and the caller only reads: nothing is created."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            path,
            f"no database at {shown(path)} (no such file); play a round first "
            "(mikan arena) or give the path of a Mikan database with --db",
        )


class SchemaTooNewError(DatabaseFileError, RuntimeError):
    """The database has a schema version newer than this code knows (it is refused).

    ``version`` is the database's, ``latest`` the newest this code knows. Also a
    ``RuntimeError``, as it always was.
    """

    def __init__(self, path: str | os.PathLike[str], version: int, latest: int) -> None:
        self.version = version
        self.latest = latest
        super().__init__(
            path,
            f"{shown(path)} has schema version {version}, but this Mikan knows only up to "
            f"{latest} {_UNTOUCHED}; upgrade Mikan to open it",
        )


class DatabaseUnavailableError(Exception):
    """The database cannot take writes now (full disk, a lock held too long elsewhere).

    Nothing half-written: the write that met it was rolled back whole, and every write
    before it is committed. ``str(exc)`` is one line saying what happened and what to do.
    ``path`` is the database file.
    """

    exit_code = 75  # EX_TEMPFAIL: try again once the cause is gone

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


class DatabaseFullError(DatabaseUnavailableError):
    """SQLite said the disk (or the database's page limit) is full."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(
            path,
            f"the disk holding {shown(path)} is full: stopped after the last committed "
            "turn, nothing committed is lost; free some space and run again to resume",
        )


class DatabaseBusyError(DatabaseUnavailableError):
    """Another connection held the write lock for longer than this process would wait."""

    def __init__(self, path: str | os.PathLike[str], waited_s: float) -> None:
        self.waited_s = waited_s
        super().__init__(
            path,
            f"{shown(path)} stayed locked by another process for {waited_s:.0f} s: stopped "
            "after the last committed turn, nothing committed is lost; find what holds "
            "the lock (a long transaction, a DB browser) and run again to resume",
        )


class LeaseLostError(Exception):
    """This worker no longer holds the round's lease: another worker plays it now.

    The write that found it out was rolled back whole; the round is the other worker's.
    """

    def __init__(self, round_id: int, owner: str | None) -> None:
        self.round_id = round_id
        self.owner = owner
        held = f"held by {owner}" if owner else "released"
        super().__init__(f"round {round_id} is no longer this worker's (its lease is {held})")
