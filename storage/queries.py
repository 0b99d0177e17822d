"""Read-only queries for statistics and exports, over a plain sqlite3 connection.

Run off the event loop (a CLI, or ``asyncio.to_thread`` in the bot). Statistics sum the
rollups kept with each turn (storage/rollups.py) over the groups in scope; exports
stream rows with ``fetchmany`` and never hold a table.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage import files
from storage.migrations import LATEST

TABLES = (
    "rounds",
    "seats",
    "turns",
    "probes",
    "calls",
    "turn_labels",
    "probe_labels",
    "turn_grades",
    "probe_grades",
)
# Relabelled labels (schema 5) and model grades (schema 6) belong to a turn or a probe,
# not directly to a round: (owner column, owner table, the column that orders a turn's).
_LABELS = {
    "turn_labels": ("turn_id", "turns", "reader"),
    "probe_labels": ("probe_id", "probes", "classifier"),
    "turn_grades": ("turn_id", "turns", "grader"),
    "probe_grades": ("probe_id", "probes", "grader"),
}
GROUP = ("player_key", "model", "channel_id", "prompt_lang")
_G = ", ".join(GROUP)
_SG = ", ".join("sg." + g for g in GROUP)


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to the Mikan database at ``path`` (it never blocks writers).

    The file is checked first, as ``storage.files.require`` does for a reader, and left
    as it was: ``MissingDatabaseError`` when there is none (nothing is created),
    ``ForeignDatabaseError`` for a file that is not a Mikan database,
    ``SchemaTooNewError`` for one newer than this code. Any path works (the connection's
    URI is built by ``storage.files.uri``); closing it leaves no ``-wal``/``-shm`` file
    that was not there before.
    """
    files.require(path, create=False, init=False, latest=LATEST)
    con = files.connect_readonly(path)
    try:
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        con.close()
        raise
    return con


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rounds: a channel (None = all), created at or after ``since``, one player."""

    channel_id: str | None = None
    since: str | None = None
    player: str | None = None

    def round_filter(self) -> tuple[str, list[Any]]:
        """Return SQL conditions on rounds ``r`` for this scope, and their parameters."""
        where, params = ["1 = 1"], []
        if self.channel_id is not None:
            where.append("r.channel_id = ?")
            params.append(self.channel_id)
        if self.since is not None:
            where.append("r.created_at >= ?")
            params.append(self.since)
        return " AND ".join(where), params


def _rows(
    con: sqlite3.Connection, sql: str, params: list[Any] | tuple[Any, ...] = ()
) -> list[dict]:
    return [dict(r) for r in con.execute(sql, params)]


# -- statistics: sums over the rollups (storage/rollups.py) ---------------------------


def load_scope(con: sqlite3.Connection, scope: Scope) -> None:
    """Put the rollup groups in scope in temp table ``sg``.

    Rollups are kept per day, so ``since`` must be a date (YYYY-MM-DD); else ValueError.
    """
    if scope.since is not None and len(scope.since) != 10:
        raise ValueError(f"statistics take a date for since, not {scope.since!r}")
    where, params = ["1 = 1"], []
    for column, value in (
        ("channel_id", scope.channel_id),
        ("player_key", scope.player),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if scope.since is not None:
        where.append("day >= ?")
        params.append(scope.since)
    con.execute("DROP TABLE IF EXISTS temp.sg")
    con.execute(
        f"CREATE TEMP TABLE sg AS SELECT id, {_G} FROM stats_groups WHERE {' AND '.join(where)}",
        params,
    )
    con.execute("CREATE INDEX temp.sg_id ON sg(id)")


def totals(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg`` its summed counts and the means they give, in key order."""
    return _rows(
        con,
        f"""
        SELECT {_SG},
          SUM(turns) AS turns, SUM(words) AS words, SUM(judged) AS judged,
          SUM(no_answer) AS no_answer, SUM(violations) AS violations,
          SUM(ends_with_n) AS ends_with_n, SUM(no_move) AS no_move,
          SUM(admits) AS admits, SUM(continues) AS continues,
          SUM(chars_sum) * 1.0 / SUM(chars_n) AS mean_chars,
          SUM(out_tokens_sum) * 1.0 / SUM(out_tokens_n) AS mean_output_tokens,
          SUM(in_tokens_sum) * 1.0 / SUM(in_tokens_n) AS mean_input_tokens,
          SUM(calls) AS calls,
          SUM(retries_sum) * 1.0 / SUM(calls) AS mean_retries,
          SUM(calls_retried) AS calls_retried,
          SUM(latency_sum) / SUM(calls) AS mean_latency_ms,
          SUM(rounds) AS rounds
        FROM stats_totals t JOIN sg ON sg.id = t.group_id
        GROUP BY {_SG} ORDER BY {_SG}""",
    )


