"""Exports: CSV tables and JSONL transcripts, streamed from one consistent snapshot.

Synchronous on purpose: the CLI calls it directly, the bot through ``asyncio.to_thread``.
Column names are the database's (docs/EXPORTS.md). Keys are never in the database, so
they cannot be in an export.

Atomic: every file is written under a temporary name in the output directory (hidden,
``.NAME.<random>.tmp``) and moved to its own name with ``os.replace`` only once all of
them are complete, ``manifest.json`` last; a failed export removes its temporary files.
A file under an export's own name is therefore always whole, and a ``manifest.json``
describes the files beside it (an export killed outright leaves only temporary files).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from bot import __version__
from storage import queries as q

Format = Literal["csv", "jsonl"]
# The shape of the exported files, apart from the database's schema version (an index-only
# migration changes that, not this): bumped only when a file's columns or fields change.
# 3: calls gain finish, reasoning, cache and usage columns (schema 7);
# 4: model grades, turn_grades and probe_grades (schema 6).
EXPORT_FORMAT = 4
# 2: reader/classifier versions, relabelled labels (schema 5)
MANIFEST = "manifest.json"
# A cell the export neutralised (storage.queries: a leading quote added to text that
# starts, after any quotes, with = + - @ tab or CR).
_ESCAPED = re.compile(r"^''*[=+\-@\t\r]")


def restore(cell: str) -> str:
    """Undo the export's formula neutralisation on a cell read back from a CSV file."""
    return cell[1:] if _ESCAPED.match(cell) else cell


# Long text (raw bodies, transcripts) comes from SQLite as UTF-8 bytes and is quoted
# with one bytes.replace: csv.writer walks every character, and decoding then re-encoding
# the bodies was most of an export's time. Short cells stay with csv.writer.
LONG_COLUMNS = frozenset({"exchange_json", "logprobs_json", "request_body", "response_body"})


class _Echo:
    """A file whose write() hands back the text: csv.writer.writerow then returns the
    formatted line instead of writing it."""

    @staticmethod
    def write(text: str) -> str:
        return text


def _quoted(value: bytes | None) -> bytes:
    return b"" if value is None else b'"' + value.replace(b'"', b'""') + b'"'


def line_maker(names: list[str]) -> Callable[[tuple], bytes]:
    """A function that formats one row (a tuple in ``names`` order, the LONG_COLUMNS as
    UTF-8 bytes) as a CSV line, as csv.writer would, except that long text is always
    quoted."""
    fmt = csv.writer(_Echo, lineterminator="\r\n").writerow
    parts: list[slice | int] = []
    start = 0
    for i, name in enumerate(names):
        if name in LONG_COLUMNS:
            if i > start:
                parts.append(slice(start, i))
            parts.append(i)
            start = i + 1
    if start == 0:
        return lambda row: fmt(row).encode()
    if start < len(names):
        parts.append(slice(start, len(names)))

    def line(row: tuple) -> bytes:
        cells = [
            fmt(row[p]).encode()[:-2] if isinstance(p, slice) else _quoted(row[p]) for p in parts
        ]
        return b",".join(cells) + b"\r\n"

    return line


