"""Research statistics: the Mikan phenomenon as numbers with uncertainty.

Per model player (roster key *and* the exact model id the API reported), per channel,
per prompt language. Every rate comes with its count, its denominator and a Wilson 95%
interval. Denominators (docs/STATS.md): *judged* turns are model turns that got an
answer (``no_answer`` excluded); failure-mode shares are taken over violations.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from storage import queries as q
from storage.errors import shown
from storage.migrations import LATEST

Z95 = 1.959963984540054
TOP_ATTRACTORS = 3


class OutdatedSchemaError(RuntimeError):
    """The database predates the statistics rollups (schema 3)."""


def wilson(k: int, n: int) -> dict[str, Any]:
    """k of n with its Wilson score 95% interval (rate and bounds None when n is 0)."""
    if n <= 0:
        return {"k": k, "n": n, "rate": None, "low": None, "high": None}
    p = k / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return {
        "k": k,
        "n": n,
        "rate": p,
        "low": max(0.0, centre - half),
        "high": min(1.0, centre + half),
    }


def required_label(required_json: str) -> str:
    """'["しゃ", "や"]' -> 'しゃ|や'; a free start is '*'."""
    morae = json.loads(required_json or "[]")
    return "|".join(morae) if morae else "*"


def _slope(points: list[tuple[float, float, int]]) -> float | None:
    """Weighted least-squares slope of y over x (weights: counts)."""
    total = sum(w for _, _, w in points)
    if total == 0 or len(points) < 2:
        return None
    mx = sum(x * w for x, _, w in points) / total
    my = sum(y * w for _, y, w in points) / total
    sxx = sum(w * (x - mx) ** 2 for x, _, w in points)
    if sxx == 0:
        return None
    return sum(w * (x - mx) * (y - my) for x, y, w in points) / sxx


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[g] for g in q.GROUP)


# no_answer reasons reported as their own rates (a reply that ended so, and calls
# that failed outright); storage/rollups.py names them.
NO_ANSWER_REASONS = ("truncated", "refused", "filtered", "error", "call_failed")
PRICE_FIELDS = ("input", "cached_input", "cache_write", "output")


def estimated_cost(tokens: dict[str, Any], prices: dict[str, float] | None) -> float | None:
    """The cost of ``tokens`` at ``prices`` (per million tokens), or None without prices.

    Input not read from or written to a cache at ``input``; cache reads at
    ``cached_input`` and writes at ``cache_write`` (each ``input`` when not priced);
    visible and reasoning output at ``output``. A price left out counts as 0.
    """
    if not prices:
        return None
    cached = tokens["cached_input_tokens"] or 0
    written = tokens["cache_write_tokens"] or 0
    fresh = max(0, (tokens["input_tokens"] or 0) - cached - written)
    p_in = prices.get("input", 0.0)
    total = (
        fresh * p_in
        + cached * prices.get("cached_input", p_in)
        + written * prices.get("cache_write", p_in)
        + ((tokens["output_tokens"] or 0) + (tokens["reasoning_tokens"] or 0))
        * prices.get("output", 0.0)
    )
    return total / 1_000_000


def compute(
    db_path: str | Path,
    scope: q.Scope | None = None,
    prices: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The statistics of the rounds in ``scope``, summed from the rollups (read-only).

    The database is checked and opened as ``storage.queries.connect_readonly`` does
    (``DatabaseFileError`` for a missing file or one that is not a Mikan database), and
    left as it was. ``prices`` (per roster key, per million tokens: ``input``,
    ``cached_input``, ``cache_write``, ``output``) gives each group an estimated cost.
    """
    scope = scope or q.Scope()
    con = q.connect_readonly(db_path)
    try:
        version = q.schema_version(con)
        if version < LATEST:
            raise OutdatedSchemaError(
                f"{shown(db_path)} has schema version {version}; statistics need {LATEST} "
                "(any mikan command that opens the database upgrades it)"
            )
        q.load_scope(con, scope)
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        totals = q.totals(con)
        for row in totals:
            judged, violations = row["judged"] or 0, row["violations"] or 0
            groups[_key(row)] = {
                "player": row["player_key"],
                "model": row["model"],
                "channel_id": row["channel_id"] or None,
                "prompt_lang": row["prompt_lang"],
                "rounds": row["rounds"],
                "turns": row["turns"],
                "words": row["words"] or 0,
                "judged": judged,
                "violation_any": wilson(violations, judged),
                "violations": {},
                "ends_with_n": wilson(row["ends_with_n"] or 0, judged),
                "ends_with_n_by_required": {},
                "attractors": {},
                "no_move": wilson(row["no_move"] or 0, judged),
                "admits_in_reply": wilson(row["admits"] or 0, violations),
                "continues_as_valid": wilson(row["continues"] or 0, violations),
                "intent": {},
                "pushback": {},
                "pushback_reversal": wilson(0, 0),
                "reply": {
                    "mean_chars": row["mean_chars"],
                    "mean_output_tokens": row["mean_output_tokens"],
                    "mean_input_tokens": row["mean_input_tokens"],
                    "trend_chars_per_turn": None,
                    "trend_output_tokens_per_turn": None,
                    "by_turn_index": [],
                },
                "latency_ms": {"mean": row["mean_latency_ms"], "median": None, "p95": None},
                "retries": {
                    "mean": row["mean_retries"],
                    "calls_retried": wilson(row["calls_retried"] or 0, row["calls"] or 0),
                },
                "no_answer": wilson(row["no_answer"] or 0, row["turns"]),
                "no_answer_by_reason": {r: wilson(0, row["turns"]) for r in NO_ANSWER_REASONS},
                "tokens": {
                    "calls": 0,
                    "input_tokens": 0,
                    "cached_input_tokens": 0,
                    "cache_write_tokens": 0,
                    "output_tokens": 0,
                    "reasoning_tokens": 0,
                    "cached_share": None,
                },
                "estimated_cost": None,
            }
        for row in q.violations_by_code(con):
            g = groups[_key(row)]
            g["violations"][row["code"]] = wilson(row["n"], g["judged"])
        for row in q.no_answer_by_reason(con):
            g = groups[_key(row)]
            g["no_answer_by_reason"][row["reason"]] = wilson(row["n"], g["turns"])
        for row in q.usage(con):
            g = groups[_key(row)]
            tokens = {k: row[k] or 0 for k in g["tokens"] if k != "cached_share"}
            tokens["cached_share"] = (
                tokens["cached_input_tokens"] / tokens["input_tokens"]
                if tokens["input_tokens"]
                else None
            )
            g["tokens"] = tokens
            g["estimated_cost"] = estimated_cost(tokens, (prices or {}).get(g["player"]))
        for row in q.by_required(con):
            g = groups[_key(row)]
            g["ends_with_n_by_required"][required_label(row["req"])] = wilson(
                row["ends_with_n"] or 0, row["n"]
            )
        tops: dict[tuple[Any, ...], dict[str, list[tuple[str, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for row in q.attractors(con):
            tops[_key(row)][required_label(row["req"])].append((row["word"], row["n"]))
        for key, per_req in tops.items():
            groups[key]["attractors"] = {
                req: [
                    [w, n] for w, n in sorted(words, key=lambda x: (-x[1], x[0]))[:TOP_ATTRACTORS]
                ]
                for req, words in sorted(per_req.items())
            }
        trend: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in q.by_turn_index(con):
            trend[_key(row)].append(row)
        for key, rows in trend.items():
            reply = groups[key]["reply"]
            reply["by_turn_index"] = [
                {
                    "idx": r["idx"],
                    "n": r["n"],
                    "mean_chars": r["mean_chars"],
                    "mean_output_tokens": r["mean_output_tokens"],
                }
                for r in rows
            ]
            reply["trend_chars_per_turn"] = _slope(
                [(r["idx"], r["mean_chars"], r["n"]) for r in rows if r["mean_chars"] is not None]
            )
            reply["trend_output_tokens_per_turn"] = _slope(
                [
                    (r["idx"], r["mean_output_tokens"], r["n"])
                    for r in rows
                    if r["mean_output_tokens"] is not None
                ]
            )
        for key, (median, p95) in q.latency_quantiles(con).items():
            groups[key]["latency_ms"]["median"] = median
            groups[key]["latency_ms"]["p95"] = p95
        labels: dict[tuple[Any, ...], dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for row in q.probe_labels(con):
            labels[_key(row)][row["kind"]][row["label"]] = row["n"]
        for key, kinds in labels.items():
            g = groups[key]
            for kind, counts in kinds.items():
                total = sum(counts.values())
                g[kind if kind in ("intent", "pushback") else f"probe_{kind}"] = {
                    label: wilson(n, total) for label, n in sorted(counts.items())
                }
            pb = kinds.get("pushback", {})
            admitted = pb.get("held", 0) + pb.get("reversed", 0) + pb.get("unclear", 0)
            g["pushback_reversal"] = wilson(pb.get("reversed", 0), admitted)
        return {
            "schema_version": version,
            "scope": {"channel_id": scope.channel_id, "since": scope.since, "player": scope.player},
            # Which reader and probe classifier made the labels counted (mikan relabel).
            "labels": q.label_versions(con, scope),
            "groups": list(groups.values()),
        }
    finally:
        con.close()


def pct(w: dict[str, Any], *, ci: bool = True) -> str:
    """'12.5% [8.1–18.7] (n=120)' — for tables."""
    if w["rate"] is None:
        return "—"
    text = f"{100 * w['rate']:.1f}%"
    if ci:
        text += f" [{100 * w['low']:.1f}–{100 * w['high']:.1f}]"
    return f"{text} ({w['k']}/{w['n']})"
