"""Read-only queries for statistics and exports, over a plain sqlite3 connection.

Run off the event loop (a CLI, or ``asyncio.to_thread`` in the bot). Statistics first
copy the model turns in scope into one temporary table (one pass over the joins), then
aggregate it in SQL; exports stream rows with ``fetchmany`` and never hold a table.
"""

from __future__ import annotations

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
    # A turn without a reported model id (no_answer) counts under the id last reported
    # on its seat, else by its player, else the model asked for. (SQLite takes a bare
    # column from the row that gave MAX(id).)
    for name, key in (("sm", "seat_id"), ("pm", "player_key")):
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT {key} AS k, model_reported AS model, MAX(id) "
            f"FROM calls WHERE model_reported IS NOT NULL GROUP BY {key}"
        )
        con.execute(f"CREATE INDEX temp.{name}_k ON {name}(k)")
    con.execute(
        f"""
        CREATE TEMP TABLE st AS
        SELECT t.id AS turn_id, t.round_id, t.idx, t.outcome, t.word, t.violations_json AS v,
               t.self_flag, t.required_json AS req, length(t.raw_text) AS chars,
               s.player_key, COALESCE(c.model_reported, sm.model, pm.model, s.model_asked, '')
                 AS model,
               COALESCE(r.channel_id, '') AS channel_id, r.prompt_lang,
               c.output_tokens, c.input_tokens, c.latency_ms, c.retries,
               c.id IS NOT NULL AS has_call,
               instr(t.violations_json, '"ends_with_n"') > 0 AS ends_n
        FROM turns t
        JOIN seats s ON s.id = t.seat_id AND s.kind = 'model'
        JOIN rounds r ON r.id = t.round_id
        LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn'
        LEFT JOIN sm ON sm.k = s.id
        LEFT JOIN pm ON pm.k = s.player_key
        WHERE {where}
        """,
        params,
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


def latencies(con: sqlite3.Connection) -> Iterator[tuple[tuple, float]]:
    cur = con.execute(f"SELECT {_G}, latency_ms FROM st WHERE latency_ms IS NOT NULL")
    while batch := cur.fetchmany(10_000):
        for row in batch:
            yield tuple(row[:4]), row[4]


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


def stream_table(con: sqlite3.Connection, table: str, batch: int = 5000) -> Iterator[sqlite3.Row]:
    """Rows of ``table`` for the rounds in ``xr``, in id order, a batch at a time."""
    key = "id" if table == "rounds" else "round_id"
    cur = con.execute(
        f"SELECT x.* FROM {table} x WHERE x.{key} IN (SELECT id FROM xr) ORDER BY x.id"
    )
    while rows := cur.fetchmany(batch):
        yield from rows


def round_ids(con: sqlite3.Connection) -> Iterator[int]:
    cur = con.execute("SELECT id FROM xr ORDER BY id")
    while rows := cur.fetchmany(5000):
        for r in rows:
            yield r[0]


def round_children(con: sqlite3.Connection, round_id: int) -> dict[str, list[sqlite3.Row]]:
    """One round's rows (a round fits in memory; a database does not)."""
    return {
        t: con.execute(f"SELECT * FROM {t} WHERE round_id = ? ORDER BY id", (round_id,)).fetchall()
        for t in ("seats", "turns", "probes", "calls")
    }


def schema_version(con: sqlite3.Connection) -> int:
    row = con.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)
