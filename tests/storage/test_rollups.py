"""Statistics rollups: kept with each turn, equal to the turns they sum, backfilled on
upgrade, and never ahead of what the database holds."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bot.players import make_adapter
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.research.stats import compute, required_label, wilson
from bot.rounds.engine import RoundEngine
from bot.rounds.events import NullSurface
from bot.rounds.state import RoundSpec, SeatSpec
from storage.db import Database
from storage.migrations import LATEST, apply, upgrade_file
from storage.queries import Scope
from storage.rollups import latency_bin
from tests.support.records import T, round_row, seat_rows, turn_row, write_round


async def play_offline(path: Path, rounds: int) -> None:
    """Offline players that drift to ん-words, with the intent probe: violations,
    probes and calls as the engine writes them."""
    db = await Database.open(path)
    cfgs = [PlayerConfig(k, "offline", seed=i, mikan_pull=0.3) for i, k in enumerate("xy")]
    adapters = {c.key: make_adapter(c, None) for c in cfgs}
    ref = Referee()
    seats = tuple(SeatSpec("model", c.key.upper(), c.key) for c in cfgs)
    for i in range(rounds):
        spec = RoundSpec(seats=seats, salt=str(i), max_turns=30, probes=("intent",))
        await (await RoundEngine.create(db, spec, adapters, NullSurface(), ref)).run()
    await db.close()


def reference(path: Path) -> dict[tuple, dict]:
    """The figures recomputed from the raw turns, calls and probes, the slow and obvious
    way (no rollup involved)."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    rows = con.execute(
        """SELECT t.*, s.player_key, r.channel_id, r.prompt_lang, c.model_reported,
                  c.latency_ms, c.output_tokens
           FROM turns t JOIN seats s ON s.id = t.seat_id AND s.kind = 'model'
           JOIN rounds r ON r.id = t.round_id
           JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn' ORDER BY t.id"""
    ).fetchall()
    labels = {
        r["turn_id"]: r["label"] for r in con.execute("SELECT * FROM probes WHERE kind='intent'")
    }
    con.close()
    out: dict[tuple, dict] = defaultdict(
        lambda: {
            "turns": 0,
            "judged": 0,
            "violations": 0,
            "ends_n": 0,
            "codes": Counter(),
            "req": defaultdict(lambda: [0, 0]),
            "words": defaultdict(Counter),
            "lat": [],
            "chars": [],
            "intent": Counter(),
            "rounds": set(),
        }
    )
    for t in rows:
        g = out[(t["player_key"], t["model_reported"], t["channel_id"] or "", t["prompt_lang"])]
        codes = json.loads(t["violations_json"])
        g["turns"] += 1
        g["rounds"].add(t["round_id"])
        g["codes"].update(codes)
        g["lat"].append(t["latency_ms"])
        if t["outcome"] != "no_answer":
            g["judged"] += 1
            g["req"][required_label(t["required_json"])][0] += 1
            g["req"][required_label(t["required_json"])][1] += "ends_with_n" in codes
            g["ends_n"] += "ends_with_n" in codes
            g["chars"].append(len(t["raw_text"]))
        if t["outcome"] == "violation":
            g["violations"] += 1
            if t["word"]:
                g["words"][required_label(t["required_json"])][t["word"]] += 1
        if t["id"] in labels:
            g["intent"][labels[t["id"]]] += 1
    return out


