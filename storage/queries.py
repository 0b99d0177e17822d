"""Read-only queries for statistics and exports, over a plain sqlite3 connection.

Run off the event loop (a CLI, or ``asyncio.to_thread`` in the bot). Statistics first
copy the model turns in scope into one temporary table (one pass over the joins), then
aggregate it in SQL; exports stream rows with ``fetchmany`` and never hold a table.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLES = ("rounds", "seats", "turns", "probes", "calls")
GROUP = ("player_key", "model", "channel_id", "prompt_lang")


def connect_readonly(path: str | Path) -> sqlite3.Connection:
    """A read-only connection (it never blocks writers in WAL mode)."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no database at {path}")
    con = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA temp_store = MEMORY")
    return con


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rounds: a channel (None = all), created at or after ``since``, one player."""

    channel_id: str | None = None
    since: str | None = None
    player: str | None = None

    def round_filter(self) -> tuple[str, list[Any]]:
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


def load_scope(con: sqlite3.Connection, scope: Scope) -> None:
    """Model turns in scope -> temp table ``st`` (with the model id the API reported)."""
    where, params = scope.round_filter()
    if scope.player is not None:
        where += " AND s.player_key = ?"
        params.append(scope.player)
    con.execute("DROP TABLE IF EXISTS temp.st")
    con.execute(
        f"""
        CREATE TEMP TABLE st AS
        SELECT t.id AS turn_id, t.round_id, t.idx, t.outcome, t.word, t.violations_json AS v,
               t.self_flag, t.required_json AS req, length(t.raw_text) AS chars,
               t.seat_id, s.player_key, c.model_reported AS model, s.model_asked,
               COALESCE(r.channel_id, '') AS channel_id, r.prompt_lang,
               c.output_tokens, c.input_tokens, c.latency_ms, c.retries,
               c.turn_id IS NOT NULL AS has_call,
               instr(t.violations_json, '"ends_with_n"') > 0 AS ends_n
        FROM turns t
        JOIN seats s ON s.id = t.seat_id AND s.kind = 'model'
        JOIN rounds r ON r.id = t.round_id
        LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn'
        WHERE {where}
        """,
        params,
    )
    # A turn without a reported model id (no_answer) counts under the id last reported
    # on its seat, else by its player (in scope), else the model asked for. SQLite takes
    # the bare column from the row that gave MAX(turn_id).
    for name, key in (("sm", "seat_id"), ("pm", "player_key")):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT {key} AS k, model, MAX(turn_id) "
            f"FROM st WHERE model IS NOT NULL GROUP BY {key}"
        )
        con.execute(f"CREATE INDEX temp.{name}_k ON {name}(k)")
    con.execute(
        "UPDATE st SET model = COALESCE((SELECT model FROM sm WHERE k = st.seat_id), "
        "(SELECT model FROM pm WHERE k = st.player_key), model_asked, '') WHERE model IS NULL"
    )


_G = ", ".join(GROUP)


def totals(con: sqlite3.Connection) -> list[dict]:
    return _rows(
        con,
        f"""
        SELECT {_G},
          COUNT(*) AS turns,
          SUM(word IS NOT NULL) AS words,
          SUM(outcome != 'no_answer') AS judged,
          SUM(outcome = 'no_answer') AS no_answer,
          SUM(outcome = 'violation') AS violations,
          SUM(ends_n) AS ends_with_n,
          SUM(self_flag = 'no_move') AS no_move,
          SUM(outcome = 'violation' AND self_flag = 'admits') AS admits,
          SUM(outcome = 'violation' AND self_flag = 'continues') AS continues,
          AVG(CASE WHEN outcome != 'no_answer' THEN chars END) AS mean_chars,
          AVG(output_tokens) AS mean_output_tokens,
          AVG(input_tokens) AS mean_input_tokens,
          SUM(has_call) AS calls,
          AVG(retries) AS mean_retries,
          SUM(retries > 0) AS calls_retried,
          AVG(latency_ms) AS mean_latency_ms,
          COUNT(latency_ms) AS n_latency,
          COUNT(DISTINCT round_id) AS rounds
        FROM st GROUP BY {_G} ORDER BY {_G}""",
    )


def violations_by_code(con: sqlite3.Connection) -> list[dict]:
    return _rows(
        con,
        f"""
        SELECT {_G}, j.value AS code, COUNT(*) AS n
        FROM st, json_each(st.v) AS j GROUP BY {_G}, j.value""",
    )


def by_required(con: sqlite3.Connection) -> list[dict]:
    """The み table: per required mora (set), judged words and how many ended in ん."""
    return _rows(
        con,
        f"""
        SELECT {_G}, req, COUNT(*) AS n, SUM(ends_n) AS ends_with_n
        FROM st WHERE outcome != 'no_answer' GROUP BY {_G}, req""",
    )


def attractors(con: sqlite3.Connection) -> list[dict]:
    return _rows(
        con,
        f"""
        SELECT {_G}, req, word, COUNT(*) AS n
        FROM st WHERE outcome = 'violation' AND word IS NOT NULL
        GROUP BY {_G}, req, word""",
    )


def by_turn_index(con: sqlite3.Connection) -> list[dict]:
    return _rows(
        con,
        f"""
        SELECT {_G}, idx, COUNT(*) AS n, AVG(chars) AS mean_chars,
               AVG(output_tokens) AS mean_output_tokens
        FROM st WHERE outcome != 'no_answer' GROUP BY {_G}, idx ORDER BY idx""",
    )


def latency_quantiles(con: sqlite3.Connection, groups: list[dict]) -> dict[tuple, tuple]:
    """(median, p95) per group, read off an index instead of sorting in Python."""
    con.execute(f"CREATE INDEX IF NOT EXISTS temp.st_lat ON st({_G}, latency_ms)")
    where = " AND ".join(f"{g} IS ?" for g in GROUP)
    sql = (
        f"SELECT latency_ms FROM st WHERE {where} AND latency_ms IS NOT NULL "
        "ORDER BY latency_ms LIMIT ? OFFSET ?"
    )
    out = {}
    for g in groups:
        n = g["n_latency"]
        if not n:
            continue
        key = tuple(g[k] for k in GROUP)
        middle = [r[0] for r in con.execute(sql, (*key, 2 - n % 2, (n - 1) // 2))]
        (p95,) = con.execute(sql, (*key, 1, math.ceil(0.95 * n) - 1)).fetchone()
        out[key] = (sum(middle) / len(middle), p95)
    return out


def probe_labels(con: sqlite3.Connection) -> list[dict]:
    return _rows(
        con,
        f"""
        SELECT st.player_key, st.model, st.channel_id, st.prompt_lang,
               p.kind, p.label, COUNT(*) AS n
        FROM probes p JOIN st ON st.turn_id = p.turn_id
        GROUP BY {", ".join("st." + g for g in GROUP)}, p.kind, p.label""",
    )


# -- exports -------------------------------------------------------------------------


def columns(con: sqlite3.Connection, table: str) -> list[str]:
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
# Leading quotes are looked through (ltrim) so the escaping is exactly reversible.
_TRIGGERS = "('=', '+', '-', '@', char(9), char(13))"


def neutralised_cell(col: str) -> str:
    """SQL for column expression ``col`` as a CSV cell: NULL as '', formula-like text quoted."""
    quote = "''''"  # SQL for a string holding one single quote
    return (
        f"CASE WHEN typeof({col}) = 'text' AND substr(ltrim({col}, {quote}), 1, 1) IN "
        f"{_TRIGGERS} THEN {quote} || {col} ELSE COALESCE({col}, '') END"
    )


def _needs_neutralising(name: str, sql_type: str) -> bool:
    """Text that can come from outside (words, replies, bodies, names, errors). JSON and
    timestamp columns are written by Mikan itself and never start with a trigger."""
    return sql_type == "TEXT" and not name.endswith(("_json", "_at"))


def stream_csv_rows(con: sqlite3.Connection, table: str) -> sqlite3.Cursor:
    """Rows of ``table`` for the rounds in ``xr`` in id order, as CSV cells: NULL as '',
    formula-like text neutralised — by SQLite, not cell by cell in Python. The table is
    scanned in id order (``+`` keeps the planner off the round index, which would need a
    sort holding every row)."""
    key = "id" if table == "rounds" else "round_id"
    if table not in TABLES:
        raise ValueError(table)
    cols = ", ".join(
        neutralised_cell(f"x.{r['name']}")
        if _needs_neutralising(r["name"], r["type"])
        else f"COALESCE(x.{r['name']}, '')"
        for r in con.execute(f"PRAGMA table_info({table})")
    )
    cur = con.cursor()
    cur.row_factory = None  # plain tuples straight into csv.writer
    return cur.execute(
        f"SELECT {cols} FROM {table} x WHERE +x.{key} IN (SELECT id FROM xr) ORDER BY x.id"
    )


def round_ids(con: sqlite3.Connection) -> Iterator[int]:
    cur = con.execute("SELECT id FROM xr ORDER BY id")
    while rows := cur.fetchmany(5000):
        for r in rows:
            yield r[0]


def round_children(con: sqlite3.Connection, round_id: int) -> dict[str, list[tuple]]:
    """One round's rows as tuples in column order (a round fits in memory; a database
    does not)."""
    cur = con.cursor()
    cur.row_factory = None
    out = {}
    for t in TABLES:
        key = "id" if t == "rounds" else "round_id"
        out[t] = cur.execute(
            f"SELECT * FROM {t} WHERE {key} = ? ORDER BY id", (round_id,)
        ).fetchall()
    return out


def schema_version(con: sqlite3.Connection) -> int:
    row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)
