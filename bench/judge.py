"""Referee throughput, latency and cold start, side by side with a naive reference.

    python bench/judge.py [--n 50000] [--cli-n 20000] [--cli-runs 3] [--seed 1] [--starts 5]

Measures, in one run and on the same input mix (hiragana, katakana, kanji, junk):
  - in process, one core: mikan's referee with its analysis cache (words repeat in real
    play), with the analysis cache off (every word analysed afresh), and the naive
    reference (SudachiPy's reading, pykakasi when it has none, character comparison,
    SudachiPy's part of speech as the noun check, no cache);
  - through the command line: ``mikan judge`` against the naive reference reading the
    same JSON Lines in its own process (``python bench/judge.py --naive-stream``);
  - cold start: from process start to the first verdict of one line piped in (median of
    ``--starts`` runs), both ways, with the caches already built.
The JMdict check is on throughout (the default rules). The analyser is warmed first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pykakasi
from sudachipy import Dictionary, SplitMode

from bot.players.lexicon import load
from bot.referee.judge import Referee
from bot.referee.kana import is_kana_reading, to_hiragana, to_katakana
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


class Naive:
    """The naive reference: SudachiPy's reading (pykakasi when it has none), no cache."""

    def __init__(self) -> None:
        self.tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
        self.kakasi = pykakasi.kakasi()

    def reading(self, text: str) -> tuple[str, bool]:
        tokens = self.tokenizer.tokenize(text.strip()[:200])
        reading = to_hiragana("".join(t.reading_form() for t in tokens))
        noun = len(tokens) > 0 and all(t.part_of_speech()[0] == "名詞" for t in tokens)
        if not is_kana_reading(reading):
            reading = "".join(p["hira"] for p in self.kakasi.convert(text.strip()[:200]))
        return reading, noun

    def judge(self, text: str, prev: str) -> dict[str, Any]:
        reading, noun = self.reading(text)
        prev_reading, _ = self.reading(prev)
        ok = (
            bool(reading)
            and reading[0] == prev_reading[-1:]
            and not reading.endswith("ん")
            and noun
        )
        return {"reading": reading, "ok": ok}


def naive_stream() -> None:
    """The naive reference as a JSON Lines filter, the way ``mikan judge`` is used."""
    naive = Naive()
    out = sys.stdout
    for line in sys.stdin:
        try:
            req = json.loads(line)
            result: dict[str, Any] = naive.judge(req["text"], req.get("prev") or "")
        except (ValueError, KeyError, TypeError) as exc:
            result = {"error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()


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


def _mikan() -> list[str]:
    found = shutil.which("mikan")
    return [found] if found else [sys.executable, "-m", "bot"]


NAIVE_CMD = [sys.executable, __file__, "--naive-stream"]


def through_cli(cmd: list[str], lines: bytes, n: int) -> float:
    """Words per second of a JSON Lines judge, process start included."""
    t0 = time.perf_counter()
    done = subprocess.run(cmd, input=lines, capture_output=True, check=True)
    took = time.perf_counter() - t0
    assert done.stdout.count(b"\n") == n, done.stderr[-500:]
    return n / took


def first_verdict_s(cmd: list[str]) -> float:
    """Seconds from process start to the first verdict line of one request."""
    line = json.dumps({"text": "みかん", "prev": "うみ"}, ensure_ascii=False).encode() + b"\n"
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line)
    proc.stdin.flush()
    first = proc.stdout.readline()
    took = time.perf_counter() - t0
    proc.stdin.close()
    proc.wait()
    assert first.startswith(b"{"), first
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--cli-n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--cli-runs", type=int, default=3)
    ap.add_argument("--naive-stream", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive_stream:
        naive_stream()
        return
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mix = make_mix(args.n, args.seed)
    used = [e.reading for e in load()[:30]]

    cached = Referee(Analyser())
    cached.analyser.warm()
    uncached = Referee(Analyser(cache_size=0))
    uncached.analyser.warm()
    naive = Naive()

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
        measure("naive: SudachiPy + pykakasi, no cache", naive.judge, mix),
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
        print(f"{r['name']}: {r['words_per_s'] / base:.2f}x the naive reference's throughput")

    cli_mix = mix[: args.cli_n]
    lines = b"".join(
        json.dumps({"text": t, "prev": p, "used": used[:2]}, ensure_ascii=False).encode() + b"\n"
        for t, p in cli_mix
    )
    mikan_runs, naive_runs = [], []
    for _ in range(args.cli_runs):  # alternate, so drift hits both alike
        mikan_runs.append(through_cli([*_mikan(), "judge"], lines, len(cli_mix)))
        naive_runs.append(through_cli(NAIVE_CMD, lines, len(cli_mix)))
    mikan_cli, naive_cli = statistics.median(mikan_runs), statistics.median(naive_runs)
    ratios = ", ".join(f"{m / n:.2f}" for m, n in zip(mikan_runs, naive_runs, strict=True))
    print(
        f"through the CLI ({len(cli_mix)} lines, process start included, median of "
        f"{args.cli_runs}): mikan judge {mikan_cli:.0f} words/s, naive {naive_cli:.0f} "
        f"words/s: {mikan_cli / naive_cli:.2f}x (per run {ratios})"
    )
    starts_mikan, starts_naive = [], []
    for _ in range(args.starts):  # alternate, so drift hits both alike
        starts_mikan.append(first_verdict_s([*_mikan(), "judge"]))
        starts_naive.append(first_verdict_s(NAIVE_CMD))
    print(
        f"cold start to the first verdict (caches built, median of {args.starts}): "
        f"mikan judge {statistics.median(starts_mikan):.3f} s "
        f"(min {min(starts_mikan):.3f}, max {max(starts_mikan):.3f}), "
        f"naive {statistics.median(starts_naive):.3f} s"
    )


if __name__ == "__main__":
    main()
