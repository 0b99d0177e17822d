"""Pacing to announced rate limits, against a stand-in that enforces them.

    python bench/pacing.py [--seconds 60] [--workers 48] [--rpm 600] [--tpm 700000]

The loopback stand-in (tests/support/providers.py with tests/support/ratelimit.py)
enforces ``--rpm`` requests and ``--tpm`` tokens a minute as OpenAI documents (buckets
of a minute's worth, refilled continuously, a request's tokens estimated as its prompt
plus max_tokens), answers 429 with ``retry-after-ms`` when a request does not fit, and
sends ``x-ratelimit-*`` headers with every answer. ``--workers`` callers play one
OpenAI-compatible player back to back, as an arena's rounds do; pacing on, then off
(429s retried with the server's wait and backoff), one after the other in one run.
Each starts with full buckets: the burst they allow is spent first, then the rate is
measured over ``--seconds``: answered requests a second against the allowed rate, and
the share of requests answered 429.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from bot.players import make_adapter, make_client
from bot.players.roster import PlayerConfig
from bot.rounds.conversation import Conversation
from tests.support.providers import ProviderServer
from tests.support.ratelimit import RateLimit


def conversation() -> Conversation:
    c = Conversation("あなたはしりとりのプレイヤーです。" * 4)
    for i in range(8):
        c.user(f"B：「ごりら」\nあなたの番です。「ら」から始まる言葉を答えてください。{i}")
        c.assistant("「らっこ」")
    c.user("あなたの番です。「り」から始まる言葉を答えてください。")
    return c


async def run(pace: bool, args: argparse.Namespace) -> dict[str, float]:
    server = ProviderServer()
    await server.start()
    limit = server.rate_limit = RateLimit(args.rpm, args.tpm)
    client = make_client()
    config = PlayerConfig(
        "bench",
        "openai",
        model="m",
        base_url=f"{server.base}/v1",
        max_tokens=64,
        max_concurrency=args.workers,
        max_attempts=8,
        retry_total_s=600,
        pace=pace,
    )
    adapter = make_adapter(config, client)
    request = conversation().request()
    stop = asyncio.Event()
    failed = 0

    async def worker() -> None:
        nonlocal failed
        while not stop.is_set():
            record = await adapter.call(request)
            failed += not record.ok

    tasks = [asyncio.create_task(worker()) for _ in range(args.workers)]
    # The burst the full buckets allow (spent in well under a second), then the
    # steady state.
    await asyncio.sleep(args.warmup)
    cost = limit.cost(adapter.body(request))
    burst = min(args.rpm, args.tpm / cost)
    assert limit.answered >= burst - 1, "the warm-up did not spend the burst"
    answered0, refused0, t0 = limit.answered, limit.refused, time.monotonic()
    await asyncio.sleep(args.seconds)
    answered, refused = limit.answered - answered0, limit.refused - refused0
    took = time.monotonic() - t0
    stop.set()
    await asyncio.gather(*tasks)
    await client.aclose()
    await server.stop()
    # Whichever limit binds: requests, or tokens at this request's estimated cost.
    allowed = min(args.rpm / 60, args.tpm / 60 / cost)
    return {
        "rate": answered / took,
        "share": answered / took / allowed,
        "refused": refused / max(1, answered + refused),
        "failed_calls": failed,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=48)
    ap.add_argument("--rpm", type=float, default=600)
    ap.add_argument("--tpm", type=float, default=700_000)
    ap.add_argument("--warmup", type=float, default=5, help="seconds before measuring")
    args = ap.parse_args()
    print(
        f"# {platform.node()} {platform.machine()} cpus={os.cpu_count()} python "
        f"{platform.python_version()}; {args.rpm:.0f} requests/min, {args.tpm:.0f} tokens/min, "
        f"{args.workers} callers, {args.seconds:.0f} s measured"
    )
    for pace in (True, False):
        r = asyncio.run(run(pace, args))
        print(
            f"  pacing {'on ' if pace else 'off'}: {r['rate']:6.2f} requests/s = "
            f"{100 * r['share']:5.1f}% of the allowed rate; {100 * r['refused']:5.2f}% of "
            f"requests answered 429; {r['failed_calls']} calls failed"
        )


if __name__ == "__main__":
    main()
