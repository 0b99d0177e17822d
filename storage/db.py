"""SQLite storage over aiosqlite: one writer connection, WAL, foreign keys on.

Knows nothing of the game: it stores and returns plain dicts. Every write method is
one transaction, committed before it returns — callers announce only after that.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage import migrations, rollups
from storage.migrations import SchemaTooNewError

DEFAULT_DB = "mikan.sqlite3"


def default_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db``, else ``$MIKAN_DB``, else ``mikan.sqlite3`` in the working directory."""
    return Path(explicit or os.environ.get("MIKAN_DB") or DEFAULT_DB)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _insert_sql(table: str, row: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())


# A write: a function run on the database thread with the raw sqlite3 connection.
Op = Callable[[sqlite3.Connection], Any]


def _run_batch(
    raw: sqlite3.Connection, ops: list[Op], on_rollback: Callable[[], None]
) -> list[tuple[bool, Any]]:
    """Run writes in one transaction (group commit), each isolated by a savepoint so
    one failing write is rolled back alone. Returns (ok, result or exception) per op,
    all durable once this returns. ``on_rollback`` runs whenever anything is rolled
    back (what was remembered of it is void)."""
    results: list[tuple[bool, Any]] = []
    raw.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            raw.execute("SAVEPOINT op")
            try:
                value = op(raw)
            except Exception as exc:  # handed back to that op's caller
                raw.execute("ROLLBACK TO op")
                raw.execute("RELEASE op")
                on_rollback()
                results.append((False, exc))
            else:
                raw.execute("RELEASE op")
                results.append((True, value))
        raw.execute("COMMIT")
    except BaseException:
        on_rollback()
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return results


