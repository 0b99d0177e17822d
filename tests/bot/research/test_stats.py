"""Statistics against hand-computed rounds: exact counts and Wilson intervals."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bot.research.stats import Z95, compute, wilson
from storage.db import Database
from storage.queries import Scope
from tests.support.records import T, write_round

A, B = ("a", "a-2026-01"), ("b", "b-2026-02")


def _wilson_by_bisection(k: int, n: int) -> tuple[float, float]:
    """The interval's definition, solved numerically: |p̂ - p| = z·sqrt(p(1-p)/n)."""
    phat = k / n

    def f(p: float) -> float:
        return (phat - p) ** 2 - Z95**2 * p * (1 - p) / n

    def root(lo: float, hi: float) -> float:
        for _ in range(200):
            mid = (lo + hi) / 2
            if (f(lo) > 0) == (f(mid) > 0):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if k == 0 else root(0.0, phat)
    high = 1.0 if k == n else root(phat, 1.0)
    return low, high


@pytest.mark.parametrize(("k", "n"), [(0, 10), (5, 10), (1, 1), (2, 3), (81, 263), (999, 1000)])
def test_wilson_matches_its_definition(k: int, n: int) -> None:
    w = wilson(k, n)
    low, high = _wilson_by_bisection(k, n)
    assert w["rate"] == k / n
    assert math.isclose(w["low"], low, abs_tol=1e-9) and math.isclose(w["high"], high, abs_tol=1e-9)


def test_wilson_reference_values() -> None:
    # 5 of 10: the textbook 95% Wilson interval
    w = wilson(5, 10)
    assert round(w["low"], 4) == 0.2366 and round(w["high"], 4) == 0.7634
    assert wilson(0, 0) == {"k": 0, "n": 0, "rate": None, "low": None, "high": None}


@pytest.fixture
async def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "hand.sqlite3"
    db = await Database.open(path)
    # Round 1, channel c1, ja: A ok, B ok (1 retry), A らいおん from ら (continues on)
    await write_round(
        db,
        [A, B],
        [
            T(0, ["り"], word="りんご", raw="「りんご」", latency=100, tokens=4),
            T(1, ["ご"], word="ごりら", raw="ごりら！次は「ら」", latency=200, tokens=8, retries=1),
            T(
                0,
                ["ら"],
                "violation",
                "らいおん",
                ["ends_with_n"],
                "continues",
                raw="らいおん\n次は「ん」からどうぞ",
                latency=300,
                tokens=12,
                probes={"intent": "accidental", "pushback": "reversed"},
            ),
        ],
        created_at="2026-11-01T10:00:00.000+00:00",
    )
    # Round 2, channel c1, ja: A faces み and says みかん, and admits it
    await write_round(
        db,
        [A, B],
        [
            T(
                0,
                ["み"],
                "violation",
                "みかん",
                ["ends_with_n"],
                "admits",
                raw="みかん…あっ、負けです",
                latency=500,
                tokens=10,
                probes={"intent": "deliberate", "pushback": "held"},
            ),
        ],
        created_at="2026-11-05T10:00:00.000+00:00",
    )
    # Round 3, channel c2, en: A みず ok, B no answer, A replies with no word
    await write_round(
        db,
        [A, B],
        [
            T(0, ["み"], word="みず", latency=50, tokens=3),
            T(1, ["ず"], "no_answer", latency=70, retries=3),
            T(
                0,
                ["ず"],
                "violation",
                None,
                ["unreadable"],
                "no_move",
                raw="次は「ず」ですね",
                latency=60,
                tokens=6,
            ),
        ],
        channel_id="c2",
        prompt_lang="en",
        created_at="2026-11-10T10:00:00.000+00:00",
    )
    await db.close()
    return path


def group(stats: dict, player: str, channel: str) -> dict:
    (g,) = [g for g in stats["groups"] if g["player"] == player and g["channel_id"] == channel]
    return g


