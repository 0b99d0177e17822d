"""Exports read back equal the database; formulas are neutralised; snapshots are consistent."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.players import make_adapter
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.research.export import (
    EXPORT_FORMAT,
    LONG_COLUMNS,
    MANIFEST,
    export,
    line_maker,
    restore,
)
from bot.rounds.engine import RoundEngine
from bot.rounds.events import NullSurface
from bot.rounds.state import RoundSpec, SeatSpec
from storage.db import Database
from storage.migrations import LATEST
from storage.queries import TABLES, Scope, neutralised_cell
from tests.support.providers import Reply, openai_ok
from tests.support.records import T, write_round

A, B = ("a", "a-1"), ("b", "b-1")
NASTY = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\t=1", "'=x", "''+y", "'plain"]


@pytest.fixture
async def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "x.sqlite3"
    db = await Database.open(path)
    await write_round(
        db,
        [A, B],
        [
            # 0.1 + 0.2: a double that 15 significant digits would not give back
            T(0, ["り"], word="りんご", latency=0.1 + 0.2),
            T(
                1,
                ["ご"],
                "violation",
                "ごはん",
                ["ends_with_n"],
                "admits",
                raw=NASTY[0],
                probes={"intent": "accidental"},
            ),
        ],
    )
    turns = [
        T(i % 2, ["x"], "violation" if i == len(NASTY) - 1 else "accepted", word=f"w{i}", raw=text)
        for i, text in enumerate(NASTY)
    ]
    await write_round(db, [A, B], turns, channel_id="c2")
    await db.close()
    # A model grader's labels (mikan relabel --grader), with text a spreadsheet would run.
    con = sqlite3.connect(path)
    turn_id, probe_id = con.execute("SELECT turn_id, id FROM probes ORDER BY id").fetchone()
    con.execute(
        "INSERT INTO turn_grades VALUES (?, 'judge', 'grade-1', 'reader-3', 'ごはん', 'admits',"
        " '[\"correction\"]', 1, ?, 'continues', NULL, '{\"ok\": 1}', 't')",
        (turn_id, NASTY[1]),
    )
    con.execute(
        "INSERT INTO probe_grades VALUES (?, 'judge', 'grade-1', 'probe-labels-3', 'unclear',"
        " '[\"unclear\"]', 1, ?, '{\"ok\": 1}', 't')",
        (probe_id, NASTY[2]),
    )
    con.commit()
    con.close()
    return path


def db_rows(path: Path, table: str) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        order = {
            "turn_labels": "turn_id, created_at",
            "probe_labels": "probe_id, created_at",
            "turn_grades": "turn_id, created_at, grader",
            "probe_grades": "probe_id, created_at, grader",
        }
        sql = f"SELECT * FROM {table} ORDER BY {order.get(table, 'id')}"
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


def neutralise(value: object) -> object:
    """The export's own rule, as SQLite applies it to one cell."""
    con = sqlite3.connect(":memory:")
    try:
        sql = f"WITH v(c) AS (SELECT ?) SELECT {neutralised_cell('c')} FROM v"
        return con.execute(sql, (value,)).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("value", NASTY)
def test_neutralise_and_restore(value: str) -> None:
    cell = neutralise(value)
    assert isinstance(cell, str) and cell.startswith("'") and restore(cell) == value


@pytest.mark.parametrize("value", ["みかん", "'quoted", "1-2", "a=b", "", "[]"])
def test_harmless_cells_are_untouched(value: str) -> None:
    assert neutralise(value) == value and restore(value) == value


def test_numbers_and_nulls() -> None:
    assert neutralise(-5) == -5 and neutralise(-0.5) == -0.5
    assert neutralise(None) is None  # the CSV writer makes it an empty cell


