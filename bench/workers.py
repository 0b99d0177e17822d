"""Several ``mikan arena`` workers on one database, against slow (sleeping) players.

    python bench/workers.py [--rounds 32] [--concurrency 4] [--delay-ms 100] [--reps 3]

The players are `bench/instant_server.py --shiritori --delay-ms D` (its own process):
every answer waits D ms, as a remote model does, so what a worker can do is bounded by
the rounds it keeps in flight, not by the CPU. Side by side in one run, alternating,
``--reps`` times:

- one worker: one ``mikan arena`` process playing all R rounds, C at a time;
- four workers: four processes started at once on one fresh database, R/4 rounds each,
  C at a time each (each round leased to exactly one of them).

Throughput is turns per second of wall time, process start to last exit (the
analyser's load included), and also over the span the turns were played in (first
turn started to last turn ended, from the database). After each run the database is
checked: every round finished, every round's turns numbered 0..n-1 with no gap and no
double, as many turn calls as turns, ``PRAGMA integrity_check`` ok.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from players import start_server

ROOT = Path(__file__).resolve().parents[1]


def roster(port: int) -> str:
    return "".join(
        f'[players.{n}]\nprovider = "openai"\nmodel = "bench-{n}"\n'
        f'base_url = "http://127.0.0.1:{port}/v1"\nmax_attempts = 1\nmax_concurrency = 1000\n\n'
        for n in ("a", "b")
    )


def run(workers: int, rounds: int, concurrency: int, max_turns: int, port: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"mikan-w{workers}-"))
    (work / "mikan.toml").write_text(roster(port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_")}
    if "MIKAN_CACHE_DIR" in os.environ:
        env["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
    env["PYTHONPATH"] = str(ROOT)
    each = rounds // workers
    cmd = [
        sys.executable,
        "-m",
        "bot",
        "arena",
        "--players",
        "a,b",
        "--rounds",
        str(each),
        "--concurrency",
        str(concurrency),
        "--max-turns",
        str(max_turns),
        "--quiet",
    ]
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(workers)
    ]
    errors = [p.communicate()[1].decode() for p in procs]
    wall = time.perf_counter() - t0
    codes = [p.returncode for p in procs]
    con = sqlite3.connect(work / "mikan.sqlite3")
    try:
        (turns,) = con.execute("SELECT COUNT(*) FROM turns").fetchone()
        (first, last) = con.execute("SELECT MIN(started_at), MAX(ended_at) FROM turns").fetchone()
        statuses = dict(con.execute("SELECT status, COUNT(*) FROM rounds GROUP BY status"))
        gaps = con.execute(
            "SELECT COUNT(*) FROM (SELECT round_id, COUNT(*) AS n, MIN(idx) AS lo, "
            "MAX(idx) AS hi, COUNT(DISTINCT idx) AS d FROM turns GROUP BY round_id) "
            "WHERE lo != 0 OR hi != n - 1 OR d != n"
        ).fetchone()[0]
        (turn_calls,) = con.execute(
            "SELECT COUNT(*) FROM calls WHERE purpose = 'turn' AND probe_id IS NULL"
        ).fetchone()
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()
    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return {
        "workers": workers,
        "codes": codes,
        "tracebacks": sum("Traceback" in e for e in errors),
        "turns": turns,
        "wall_s": wall,
        "span_s": span,
        "tps_wall": turns / wall,
        "tps_span": turns / span if span else 0.0,
        "rounds": statuses,
        "bad_rounds": gaps,
        "turns_without_one_call": turns - turn_calls,
        "integrity": integrity,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-turns", type=int, default=20)
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    server, port = start_server("--shiritori", "--delay-ms", str(args.delay_ms), "--seed", "1")
    results: dict[int, list[dict]] = {1: [], 4: []}
    try:
        for _ in range(args.reps):
            for workers in (1, 4):
                r = run(workers, args.rounds, args.concurrency, args.max_turns, port)
                results[workers].append(r)
                print(
                    f"{workers} worker(s): {r['turns']} turns, wall {r['wall_s']:.1f} s "
                    f"({r['tps_wall']:.1f} turns/s), span {r['span_s']:.1f} s "
                    f"({r['tps_span']:.1f} turns/s), exit {r['codes']}, rounds {r['rounds']}, "
                    f"bad rounds {r['bad_rounds']}, turns without one call "
                    f"{r['turns_without_one_call']}, integrity {r['integrity']}, "
                    f"tracebacks {r['tracebacks']}",
                    flush=True,
                )
    finally:
        server.kill()
    print(
        f"\n{datetime.now().date()} · {platform.platform()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {args.rounds} rounds, concurrency "
        f"{args.concurrency} per worker, max {args.max_turns} turns, players sleep "
        f"{args.delay_ms} ms per answer, {args.reps} alternating reps"
    )
    med = {
        w: {k: statistics.median(r[k] for r in rs) for k in ("tps_wall", "tps_span")}
        for w, rs in results.items()
    }
    print("| workers | turns/s (wall, median) | turns/s (turn span, median) |")
    print("|---:|---:|---:|")
    for w in (1, 4):
        print(f"| {w} | {med[w]['tps_wall']:.1f} | {med[w]['tps_span']:.1f} |")
    print(
        f"| ratio | {med[4]['tps_wall'] / med[1]['tps_wall']:.2f}× | "
        f"{med[4]['tps_span'] / med[1]['tps_span']:.2f}× |"
    )
    every = [r for rs in results.values() for r in rs]
    unfinished = sum(v for r in every for k, v in r["rounds"].items() if k != "finished")
    print(
        "checks over all runs: non-zero exits "
        f"{sum(c != 0 for r in every for c in r['codes'])}, tracebacks "
        f"{sum(r['tracebacks'] for r in every)}, bad rounds {sum(r['bad_rounds'] for r in every)}, "
        f"turns without exactly one call {sum(r['turns_without_one_call'] for r in every)}, "
        f"unfinished rounds {unfinished}, "
        f"integrity {sorted({r['integrity'] for r in every})}"
    )


if __name__ == "__main__":
    main()
