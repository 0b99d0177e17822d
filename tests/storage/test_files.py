"""Database files: any path names exactly its file; a file that is not a Mikan database is
refused, byte for byte as it was, by every entry point; the normal paths are unchanged."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import errors, files, migrations, queries
from storage.db import Database
from storage.errors import (
    DatabaseFileError,
    ForeignDatabaseError,
    MissingDatabaseError,
    SchemaTooNewError,
    shown,
)
from storage.migrations import LATEST
from tests.storage.test_rollups import downgrade_to_2
from tests.support.records import T, write_round

# Names a filesystem allows that a naive "file:{path}?mode=ro" URI gets wrong (or that
# SQLite, which takes any name starting "file:" as a URI, would read as one).
NASTY_NAMES = [
    "q?mark",
    "hash#tag",
    "pct%",
    "pct%3F",
    "pct%2e%2E",
    "amp&mode=rw=x;y",
    "?mode=ro",
    "sp ace",
    "quote'dq\"",
    "back\\slash",
    "-leading",
    "tab\tin",
    "new\nline",
    "日本語",
    "🍊emoji",
    "file:like?a=uri#x",
    " spaces around ",
    "all ?#%3F&=;'\"\\\t\n日本🍊",
]
IDS = [ascii(n) for n in NASTY_NAMES]


def tree(root: Path) -> set[str]:
    """Every path under ``root``, relative (so a stray file anywhere shows)."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mtime_ns, st.st_size


def settle(path: Path) -> None:
    """Give the file an old mtime, so that any write to it would show."""
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))


def rounds_in(path: Path) -> int:
    """Read a file's rounds through a copy with a plain name (independent of the code)."""
    with tempfile.TemporaryDirectory() as elsewhere:
        plain = Path(elsewhere) / "plain.sqlite3"
        shutil.copyfile(path, plain)
        con = sqlite3.connect(plain)
        try:
            return con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0]
        finally:
            con.close()


async def one_round(path: Path | str, **kw: Any) -> None:
    db = await Database.open(path, **kw)
    try:
        await write_round(db, [("a", "a-1"), ("b", "b-1")], [T(0, ["り"], word="りんご")])
    finally:
        await db.close()


# -- 1. any path names exactly its file ----------------------------------------------


@pytest.mark.parametrize("name", NASTY_NAMES, ids=IDS)
async def test_any_path_opens_exactly_its_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a file created from a misread URI would land here too
    folder = tmp_path / f"d{name}"
    folder.mkdir()
    path = folder / f"{name}.sqlite3"
    await one_round(path)  # created
    await one_round(path)  # reopened: the same file, now with two rounds
    assert tree(tmp_path) == {folder.name, f"{folder.name}/{path.name}"}
    assert rounds_in(path) == 2

    downgrade_to_2(path)
    assert migrations.upgrade_file(path) == 2
    assert migrations.upgrade_file(path) == LATEST
    con = queries.connect_readonly(path)
    try:
        assert con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 2
        assert queries.schema_version(con) == LATEST
    finally:
        con.close()
    assert tree(tmp_path) == {folder.name, f"{folder.name}/{path.name}"}