def median_p95(values: list[float]) -> tuple[float, float]:
    v = sorted(latency_bin(x) for x in values)
    n = len(v)
    return (v[(n - 1) // 2] + v[n // 2]) / 2, float(v[math.ceil(0.95 * n) - 1])


async def test_rollups_equal_the_turns_they_sum(tmp_path: Path) -> None:
    path = tmp_path / "played.sqlite3"
    await play_offline(path, 6)
    ref = reference(path)
    stats = compute(path)
    assert len(stats["groups"]) == len(ref) == 2
    for g in stats["groups"]:
        r = ref[(g["player"], g["model"], g["channel_id"] or "", g["prompt_lang"])]
        assert r["violations"] > 0  # the test means something only with violations
        assert (g["turns"], g["judged"], g["rounds"]) == (
            r["turns"],
            r["judged"],
            len(r["rounds"]),
        )
        assert g["violation_any"] == wilson(r["violations"], r["judged"])
        assert g["ends_with_n"] == wilson(r["ends_n"], r["judged"])
        assert g["violations"] == {c: wilson(n, r["judged"]) for c, n in r["codes"].items()}
        assert g["ends_with_n_by_required"] == {
            req: wilson(k, n) for req, (n, k) in r["req"].items()
        }
        for req, words in g["attractors"].items():
            best = sorted(r["words"][req].items(), key=lambda x: (-x[1], x[0]))[:3]
            assert words == [list(x) for x in best]
        assert set(g["attractors"]) == set(r["words"])
        assert (g["latency_ms"]["median"], g["latency_ms"]["p95"]) == median_p95(r["lat"])
        assert g["latency_ms"]["mean"] == pytest.approx(sum(r["lat"]) / len(r["lat"]))
        assert g["reply"]["mean_chars"] == pytest.approx(sum(r["chars"]) / len(r["chars"]))
        total = sum(r["intent"].values())
        assert g["intent"] == {k: wilson(n, total) for k, n in r["intent"].items()}


def downgrade_to_2(path: Path) -> None:
    """What a database written by the Mikan before rollups looks like."""
    con = sqlite3.connect(path)
    names = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'stats_%'"
        )
    ]
    for name in names:
        con.execute(f"DROP TABLE {name}")
    # Migrations 4 to 7 came later still.
    con.execute("DROP TABLE IF EXISTS leases")
    for table in ("turn_labels", "probe_labels", "turn_grades", "probe_grades"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    for table, column in (("turns", "reader"), ("turns", "corrected_to"), ("probes", "classifier")):
        if column in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for column in (  # migration 7
        "finish",
        "reasoning",
        "cached_input_tokens",
        "cache_write_tokens",
        "usage_json",
        "usage_version",
        "system_fingerprint",
        "params_dropped_json",
    ):
        if column in {r[1] for r in con.execute("PRAGMA table_info(calls)")}:
            con.execute(f"ALTER TABLE calls DROP COLUMN {column}")
    con.execute("DELETE FROM schema_version WHERE version > 2")
    con.commit()
    con.close()


async def test_an_older_database_is_backfilled_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    await play_offline(path, 3)
    before = compute(path)
    downgrade_to_2(path)
    with pytest.raises(RuntimeError, match="schema version 2"):
        compute(path)
    db = await Database.open(path)
    assert await db.schema_version() == LATEST
    await db.close()
    assert _as_older(compute(path)) == _as_older(before)


def _as_older(stats: dict) -> dict:
    """Statistics with the label versions read as a pre-version database has them: the
    downgrade drops the version columns, so the upgraded rows are the first versions."""
    labels = stats["labels"]
    # Nor does any call stored before schema 7 count as normalised: no token sums.
    groups = [
        {k: v for k, v in g.items() if k not in ("tokens", "estimated_cost")}
        for g in stats["groups"]
    ]
    return {
        **stats,
        "groups": groups,
        "labels": {
            "turns": {"reader-1": sum(labels["turns"].values())},
            "probes": {"probe-labels-1": sum(labels["probes"].values())},
        },
    }


def test_the_cli_upgrades_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    asyncio.run(play_offline(path, 2))
    before = compute(path)
    downgrade_to_2(path)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert _as_older(json.loads(proc.stdout)) == json.loads(json.dumps(_as_older(before)))
    assert upgrade_file(path) == LATEST  # already there: nothing to do


async def test_a_failed_turn_write_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "f.sqlite3"
    db = await Database.open(path)
    rid = await write_round(
        db, [("a", "a-1"), ("b", "b-1")], [T(0, ["り"], word="りんご")], status="running"
    )
    before = await db.query("SELECT * FROM stats_totals")
    turn = (await db.turns(rid))[0]
    dup = {k: v for k, v in turn.items() if k != "id"}  # same (round, idx): refused
    with pytest.raises(sqlite3.IntegrityError):
        await db.add_turn(dup, None)
    assert await db.query("SELECT * FROM stats_totals") == before
    await db.close()


async def test_turns_without_a_reported_model(tmp_path: Path) -> None:
    """A no_answer turn counts under its seat's previous turn's model, else its player's
    last reported one, else the model asked for."""
    path = tmp_path / "m.sqlite3"
    db = await Database.open(path)
    z, w = ("z", "z-1"), ("w", "w-1")
    await write_round(
        db,
        [z, w],
        [
            T(0, ["り"], "no_answer"),  # z has reported nothing yet: the model asked
            T(1, ["り"], word="りす"),
            T(0, ["す"], word="すいか"),  # z reports z-1
            T(1, ["か"], word="かめ"),
            T(0, ["め"], "no_answer"),  # after it: z-1
        ],
    )
    await db.close()
    stats = compute(path)
    by_model = {(g["player"], g["model"]): g for g in stats["groups"]}
    assert set(by_model) == {("z", "z-model"), ("z", "z-1"), ("w", "w-1")}
    assert by_model["z", "z-model"]["no_answer"] == wilson(1, 1)
    assert by_model["z", "z-1"]["no_answer"] == wilson(1, 2)
    assert by_model["z", "z-1"]["rounds"] == by_model["z", "z-model"]["rounds"] == 1


async def test_latency_quantiles_are_read_to_the_millisecond(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    db = await Database.open(path)
    lat = [100.4, 100.6, 250.0, 99.5, 3000.49]  # bins 100, 101, 250, 100, 3000
    await write_round(
        db, [("a", "a-1"), ("b", "b-1")], [T(0, ["x"], word="x", latency=x) for x in lat]
    )
    await db.close()
    (g,) = compute(path)["groups"]
    assert g["latency_ms"]["median"] == 101 and g["latency_ms"]["p95"] == 3000
    assert g["latency_ms"]["mean"] == pytest.approx(sum(lat) / len(lat))


async def _one_round(path: Path) -> None:
    db = await Database.open(path)
    await write_round(db, [("a", "a-1"), ("b", "b-1")], [T(0, ["x"], word="x")])
    await db.close()


def test_since_is_a_day(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    asyncio.run(_one_round(path))
    with pytest.raises(ValueError, match="date"):
        compute(path, Scope(since="2026-11-01T09:00:00"))
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(path), "--since", "2026-11-01T09:00"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2 and "--since must be a date" in proc.stderr


class _Crash(BaseException):
    """Fails a whole batch (as a lost disk or a killed thread would), not one write."""


async def test_a_batch_rolled_back_whole_leaves_no_stale_memory(tmp_path: Path) -> None:
    """What the write path remembers (group ids, rounds counted) dies with the
    transaction that wrote it: the same turn written again after the rollback counts."""
    path = tmp_path / "b.sqlite3"
    db = await Database.open(path)
    rid, seats = await db.create_round(
        round_row(created_at="2026-11-03T10:00:00.000+00:00", status="running"),
        seat_rows([("a", "a-1"), ("b", "b-1")]),
    )
    turn = turn_row(rid, seats[0], 0, T(0, ["り"], word="りんご"))

    def crash(raw: sqlite3.Connection) -> None:
        raise _Crash

    try:
        results = await asyncio.gather(db.add_turn(turn), db._write(crash), return_exceptions=True)
        assert all(isinstance(r, _Crash) for r in results)  # both rolled back together
        assert await db.query("SELECT * FROM stats_groups") == []
        await db.add_turn(turn)
    finally:
        await db.close()
    (g,) = compute(path)["groups"]
    assert (g["player"], g["rounds"], g["turns"], g["words"]) == ("a", 1, 1, 1)


def test_upgrading_a_current_database_writes_nothing(tmp_path: Path) -> None:
    """So stats and exports work on a copy that cannot be written (a read-only share)."""
    path = tmp_path / "ro.sqlite3"
    asyncio.run(_one_round(path))
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        assert apply(ro) == LATEST  # a write would raise "readonly database"
    finally:
        ro.close()