class _Staged:
    """Files written under temporary names in one directory, moved into place together.

    ``open`` creates a file's temporary (never an existing file's name); ``commit``
    moves every one to its own name, in the order opened (the manifest last), after
    removing an older ``manifest.json`` so that none describes a mix of two exports;
    ``discard`` removes those not moved.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.temps: dict[str, Path] = {}

    def open(self, name: str, mode: str = "wb", **kwargs: Any) -> Any:
        """Open a new temporary file that ``commit`` will make ``out / name``."""
        if name in self.temps:
            raise ValueError(f"{name} is already staged")
        temp = self.out / f".{name}.{secrets.token_hex(6)}.tmp"
        f = temp.open(mode.replace("w", "x"), **kwargs)  # "x": never someone else's file
        self.temps[name] = temp
        return f

    def commit(self) -> None:
        """Move every staged file to its own name, the manifest last."""
        (self.out / MANIFEST).unlink(missing_ok=True)
        for name in sorted(self.temps, key=lambda n: n == MANIFEST):
            os.replace(self.temps[name], self.out / name)
            del self.temps[name]

    def discard(self) -> None:
        """Remove the temporary files not moved into place."""
        for temp in self.temps.values():
            with contextlib.suppress(OSError):
                temp.unlink()
        self.temps.clear()


@contextlib.contextmanager
def _staged(out: Path) -> Iterator[_Staged]:
    """A ``_Staged`` for ``out``, committed when the block ends, discarded if it raises."""
    staged = _Staged(out)
    try:
        yield staged
        staged.commit()
    finally:
        staged.discard()


def _csv(con: Any, staged: _Staged) -> dict[str, int]:
    counts = {}
    for table in q.TABLES:
        names = q.columns(con, table)
        line = line_maker(names)
        with staged.open(f"{table}.csv") as f:
            f.write(",".join(names).encode() + b"\r\n")
            rows = q.stream_csv_rows(con, table, as_bytes=LONG_COLUMNS)
            n = 0
            while batch := rows.fetchmany(5000):
                f.write(b"".join([line(r) for r in batch]))
                n += len(batch)
        counts[table] = n
    return counts


def _jsonl(con: Any, staged: _Staged) -> dict[str, int]:
    """Per round: the round, its seats, then each turn followed by its model call and its
    probes (each followed by its own calls). Every line carries ``format_version`` and
    ``schema_version``. SQLite writes each object (json_object); Python only puts them in
    order."""
    version = q.schema_version(con)
    sql = {
        t: q.json_event_sql(con, t, version, kind, EXPORT_FORMAT)
        for t, kind in zip(
            q.TABLES,
            (
                "round",
                "seat",
                "turn",
                "probe",
                "call",
                "turn_label",
                "probe_label",
                "turn_grade",
                "probe_grade",
            ),
            strict=True,
        )
    }
    cur = con.cursor()
    cur.row_factory = None
    counts: Counter[str] = Counter()
    with staged.open("events.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for round_id in q.round_ids(con):
            rows = {t: cur.execute(sql[t], (round_id,)).fetchall() for t in q.TABLES}
            calls_by_turn: dict[int | None, list[str]] = defaultdict(list)
            calls_by_probe: dict[int, list[str]] = defaultdict(list)
            for text, turn_id, probe_id in rows["calls"]:
                if probe_id is not None:
                    calls_by_probe[probe_id].append(text)
                else:
                    calls_by_turn[turn_id].append(text)
            # A turn's (probe's) relabels, then its grades, right after it.
            labels_of_turn: dict[int, list[str]] = defaultdict(list)
            for table in ("turn_labels", "turn_grades"):
                for text, turn_id in rows[table]:
                    labels_of_turn[turn_id].append(text)
            labels_of_probe: dict[int, list[str]] = defaultdict(list)
            for table in ("probe_labels", "probe_grades"):
                for text, probe_id in rows[table]:
                    labels_of_probe[probe_id].append(text)
            probes_by_turn: dict[int, list[tuple[str, int]]] = defaultdict(list)
            for text, probe_id, turn_id in rows["probes"]:
                probes_by_turn[turn_id].append((text, probe_id))
            lines = [text for (text,) in rows["rounds"]]
            lines += [text for (text,) in rows["seats"]]
            for text, turn_id, _ in sorted(rows["turns"], key=lambda t: t[2]):
                lines.append(text)
                lines += labels_of_turn.pop(turn_id, ())
                lines += calls_by_turn.pop(turn_id, ())
                for probe_text, probe_id in probes_by_turn.pop(turn_id, ()):
                    lines.append(probe_text)
                    lines += labels_of_probe.pop(probe_id, ())
                    lines += calls_by_probe.pop(probe_id, ())
            # Anything the order above did not reach still goes out, after the turns.
            for probes in probes_by_turn.values():
                for probe_text, probe_id in probes:
                    lines.append(probe_text)
                    lines += calls_by_probe.pop(probe_id, ())
            for texts in (
                *labels_of_turn.values(),
                *labels_of_probe.values(),
                *calls_by_turn.values(),
                *calls_by_probe.values(),
            ):
                lines += texts
            f.write("\n".join(lines))
            f.write("\n")
            for t in q.TABLES:
                counts[t] += len(rows[t])
    return {t: counts[t] for t in q.TABLES}


def export(
    db_path: str | Path, out_dir: str | Path, fmt: Format, scope: q.Scope | None = None
) -> dict[str, int]:
    """Write the rounds in ``scope`` to ``out_dir``; returns rows written per table.

    The database is checked and opened as ``storage.queries.connect_readonly`` does
    (``DatabaseFileError`` for a file that is not a Mikan database; nothing is written
    then). The files appear under their names all at once, ``manifest.json`` last, and
    only when every one is complete; on an error none of them is written and no
    temporary file is left (module docstring).
    """
    out = Path(out_dir)
    con = q.connect_readonly(db_path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        # One read transaction: every file describes the same moment, even while
        # rounds are being written.
        con.execute("BEGIN")
        q.select_rounds(con, scope or q.Scope())
        with _staged(out) as staged:
            counts = _csv(con, staged) if fmt == "csv" else _jsonl(con, staged)
            labels = q.label_versions(con, scope or q.Scope())
            _write_manifest(staged, fmt, q.schema_version(con), counts, labels)
        return counts
    finally:
        con.close()


def _write_manifest(
    staged: _Staged,
    fmt: Format,
    schema_version: int,
    counts: dict[str, int],
    labels: dict[str, dict[str, int]],
) -> None:
    """``manifest.json``: what the files are (format and schema versions, rows per table,
    and which reader and probe classifier versions made the newest labels in them)."""
    files = ["events.jsonl"] if fmt == "jsonl" else [f"{t}.csv" for t in q.TABLES]
    manifest = {
        "format": f"mikan-export-{fmt}",
        "format_version": EXPORT_FORMAT,
        "schema_version": schema_version,
        "app_version": __version__,
        "files": files,
        "rows": counts,
        "labels": labels,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    with staged.open(MANIFEST, "w", encoding="utf-8") as f:
        f.write(text)
