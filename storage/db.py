"""SQLite storage over aiosqlite: one writer connection, WAL, foreign keys on.

Knows nothing of the game: it stores and returns plain dicts. Every write method is
one transaction, committed before it returns — callers announce only after that.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import LATEST, MIGRATIONS

DEFAULT_DB = "mikan.sqlite3"


def default_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db``, else ``$MIKAN_DB``, else ``mikan.sqlite3`` in the working directory."""
    return Path(explicit or os.environ.get("MIKAN_DB") or DEFAULT_DB)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class SchemaTooNewError(RuntimeError):
    pass


def _insert_sql(table: str, row: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        # aiosqlite shares one connection; interleaved coroutines must not share a
        # transaction, so each write transaction holds this lock.
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | os.PathLike[str] | None = None) -> Database:
        target = default_path(path)
        if str(target) != ":memory:":
            target.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(target))
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
        await self._conn.close()

    async def _migrate(self) -> None:
        async with self._write:
            await self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            await self._conn.commit()
            current = await self.schema_version()
            if current > LATEST:
                raise SchemaTooNewError(
                    f"{self.path} has schema version {current}; this Mikan knows up to {LATEST}"
                )
            for version, sql in MIGRATIONS:
                if version > current:
                    # executescript commits first; the version row is written in the
                    # same script so a migration and its record land together.
                    await self._conn.executescript(
                        f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES "
                        f"({version}, '{now_iso()}');\nCOMMIT;"
                    )

    async def schema_version(self) -> int:
        async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0] or 0) if row else 0

    # -- writes ---------------------------------------------------------------------

    async def create_round(
        self, round_row: Mapping[str, Any], seats: Iterable[Mapping[str, Any]]
    ) -> tuple[int, list[int]]:
        async with self._write:
            try:
                cur = await self._conn.execute(*_insert_sql("rounds", round_row))
                round_id = int(cur.lastrowid or 0)
                seat_ids = []
                for seat in seats:
                    cur = await self._conn.execute(
                        *_insert_sql("seats", {"round_id": round_id, **seat})
                    )
                    seat_ids.append(int(cur.lastrowid or 0))
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        return round_id, seat_ids

    async def add_turn(
        self,
        turn: Mapping[str, Any],
        call: Mapping[str, Any] | None = None,
        seat_updates: Iterable[Mapping[str, Any]] = (),
        round_update: Mapping[str, Any] | None = None,
    ) -> int:
        """The turn, its model call, seats that left and the round's end: one transaction."""
        async with self._write:
            try:
                cur = await self._conn.execute(*_insert_sql("turns", turn))
                turn_id = int(cur.lastrowid or 0)
                if call is not None:
                    await self._conn.execute(*_insert_sql("calls", {**call, "turn_id": turn_id}))
                for upd in seat_updates:
                    await self._conn.execute(
                        "UPDATE seats SET status = ?, out_reason = ?, out_turn = ? WHERE id = ?",
                        (upd["status"], upd["out_reason"], upd["out_turn"], upd["id"]),
                    )
                if round_update is not None:
                    await self._update_round(round_update)
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        return turn_id

    async def add_probe(self, probe: Mapping[str, Any], calls: Iterable[Mapping[str, Any]]) -> int:
        async with self._write:
            try:
                cur = await self._conn.execute(*_insert_sql("probes", probe))
                probe_id = int(cur.lastrowid or 0)
                for call in calls:
                    await self._conn.execute(
                        *_insert_sql(
                            "calls", {**call, "probe_id": probe_id, "turn_id": probe["turn_id"]}
                        )
                    )
                await self._conn.commit()
            except BaseException:
                await self._conn.rollback()
                raise
        return probe_id

    async def _update_round(self, upd: Mapping[str, Any]) -> None:
        await self._conn.execute(
            "UPDATE rounds SET status = ?, winner_seat = ?, end_reason = ?, ended_at = ? "
            "WHERE id = ?",
            (
                upd["status"],
                upd.get("winner_seat"),
                upd.get("end_reason"),
                upd.get("ended_at") or now_iso(),
                upd["id"],
            ),
        )

    async def end_round(
        self, round_id: int, status: str, winner_seat: int | None, end_reason: str | None
    ) -> None:
        async with self._write:
            await self._update_round(
                {
                    "id": round_id,
                    "status": status,
                    "winner_seat": winner_seat,
                    "end_reason": end_reason,
                }
            )
            await self._conn.commit()

    async def set_channel_settings(
        self,
        channel_id: str,
        guild_id: str | None,
        rules: Mapping[str, Any],
        extra: Mapping[str, Any],
    ) -> None:
        async with self._write:
            await self._conn.execute(
                "INSERT INTO channel_settings (channel_id, guild_id, rules_json, extra_json, "
                "updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(channel_id) DO UPDATE SET "
                "rules_json = excluded.rules_json, extra_json = excluded.extra_json, "
                "guild_id = excluded.guild_id, updated_at = excluded.updated_at",
                (channel_id, guild_id, dumps(rules), dumps(extra), now_iso()),
            )
            await self._conn.commit()

    # -- reads ----------------------------------------------------------------------

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        async with self._conn.execute(sql, params) as cur:
            return [dict(r) for r in await cur.fetchall()]

    async def channel_settings(self, channel_id: str) -> dict[str, Any] | None:
        rows = await self._all("SELECT * FROM channel_settings WHERE channel_id = ?", (channel_id,))
        return rows[0] if rows else None

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

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Read-only queries for summaries and tests."""
        return await self._all(sql, params)

    async def integrity_check(self) -> str:
        rows = await self._all("PRAGMA integrity_check")
        return str(next(iter(rows[0].values()))) if rows else "no answer"