def violations_by_code(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg`` and violation code the number of turns with it."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, code, SUM(n) AS n
        FROM stats_codes x JOIN sg ON sg.id = x.group_id GROUP BY {_SG}, code""",
    )


def no_answer_by_reason(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg`` and no_answer reason code the number of such turns."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, reason, SUM(n) AS n
        FROM stats_no_answer x JOIN sg ON sg.id = x.group_id GROUP BY {_SG}, reason""",
    )


def usage(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg`` the token sums of its normalised turn calls."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, SUM(calls) AS calls, SUM(input_sum) AS input_tokens,
               SUM(cached_sum) AS cached_input_tokens,
               SUM(cache_write_sum) AS cache_write_tokens,
               SUM(output_sum) AS output_tokens, SUM(reasoning_sum) AS reasoning_tokens
        FROM stats_usage x JOIN sg ON sg.id = x.group_id GROUP BY {_SG}""",
    )


def by_required(con: sqlite3.Connection) -> list[dict]:
    """The み table: per required mora (set), judged words and how many ended in ん."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, required_json AS req, SUM(n) AS n, SUM(ends_with_n) AS ends_with_n
        FROM stats_required x JOIN sg ON sg.id = x.group_id GROUP BY {_SG}, required_json""",
    )


def attractors(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg``, required morae and violating word how often it was played."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, required_json AS req, word, SUM(n) AS n
        FROM stats_attractors x JOIN sg ON sg.id = x.group_id
        GROUP BY {_SG}, required_json, word""",
    )


