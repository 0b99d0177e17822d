"""Exports: CSV tables and JSONL transcripts, streamed from one consistent snapshot.

Synchronous on purpose: the CLI calls it directly, the bot through ``asyncio.to_thread``.
Column names are the database's (docs/EXPORTS.md). Keys are never in the database, so
they cannot be in an export.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Literal

import orjson

from storage import queries as q

Format = Literal["csv", "jsonl"]
# A cell the export neutralised (storage.queries: a leading quote added to text that
# starts, after any quotes, with = + - @ tab or CR).
_ESCAPED = re.compile(r"^''*[=+\-@\t\r]")


def restore(cell: str) -> str:
    """Undo the export's formula neutralisation on a cell read back from a CSV file."""
    return cell[1:] if _ESCAPED.match(cell) else cell


def _csv(con: Any, out: Path) -> dict[str, int]:
    counts = {}
    for table in q.TABLES:
        with (out / f"{table}.csv").open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(q.columns(con, table))
            rows = q.stream_csv_rows(con, table)
            n = 0
            while batch := rows.fetchmany(5000):
                writer.writerows(batch)
                n += len(batch)
        counts[table] = n
    return counts


def _jsonl(con: Any, out: Path) -> dict[str, int]:
    """Per round: the round, its seats, then each turn followed by its model call and its
    probes (each followed by its own calls). Every line carries ``schema_version``."""
    version = q.schema_version(con)
    cols = {t: q.columns(con, t) for t in q.TABLES}
    pos = {(t, c): i for t, names in cols.items() for i, c in enumerate(names)}
    counts: Counter[str] = Counter()
    with (out / "events.jsonl").open("wb") as f:

        def emit(kind: str, table: str, row: tuple) -> None:
            f.write(
                orjson.dumps(
                    {
                        "schema_version": version,
                        "type": kind,
                        **dict(zip(cols[table], row, strict=True)),
                    }
                )
            )
            f.write(b"\n")
            counts[table] += 1

        for round_id in q.round_ids(con):
            kids = q.round_children(con, round_id)
            emit("round", "rounds", kids["rounds"][0])
            for seat in kids["seats"]:
                emit("seat", "seats", seat)
            calls_by_turn: dict[int, list[tuple]] = defaultdict(list)
            calls_by_probe: dict[int, list[tuple]] = defaultdict(list)
            for call in kids["calls"]:
                probe_id = call[pos["calls", "probe_id"]]
                if probe_id is not None:
                    calls_by_probe[probe_id].append(call)
                else:
                    calls_by_turn[call[pos["calls", "turn_id"]]].append(call)
            probes_by_turn: dict[int, list[tuple]] = defaultdict(list)
            for probe in kids["probes"]:
                probes_by_turn[probe[pos["probes", "turn_id"]]].append(probe)
            for turn in sorted(kids["turns"], key=lambda t: t[pos["turns", "idx"]]):
                emit("turn", "turns", turn)
                turn_id = turn[pos["turns", "id"]]
                for call in calls_by_turn.pop(turn_id, ()):
                    emit("call", "calls", call)
                for probe in probes_by_turn.pop(turn_id, ()):
                    emit("probe", "probes", probe)
                    for call in calls_by_probe.pop(probe[pos["probes", "id"]], ()):
                        emit("call", "calls", call)
    return {t: counts[t] for t in q.TABLES}


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
