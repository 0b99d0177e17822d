"""The real ``mikan arena`` process: defaults, a kill mid-round and a restart, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.support.providers import ProviderServer, Reply, openai_ok


def env(tmp: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_")}
    if "MIKAN_CACHE_DIR" in os.environ:
        out["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
    out["PYTHONUNBUFFERED"] = "1"
    return out


async def mikan(tmp: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp,
        env=env(tmp),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def roster(server: ProviderServer) -> str:
    return "".join(
        f'[players.{n}]\nprovider = "openai"\nmodel = "m-{n}"\n'
        f'base_url = "{server.base}/{n}/v1"\nmax_attempts = 1\n\n'
        for n in ("a", "b")
    )


async def test_arena_runs_on_embedded_defaults(tmp_path: Path) -> None:
    proc = await mikan(tmp_path, "arena", "--rounds", "3", "--json", "--quiet", "--seed", "7")
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["rounds"] == 3 and summary["status"] == {"finished": 3}
    assert set(summary["players"]) == {"mikan", "kinkan"}
    db = tmp_path / "mikan.sqlite3"  # the default database, in the working directory
    assert rows(db, "SELECT COUNT(*) FROM turns")[0][0] == summary["turns"]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_bad_options_are_clear(tmp_path: Path) -> None:
    proc = await mikan(tmp_path, "arena", "--rules", '{"dakuten": "soft"}')
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and "dakuten must be one of strict | lenient" in err.decode()
    proc = await mikan(tmp_path, "arena", "--players", "mikan,nobody")
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and "unknown player 'nobody'" in err.decode()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--rounds", "-1", "at least 0"),
        ("--concurrency", "0", "at least 1"),
        ("--max-turns", "0", "at least 1"),
        ("--max-turns", "2.5", "not a whole number"),
    ],
)
async def test_out_of_range_numbers_are_usage_errors(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    proc = await mikan(tmp_path, "arena", option, value)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2 and says in err.decode() and option in err.decode()
    assert not (tmp_path / "mikan.sqlite3").exists()  # refused before anything ran


async def test_runs_without_a_seed_draw_fresh_games_and_record_them(tmp_path: Path) -> None:
    for _ in range(2):
        proc = await mikan(tmp_path, "arena", "--rounds", "2", "--quiet")
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, err.decode()
    db = tmp_path / "mikan.sqlite3"
    salts = [r[0] for r in rows(db, "SELECT salt FROM rounds ORDER BY id")]
    seeds = {salt.split(":")[0] for salt in salts}
    assert len(seeds) == 2  # one fresh seed per run, recorded in each of its rounds
    # --seed still replays: the same seed twice gives the same games.
    games = []
    for n in range(2):
        sub = tmp_path / f"seeded{n}"
        sub.mkdir()
        proc = await mikan(sub, "arena", "--rounds", "1", "--quiet", "--seed", "7")
        await asyncio.wait_for(proc.communicate(), 120)
        games.append(rows(sub / "mikan.sqlite3", "SELECT word FROM turns ORDER BY idx"))
    assert games[0] == games[1]


async def test_a_player_whose_every_call_fails_is_named_and_the_run_fails(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    bad = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
    for name in ("a", "b"):
        provider_server.script(f"/{name}/v1/chat/completions", *[Reply(status=401, body=bad)] * 10)
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "every call to player 'a' failed" in text and "Incorrect API key" in text
    assert "Traceback" not in text


async def test_killed_mid_round_then_restarted_loses_and_doubles_nothing(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    a, b = "/a/v1/chat/completions", "/b/v1/chat/completions"
    provider_server.script(
        a,
        Reply(body=openai_ok("「りんご」")),
        Reply(hang=True),
        Reply(body=openai_ok("「らっぱ」")),
    )
    provider_server.script(
        b,
        Reply(body=openai_ok("「ごりら」")),
        Reply(body=openai_ok("「パン」")),
        Reply(body=openai_ok("うっかりしました")),
    )
    db = tmp_path / "mikan.sqlite3"

    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet", "--json")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)  # A's 2nd turn is hanging
    assert len(provider_server.seen) == 3
    proc.kill()
    await proc.wait()
    before = rows(db, "SELECT id, idx, word, started_at FROM turns ORDER BY idx")
    assert [(r[1], r[2]) for r in before] == [(0, "りんご"), (1, "ごりら")]
    assert rows(db, "SELECT status FROM rounds") == [("running",)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]

    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--rounds", "0", "--json", "--quiet")
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    after = rows(db, "SELECT id, idx, word, started_at FROM turns ORDER BY idx")
    assert after[:2] == before  # untouched
    assert [(r[1], r[2]) for r in after] == [
        (0, "りんご"),
        (1, "ごりら"),
        (2, "らっぱ"),
        (3, "パン"),
    ]
    assert rows(db, "SELECT status, winner_seat FROM rounds") == [("finished", 0)]
    assert rows(db, "SELECT kind, label FROM probes") == [("intent", "accidental")]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert json.loads(out)["status"] == {"finished": 1}


async def until_stderr_says(proc: asyncio.subprocess.Process, text: str) -> bytes:
    """Read the process's stderr until a line contains ``text``; returns what was read."""
    assert proc.stderr is not None
    seen = b""
    while text.encode() not in seen:
        line = await asyncio.wait_for(proc.stderr.readline(), 60)
        assert line, f"stderr ended without {text!r}: {seen.decode()}"
        seen += line
    return seen


