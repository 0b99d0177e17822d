"""Referee throughput: judged words per second and per-word latency, one core.

    python bench/judge.py [--n 50000] [--seed 1]

Measures, in one run and on the same input mix (hiragana, katakana, kanji, junk):
  - mikan's referee with its analysis cache (words repeat in real play),
  - mikan's referee with the analysis cache disabled (every word analysed afresh),
  - a naive baseline: pykakasi reading + character comparison, no dictionary.
The analyser is warmed first (dictionary and noun-reading index loaded).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import string
import time
from collections.abc import Callable

import pykakasi

from bot.players.lexicon import load
from bot.referee.judge import Referee
from bot.referee.kana import to_katakana
from bot.referee.readings import Analyser


def make_mix(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    entries = load()
    junk_pool = [
        lambda: "".join(rng.choice(string.ascii_letters + " ") for _ in range(rng.randint(3, 40))),
        lambda: "".join(chr(rng.randint(0x3041, 0x3093)) for _ in range(rng.randint(2, 6))),
        lambda: "🍊" * rng.randint(1, 5),
        lambda: "次は「み」からですね。どうぞ！",
        lambda: f"{rng.choice(entries).reading}\n\n次は「ん」からどうぞ！",
        lambda: f"うーん…では **{rng.choice(entries).surface}** にします！",
        lambda: "あ" * rng.randint(200, 2000),
    ]
    out = []
    for _ in range(n):
        e = rng.choice(entries)
        prev = rng.choice(entries).reading
        r = rng.random()
        if r < 0.40:
            text = e.reading
        elif r < 0.65:
            text = to_katakana(e.reading)
        elif r < 0.90:
            text = e.surface
        else:
            text = rng.choice(junk_pool)()
        out.append((text, prev))
    return out


def naive_judge(kakasi: pykakasi.kakasi) -> Callable[[str, str], object]:
    def judge(text: str, prev: str) -> object:
        reading = "".join(p["hira"] for p in kakasi.convert(text.strip()))
        prev_reading = "".join(p["hira"] for p in kakasi.convert(prev))
        ok = bool(reading) and reading[0] == prev_reading[-1:] and not reading.endswith("ん")
        return {"reading": reading, "ok": ok}

    return judge


def measure(name: str, fn: Callable[[str, str], object], mix: list[tuple[str, str]]) -> dict:
    for text, prev in mix[:2000]:  # warm caches and code paths
        fn(text, prev)
    lat = []
    t0 = time.perf_counter()
    for text, prev in mix:
        s = time.perf_counter_ns()
        fn(text, prev)
        lat.append(time.perf_counter_ns() - s)
    total = time.perf_counter() - t0
    lat.sort()
    return {
        "name": name,
        "words_per_s": len(mix) / total,
        "median_us": statistics.median(lat) / 1000,
        "p99_us": lat[int(len(lat) * 0.99)] / 1000,
        "max_us": lat[-1] / 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mix = make_mix(args.n, args.seed)
    used = [e.reading for e in load()[:30]]

    cached = Referee(Analyser())
    cached.analyser.warm()
    uncached = Referee(Analyser(cache_size=0))
    uncached.analyser.warm()
    kakasi = pykakasi.kakasi()

    rows = [
        measure(
            "mikan referee (analysis cache on)",
            lambda t, p: cached.judge(t, prev=p, used=used),
            mix,
        ),
        measure(
            "mikan referee (analysis cache off)",
            lambda t, p: uncached.judge(t, prev=p, used=used),
            mix,
        ),
        measure("naive: pykakasi + character compare", naive_judge(kakasi), mix),
    ]
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()} "
        f"python {platform.python_version()} n={args.n} one core"
    )
    print(f"{'variant':40} {'words/s':>10} {'median µs':>10} {'p99 µs':>10} {'max µs':>10}")
    for r in rows:
        print(
            f"{r['name']:40} {r['words_per_s']:10.0f} {r['median_us']:10.1f} "
            f"{r['p99_us']:10.1f} {r['max_us']:10.1f}"
        )
    base = rows[2]["words_per_s"]
    for r in rows[:2]:
        print(f"{r['name']}: {r['words_per_s'] / base:.2f}x the naive baseline's throughput")


if __name__ == "__main__":
    main()
