from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database, SchemaTooNewError, default_path
from storage.migrations import LATEST


def _round(**kw):
    row = {
        "surface": "arena",
        "rules_json": "{}",
        "mode": "elimination",
        "prompt_lang": "ja",
        "prompt_version": "ja-1",
        "probe_version": "probes-1",
        "probes_json": "[]",
        "app_version": "t",
        "start_word": "しりとり",
        "max_turns": 10,
        "person_timeout_s": 60,
        "pacing_s": 0,
        "salt": "",
        "status": "running",
        "created_at": "2026-11-22T00:00:00Z",
    }
    row.update(kw)
    return row


def _seat(pos: int):
    return {
        "position": pos,
        "kind": "model",
        "player_key": f"p{pos}",
        "display_name": f"P{pos}",
        "params_json": "{}",
        "status": "playing",
    }


def _turn(round_id: int, seat_id: int, idx: int):
    return {
        "round_id": round_id,
        "seat_id": seat_id,
        "idx": idx,
        "outcome": "accepted",
        "required_json": "[]",
        "next_json": "[]",
        "violations_json": "[]",
        "started_at": "t",
        "ended_at": "t",
        "duration_ms": 1.0,
    }


async def test_schema_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "m.sqlite3")
    try:
        assert await db.schema_version() == LATEST
        (mode,) = (await db.query("PRAGMA journal_mode"))[0].values()
        assert mode == "wal"
        (fk,) = (await db.query("PRAGMA foreign_keys"))[0].values()
        assert fk == 1
        tables = {
            r["name"] for r in await db.query("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {
            "rounds",
            "seats",
            "turns",
            "calls",
            "probes",
            "channel_settings",
            "schema_version",
        } <= tables
    finally:
        await db.close()
    # reopening does not migrate again
    db = await Database.open(tmp_path / "m.sqlite3")
    assert len(await db.query("SELECT * FROM schema_version")) == LATEST
    await db.close()


async def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    await (await Database.open(path)).close()  # create it at the current schema
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (999, 'future')")
    con.commit()
    con.close()
    with pytest.raises(SchemaTooNewError):
        await Database.open(path)


async def test_turns_cannot_be_doubled_and_writes_are_atomic(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        rid, (s0, _s1) = await db.create_round(_round(), [_seat(0), _seat(1)])
        await db.add_turn(_turn(rid, s0, 0))
        with pytest.raises(sqlite3.IntegrityError):
            await db.add_turn(_turn(rid, s0, 0))
        # a failing call row rolls the whole turn back
        with pytest.raises(sqlite3.IntegrityError):
            await db.add_turn(_turn(rid, s0, 1), call={"round_id": rid, "seat_id": 999_999})
        assert [t["idx"] for t in await db.turns(rid)] == [0]
        # foreign keys are enforced
        with pytest.raises(sqlite3.IntegrityError):
            await db.add_turn(_turn(rid, 424242, 1))
        assert await db.integrity_check() == "ok"
    finally:
        await db.close()


def test_default_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIKAN_DB", raising=False)
    assert default_path() == Path("mikan.sqlite3")
    monkeypatch.setenv("MIKAN_DB", "/x/y.db")
    assert default_path() == Path("/x/y.db")
    assert default_path("z.db") == Path("z.db")


async def test_group_commit_isolates_a_failing_write(tmp_path: Path) -> None:
    import asyncio

    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        rid, (s0, _) = await db.create_round(_round(), [_seat(0), _seat(1)])
        # 40 writes queued at once (committed together); number 7 repeats index 3.
        idxs = [*range(7), 3, *range(7, 39)]
        results = await asyncio.gather(
            *(db.add_turn(_turn(rid, s0, i)) for i in idxs), return_exceptions=True
        )
        failed = [i for i, r in zip(idxs, results, strict=True) if isinstance(r, Exception)]
        assert failed == [3] and isinstance(results[7], sqlite3.IntegrityError)
        assert [t["idx"] for t in await db.turns(rid)] == list(range(39))
        ids = [r for r in results if not isinstance(r, Exception)]
        assert len(set(ids)) == 39  # each caller got its own row id back
    finally:
        await db.close()
    # all of it is on disk for the next process
    con = sqlite3.connect(tmp_path / "g.sqlite3")
    assert con.execute("SELECT COUNT(*) FROM turns").fetchone() == (39,)
    con.close()


async def test_an_in_memory_database_works() -> None:
    db = await Database.open(":memory:")
    try:
        assert await db.schema_version() == LATEST
        rid, (s0, _) = await db.create_round(_round(), [_seat(0), _seat(1)])
        await db.add_turn(_turn(rid, s0, 0))
        assert [t["idx"] for t in await db.turns(rid)] == [0]
        assert (await db.round(rid))["status"] == "running"
    finally:
        await db.close()
    await db.close()  # closing twice is harmless


async def test_sqlite_runs_on_the_database_thread_only(tmp_path: Path) -> None:
    """Reads, writes and the migration all run on one thread, never the event loop's."""
    import asyncio
    import threading

    db = await Database.open(tmp_path / "th.sqlite3")
    try:
        seen = await asyncio.gather(
            *(db._write(lambda raw: threading.get_ident()) for _ in range(5)),
            db._call(lambda: threading.get_ident()),
        )
        assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    finally:
        await db.close()