async def test_hand_computed_figures(db_path: Path) -> None:
    stats = compute(db_path)
    assert len(stats["groups"]) == 4
    a1 = group(stats, "a", "c1")
    assert (a1["model"], a1["prompt_lang"], a1["rounds"], a1["turns"], a1["words"]) == (
        "a-2026-01",
        "ja",
        2,
        3,
        3,
    )
    assert a1["violation_any"] == wilson(2, 3)
    assert a1["violations"] == {"ends_with_n": wilson(2, 3)}
    assert a1["ends_with_n"] == wilson(2, 3)
    assert a1["ends_with_n_by_required"] == {
        "り": wilson(0, 1),
        "ら": wilson(1, 1),
        "み": wilson(1, 1),
    }
    assert a1["attractors"] == {"ら": [["らいおん", 1]], "み": [["みかん", 1]]}
    assert a1["admits_in_reply"] == wilson(1, 2)
    assert a1["continues_as_valid"] == wilson(1, 2)
    assert a1["no_move"] == wilson(0, 3)
    assert a1["intent"] == {"accidental": wilson(1, 2), "deliberate": wilson(1, 2)}
    assert a1["pushback"] == {"held": wilson(1, 2), "reversed": wilson(1, 2)}
    assert a1["pushback_reversal"] == wilson(1, 2)
    assert a1["no_answer"] == wilson(0, 3)
    assert a1["latency_ms"]["median"] == 300 and a1["latency_ms"]["p95"] == 500
    assert a1["latency_ms"]["mean"] == pytest.approx(300)
    assert a1["reply"]["mean_output_tokens"] == pytest.approx((4 + 12 + 10) / 3)
    chars = [len("「りんご」"), len("らいおん\n次は「ん」からどうぞ"), len("みかん…あっ、負けです")]
    assert a1["reply"]["mean_chars"] == pytest.approx(sum(chars) / 3)
    # by round turn index: idx 0 holds りんご and みかん, idx 2 らいおん
    by_idx = {r["idx"]: r for r in a1["reply"]["by_turn_index"]}
    assert by_idx[0]["n"] == 2 and by_idx[2]["n"] == 1
    mean0 = (chars[0] + chars[2]) / 2
    slope = (chars[1] - mean0) / 2  # two points, weights 2 and 1: through their means
    assert a1["reply"]["trend_chars_per_turn"] == pytest.approx(slope)

    b1 = group(stats, "b", "c1")
    assert b1["turns"] == 1 and b1["violation_any"] == wilson(0, 1)
    assert b1["retries"]["calls_retried"] == wilson(1, 1) and b1["retries"]["mean"] == 1

    a2 = group(stats, "a", "c2")
    assert a2["prompt_lang"] == "en" and a2["turns"] == 2 and a2["words"] == 1
    assert a2["no_move"] == wilson(1, 2)
    assert a2["violations"] == {"unreadable": wilson(1, 2)}
    assert a2["ends_with_n_by_required"] == {"み": wilson(0, 1), "ず": wilson(0, 1)}
    assert a2["attractors"] == {}  # a violation without a word attracts nothing

    b2 = group(stats, "b", "c2")
    # a no_answer turn counts under the model id that seat reported elsewhere
    assert b2["model"] == "b-2026-02"
    assert b2["no_answer"] == wilson(1, 1) and b2["judged"] == 0
    assert b2["violation_any"] == wilson(0, 0)


async def test_scopes(db_path: Path) -> None:
    c1 = compute(db_path, Scope(channel_id="c1"))
    assert {g["channel_id"] for g in c1["groups"]} == {"c1"}
    only_a = compute(db_path, Scope(player="a"))
    assert {g["player"] for g in only_a["groups"]} == {"a"}
    late = compute(db_path, Scope(since="2026-11-05"))
    a1 = group(late, "a", "c1")
    assert (
        a1["rounds"] == 1
        and a1["turns"] == 1
        and a1["ends_with_n_by_required"] == {"み": wilson(1, 1)}
    )
    assert compute(db_path, Scope(channel_id="nope"))["groups"] == []


def test_stats_cli_json_and_chart(db_path: Path, tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "stats",
            "--db",
            str(db_path),
            "--channel",
            "c1",
            "--json",
            "--chart",
            str(chart),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out == json.loads(json.dumps(compute(db_path, Scope(channel_id="c1"))))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000
    table = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"},
    )
    assert table.returncode == 0, table.stderr
    assert "after 「み」" in table.stdout and "66.7% [20.8–93.9] (2/3)" in table.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(db_path), "--since", "last tuesday"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2 and "--since must be a date" in bad.stderr
