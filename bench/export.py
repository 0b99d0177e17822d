"""Exports and statistics on a large database.

    python bench/export.py [--turns 1000000] [--repeat 3] [--db PATH]

Builds (once; reused if present) a database in Mikan's schema with the given number of
model turns: rounds of 100 turns between two players, every turn with its call record
(request and response bodies of ~0.5 KB each), an intent probe per violating turn, and
the statistics rollups (through migration 3's backfill; a database an older version of
this script built is upgraded the same way, and the time it took printed). Then, each
in a fresh process so peak memory is its own, side by side, ``--repeat`` times:
  - `mikan export --all --format csv` and `--format jsonl`: rows/s and peak RSS;
  - `mikan stats --json`: wall time;
and the same exports on a tenth of the database, to show memory does not grow with size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage import migrations, rollups

BUILD_SCHEMA = 4  # the schema the generator's rows are written in
GENERATOR = "v2"  # in the file name: a changed generator builds a new database
WORDS = [
    "りんご",
    "ごりら",
    "らっぱ",
    "ぱんだ",
    "みかん",
    "きりん",
    "すいか",
    "かめ",
    "めだか",
    "からす",
]


def build(path: Path, turns: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    # The generator writes schema 4's columns; the caller's upgrade_file takes it on.
    from unittest import mock

    older = [m for m in migrations.MIGRATIONS if m[0] <= BUILD_SCHEMA]
    with mock.patch.object(migrations, "MIGRATIONS", older):
        migrations.apply(con)
    con.execute("BEGIN")
    per_round = 100
    body = json.dumps(
        {"model": "m", "messages": [{"role": "user", "content": "あ" * 150}]}, ensure_ascii=False
    )
    turn_id = call_id = probe_id = 0
    for r in range(turns // per_round):
        rid = r + 1
        # Rounds spread over a year and 8 channels, latencies over two orders of
        # magnitude: few calls per group and day, so the latency histograms hold about
        # a row per call (the statistics' worst case).
        created = date(2026, 1, 1) + timedelta(days=r % 365)
        con.execute(
            "INSERT INTO rounds VALUES (?, 'discord', 'g', ?, '{}', 'elimination', ?, 'ja-1', "
            "'probes-1', '[\"intent\"]', 'bench', 'しりとり', 200, 60, 2, '', 'finished', 0, "
            "'last_seat_standing', ?, ?)",
            (rid, f"c{r % 8}", "ja" if r % 2 else "en", f"{created}T00:00:00", "t"),
        )
        seats = []
        for pos, key in enumerate(("a", "b")):
            cur = con.execute(
                "INSERT INTO seats (round_id, position, kind, player_key, display_name, provider,"
                " model_asked, params_json, status) VALUES (?, ?, 'model', ?, ?, 'openai', ?, "
                "'{}', 'playing')",
                (rid, pos, key, key, f"{key}-model"),
            )
            seats.append(cur.lastrowid)
        trows, crows, prows = [], [], []
        for idx in range(per_round):
            turn_id += 1
            seat = seats[idx % 2]
            word = rng.choice(WORDS)
            violation = word.endswith("ん")
            trows.append(
                (
                    turn_id,
                    rid,
                    seat,
                    idx,
                    "violation" if violation else "accepted",
                    json.dumps([word[0]], ensure_ascii=False),
                    None,
                    f"「{word}」",
                    word,
                    word,
                    "kana",
                    word[0],
                    "[]",
                    '["ends_with_n"]' if violation else "[]",
                    "none",
                    None,
                    "t",
                    "t",
                    1.0,
                )
            )
            call_id += 1
            crows.append(
                (
                    call_id,
                    rid,
                    seat,
                    turn_id,
                    None,
                    "turn",
                    "ab"[idx % 2],
                    "openai",
                    "m",
                    "m-2026",
                    1,
                    None,
                    "{}",
                    "t",
                    min(120_000.0, rng.lognormvariate(math.log(1500), 0.8)),
                    50,
                    5,
                    None,
                    "req",
                    "stop",
                    0,
                    "[]",
                    None,
                    body,
                    body,
                )
            )
            if violation:
                probe_id += 1
                prows.append(
                    (
                        probe_id,
                        rid,
                        seat,
                        turn_id,
                        "intent",
                        "probes-1",
                        "わざと？",
                        "うっかり",
                        "accidental",
                        "[]",
                        "t",
                    )
                )
        con.executemany(f"INSERT INTO turns VALUES ({', '.join('?' * 19)})", trows)
        con.executemany(f"INSERT INTO calls VALUES ({', '.join('?' * 25)})", crows)
        con.executemany(f"INSERT INTO probes VALUES ({', '.join('?' * 11)})", prows)
        if r % 100 == 0:
            con.execute("COMMIT")
            con.execute("BEGIN")
    con.execute("COMMIT")
    # Then the later migrations, and the statistics rollups as the live writes would
    # have kept them (the live code reads today's columns, so after the migrations).
    migrations.apply(con)
    con.execute("BEGIN")
    rollups.backfill(con)
    con.execute("COMMIT")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def run_measured(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds and the child's peak RSS (MB) for one `mikan` command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run small ones first.
    return wall, max(peak, before) / 1024, proc.stdout


def rows_written(stdout: str) -> int:
    # "rounds 10, seats 20, turns 1000, probes 3, calls 1000 -> DIR"
    head = stdout.split("->")[0]
    return sum(int(part.split()[1]) for part in head.split(","))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "mikan-bench")
    a = ap.parse_args()
    a.db.mkdir(parents=True, exist_ok=True)
    sizes = [a.turns // 10, a.turns]
    results = {}
    for n in sizes:
        db = a.db / f"turns-{n}-{GENERATOR}.sqlite3"
        if not db.exists():
            t0 = time.perf_counter()
            build(db, n)
            print(f"built {db} ({n} turns) in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        if migrations.upgrade_file(db) < migrations.LATEST:
            # A database built by an older version of this script: the same upgrade
            # (and rollup backfill) an older Mikan's database gets.
            took = time.perf_counter() - t0
            print(f"upgraded {db} to schema {migrations.LATEST} in {took:.1f} s", flush=True)
        # Side by side: each repetition runs csv, jsonl and stats once; medians reported.
        walls: dict[str, list[float]] = {"csv": [], "jsonl": [], "stats": []}
        rows, peak = {}, 0.0
        for _ in range(a.repeat):
            out = Path(tempfile.mkdtemp())
            for fmt in ("csv", "jsonl"):
                wall, peak, stdout = run_measured(
                    ["export", "--db", str(db), "--all", "--format", fmt, "--out", str(out / fmt)]
                )
                rows[fmt] = rows_written(stdout)
                walls[fmt].append(wall)
                shutil.rmtree(out / fmt)  # gigabytes at 1M turns
            wall, peak, _ = run_measured(["stats", "--db", str(db), "--json"])
            walls["stats"].append(wall)
            out.rmdir()
        results[n] = (walls, rows, peak, db.stat().st_size / 1e6)
    print(
        f"# {platform.node()} {platform.machine()} cpus={os.cpu_count()} "
        f"python {platform.python_version()} sqlite {sqlite3.sqlite_version}, "
        f"{a.repeat} runs each, medians [min-max]"
    )
    for n, (walls, rows, peak, mb) in results.items():
        print(f"{n:>9} turns (database {mb:.0f} MB, {rows['csv']} rows):")
        for fmt in ("csv", "jsonl"):
            rates = sorted(rows[fmt] / w for w in walls[fmt])
            print(
                f"  export {fmt:5}: {statistics.median(walls[fmt]):.1f} s = "
                f"{statistics.median(rates):,.0f} rows/s [{rates[0]:,.0f}-{rates[-1]:,.0f}]"
            )
        w = sorted(walls["stats"])
        print(f"  stats      : {statistics.median(w):.2f} s [{w[0]:.2f}-{w[-1]:.2f}]")
        print(f"  peak RSS of any one command so far: {peak:.0f} MB")


if __name__ == "__main__":
    main()
