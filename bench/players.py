"""Adapter overhead against an instant loopback OpenAI-compatible server.

    python bench/players.py [--calls 4000] [--concurrency 64] [--rounds 5]

Side by side in one run, alternating rounds:
  - bare httpx: a plain httpx.AsyncClient (httpx's own pool) posting the same JSON body,
    response parsed with json.loads;
  - bare shared: the same post through the product's shared client (httpx over aiohttp);
  - adapter: OpenAIAdapter.call over the shared client (body building, retry machinery,
    parsing, the record).
Reports requests/s with 64 concurrent callers, and per-call latency with one caller
(the added latency is the difference of medians, measured in the same run).
The server runs in its own process (bench/instant_server.py).

    python bench/players.py --caching [--turns 60]

Prompt caching instead: a round of ``--turns`` turns between two seats, as the engine
asks them (tests/support/caching.py ``play_round``), played side by side with caching on
and off against the loopback stand-ins (tests/support/providers.py) whose usage counts
tokens as each provider's cache does (tests/support/caching.py: OpenAI's automatic
prefix cache, with and without prompt_cache_key, a lone round and a busy arena's spill
over 8 machines; Anthropic's cache_control breakpoints). Reports input tokens sent, read
from the cache and written to it.

    python bench/players.py --hostile 16

Peak memory of a fresh process making 16 calls at once whose replies are a normal one,
a 50 MB body, a 50 MB chunked body and an endless chunked body (the default 4 MiB
response limit).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

import resource
import threading

from bot.players import make_adapter, make_client
from bot.players.roster import PlayerConfig
from bot.rounds.conversation import Conversation


def start_server(*extra: str) -> tuple[subprocess.Popen, int]:
    port_file = Path(tempfile.mkdtemp()) / "port"
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("instant_server.py")), str(port_file), *extra]
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
    shared = make_client()
    native = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=64)
    )
    config = PlayerConfig(
        "bench",
        "openai",
        model="bench-model",
        base_url=f"http://127.0.0.1:{port}/v1",
        max_concurrency=10_000,
        temperature=0.7,
        seed=1,
    )
    adapter = make_adapter(config, shared)
    request = conversation().request()
    bare_body = json.dumps(adapter.body(request), ensure_ascii=False).encode()
    url = adapter.url()

    def bare(client: httpx.AsyncClient):
        async def post() -> None:
            r = await client.post(
                url, content=bare_body, headers={"content-type": "application/json"}, timeout=60
            )
            json.loads(r.text)

        return post

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

    variants = {"bare httpx": bare(native), "bare shared": bare(shared), "adapter": adapted}
    out: dict[str, list[float]] = {f"{k} {m}": [] for k in variants for m in ("rps", "ms")}
    for fn in variants.values():
        await throughput(fn)  # warm pools and code paths
    for _ in range(args.rounds):
        for name, fn in variants.items():
            out[f"{name} rps"].append(await throughput(fn))
        for name, fn in variants.items():
            out[f"{name} ms"].append(await latency(fn, 500))
    await shared.aclose()
    await native.aclose()
    return out


async def caching(turns: int) -> list[tuple[str, str, int, int, int]]:
    """(provider, variant, input tokens, cached, cache writes) per variant, one run."""
    from tests.support.caching import AnthropicCache, OpenAICache, play_round
    from tests.support.providers import ProviderServer

    rows = []
    variants = [
        ("openai", "on (prompt_cache_key)", True, 8),
        ("openai", "off, a lone round (one machine)", False, 1),
        ("openai", "off, a busy arena (prefix spills over 8 machines)", False, 8),
        ("anthropic", "on (cache_control breakpoints)", True, 8),
        ("anthropic", "off", False, 8),
    ]
    async with httpx.AsyncClient() as client:
        for provider, variant, on, machines in variants:
            server = ProviderServer()
            await server.start()
            server.openai_cache = OpenAICache(machines=machines)
            server.anthropic_cache = AnthropicCache()
            base = f"{server.base}/v1" if provider == "openai" else server.base
            players = [
                make_adapter(
                    PlayerConfig(k, provider, model="m", base_url=base, prompt_cache=on), client
                )
                for k in ("a", "b")
            ]
            records = await play_round(players, turns=turns)
            await server.stop()
            rows.append(
                (
                    provider,
                    variant,
                    sum(r.input_tokens or 0 for r in records),
                    sum(r.cached_input_tokens or 0 for r in records),
                    sum(r.cache_write_tokens or 0 for r in records),
                )
            )
    return rows


HOSTILE = {
    "ok": "a normal reply",
    "big": "a 50 MB body with its content-length",
    "chunked": "a 50 MB chunked body",
    "endless": "an endless chunked body",
}


def hostile(calls: int) -> list[tuple[str, float]]:
    """Peak RSS (MB) of a fresh process making ``calls`` calls at once per kind of reply.

    The stand-in runs here, in a thread; each client in its own process, so its peak is
    its own. The player's response limit is the default (4 MiB).
    """
    import logging

    from tests.support.providers import ProviderServer, Reply

    # Each cut-off body is a connection the client dropped: expected, not news.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    server = ProviderServer()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result()
    big = json.dumps({"pad": "x" * 50_000_000})
    replies = {
        "ok": lambda: Reply(),
        "big": lambda: Reply(body=big),
        "chunked": lambda: Reply(chunked=50_000_000),
        "endless": lambda: Reply(endless=True),
    }
    out = []
    for kind, make in replies.items():
        if kind != "ok":
            server.script(f"/{kind}/v1/chat/completions", *[make() for _ in range(calls)])
        proc = subprocess.run(
            [sys.executable, __file__, "--hostile-client", f"{server.base}/{kind}/v1", str(calls)],
            capture_output=True,
            text=True,
            check=True,
        )
        errors, peak = proc.stdout.split()
        out.append((f"{kind} ({errors})", float(peak)))
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    return out


async def hostile_client(base_url: str, calls: int) -> None:
    config = PlayerConfig("p", "openai", model="m", base_url=base_url, max_concurrency=calls)
    async with make_client() as client:
        adapter = make_adapter(config, client)
        records = await asyncio.gather(
            *(adapter.call(conversation().request()) for _ in range(calls))
        )
    errors = {(r.error or "ok").split(":")[0] for r in records}
    print(",".join(sorted(errors)), f"{_peak_rss_mb():.1f}")


def _peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM (ru_maxrss may carry the parent's over exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    if sys.argv[1:2] == ["--hostile-client"]:
        asyncio.run(hostile_client(sys.argv[2], int(sys.argv[3])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=4096)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--caching", action="store_true", help="measure prompt caching instead")
    ap.add_argument("--turns", type=int, default=60, help="with --caching: turns per round")
    ap.add_argument(
        "--hostile", type=int, metavar="CALLS", help="peak memory against oversized bodies"
    )
    args = ap.parse_args()
    if args.hostile:
        print(
            f"# {platform.node()} python {platform.python_version()}, {args.hostile} calls at once"
        )
        for kind, peak in hostile(args.hostile):
            print(f"  {HOSTILE[kind.split()[0]]:40} {kind.split()[1]:14} peak RSS {peak:7.1f} MB")
        return
    if args.caching:
        print(f"# {platform.node()} python {platform.python_version()}, {args.turns}-turn round")
        for provider, variant, sent, cached, written in asyncio.run(caching(args.turns)):
            share = cached / sent if sent else 0.0
            print(
                f"  {provider:9} {variant:50} input {sent:7}  cached {cached:7} "
                f"({100 * share:4.1f}%)  written {written:6}"
            )
        return
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
    for name in ("bare httpx", "bare shared", "adapter"):
        print(f"  {name:12} {med[name + ' rps']:8.0f}")
    print(f"  adapter / bare shared: {med['adapter rps'] / med['bare shared rps']:.2f}x")
    print("latency per call, one caller (median of medians):")
    for name in ("bare httpx", "bare shared", "adapter"):
        print(f"  {name:12} {med[name + ' ms']:.3f} ms")
    added = [a - b for a, b in zip(res["adapter ms"], res["bare shared ms"], strict=True)]
    print(
        f"  added by the adapter over the same client: {statistics.median(added):.3f} ms "
        "(per round: " + ", ".join(f"{x:.3f}" for x in added) + ")"
    )


if __name__ == "__main__":
    main()