@pytest.mark.parametrize("name", ["file:x.db", "file:x.db?mode=memory", "x?mode=ro", "-"])
async def test_a_relative_path_is_a_path(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite here reads any name starting with ``file:`` as a URI, even without
    ``uri=True``: a relative ``--db file:x.db`` must still be that file in this folder."""
    monkeypatch.chdir(tmp_path)
    await one_round(name)
    assert tree(tmp_path) == {name}
    assert rounds_in(tmp_path / name) == 1
    assert migrations.upgrade_file(name) == LATEST
    queries.connect_readonly(name).close()
    assert tree(tmp_path) == {name}


def test_uri_is_absolute_and_percent_encoded(tmp_path: Path) -> None:
    path = tmp_path / "a?b#c%d e日.db"
    uri = files.uri(path, mode="ro")
    assert uri.startswith("file:///") and uri.endswith("?mode=ro")
    body = uri[len("file://") : -len("?mode=ro")]
    assert "?" not in body and "#" not in body and " " not in body and "日" not in body
    assert "%3F" in body and "%23" in body and "%25" in body and "%20" in body


def test_shown_keeps_a_message_on_one_line() -> None:
    assert shown("mikan.sqlite3") == "mikan.sqlite3"
    assert shown("日本語/🍊.db") == "日本語/🍊.db"
    assert shown("a\nb") == repr("a\nb") and "\n" not in shown("a\nb")
    assert "\t" not in shown("a\tb")
    assert shown(" x ") == repr(" x ")
    assert shown(os.fsdecode(b"\xff.db")).isprintable()


# -- 2. foreign files: refused, untouched, by every entry point ------------------------


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _text(path: Path) -> None:
    path.write_text("id,name\n1,mikan\n", encoding="utf-8")


def _fake_header(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + b"\xa5" * 8192)


def _empty_sqlite(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 0")
    con.execute("VACUUM")
    con.close()


def _empty_sqlite_wal(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.close()


def _other_program(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO users (name) VALUES ('mikan')")
    con.commit()
    con.close()


def _other_program_wal(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE notes (body TEXT)")
    con.execute("INSERT INTO notes VALUES ('x')")
    con.commit()
    con.close()


def _other_with_schema_version(path: Path) -> None:
    """Another program that also keeps a ``schema_version`` table (a common name)."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    con.execute("INSERT INTO schema_version VALUES (1, 'then')")
    con.execute("CREATE TABLE accounts (id INTEGER)")
    con.commit()
    con.close()


def _text_schema_version(path: Path) -> None:
    """A ``schema_version`` table named like Mikan's, holding text, beside Mikan's tables."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER, applied_at TEXT)")
    con.execute("INSERT INTO schema_version VALUES ('1.2.3', 'then')")
    for table in files.MIKAN_TABLES:
        con.execute(f"CREATE TABLE {table} (id INTEGER)")
    con.commit()
    con.close()


def _only_a_view(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE VIEW v AS SELECT 1 AS one")
    con.close()


# kind -> (maker, the ForeignDatabaseError kind, whether --init may take it)
FOREIGN: dict[str, tuple[Callable[[Path], None], str, bool]] = {
    "zero-byte": (_empty, errors.EMPTY, True),
    "garbage": (_garbage, errors.NOT_SQLITE, False),
    "text": (_text, errors.NOT_SQLITE, False),
    "fake-header": (_fake_header, errors.NOT_SQLITE, False),
    "empty-sqlite": (_empty_sqlite, errors.EMPTY_SQLITE, True),
    "empty-sqlite-wal": (_empty_sqlite_wal, errors.EMPTY_SQLITE, True),
    "other-program": (_other_program, errors.OTHER_PROGRAM, False),
    "other-program-wal": (_other_program_wal, errors.OTHER_PROGRAM, False),
    "other-schema-version": (_other_with_schema_version, errors.OTHER_PROGRAM, False),
    "only-a-view": (_only_a_view, errors.OTHER_PROGRAM, False),
    "text-schema-version": (_text_schema_version, errors.OTHER_PROGRAM, False),
}


def _open(init: bool) -> Callable[[Path], Any]:
    async def go(path: Path) -> None:
        db = await Database.open(path, init=init)
        await db.close()

    return lambda path: asyncio.run(go(path))


ENTRY_POINTS: dict[str, tuple[Callable[[Path], Any], bool]] = {
    # name -> (call, whether it is a reader)
    "Database.open": (_open(False), False),
    "Database.open(init)": (_open(True), False),
    "upgrade_file": (migrations.upgrade_file, True),
    "connect_readonly": (lambda p: queries.connect_readonly(p).close(), True),
}


@pytest.fixture(params=sorted(FOREIGN))
def foreign(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str, bool]]:
    maker, kind, initialisable = FOREIGN[request.param]
    folder = tmp_path / "db dir?#"
    folder.mkdir()
    path = folder / f"{request.param}?.db"
    maker(path)
    settle(path)
    yield path, kind, initialisable


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_a_foreign_file_is_refused_untouched(foreign: tuple[Path, str, bool], entry: str) -> None:
    path, kind, initialisable = foreign
    call, reader = ENTRY_POINTS[entry]
    before, listing = fingerprint(path), tree(path.parent)
    if entry == "Database.open(init)" and initialisable:
        call(path)  # --init: it becomes a Mikan database
        assert files.examine(path).kind == files.MIKAN
        return
    with pytest.raises(ForeignDatabaseError) as caught:
        call(path)
    exc = caught.value
    assert (exc.kind, exc.initialisable, exc.reader) == (kind, initialisable, reader)
    assert fingerprint(path) == before, "the file changed"
    assert tree(path.parent) == listing, "something was left beside it"
    message = str(exc)
    assert "\n" not in message and message.startswith(shown(path))
    assert "not" in message and "untouched" in message
    assert ("--init" in message) == (initialisable and not reader)
    assert isinstance(exc, DatabaseFileError) and exc.path == path


def test_a_foreign_file_held_open_by_its_program(tmp_path: Path) -> None:
    """Another program has its WAL database open (a -wal holds its last commit): the
    check reads it as it is, leaves the main file and the -wal as they are."""
    path = tmp_path / "theirs.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA wal_autocheckpoint = 0")
    con.execute("CREATE TABLE notes (body TEXT)")  # in the -wal only
    try:
        wal = files.sidecar(path, "-wal")
        assert wal.exists()
        before, wal_before, listing = fingerprint(path), wal.read_bytes(), tree(tmp_path)
        for name, (call, _) in ENTRY_POINTS.items():
            with pytest.raises(ForeignDatabaseError, match="another program") as caught:
                call(path)
            assert caught.value.tables == ("notes",), name
            assert fingerprint(path) == before and wal.read_bytes() == wal_before, name
            assert tree(tmp_path) == listing, name
    finally:
        con.close()


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "a folder"
    folder.mkdir()
    for name, (call, _) in ENTRY_POINTS.items():
        with pytest.raises(ForeignDatabaseError, match="is a directory") as caught:
            call(folder)
        assert caught.value.kind == errors.NOT_A_FILE, name
    assert tree(tmp_path) == {"a folder"}


@pytest.mark.parametrize("entry", ["upgrade_file", "connect_readonly"])
def test_a_reader_never_creates_a_file(entry: str, tmp_path: Path) -> None:
    path = tmp_path / "no such?.db"
    with pytest.raises(MissingDatabaseError) as caught:
        ENTRY_POINTS[entry][0](path)
    assert str(caught.value).startswith(f"no database at {shown(path)}")
    assert "\n" not in str(caught.value)
    assert tree(tmp_path) == set()


# -- schema too new: refused untouched, everywhere -------------------------------------


async def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new\n.db"
    await one_round(path)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (999, 'future')")
    con.commit()
    con.close()
    settle(path)
    before, listing = fingerprint(path), tree(tmp_path)
    for name, (call, _) in ENTRY_POINTS.items():
        with pytest.raises(SchemaTooNewError) as caught:
            await asyncio.to_thread(call, path)
        exc = caught.value
        assert (exc.version, exc.latest) == (999, LATEST), name
        assert str(exc).startswith(shown(path)) and "\n" not in str(exc), name
        assert isinstance(exc, DatabaseFileError) and isinstance(exc, RuntimeError)
        assert fingerprint(path) == before and tree(tmp_path) == listing, name
    assert migrations.SchemaTooNewError is SchemaTooNewError


def test_apply_names_the_file_of_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    asyncio.run(one_round(path))
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("INSERT INTO schema_version VALUES (999, 'future')")
    with pytest.raises(SchemaTooNewError, match=r"n\.db has schema version 999"):
        migrations.apply(con)
    con.close()


# -- the normal paths ------------------------------------------------------------------


async def test_a_new_file_is_created_where_none_is(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "new.sqlite3"
    db = await Database.open(path)
    assert await db.schema_version() == LATEST
    await db.close()
    assert files.examine(path) == files.Found(files.MIKAN, version=LATEST)
    assert tree(tmp_path / "deep" / "er") == {"new.sqlite3"}


async def test_init_on_an_existing_mikan_database_just_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    await one_round(path)
    await one_round(path, init=True)
    assert rounds_in(path) == 2


async def test_an_old_mikan_database_is_upgraded_by_every_writer(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await one_round(path)
    downgrade_to_2(path)
    assert files.examine(path).version == 2
    with pytest.raises(RuntimeError, match="statistics need"):
        from bot.research.stats import compute

        compute(path)
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(path, copy)
    db = await Database.open(path)
    assert await db.schema_version() == LATEST
    await db.close()
    assert migrations.upgrade_file(copy) == 2 and files.examine(copy).version == LATEST


async def test_a_first_open_that_stopped_before_migration_1_is_mikan(tmp_path: Path) -> None:
    """``apply`` commits the empty ``schema_version`` table before migration 1: a process
    killed inside migration 1 leaves just that, and the next open finishes the job."""
    path = tmp_path / "v0.sqlite3"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    con.close()
    assert files.examine(path) == files.Found(files.MIKAN, version=0)
    db = await Database.open(path)
    assert await db.schema_version() == LATEST
    await db.close()


async def test_an_in_memory_database_needs_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = await Database.open(":memory:")
    assert await db.schema_version() == LATEST
    await db.close()
    assert tree(tmp_path) == set()


async def test_a_reader_leaves_nothing_beside_a_database_at_rest(tmp_path: Path) -> None:
    """A read-only connection to a WAL file with no -wal makes a -wal and a -shm and
    cannot remove them itself: closing ours does, and changes nothing in the file."""
    path = tmp_path / "rest.sqlite3"
    await one_round(path)
    settle(path)
    before = fingerprint(path)
    con = queries.connect_readonly(path)
    assert con.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 1
    con.close()
    assert tree(tmp_path) == {"rest.sqlite3"}
    assert fingerprint(path) == before
    assert migrations.upgrade_file(path) == LATEST  # at LATEST: not even opened to write
    assert fingerprint(path) == before and tree(tmp_path) == {"rest.sqlite3"}


async def test_a_reader_beside_a_running_writer(tmp_path: Path) -> None:
    """While the bot holds the database, a reader sees its commits and leaves its -wal
    and -shm alone; the writer goes on writing."""
    path = tmp_path / "live.sqlite3"
    db = await Database.open(path)
    try:
        await write_round(db, [("a", "a-1"), ("b", "b-1")], [T(0, ["り"], word="りんご")])
        assert tree(tmp_path) == {"live.sqlite3", "live.sqlite3-wal", "live.sqlite3-shm"}
        for _ in range(2):
            con = queries.connect_readonly(path)
            assert con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] >= 1
            con.close()
            assert migrations.upgrade_file(path) == LATEST
            await write_round(db, [("a", "a-1"), ("b", "b-1")], [T(0, ["り"], word="りす")])
        assert len(await db.query("SELECT id FROM rounds")) == 3
    finally:
        await db.close()
    assert tree(tmp_path) == {"live.sqlite3"}
    assert rounds_in(path) == 3


def test_a_read_only_copy_can_be_read(tmp_path: Path) -> None:
    """A current database whose file cannot be written (a read-only share) is still
    checked, upgraded (nothing to do) and read."""
    path = tmp_path / "ro.sqlite3"
    asyncio.run(one_round(path))
    path.chmod(0o444)
    try:
        assert migrations.upgrade_file(path) == LATEST
        con = queries.connect_readonly(path)
        assert con.execute("SELECT COUNT(*) FROM rounds").fetchone()[0] == 1
        con.close()
    finally:
        path.chmod(0o644)


async def test_a_database_reached_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real" / "m.sqlite3"
    real.parent.mkdir()
    link = tmp_path / "link?.sqlite3"
    link.symlink_to(real)  # dangling until the database is created through it
    await one_round(link)
    await one_round(link)
    assert rounds_in(real) == 2
    migrations.upgrade_file(link)
    queries.connect_readonly(link).close()
    assert tree(tmp_path) == {"real", "real/m.sqlite3", "link?.sqlite3"}
    _other_program(tmp_path / "theirs.db")
    (tmp_path / "to-theirs").symlink_to(tmp_path / "theirs.db")
    with pytest.raises(ForeignDatabaseError, match="another program"):
        await Database.open(tmp_path / "to-theirs")
