"""Real ``mikan arena`` processes sharing one database: several workers at once, a
stalled worker's round taken over, a write lock held elsewhere, a full disk."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

from tests.e2e.test_arena_process import env, mikan, roster, rows, until_stderr_says
from tests.support.providers import ProviderServer, Reply, openai_ok

ROOT = Path(__file__).resolve().parents[2]


def contiguous(db: Path) -> bool:
    """Every round's turns are numbered 0..n-1, none missing, none twice."""
    by_round: dict[int, list[int]] = {}
    for rid, idx in rows(db, "SELECT round_id, idx FROM turns ORDER BY round_id, idx"):
        by_round.setdefault(rid, []).append(idx)
    return all(idxs == list(range(len(idxs))) for idxs in by_round.values())


async def test_four_workers_share_one_database_each_round_played_once(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    db = tmp_path / "mikan.sqlite3"
    # A worker killed with three rounds in play: they are running, leased to a dead pid.
    provider_server.script("/a/v1/chat/completions", *(Reply(hang=True) for _ in range(3)))
    proc = await mikan(
        tmp_path, "arena", "--players", "a,b", "--rounds", "3", "--concurrency", "3", "--quiet"
    )
    await asyncio.wait_for(provider_server.wait_in_flight(3), 60)
    proc.kill()
    await proc.wait()
    assert rows(db, "SELECT COUNT(*) FROM rounds WHERE status = 'running'") == [(3,)]
    assert rows(db, "SELECT COUNT(*) FROM leases") == [(3,)]
    hung = len(provider_server.seen)

    # Four workers at once, each adding rounds and resuming what it can claim. The
    # stand-in answers 「りんご」 to everything: b repeats it and loses, so rounds end.
    procs = [
        await mikan(
            tmp_path,
            "arena",
            "--players",
            "a,b",
            "--rounds",
            "2",
            "--concurrency",
            "2",
            "--json",
            "--quiet",
        )
        for _ in range(4)
    ]
    outs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 180)
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err.decode()
        assert "Traceback" not in err.decode() and "UNIQUE" not in err.decode()
    summaries = [json.loads(out) for out, _ in outs]
    # Each round was started by exactly one worker: the 3 resumed and the 8 new.
    assert sum(s["rounds"] for s in summaries) == 11
    assert rows(db, "SELECT status, COUNT(*) FROM rounds GROUP BY status") == [("finished", 11)]
    assert contiguous(db)
    # No round was played twice over: every request the stand-in served is a recorded
    # call (a second player of a round would have asked, then had its writes refused).
    (calls,) = rows(db, "SELECT COUNT(*) FROM calls")[0]
    assert len(provider_server.seen) - hung == calls
    assert rows(db, "SELECT COUNT(*) FROM leases") == [(0,)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_a_stalled_workers_round_is_taken_over_and_its_late_turn_refused(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    db = tmp_path / "mikan.sqlite3"
    gate = asyncio.Event()
    provider_server.script(
        "/a/v1/chat/completions",
        Reply(body=openai_ok("「りんご」")),
        Reply(body=openai_ok("「らっぱ」"), gate=gate),  # worker A's, held
        Reply(body=openai_ok("「らくだ」")),  # worker B's, for the same turn
    )
    provider_server.script("/b/v1/chat/completions", Reply(body=openai_ok("「ごりら」")))
    a = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)  # A waits on turn 2
    a.send_signal(signal.SIGSTOP)  # A stalls (a frozen VM, a debugger, swap)
    try:
        # The stall outlasts A's lease (time passing, injected: its expiry set in the past).
        con = sqlite3.connect(db)
        con.execute("UPDATE leases SET expires_at = 0")
        con.commit()
        con.close()
        b = await mikan(tmp_path, "arena", "--players", "a,b", "--rounds", "0", "--quiet")
        _, err_b = await asyncio.wait_for(b.communicate(), 120)
        assert b.returncode == 0, err_b.decode()
    finally:
        a.send_signal(signal.SIGCONT)
    gate.set()  # A's answer for turn 2 arrives at last
    _, err_a = await asyncio.wait_for(a.communicate(), 120)
    assert a.returncode == 0, err_a.decode()
    assert "taken over by another worker" in err_a.decode()
    assert "Traceback" not in err_a.decode()
    # B's game stands; A's late らっぱ was refused whole.
    words = [r[0] for r in rows(db, "SELECT word FROM turns ORDER BY idx")]
    assert words == ["りんご", "ごりら", "らくだ", "りんご"]
    assert rows(db, "SELECT status, winner_seat FROM rounds") == [("finished", 0)]
    assert contiguous(db)
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_a_held_write_lock_is_waited_out_with_a_status_line(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    db = tmp_path / "mikan.sqlite3"
    gate = asyncio.Event()
    provider_server.script(
        "/a/v1/chat/completions",
        Reply(body=openai_ok("「りんご」")),
        Reply(body=openai_ok("「らっぱ」"), gate=gate),
    )
    provider_server.script("/b/v1/chat/completions", Reply(body=openai_ok("「ごりら」")))
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another process holds the write lock…
    try:
        gate.set()  # …when the turn in flight is to be committed
        said = await until_stderr_says(proc, "database busy")
        assert b"waiting" in said
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert rows(db, "SELECT status FROM rounds") == [("finished",)]
    assert [r[0] for r in rows(db, "SELECT word FROM turns ORDER BY idx")][:3] == [
        "りんご",
        "ごりら",
        "らっぱ",
    ]


CAPPED = textwrap.dedent(
    """
    # The full disk, injected: SQLite's page limit on mikan's own connection answers
    # SQLITE_FULL as a full filesystem does (a size-limited mount needs root).
    import sys

    import storage.db as d

    real = d._connect


    def capped(*args, **kwargs):
        raw = real(*args, **kwargs)
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
        raw.execute(f"PRAGMA max_page_count = {pages + int(sys.argv[1])}")
        return raw


    d._connect = capped
    from bot.cli import main

    raise SystemExit(main(sys.argv[2:]))
    """
)


async def test_a_full_disk_stops_the_arena_in_one_line_and_loses_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "mikan.sqlite3"
    proc = await mikan(tmp_path, "arena", "--rounds", "1", "--quiet", "--seed", "1")
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    (tmp_path / "capped.py").write_text(CAPPED)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "capped.py",
        "40",
        "arena",
        "--rounds",
        "60",
        "--concurrency",
        "4",
        "--quiet",
        cwd=tmp_path,
        env={**env(tmp_path), "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 180)
    text = err.decode()
    assert proc.returncode == 75, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and "is full" in lines[0] and "nothing committed is lost" in lines[0]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert contiguous(db)
    kept = rows(db, "SELECT id, round_id, idx, word FROM turns ORDER BY id")
    assert rows(db, "SELECT COUNT(*) FROM rounds WHERE status = 'running'")[0][0] >= 1

    # Space again: the next arena resumes the rounds left in play, from their last turn.
    proc = await mikan(tmp_path, "arena", "--rounds", "0", "--quiet")
    _, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()
    assert rows(db, "SELECT COUNT(*) FROM rounds WHERE status = 'running'") == [(0,)]
    after = rows(db, "SELECT id, round_id, idx, word FROM turns ORDER BY id")
    assert after[: len(kept)] == kept
    assert contiguous(db)
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