async def test_ctrl_c_finishes_the_turn_in_flight_and_the_round_resumes_later(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    gate = asyncio.Event()
    provider_server.script(
        "/a/v1/chat/completions",
        Reply(body=openai_ok("「りんご」")),
        Reply(body=openai_ok("「らっぱ」"), gate=gate),
    )
    provider_server.script("/b/v1/chat/completions", Reply(body=openai_ok("「ごりら」")))
    db = tmp_path / "mikan.sqlite3"
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)  # a's second turn
    proc.send_signal(signal.SIGINT)
    await until_stderr_says(proc, "stopping")
    gate.set()  # the turn in flight answers: it is judged and committed, then the round stops
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130, err.decode()
    assert "resume" in err.decode() and "Traceback" not in err.decode()
    assert [r[0] for r in rows(db, "SELECT word FROM turns ORDER BY idx")] == [
        "りんご",
        "ごりら",
        "らっぱ",
    ]
    assert rows(db, "SELECT status, winner_seat FROM rounds") == [("running", None)]

    provider_server.script("/b/v1/chat/completions", Reply(body=openai_ok("「パン」")))
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--rounds", "0", "--quiet")
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert rows(db, "SELECT status, winner_seat FROM rounds") == [("finished", 0)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_a_second_ctrl_c_cancels_the_turn_in_flight(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    provider_server.script(
        "/a/v1/chat/completions", Reply(body=openai_ok("「りんご」")), Reply(hang=True)
    )
    provider_server.script("/b/v1/chat/completions", Reply(body=openai_ok("「ごりら」")))
    db = tmp_path / "mikan.sqlite3"
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)
    proc.send_signal(signal.SIGINT)
    await until_stderr_says(proc, "stopping")
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130, err.decode()
    # The turn in flight was never committed: the round stays running, to resume.
    assert rows(db, "SELECT status, end_reason FROM rounds") == [("running", None)]
    assert [r[0] for r in rows(db, "SELECT word FROM turns ORDER BY idx")] == ["りんご", "ごりら"]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]


async def test_sigterm_finishes_a_decided_round_with_its_probe(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    # b plays ごはん (ends in ん): b is out and a has won. SIGTERM arrives while b is being
    # asked the intent probe; the round is finished as decided, its probe recorded.
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    gate = asyncio.Event()
    provider_server.script("/a/v1/chat/completions", Reply(body=openai_ok("「りんご」")))
    provider_server.script(
        "/b/v1/chat/completions",
        Reply(body=openai_ok("「ごはん」")),
        Reply(body=openai_ok("うっかりしていました。"), gate=gate),
    )
    db = tmp_path / "mikan.sqlite3"
    proc = await mikan(tmp_path, "arena", "--players", "a,b", "--quiet")
    await asyncio.wait_for(provider_server.wait_in_flight(1), 60)  # the probe
    proc.send_signal(signal.SIGTERM)
    await until_stderr_says(proc, "stopping")
    gate.set()
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130, err.decode()
    assert rows(db, "SELECT status, winner_seat, end_reason FROM rounds") == [
        ("finished", 0, "last_seat_standing")
    ]
    assert rows(db, "SELECT kind, label FROM probes") == [("intent", "accidental")]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _foreign(kind: str, path: Path) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(bytes(range(256)) * 40)
    else:  # another program's SQLite database
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        con.execute("INSERT INTO invoices VALUES (1, 9.5)")
        con.commit()
        con.close()


@pytest.mark.parametrize("kind", ["empty", "garbage", "other_program"])
@pytest.mark.parametrize(
    "command",
    [
        ("arena", "--rounds", "1", "--quiet"),
        ("stats",),
        ("export", "--all", "--format", "csv", "--out", "out"),
    ],
    ids=["arena", "stats", "export"],
)
async def test_a_foreign_file_is_refused_and_left_as_it_was(
    tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    import hashlib

    db = tmp_path / "theirs.db"
    _foreign(kind, db)
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns)
    proc = await mikan(tmp_path, command[0], "--db", str(db), *command[1:])
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    text = err.decode()
    assert proc.returncode == 2, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1 and str(db) in lines[0] and "Traceback" not in text
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before
    assert _names(tmp_path) == ["theirs.db"]  # no -wal, -shm, journal or export left


async def test_init_makes_an_empty_file_the_database(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    db.write_bytes(b"")
    proc = await mikan(tmp_path, "arena", "--db", str(db), "--rounds", "1", "--quiet", "--init")
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert rows(db, "SELECT status FROM rounds") == [("finished",)]
