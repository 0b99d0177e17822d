"""Round leases: each running round is one worker's; a stalled or dead worker's rounds
move on, and the stalled worker's late writes are refused, not doubled."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from storage import leases
from storage.db import Database, LeaseLostError
from tests.storage.test_db import _round, _seat, _turn


def _external(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


async def test_a_new_round_is_its_creators_and_no_one_elses(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    a, b = await Database.open(path), await Database.open(path)
    try:
        rid, (s0, _) = await a.create_round(_round(), [_seat(0), _seat(1)])
        assert a.held == {rid}
        assert _external(path, "SELECT owner FROM leases") == [(a.owner,)]
        assert await b.claim_rounds("arena") == []  # a is alive and renewing
        with pytest.raises(LeaseLostError):
            await b.add_turn(_turn(rid, s0, 0))
        assert await a.turns(rid) == []  # b's refused turn left nothing
        await a.add_turn(_turn(rid, s0, 0))
    finally:
        await a.close()
        await b.close()


async def test_a_stalled_workers_round_is_taken_over_and_its_late_writes_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.sqlite3"
    # lease_s long: a's renewal will not run during the test, as if it were stalled.
    a = await Database.open(path, lease_s=3600)
    b = await Database.open(path)
    try:
        rid, (s0, s1) = await a.create_round(_round(), [_seat(0), _seat(1)])
        await a.add_turn(_turn(rid, s0, 0))
        # The stall outlasts the lease (time passing, injected as an expiry in the past).
        _external(path, "UPDATE leases SET expires_at = 0 WHERE round_id = ?", (rid,))
        (row,) = await b.claim_rounds("arena")
        assert row["id"] == rid and b.held == {rid}
        await b.add_turn(_turn(rid, s1, 1))
        # a wakes up and goes on where it was: every write it tries is refused whole.
        with pytest.raises(LeaseLostError, match=f"held by {b.owner}"):
            await a.add_turn(_turn(rid, s1, 1))
        with pytest.raises(LeaseLostError):
            await a.end_round(rid, "finished", 0, "x")
        assert rid not in a.held
        assert [t["idx"] for t in await b.turns(rid)] == [0, 1]
        assert (await b.round(rid))["status"] == "running"
        await b.end_round(rid, "finished", 1, "done")
        assert b.held == frozenset()
        assert _external(path, "SELECT * FROM leases") == []
        # Ended and released: a finished round takes no write from anyone.
        with pytest.raises(LeaseLostError, match="released"):
            await a.add_turn(_turn(rid, s0, 2))
    finally:
        await a.close()
        await b.close()


async def test_a_dead_local_workers_rounds_are_free_at_once(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = await Database.open(path)
    try:
        dead = await db.create_round(_round(), [_seat(0)])
        elsewhere = await db.create_round(_round(), [_seat(0)])
        await db.release(dead[0])
        await db.release(elsewhere[0])
        host = socket.gethostname()
        far = 2_000_000_000.0  # not expired
        _external(
            path,
            "INSERT INTO leases VALUES (?, ?, ?), (?, ?, ?)",
            (dead[0], f"{host}:{_dead_pid()}:abcd", far, elsewhere[0], "otherhost:1:abcd", far),
        )
        claimed = await db.claim_rounds("arena")
        # The killed process on this host is known dead; a worker elsewhere may be alive.
        assert [r["id"] for r in claimed] == [dead[0]]
    finally:
        await db.close()


async def test_a_closed_database_frees_its_rounds_an_abandoned_one_does_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.sqlite3"
    a = await Database.open(path)
    rid, _ = await a.create_round(_round(), [_seat(0)])
    b = await Database.open(path)
    try:
        assert await b.claim_rounds("arena") == []  # a is open in this very process
        await a.close()
        assert _external(path, "SELECT * FROM leases") == []
        assert [r["id"] for r in await b.claim_rounds("arena")] == [rid]
        assert await b.claim_rounds("arena") == []  # b plays it: not free for b either
    finally:
        await b.close()


async def test_concurrent_claims_never_share_a_round(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    seed = await Database.open(path)
    ids = [(await seed.create_round(_round(), [_seat(0)]))[0] for _ in range(24)]
    await seed.close()  # 24 running rounds, none leased
    workers = [await Database.open(path) for _ in range(6)]
    try:

        async def take_all(db: Database) -> list[int]:
            got = []
            while rows := await db.claim_rounds("arena", limit=1):
                got.append(rows[0]["id"])
                await asyncio.sleep(0)  # let the other workers in between claims
            return got

        claimed = await asyncio.gather(*(take_all(db) for db in workers))
        flat = [i for c in claimed for i in c]
        assert sorted(flat) == ids  # every round once, none twice
        owners = dict(_external(path, "SELECT round_id, owner FROM leases"))
        for db, got in zip(workers, claimed, strict=True):
            assert all(owners[i] == db.owner for i in got)
    finally:
        for db in workers:
            await db.close()


async def test_claims_are_by_surface_and_skip_ended_rounds(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = await Database.open(path)
    try:
        arena, _ = await db.create_round(_round(), [_seat(0)])
        discord, _ = await db.create_round(_round(surface="discord"), [_seat(0)])
        ended, _ = await db.create_round(_round(), [_seat(0)])
        await db.end_round(ended, "finished", None, None)
    finally:
        await db.close()
    db = await Database.open(path)
    try:
        assert [r["id"] for r in await db.claim_rounds("discord")] == [discord]
        assert [r["id"] for r in await db.claim_rounds("arena")] == [arena]
    finally:
        await db.close()


def test_renew_reports_the_leases_no_longer_held(tmp_path: Path) -> None:
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("CREATE TABLE rounds (id INTEGER PRIMARY KEY)")
    con.execute("CREATE TABLE leases (round_id INTEGER PRIMARY KEY, owner TEXT, expires_at REAL)")
    con.executemany("INSERT INTO leases VALUES (?, ?, 0)", [(1, "me"), (2, "them")])
    assert leases.renew(con, [1, 2, 3], "me", 30) == {2, 3}
    (expires,) = con.execute("SELECT expires_at FROM leases WHERE round_id = 1").fetchone()
    assert expires > 0
    leases.release(con, [1, 2], "me")
    assert con.execute("SELECT round_id FROM leases").fetchall() == [(2,)]


def test_owner_ids_name_host_and_process() -> None:
    import os

    a, b = leases.new_owner(), leases.new_owner()
    assert a != b
    host, pid, token = a.split(":")
    assert pid == str(os.getpid()) and token and host
