"""Adapter overhead against an instant loopback OpenAI-compatible server.

    python bench/players.py [--calls 4000] [--concurrency 64] [--rounds 5]

Side by side in one run, alternating A/B rounds:
  - bare: httpx.AsyncClient.post of the same JSON body, response parsed with json.loads;
  - adapter: OpenAIAdapter.call (body building, retry machinery, parsing, the record).
Reports requests/s with 64 concurrent callers, and per-call latency with one caller
(the added latency is the difference of medians, measured in the same run).
The server runs in its own process (bench/instant_server.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.conversation import Conversation
from bot.players import make_adapter, make_client
from bot.roster import PlayerConfig


def start_server() -> tuple[subprocess.Popen, int]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("instant_server.py")), str(port_file)]
    )
    for _ in range(500):
        if port_file.exists() and port_file.read_text():
            return proc, int(port_file.read_text())
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError("server did not start")


def conversation() -> Conversation:
    c = Conversation("あなたはしりとりのプレイヤーです。" * 5)
    for i in range(10):
        c.user(f"B：「ごりら」\nあなたの番です。「ら」から始まる言葉を答えてください。{i}")
        c.assistant("「らっこ」")
    c.user("あなたの番です。「り」から始まる言葉を答えてください。")
    return c


async def run(args: argparse.Namespace, port: int) -> dict[str, list[float]]:
    client = make_client()
    config = PlayerConfig(
        "bench",
        "openai",
        model="bench-model",
        base_url=f"http://127.0.0.1:{port}/v1",
        max_concurrency=10_000,
        temperature=0.7,
        seed=1,
    )
    adapter = make_adapter(config, client)
    request = conversation().request()
    bare_body = json.dumps(adapter.body(request), ensure_ascii=False).encode()
    url = adapter.url()

    async def bare() -> None:
        r = await client.post(
            url, content=bare_body, headers={"content-type": "application/json"}, timeout=60
        )
        json.loads(r.text)

    async def adapted() -> None:
        record = await adapter.call(request)
        assert record.ok, record.error

    async def throughput(fn) -> float:
        per = args.calls // args.concurrency

        async def worker() -> None:
            for _ in range(per):
                await fn()

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        return per * args.concurrency / (time.perf_counter() - t0)

    async def latency(fn, n: int) -> float:
        lat = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            await fn()
            lat.append(time.perf_counter_ns() - t0)
        return statistics.median(lat) / 1e6

    out: dict[str, list[float]] = {
        "bare_rps": [],
        "adapter_rps": [],
        "bare_ms": [],
        "adapter_ms": [],
    }
    await throughput(bare)  # warm the pool
    await throughput(adapted)
    for _ in range(args.rounds):
        out["bare_rps"].append(await throughput(bare))
        out["adapter_rps"].append(await throughput(adapted))
        out["bare_ms"].append(await latency(bare, 500))
        out["adapter_ms"].append(await latency(adapted, 500))
    await client.aclose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=4096)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    proc, port = start_server()
    try:
        res = asyncio.run(run(args, port))
    finally:
        proc.kill()
    med = {k: statistics.median(v) for k, v in res.items()}
    print(
        f"# {platform.node()} {platform.machine()} cpus={os.cpu_count()} "
        f"python {platform.python_version()} httpx {httpx.__version__}"
    )
    print(f"requests/s, {args.concurrency} concurrent callers (median of {args.rounds}):")
    print(f"  bare httpx   {med['bare_rps']:8.0f}")
    print(
        f"  adapter      {med['adapter_rps']:8.0f}   ({med['adapter_rps'] / med['bare_rps']:.2f}x)"
    )
    print("latency per call, one caller (median of medians):")
    print(f"  bare httpx   {med['bare_ms']:.3f} ms")
    print(f"  adapter      {med['adapter_ms']:.3f} ms")
    added = [a - b for a, b in zip(res["adapter_ms"], res["bare_ms"], strict=True)]
    print(
        f"  added        {statistics.median(added):.3f} ms (per-round: "
        + ", ".join(f"{x:.3f}" for x in added)
        + ")"
    )


if __name__ == "__main__":
    main()