class Database:
    """Reads go through aiosqlite as usual. Writes are queued and committed in groups:
    whatever writes are waiting when the database thread is free go in one transaction
    (one thread hop, one commit), so many concurrent rounds do not queue behind each
    other's commits. A write's caller resumes only after its commit."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._pending: list[tuple[Op, asyncio.Future[Any]]] = []
        self._rollups = rollups.Rollups()  # used on the database thread only
        self._flusher: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | os.PathLike[str] | None = None) -> Database:
        target = default_path(path)
        if str(target) != ":memory:":
            target.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level None: transactions are ours (BEGIN/COMMIT in _run_batch).
        conn = await aiosqlite.connect(str(target), isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a committed transaction survives a killed process.
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            await conn.close()
            raise
        db = cls(conn, target)
        try:
            await db._migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self._conn.close()

    async def _migrate(self) -> None:
        # On the connection's thread, like aiosqlite's own calls: a migration with a
        # Python step (a backfill) is one transaction with its SQL.
        try:
            await self._conn._execute(migrations.apply, self._conn._conn)
        except SchemaTooNewError as exc:
            raise SchemaTooNewError(f"{self.path} has {exc}") from None

    async def schema_version(self) -> int:
        async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0] or 0) if row else 0

    # -- the write queue ------------------------------------------------------------
    async def _write(self, op: Op) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # Shielded: a caller cancelled mid-write still has its write committed (or not)
        # as one piece; it just stops waiting for the answer.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                # aiosqlite runs this on its connection thread, like its own calls.
                results = await self._conn._execute(
                    _run_batch, self._conn._conn, [op for op, _ in batch], self._rollups.forget
                )
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    # -- writes ---------------------------------------------------------------------

    async def create_round(
        self, round_row: Mapping[str, Any], seats: Iterable[Mapping[str, Any]]
    ) -> tuple[int, list[int]]:
        seat_rows = list(seats)

        def op(raw: sqlite3.Connection) -> tuple[int, list[int]]:
            round_id = int(raw.execute(*_insert_sql("rounds", round_row)).lastrowid or 0)
            ids = [
                int(raw.execute(*_insert_sql("seats", {"round_id": round_id, **s})).lastrowid or 0)
                for s in seat_rows
            ]
            return round_id, ids

        return await self._write(op)

    async def add_turn(
        self,
        turn: Mapping[str, Any],
        call: Mapping[str, Any] | None = None,
        seat_updates: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        """The turn, its model call and the seats that left with it: one piece."""
        updates = list(seat_updates)

        def op(raw: sqlite3.Connection) -> int:
            turn_id = int(raw.execute(*_insert_sql("turns", turn)).lastrowid or 0)
            if call is not None:
                raw.execute(*_insert_sql("calls", {**call, "turn_id": turn_id}))
            self._rollups.record_turn(raw, turn_id, turn, call)
            for upd in updates:
                raw.execute(
                    "UPDATE seats SET status = ?, out_reason = ?, out_turn = ? WHERE id = ?",
                    (upd["status"], upd["out_reason"], upd["out_turn"], upd["id"]),
                )
            return turn_id

        return await self._write(op)

    async def add_probe(self, probe: Mapping[str, Any], calls: Iterable[Mapping[str, Any]]) -> int:
        call_rows = list(calls)

        def op(raw: sqlite3.Connection) -> int:
            probe_id = int(raw.execute(*_insert_sql("probes", probe)).lastrowid or 0)
            self._rollups.record_probe(raw, probe)
            for call in call_rows:
                raw.execute(
                    *_insert_sql(
                        "calls", {**call, "probe_id": probe_id, "turn_id": probe["turn_id"]}
                    )
                )
            return probe_id

        return await self._write(op)

    async def end_round(
        self, round_id: int, status: str, winner_seat: int | None, end_reason: str | None
    ) -> None:
        def op(raw: sqlite3.Connection) -> None:
            raw.execute(
                "UPDATE rounds SET status = ?, winner_seat = ?, end_reason = ?, ended_at = ? "
                "WHERE id = ?",
                (status, winner_seat, end_reason, now_iso(), round_id),
            )

        await self._write(op)

    async def set_channel_settings(
        self, channel_id: str, guild_id: str | None, rules_json: str, extra_json: str
    ) -> None:
        def op(raw: sqlite3.Connection) -> None:
            raw.execute(
                "INSERT INTO channel_settings (channel_id, guild_id, rules_json, extra_json, "
                "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE SET "
                "guild_id = excluded.guild_id, rules_json = excluded.rules_json, "
                "extra_json = excluded.extra_json, updated_at = excluded.updated_at",
                (channel_id, guild_id, rules_json, extra_json, now_iso()),
            )

        await self._write(op)

    # -- reads ----------------------------------------------------------------------

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self._conn.execute(sql, params) as cur:
            return [dict(r) for r in await cur.fetchall()]

    async def unfinished_rounds(self, surface: str | None = None) -> list[dict[str, Any]]:
        if surface is None:
            return await self._all("SELECT * FROM rounds WHERE status = 'running' ORDER BY id")
        return await self._all(
            "SELECT * FROM rounds WHERE status = 'running' AND surface = ? ORDER BY id", (surface,)
        )

    async def round(self, round_id: int) -> dict[str, Any] | None:
        rows = await self._all("SELECT * FROM rounds WHERE id = ?", (round_id,))
        return rows[0] if rows else None

    async def seats(self, round_id: int) -> list[dict[str, Any]]:
        return await self._all(
            "SELECT * FROM seats WHERE round_id = ? ORDER BY position", (round_id,)
        )

    async def turns(self, round_id: int) -> list[dict[str, Any]]:
        return await self._all("SELECT * FROM turns WHERE round_id = ? ORDER BY idx", (round_id,))

    async def probes(self, round_id: int) -> list[dict[str, Any]]:
        return await self._all("SELECT * FROM probes WHERE round_id = ? ORDER BY id", (round_id,))

    async def calls(self, round_id: int) -> list[dict[str, Any]]:
        return await self._all("SELECT * FROM calls WHERE round_id = ? ORDER BY id", (round_id,))

    async def channel_settings(self, channel_id: str) -> dict[str, Any] | None:
        rows = await self._all("SELECT * FROM channel_settings WHERE channel_id = ?", (channel_id,))
        return rows[0] if rows else None

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Read-only queries for summaries and tests."""
        return await self._all(sql, params)

    async def integrity_check(self) -> str:
        rows = await self._all("PRAGMA integrity_check")
        return str(next(iter(rows[0].values()))) if rows else "no answer"