def by_turn_index(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg`` and turn index the judged turns and their mean lengths."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, idx, SUM(n) AS n,
               SUM(chars_sum) * 1.0 / SUM(chars_n) AS mean_chars,
               SUM(out_tokens_sum) * 1.0 / SUM(out_tokens_n) AS mean_output_tokens
        FROM stats_turn_index x JOIN sg ON sg.id = x.group_id
        GROUP BY {_SG}, idx ORDER BY idx""",
    )


def latency_quantiles(con: sqlite3.Connection) -> dict[tuple, tuple[float, float]]:
    """Return (median, p95) latency per group in ``sg``, from its days' ms histograms.

    The median is the mean of the two middle values when the count is even, p95 the
    value at rank ceil(0.95 n). The histograms are read in key order and merged here:
    with few calls a day they have about a row per call, and a GROUP BY would sort them
    all.
    """
    key_of = {row[0]: tuple(row[1:]) for row in con.execute(f"SELECT id, {_G} FROM sg")}
    merged: dict[tuple, Counter[int]] = defaultdict(Counter)
    cur = con.cursor()
    cur.row_factory = None
    cur.execute("SELECT group_id, ms, n FROM stats_latency WHERE group_id IN (SELECT id FROM sg)")
    while rows := cur.fetchmany(10_000):
        for group, ms, n in rows:
            merged[key_of[group]][ms] += n
    out = {}
    for key, counts in merged.items():
        bins = sorted(counts.items())
        n = sum(counts.values())
        ranks = ((n - 1) // 2, n // 2, math.ceil(0.95 * n) - 1)
        values = [_value_at(bins, r) for r in ranks]
        out[key] = ((values[0] + values[1]) / 2, float(values[2]))
    return out


def _value_at(bins: list[tuple[int, int]], rank: int) -> int:
    """The value at 0-based ``rank`` in the sorted values a histogram stands for."""
    seen = 0
    for value, count in bins:
        seen += count
        if rank < seen:
            return value
    raise IndexError(rank)


def probe_labels(con: sqlite3.Connection) -> list[dict]:
    """Return per group in ``sg``, probe kind and label how many probes got it."""
    return _rows(
        con,
        f"""
        SELECT {_SG}, kind, label, SUM(n) AS n
        FROM stats_probes x JOIN sg ON sg.id = x.group_id GROUP BY {_SG}, kind, label""",
    )


# -- exports -------------------------------------------------------------------------


def columns(con: sqlite3.Connection, table: str) -> list[str]:
    """Return the column names of exportable ``table`` in table order (else ValueError)."""
    if table not in TABLES:
        raise ValueError(table)
    return [r["name"] for r in con.execute(f"PRAGMA table_info({table})")]


def select_rounds(con: sqlite3.Connection, scope: Scope) -> None:
    """Round ids in scope -> temp table ``xr`` (exports of child tables join on it)."""
    where, params = scope.round_filter()
    con.execute("DROP TABLE IF EXISTS temp.xr")
    con.execute(f"CREATE TEMP TABLE xr AS SELECT r.id FROM rounds r WHERE {where}", params)
    con.execute("CREATE INDEX temp.xr_id ON xr(id)")


# OWASP "CSV injection": text a spreadsheet would run as a formula gets a leading quote.
# Leading quotes are looked through (ltrim) so the escaping is exactly reversible. The
# first test reads one character, so the common case costs SQLite almost nothing.
_TRIGGERS = "(61, 43, 45, 64, 9, 13)"  # = + - @ tab CR
_FIRST = "(61, 43, 45, 64, 9, 13, 39)"  # ... or a quote that may hide one


def neutralised_cell(col: str) -> str:
    """SQL for column expression ``col`` as a CSV cell: formula-like text quoted."""
    quote = "''''"  # SQL for a string holding one single quote
    return (
        f"CASE WHEN unicode({col}) IN {_FIRST} AND typeof({col}) = 'text' "
        f"AND unicode(ltrim({col}, {quote})) IN {_TRIGGERS} THEN {quote} || {col} ELSE {col} END"
    )


def _needs_neutralising(name: str, sql_type: str) -> bool:
    """Whether a column holds text that can come from outside (words, replies, names).

    JSON and timestamp columns are written by Mikan itself and never start with a
    trigger.
    """
    return sql_type == "TEXT" and not name.endswith(("_json", "_at"))


def _scoped(table: str) -> str:
    if table not in TABLES:
        raise ValueError(table)
    if table in _LABELS:
        owner, parent, version = _LABELS[table]
        return (
            f"FROM {table} x WHERE x.{owner} IN (SELECT id FROM {parent} "
            f"WHERE round_id IN (SELECT id FROM xr)) ORDER BY x.{owner}, x.created_at, x.{version}"
        )
    key = "id" if table == "rounds" else "round_id"
    # ``+`` keeps the planner on the table's id order instead of the round index, which
    # would need a sort holding every row.
    return f"FROM {table} x WHERE +x.{key} IN (SELECT id FROM xr) ORDER BY x.id"


def stream_csv_rows(
    con: sqlite3.Connection, table: str, as_bytes: Collection[str] = ()
) -> sqlite3.Cursor:
    """Return a cursor over the rows of ``table`` for the rounds in ``xr``, in id order.

    Formula-like text is neutralised by SQLite (not cell by cell in Python); columns
    named in ``as_bytes`` come as their UTF-8 bytes (nothing to decode for a writer that
    only copies them). Rows are plain tuples.
    """
    cols = []
    for r in con.execute(f"PRAGMA table_info({table})"):
        name = r["name"]
        col = f"x.{name}"
        if _needs_neutralising(name, r["type"]):
            col = neutralised_cell(col)
        cols.append(f"CAST({col} AS BLOB)" if name in as_bytes else col)
    cur = con.cursor()
    cur.row_factory = None  # plain tuples
    return cur.execute(f"SELECT {', '.join(cols)} {_scoped(table)}")


def _json_value(name: str, sql_type: str) -> str:
    """Return SQL for a column as json_object() should render it.

    SQLite writes a REAL with 15 significant digits; where that would not read back as
    the same double, 17 do.
    """
    if sql_type != "REAL":
        return f"x.{name}"
    x = f"x.{name}"
    return (
        f"CASE WHEN typeof({x}) != 'real' OR CAST(printf('%!.15g', {x}) AS REAL) = {x} "
        f"THEN {x} ELSE json(printf('%!.17g', {x})) END"
    )


# Per table, the columns the transcript order needs besides the JSON text.
_ORDER_KEYS = {
    "rounds": (),
    "seats": (),
    "turns": ("id", "idx"),
    "probes": ("id", "turn_id"),
    "calls": ("turn_id", "probe_id"),
    "turn_labels": ("turn_id",),
    "probe_labels": ("probe_id",),
    "turn_grades": ("turn_id",),
    "probe_grades": ("probe_id",),
}


def json_event_sql(
    con: sqlite3.Connection, table: str, version: int, kind: str, format_version: int
) -> str:
    """Return SQL for one round's rows of ``table`` as JSONL objects; parameter: round id.

    The objects are built by SQLite's json_object (in C), each followed by the keys in
    ``_ORDER_KEYS``. Each object starts with the export's ``format_version`` and the
    database's ``schema_version``, then ``type`` (``kind``), then the row's columns.
    """
    if table not in TABLES:
        raise ValueError(table)
    fields = ", ".join(
        f"'{r['name']}', {_json_value(r['name'], r['type'])}"
        for r in con.execute(f"PRAGMA table_info({table})")
    )
    keys = "".join(f", x.{k}" for k in _ORDER_KEYS[table])
    if table in _LABELS:
        owner, parent, vcol = _LABELS[table]
        return (
            f"SELECT json_object('format_version', {int(format_version)}, "
            f"'schema_version', {int(version)}, 'type', '{kind}', {fields})"
            f"{keys} FROM {table} x WHERE x.{owner} IN (SELECT id FROM {parent} "
            f"WHERE round_id = ?) ORDER BY x.{owner}, x.created_at, x.{vcol}"
        )
    key = "id" if table == "rounds" else "round_id"
    return (
        f"SELECT json_object('format_version', {int(format_version)}, "
        f"'schema_version', {int(version)}, 'type', '{kind}', {fields})"
        f"{keys} FROM {table} x WHERE x.{key} = ? ORDER BY x.id"
    )


def round_ids(con: sqlite3.Connection) -> Iterator[int]:
    """Yield the round ids in ``xr`` in ascending order, a batch at a time."""
    cur = con.execute("SELECT id FROM xr ORDER BY id")
    while rows := cur.fetchmany(5000):
        for r in rows:
            yield r[0]


def schema_version(con: sqlite3.Connection) -> int:
    """Return the database's schema version (0 when it has none recorded)."""
    row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def label_versions(con: sqlite3.Connection, scope: Scope) -> dict[str, dict[str, int]]:
    """Which classifier versions label the rounds in ``scope``: judged turns and probes
    per version of their newest labels (a relabel's, else the ones they were played
    with; NULL versions are the first ones, ``reader-1`` and ``probe-labels-1``)."""
    where, params = scope.round_filter()
    turns = con.execute(
        "SELECT COALESCE((SELECT l.reader FROM turn_labels l WHERE l.turn_id = t.id "
        "ORDER BY l.created_at DESC, l.rowid DESC LIMIT 1), t.reader, 'reader-1') AS v, "
        "COUNT(*) FROM turns t JOIN rounds r ON r.id = t.round_id "
        f"WHERE t.raw_text IS NOT NULL AND t.outcome IN ('accepted', 'violation') AND {where} "
        "GROUP BY v ORDER BY v",
        params,
    ).fetchall()
    probes = con.execute(
        "SELECT COALESCE((SELECT l.classifier FROM probe_labels l WHERE l.probe_id = p.id "
        "ORDER BY l.created_at DESC, l.rowid DESC LIMIT 1), p.classifier, 'probe-labels-1') "
        "AS v, COUNT(*) FROM probes p JOIN rounds r ON r.id = p.round_id "
        f"WHERE {where} GROUP BY v ORDER BY v",
        params,
    ).fetchall()
    return {"turns": {r[0]: r[1] for r in turns}, "probes": {r[0]: r[1] for r in probes}}
