"""Round engine throughput, the bot's own cost per turn, and memory for many rounds.

    python bench/arena.py [--rounds 256] [--concurrency 64] [--memory-rounds 1000]

Against an instant OpenAI-compatible loopback server in its own process
(bench/instant_server.py --shiritori, which answers at once with a fitting word), two
model players per round, probes on, SQLite on disk (WAL), as `mikan arena` runs them.

1. One round at a time: per model turn, the time between two consecutive turn
   announcements minus the HTTP exchange (request sent -> response read, as the adapter
   records it): prompt building, the adapter's own work, judging, the SQLite commit and
   the events. Median and p95.
2. C rounds at a time: turns per second, and process CPU time per turn (everything the
   bot does, its HTTP client included, amortised over all turns).
3. In a fresh process: peak RSS with M rounds in flight at once (and the RSS before
   them, after the analyser is loaded; the Sudachi dictionary is memory-mapped).

``python bench/arena.py --workers [bench/workers.py options]`` runs bench/workers.py
instead: one against four `mikan arena` processes on one database, slow players.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from players import start_server

from bot.players import make_adapter, make_client
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.rounds.events import Event, RoundStarted, TurnJudged
from bot.surfaces.arena import ArenaOptions, run_arena
from storage.db import Database


class Clock:
    """Stamps every turn announcement (after its commit) per round."""

    def __init__(self) -> None:
        self.stamps: dict[int, list[tuple[int, float]]] = defaultdict(list)

    async def emit(self, event: Event) -> None:
        if isinstance(event, RoundStarted):
            self.stamps[event.round_id].append((-1, time.perf_counter()))
        elif isinstance(event, TurnJudged):
            self.stamps[event.round_id].append((event.idx, time.perf_counter()))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def scenario(port: int, rounds: int, concurrency: int, db_path: Path) -> dict:
    client = make_client()
    configs = [
        PlayerConfig(
            k,
            "openai",
            model="bench",
            base_url=f"http://127.0.0.1:{port}/v1",
            max_concurrency=100_000,
        )
        for k in ("a", "b")
    ]
    adapters = {c.key: make_adapter(c, client) for c in configs}
    db = await Database.open(db_path)
    referee = Referee()
    clock = Clock()
    opts = ArenaOptions(players=configs, rounds=rounds, concurrency=concurrency, seed=1)
    before = rss_mb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    results = await run_arena(db, opts, adapters, surface=clock, referee=referee, resume=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    turns = sum(r.turns for r in results)
    failed = await db.query("SELECT no_answer_reason FROM turns WHERE outcome = 'no_answer'")
    if failed:  # a benchmark of failing calls measures nothing
        raise SystemExit(f"{len(failed)} turns had no answer, e.g. {failed[0]}")
    rows = await db.query(
        "SELECT t.round_id, t.idx, c.attempts_json FROM calls c JOIN turns t ON t.id = c.turn_id "
        "WHERE c.purpose = 'turn'"
    )
    http = {
        (r["round_id"], r["idx"]): sum(a["latency_ms"] for a in json.loads(r["attempts_json"]))
        for r in rows
    }
    overhead = []
    for rid, stamps in clock.stamps.items():
        stamps.sort()
        for (_, prev), (idx, now) in itertools.pairwise(stamps):
            if (rid, idx) in http:
                overhead.append((now - prev) * 1000 - http[(rid, idx)])
    await db.close()
    await client.aclose()
    overhead.sort()
    return {
        "rounds": len(results),
        "turns": turns,
        "wall_s": wall,
        "turns_per_s": turns / wall,
        "cpu_ms_per_turn": cpu * 1000 / turns,
        "overhead_median_ms": statistics.median(overhead),
        "overhead_p95_ms": overhead[int(len(overhead) * 0.95)],
        "rss_before_mb": before,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def warm() -> None:
    await asyncio.to_thread(Referee().analyser.warm)


def main() -> None:
    if "--workers" in sys.argv:
        # Several `mikan arena` processes on one database, slow players: bench/workers.py.
        sys.argv.remove("--workers")
        import workers

        workers.main()
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=256)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--sequential-rounds", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5, help="runs of the concurrent scenario")
    ap.add_argument("--memory-rounds", type=int, default=1000)
    ap.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    if args.loop == "uvloop":
        import uvloop

        uvloop.install()

    if args.memory_only:
        asyncio.run(warm())
        res = asyncio.run(
            scenario(args.port, args.memory_rounds, args.memory_rounds, tmp / "mem.sqlite3")
        )
        print(json.dumps(res))
        return

    proc, port = start_server("--shiritori")
    try:
        asyncio.run(warm())
        seq = asyncio.run(scenario(port, args.sequential_rounds, 1, tmp / "seq.sqlite3"))
        runs = [
            asyncio.run(scenario(port, args.rounds, args.concurrency, tmp / f"par{i}.sqlite3"))
            for i in range(args.repeat)
        ]
        par = sorted(runs, key=lambda r: r["turns_per_s"])[len(runs) // 2]  # the median run
        mem_run = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-only",
                "--port",
                str(port),
                "--memory-rounds",
                str(args.memory_rounds),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        mem = json.loads(mem_run.stdout.strip().splitlines()[-1])
    finally:
        proc.kill()

    print(
        f"# {platform.node()} {platform.machine()} cpus={os.cpu_count()} "
        f"python {platform.python_version()}"
    )
    print(
        f"1 round at a time ({seq['rounds']} rounds, {seq['turns']} turns): bot overhead "
        f"per turn median {seq['overhead_median_ms']:.3f} ms, p95 {seq['overhead_p95_ms']:.3f} ms;"
        f" {seq['turns_per_s']:.0f} turns/s; CPU {seq['cpu_ms_per_turn']:.3f} ms/turn"
    )
    each = ", ".join(f"{r['turns_per_s']:.0f}" for r in runs)
    print(
        f"{args.concurrency} rounds at a time, median of {len(runs)} runs "
        f"({each} turns/s): "
        f"{par['turns_per_s']:.0f} turns/s ({par['rounds']} rounds, {par['turns']} turns); "
        f"CPU {par['cpu_ms_per_turn']:.3f} ms/turn"
    )
    print(
        f"{mem['rounds']} rounds at once ({mem['turns']} turns, {mem['turns_per_s']:.0f} "
        f"turns/s): RSS before {mem['rss_before_mb']:.0f} MB, peak {mem['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