@pytest.mark.parametrize(
    "row",
    [
        (1, "a,b", None, '{"k": "v, \\"w\\""}', 2.5, "x"),
        (None, "", "plain", "line\nbreak\r\nthen", -3, ""),
        (7, '"quoted"', "'=x", None, 0.30000000000000004, "み,かん"),
        (8, "ok", "z", 42, None, None),  # a number where text is usual (SQLite allows it)
    ],
)
def test_csv_lines_read_back_as_the_cells(row: tuple) -> None:
    """Long columns are quoted by the export itself; the line parses back cell for cell."""
    names = ["id", "word", "reading", "response_body", "latency_ms", "raw_text"]
    # as storage hands them over: long columns as UTF-8 bytes
    given = tuple(
        str(v).encode() if n in LONG_COLUMNS and v is not None else v
        for n, v in zip(names, row, strict=True)
    )
    text = line_maker(names)(given).decode()
    assert text.endswith("\r\n")
    (parsed,) = list(csv.reader(io.StringIO(text)))
    assert parsed == ["" if v is None else str(v) for v in row]


async def test_csv_round_trip(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    counts = await asyncio.to_thread(export, db_path, out, "csv")
    for table in TABLES:
        expected = db_rows(db_path, table)
        with (out / f"{table}.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            got = [{k: restore(v) for k, v in row.items()} for row in reader]
        assert counts[table] == len(expected) == len(got)
        assert reader.fieldnames == list(expected[0]) if expected else True
        assert got == [{k: "" if v is None else str(v) for k, v in row.items()} for row in expected]
    raw_cells = (out / "turns.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw_cells and "\n=HYPERLINK" not in raw_cells


async def test_jsonl_round_trip(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    counts = await asyncio.to_thread(export, db_path, out, "jsonl")
    lines = [json.loads(x) for x in (out / "events.jsonl").read_text("utf-8").splitlines()]
    assert all(obj["schema_version"] == LATEST for obj in lines)
    assert all(obj["format_version"] == EXPORT_FORMAT for obj in lines)
    by_type: dict[str, list[dict]] = {}
    for obj in lines:
        kind = obj.pop("type")
        obj.pop("schema_version")
        obj.pop("format_version")
        by_type.setdefault(kind, []).append(obj)
    for kind, table in [
        ("round", "rounds"),
        ("seat", "seats"),
        ("turn", "turns"),
        ("probe", "probes"),
        ("call", "calls"),
    ]:
        assert sorted(by_type[kind], key=lambda r: r["id"]) == db_rows(db_path, table)
        assert counts[table] == len(by_type[kind])
    for kind, table, owner in [
        ("turn_grade", "turn_grades", "turn_id"),
        ("probe_grade", "probe_grades", "probe_id"),
    ]:
        assert sorted(by_type[kind], key=lambda r: r[owner]) == db_rows(db_path, table)
        assert counts[table] == len(by_type[kind]) == 1
    # transcript order: round, its seats, then each turn followed by its grades, its
    # calls and probes (each probe by its grades and calls)
    kinds = [json.loads(x)["type"] for x in (out / "events.jsonl").read_text().splitlines()]
    assert kinds[:10] == [
        "round",
        "seat",
        "seat",
        "turn",
        "call",
        "turn",
        "turn_grade",
        "call",
        "probe",
        "probe_grade",
    ]
    assert kinds[10] == "call"  # the probe's own call
    calls = [o for o in lines if "purpose" in o]
    assert all("request_body" in c and "response_body" in c for c in calls)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_exports_carry_their_own_format_version(
    db_path: Path, tmp_path: Path, fmt: str
) -> None:
    # The files' format is versioned apart from the schema: a migration that changes no
    # exported column (an index, a rollup table) changes schema_version, never this.
    out = tmp_path / fmt
    counts = await asyncio.to_thread(export, db_path, out, fmt)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == f"mikan-export-{fmt}"
    assert manifest["format_version"] == EXPORT_FORMAT
    assert manifest["schema_version"] == LATEST
    assert manifest["rows"] == counts
    assert sorted(manifest["files"] + [MANIFEST]) == sorted(p.name for p in out.iterdir())
    if fmt == "jsonl":
        first = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()[0]
        assert list(json.loads(first))[:3] == ["format_version", "schema_version", "type"]


async def test_channel_and_since_scopes(db_path: Path, tmp_path: Path) -> None:
    counts = await asyncio.to_thread(
        export, db_path, tmp_path / "c2", "csv", Scope(channel_id="c2")
    )
    assert counts["rounds"] == 1 and counts["turns"] == len(NASTY) and counts["probes"] == 0
    none = await asyncio.to_thread(
        export, db_path, tmp_path / "late", "csv", Scope(since="2027-01-01")
    )
    assert set(none.values()) == {0}


async def test_export_while_rounds_are_written(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite3"
    db = await Database.open(path)
    cfgs = [PlayerConfig(k, "offline", seed=i, mikan_pull=0.05) for i, k in enumerate("xy")]
    adapters = {c.key: make_adapter(c, None) for c in cfgs}
    ref = Referee()
    spec = RoundSpec(seats=tuple(SeatSpec("model", c.key, c.key) for c in cfgs), salt="s")
    await (await RoundEngine.create(db, spec, adapters, NullSurface(), ref)).run()

    async def keep_playing() -> None:
        for i in range(20):
            s = RoundSpec(seats=spec.seats, salt=str(i))
            await (await RoundEngine.create(db, s, adapters, NullSurface(), ref)).run()

    writer = asyncio.create_task(keep_playing())
    exports = [await asyncio.to_thread(export, path, tmp_path / f"e{i}", "csv") for i in range(3)]
    await writer
    await db.close()
    assert exports[0]["turns"] > 0
    for i in range(3):
        d = tmp_path / f"e{i}"
        rounds = {r["id"] for r in csv.DictReader((d / "rounds.csv").open(encoding="utf-8"))}
        turns = list(csv.DictReader((d / "turns.csv").open(encoding="utf-8")))
        calls = list(csv.DictReader((d / "calls.csv").open(encoding="utf-8")))
        assert {t["round_id"] for t in turns} <= rounds
        assert {c["turn_id"] for c in calls} <= {t["id"] for t in turns}
        # each round in a snapshot has its turns numbered 0..n-1 without gaps
        per_round: dict[str, list[int]] = {}
        for t in turns:
            per_round.setdefault(t["round_id"], []).append(int(t["idx"]))
        assert all(sorted(v) == list(range(len(v))) for v in per_round.values())


async def test_no_key_in_any_export(
    tmp_path: Path, provider_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-export-SECRET-42"
    monkeypatch.setenv("MIKAN_EXPORT_KEY", key)
    provider_server.script(
        "/chat/completions",
        Reply(body=openai_ok(f"「りんご」 (your key is {key})")),
        Reply(401, {"error": {"message": f"bad key {key}"}}),
    )
    path = tmp_path / "k.sqlite3"
    db = await Database.open(path)
    cfg = PlayerConfig(
        "p",
        "openai",
        model="m",
        base_url=f"{provider_server.base}/v1",
        api_key_env="MIKAN_EXPORT_KEY",
        max_attempts=1,
    )
    off = PlayerConfig("o", "offline", seed=1, mikan_pull=0.0)
    async with httpx.AsyncClient() as client:
        adapters = {"p": make_adapter(cfg, client), "o": make_adapter(off, None)}
        spec = RoundSpec(
            seats=(SeatSpec("model", "P", "p"), SeatSpec("model", "O", "o")), max_turns=4
        )
        await (await RoundEngine.create(db, spec, adapters, NullSurface(), Referee())).run()
    await db.close()
    for fmt in ("csv", "jsonl"):
        out = tmp_path / fmt
        await asyncio.to_thread(export, path, out, fmt)
        for f in out.iterdir():
            assert key not in f.read_text(encoding="utf-8"), f
    assert key.encode() not in path.read_bytes()


def test_export_cli(db_path: Path, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "bot", "export", "--db", str(db_path)]
    proc = subprocess.run(
        [*base, "--format", "csv", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2 and "--channel ID or --all" in proc.stderr
    proc = subprocess.run(
        [*base, "--all", "--format", "jsonl", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "events.jsonl").stat().st_size > 0
    assert "turns 10" in proc.stdout
