"""Exports: CSV tables and JSONL transcripts, streamed from one consistent snapshot.

Synchronous on purpose: the CLI calls it directly, the bot through ``asyncio.to_thread``.
Column names are the database's (docs/EXPORTS.md). Keys are never in the database, so
they cannot be in an export.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from storage import queries as q

Format = Literal["csv", "jsonl"]
# Cells a spreadsheet would run as a formula (OWASP "CSV injection"), quotes included so
# that the escaping can be undone exactly.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"^''*[=+\-@\t\r]")


def neutralise(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would evaluate with a single quote."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def restore(cell: str) -> str:
    """Undo :func:`neutralise` on a cell read back from an export."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def _csv(con: Any, out: Path) -> dict[str, int]:
    counts = {}
    for table in q.TABLES:
        cols = q.columns(con, table)
        n = 0
        with (out / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(cols)
            for row in q.stream_table(con, table):
                writer.writerow(["" if v is None else neutralise(v) for v in row])
                n += 1
        counts[table] = n
    return counts


def _jsonl(con: Any, out: Path) -> dict[str, int]:
    version = q.schema_version(con)
    counts: dict[str, int] = defaultdict(int)
    with (out / "events.jsonl").open("w", encoding="utf-8") as f:

        def emit(kind: str, row: Any) -> None:
            obj = {"schema_version": version, "type": kind, **dict(row)}
            f.write(json.dumps(obj, ensure_ascii=False))
            f.write("\n")
            counts[kind] += 1

        for round_id in q.round_ids(con):
            (round_row,) = con.execute("SELECT * FROM rounds WHERE id = ?", (round_id,))
            emit("round", round_row)
            kids = q.round_children(con, round_id)
            for seat in kids["seats"]:
                emit("seat", seat)
            calls_by_turn: dict[int, list[Any]] = defaultdict(list)
            calls_by_probe: dict[int, list[Any]] = defaultdict(list)
            for call in kids["calls"]:
                if call["probe_id"] is not None:
                    calls_by_probe[call["probe_id"]].append(call)
                else:
                    calls_by_turn[call["turn_id"]].append(call)
            probes_by_turn: dict[int, list[Any]] = defaultdict(list)
            for probe in kids["probes"]:
                probes_by_turn[probe["turn_id"]].append(probe)
            for turn in sorted(kids["turns"], key=lambda t: t["idx"]):
                emit("turn", turn)
                for call in calls_by_turn.pop(turn["id"], ()):
                    emit("call", call)
                for probe in probes_by_turn.pop(turn["id"], ()):
                    emit("probe", probe)
                    for call in calls_by_probe.pop(probe["id"], ()):
                        emit("call", call)
    return {
        "rounds": counts["round"],
        "seats": counts["seat"],
        "turns": counts["turn"],
        "probes": counts["probe"],
        "calls": counts["call"],
    }


def export(
    db_path: str | Path, out_dir: str | Path, fmt: Format, scope: q.Scope | None = None
) -> dict[str, int]:
    """Write the rounds in ``scope`` to ``out_dir``; returns rows written per table."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = q.connect_readonly(db_path)
    try:
        # One read transaction: every file describes the same moment, even while
        # rounds are being written.
        con.execute("BEGIN")
        q.select_rounds(con, scope or q.Scope())
        return _csv(con, out) if fmt == "csv" else _jsonl(con, out)
    finally:
        con.close()
