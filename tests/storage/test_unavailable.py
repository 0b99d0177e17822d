"""A busy database is waited for, with a status line; a full one stops the writes with
one clear error. Either way nothing committed is lost and nothing is half-written.

The full disk is injected (``PRAGMA max_page_count`` on the database's own connection:
SQLite then answers SQLITE_FULL exactly as on a full filesystem); a size-limited mount
needs root, which the tests do not have.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from storage.db import Database, DatabaseBusyError, DatabaseFullError
from tests.storage.test_db import _round, _seat, _turn


class Lock:
    """Another process's connection holding the write lock until ``release``."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.con.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.con.execute("ROLLBACK")
        self.con.close()


async def test_a_write_waits_out_a_held_lock_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    db = await Database.open(path, busy_timeout_ms=20)
    rid, (s0, _) = await db.create_round(_round(), [_seat(0), _seat(1)])
    waits: list[float] = []
    said = asyncio.Event()

    def on_busy(waited: float) -> None:
        waits.append(waited)
        said.set()

    db.on_busy = on_busy
    lock = Lock(path)
    try:
        write = asyncio.create_task(db.add_turn(_turn(rid, s0, 0)))
        await asyncio.wait_for(said.wait(), 30)  # a status line while it waits
        assert not write.done()
        lock.release()
        await asyncio.wait_for(write, 30)
        assert [t["idx"] for t in await db.turns(rid)] == [0]
        assert len(waits) == 1  # at most one line per BUSY_REPORT_S
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()


async def test_a_lock_held_past_the_limit_is_one_clear_error_and_nothing_half_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.sqlite3"
    db = await Database.open(path, busy_timeout_ms=10, busy_limit_s=0.2)
    db.on_busy = lambda waited: None
    rid, (s0, _) = await db.create_round(_round(), [_seat(0), _seat(1)])
    await db.add_turn(_turn(rid, s0, 0))
    lock = Lock(path)
    try:
        with pytest.raises(DatabaseBusyError) as caught:
            await db.add_turn(_turn(rid, s0, 1))
        message = str(caught.value)
        assert "\n" not in message and str(path) in message and "locked" in message
        assert "nothing committed is lost" in message
    finally:
        lock.release()
    try:
        assert [t["idx"] for t in await db.turns(rid)] == [0]
        await db.add_turn(_turn(rid, s0, 1))  # the lock is gone: writes go on
        assert [t["idx"] for t in await db.turns(rid)] == [0, 1]
    finally:
        await db.close()


async def test_a_full_disk_stops_writes_with_one_line_and_keeps_every_commit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.sqlite3"
    db = await Database.open(path)
    rid, (s0, _) = await db.create_round(_round(), [_seat(0), _seat(1)])
    pages = (await db.query("PRAGMA page_count"))[0]
    limit = next(iter(pages.values())) + 2

    def cap(raw: sqlite3.Connection) -> None:
        raw.execute(f"PRAGMA max_page_count = {limit}")

    await db._call(cap, db._raw)  # the injected full disk
    big = "あ" * 3000
    committed = 0
    try:
        with pytest.raises(DatabaseFullError) as caught:
            for idx in range(1000):
                await db.add_turn({**_turn(rid, s0, idx), "raw_text": big})
                committed += 1
        message = str(caught.value)
        assert "\n" not in message and "full" in message and str(path) in message
        assert committed > 0
        turns = await db.turns(rid)
        assert [t["idx"] for t in turns] == list(range(committed))  # the last one whole
        assert all(t["raw_text"] == big for t in turns)
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()
    # Space freed (a new connection has no cap): the round goes on from its last turn.
    db = await Database.open(path)
    try:
        (row,) = await db.claim_rounds("arena")
        await db.add_turn(_turn(rid, s0, committed))
        assert len(await db.turns(rid)) == committed + 1
        assert row["id"] == rid
    finally:
        await db.close()


def test_the_lock_helper_really_blocks_writers(tmp_path: Path) -> None:
    """Guards the tests above: a plain writer meets "database is locked" under Lock."""
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    lock = Lock(path)
    failed = threading.Event()
    con = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    try:
        con.execute("INSERT INTO t VALUES (1)")
    except sqlite3.OperationalError as exc:
        failed.set()
        assert "locked" in str(exc)
    finally:
        con.close()
        lock.release()
    assert failed.is_set()
