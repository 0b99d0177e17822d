"""SQLite storage on the database's own thread: one connection, WAL, foreign keys on.

Knows nothing of the game: it stores and returns plain dicts. Every write method is
one transaction, committed before it returns — callers announce only after that.

The one ``sqlite3`` connection lives on a single worker thread that the ``Database``
owns (a one-thread ``ThreadPoolExecutor``); reads, write batches and migrations run
there through ``loop.run_in_executor``, one after another, so the event loop never
waits on SQLite and the connection is only ever used from its own thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from storage import files, leases, migrations, rollups
from storage.errors import (
    DatabaseBusyError,
    DatabaseFileError,
    DatabaseFullError,
    DatabaseUnavailableError,
    ForeignDatabaseError,
    LeaseLostError,
    MissingDatabaseError,
    SchemaTooNewError,
    shown,
)
from storage.leases import LEASE_S

__all__ = [
    "DEFAULT_DB",
    "LEASE_S",
    "Database",
    "DatabaseBusyError",
    "DatabaseFileError",
    "DatabaseFullError",
    "DatabaseUnavailableError",
    "ForeignDatabaseError",
    "LeaseLostError",
    "MissingDatabaseError",
    "SchemaTooNewError",
    "default_path",
    "dumps",
    "now_iso",
]

DEFAULT_DB = "mikan.sqlite3"
BUSY_TIMEOUT_MS = 5000  # SQLite's own wait for a lock, per attempt
BUSY_LIMIT_S = 600.0  # then back off and try again, up to this long in all
BUSY_REPORT_S = 10.0  # a status line at most this often while waiting

log = logging.getLogger(__name__)
_T = TypeVar("_T")
# Lease owners of the databases open in this process (their leases are not a dead
# worker's, whatever the pid says).
_LIVE_OWNERS: set[str] = set()


def default_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--db``, else ``$MIKAN_DB``, else ``mikan.sqlite3`` in the working directory."""
    return Path(explicit or os.environ.get("MIKAN_DB") or DEFAULT_DB)


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds (the stored timestamps)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    """Return ``value`` as JSON text as stored: non-ASCII kept, unknown types as ``str``."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _insert_sql(table: str, row: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())


# A write: a function run on the database thread with the raw sqlite3 connection.
Op = Callable[[sqlite3.Connection], Any]


def _connect(target: Path, *, init: bool, busy_timeout_ms: int) -> sqlite3.Connection:
    """Check, open and configure the connection (on the database thread, where it stays).

    The file is checked first (``storage.files.require``) and refused unchanged when it
    is not a Mikan database (an empty one only with ``init``) or is newer than this code.
    """
    if str(target) == ":memory:":
        raw = sqlite3.connect(":memory:", isolation_level=None)
    else:
        files.require(target, create=True, init=init, latest=migrations.LATEST)
        target.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level None: transactions are ours (BEGIN/COMMIT in _run_batch).
        raw = files.connect(target, create=True)
    raw.row_factory = sqlite3.Row
    try:
        # First: workers opening one new file at once wait for each other's setup.
        raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        raw.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a committed transaction survives a killed process.
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        raw.close()
        raise
    return raw


def _close_opened(opened: list[sqlite3.Connection]) -> None:
    """Close the connection an aborted ``Database.open`` made, if it made one."""
    for raw in opened:
        raw.close()


def _fetch_all(raw: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = raw.execute(sql, params)
    try:
        return [dict(r) for r in cur.fetchall()]
    finally:
        cur.close()


def _is_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    return primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or (
        "database is locked" in str(exc)
    )


def _run_batch(
    raw: sqlite3.Connection, ops: list[Op], on_rollback: Callable[[], None]
) -> list[tuple[bool, Any]]:
    """Run writes in one transaction (group commit), each isolated by a savepoint.

    One failing write is rolled back alone. Returns (ok, result or exception) per op,
    all durable once this returns. ``on_rollback`` runs whenever anything is rolled
    back (what was remembered of it is void).
    """
    results: list[tuple[bool, Any]] = []
    raw.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            raw.execute("SAVEPOINT op")
            try:
                value = op(raw)
            except Exception as exc:  # handed back to that op's caller
                if isinstance(exc, sqlite3.OperationalError) and (
                    _is_full(exc) or _is_busy(exc) or not raw.in_transaction
                ):
                    raise  # the whole batch fails (SQLite may have rolled it back already)
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
    """The Mikan database: one connection on its own thread, writes group-committed.

    Reads run on the database thread in the order they are asked. Writes are queued and
    committed in groups: whatever writes are waiting when the database thread is free go
    in one transaction (one thread hop, one commit), so many concurrent rounds do not
    queue behind each other's commits. A write's caller resumes only after its commit.

    Leases (``storage.leases``): this database is one worker, ``owner``. It leases each
    round it creates or claims, renews those leases in the background every third of
    ``lease_s``, and drops each when the round ends, is released or the database is
    closed. A write to a round whose lease another worker took raises
    ``LeaseLostError`` (and is rolled back).

    A busy database (another process holding the write lock) is waited for: SQLite's
    own busy timeout, then backing off and trying the whole batch again, with a status
    line (``on_busy``, else a logged warning) at once and then at most every
    ``BUSY_REPORT_S``, for up to ``busy_limit_s`` in all; then ``DatabaseBusyError``. A
    full disk raises ``DatabaseFullError``. Both are ``DatabaseUnavailableError``: the
    batch was rolled back whole, everything before it is committed.
    """

    def __init__(
        self,
        thread: ThreadPoolExecutor,
        raw: sqlite3.Connection,
        path: Path,
        *,
        lease_s: float = LEASE_S,
        busy_limit_s: float = BUSY_LIMIT_S,
    ) -> None:
        """Wrap ``raw``, a configured connection made on ``thread`` (see ``open``)."""
        self._thread = thread  # one worker: the only thread that touches ``_raw``
        self._raw = raw
        self._closed = False
        self.path = path
        self._pending: list[tuple[Op, asyncio.Future[Any]]] = []
        self._rollups = rollups.Rollups()  # used on the database thread only
        self._flusher: asyncio.Task[None] | None = None
        self.owner = leases.new_owner()
        self.lease_s = lease_s
        self.busy_limit_s = busy_limit_s
        self.on_busy: Callable[[float], None] | None = None  # seconds waited so far
        self._held: set[int] = set()  # rounds whose lease this worker holds
        self._renewer: asyncio.Task[None] | None = None
        _LIVE_OWNERS.add(self.owner)

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        init: bool = False,
        lease_s: float = LEASE_S,
        busy_limit_s: float = BUSY_LIMIT_S,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> Database:
        """Open and migrate the Mikan database at ``path``, creating it where no file is.

        ``path`` as in ``default_path``; ``:memory:`` gives a private in-memory one. The
        file is checked before anything is written, and refused unchanged (byte for
        byte, no ``-wal``/``-shm``/``-journal`` left) with ``ForeignDatabaseError`` when
        it is not a Mikan database: an empty file or an SQLite database with no tables
        becomes one only with ``init=True`` (``--init``); a file that is not SQLite, or
        another program's database, never does. Raises ``SchemaTooNewError`` for a
        database newer than this code. Any character a filesystem allows may be in
        ``path``. ``lease_s`` and ``busy_limit_s`` as in the class docstring;
        ``busy_timeout_ms`` is SQLite's own wait for a lock before each retry.
        """
        target = default_path(path)
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mikan-db")
        opened: list[sqlite3.Connection] = []

        def connect() -> sqlite3.Connection:
            raw = _connect(target, init=init, busy_timeout_ms=busy_timeout_ms)
            opened.append(raw)
            return raw

        try:
            raw = await _on(thread, connect)
            db = cls(thread, raw, target, lease_s=lease_s, busy_limit_s=busy_limit_s)
            await db._migrate()
        except BaseException:
            # Queued behind whatever still runs there (a cancelled open's connect too).
            thread.submit(_close_opened, opened)
            thread.shutdown(wait=False)
            raise
        return db

    async def close(self) -> None:
        """Wait for the queued writes, drop this worker's leases, close, end the thread."""
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
        if self._held and not self._closed:
            # Rounds left running (suspended) are free for any worker at once.
            held = set(self._held)
            self._held.clear()
            try:
                await self._write(lambda raw: leases.release(raw, held, self.owner))
            except (sqlite3.Error, DatabaseUnavailableError) as exc:
                # Not worth a line of its own: a closed worker's leases are free anyway
                # on this host (its process ends) and expire elsewhere.
                log.info("could not release round leases on close (%s); they expire", exc)
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._closed:
            return
        self._closed = True
        _LIVE_OWNERS.discard(self.owner)
        try:
            await _on(self._thread, self._raw.close)
        finally:
            self._thread.shutdown(wait=False)  # the thread ends once the close has run

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        if self._closed:
            raise ValueError("Connection closed")
        return await _on(self._thread, fn, *args)

    async def _migrate(self) -> None:
        # On the database thread: a migration (with any backfill) is one transaction.
        await self._call(migrations.apply, self._raw)

    async def schema_version(self) -> int:
        """Return the schema version the database is at (0 when it has none)."""
        rows = await self._all("SELECT MAX(version) FROM schema_version")
        return int(next(iter(rows[0].values())) or 0) if rows else 0

    # -- the write queue ------------------------------------------------------------
    async def _write(self, op: Op) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        # A caller cancelled while its write is in flight no longer reads the outcome; its
        # error (a full disk, say) is still the next write's to report, not asyncio's.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # Shielded: a caller cancelled mid-write still has its write committed (or not)
        # as one piece; it just stops waiting for the answer.
        return await asyncio.shield(future)

    async def _commit(self, ops: list[Op]) -> list[tuple[bool, Any]]:
        """Run ``ops`` as one batch; wait out a busy database, name a full one."""
        started = time.monotonic()
        last_report: float | None = None
        delay = 0.05
        while True:
            try:
                return await self._call(_run_batch, self._raw, ops, self._rollups.forget)
            except sqlite3.OperationalError as exc:
                if _is_full(exc):
                    raise DatabaseFullError(self.path) from exc
                if not _is_busy(exc):
                    raise
                now = time.monotonic()
                waited = now - started
                if waited >= self.busy_limit_s:
                    raise DatabaseBusyError(self.path, waited) from exc
                if last_report is None or now - last_report >= BUSY_REPORT_S:
                    last_report = now
                    self._report_busy(waited)
            # Backing off (not a test's wait): the lock is another process's to let go.
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _report_busy(self, waited: float) -> None:
        if self.on_busy is not None:
            self.on_busy(waited)
            return
        log.warning(
            "database %s is busy (another process holds its write lock): waiting, %.0f s so far",
            shown(self.path),
            waited,
        )

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await self._commit([op for op, _ in batch])
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
        """Insert a round and its seats in one transaction; return the round and seat ids.

        A running round is leased to this worker in the same transaction.
        """
        seat_rows = list(seats)

        def op(raw: sqlite3.Connection) -> tuple[int, list[int]]:
            round_id = int(raw.execute(*_insert_sql("rounds", round_row)).lastrowid or 0)
            ids = [
                int(raw.execute(*_insert_sql("seats", {"round_id": round_id, **s})).lastrowid or 0)
                for s in seat_rows
            ]
            if round_row.get("status", "running") == "running":
                leases.take(raw, round_id, self.owner, self.lease_s)
            return round_id, ids

        round_id, ids = await self._write(op)
        if round_row.get("status", "running") == "running":
            self._hold(round_id)
        return round_id, ids

    async def add_turn(
        self,
        turn: Mapping[str, Any],
        call: Mapping[str, Any] | None = None,
        seat_updates: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        """Insert a turn, its model call and the seats that left with it, as one piece.

        The turn's rollups are written in the same transaction. Returns the turn id.
        Raises ``LeaseLostError`` (nothing written) when another worker holds the round.
        """
        updates = list(seat_updates)

        def op(raw: sqlite3.Connection) -> int:
            leases.check(raw, turn["round_id"], self.owner)
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
        """Insert a probe, its calls and its rollup in one transaction; return the probe id.

        Raises ``LeaseLostError`` (nothing written) when another worker holds the round.
        """
        call_rows = list(calls)

        def op(raw: sqlite3.Connection) -> int:
            leases.check(raw, probe["round_id"], self.owner)
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
        """Record a round's end: its status, winner (a seat position), reason and time.

        Its lease is dropped in the same transaction. Raises ``LeaseLostError`` (nothing
        written) when another worker holds the round.
        """

        def op(raw: sqlite3.Connection) -> None:
            leases.check(raw, round_id, self.owner)
            raw.execute(
                "UPDATE rounds SET status = ?, winner_seat = ?, end_reason = ?, ended_at = ? "
                "WHERE id = ?",
                (status, winner_seat, end_reason, now_iso(), round_id),
            )
            leases.release(raw, (round_id,), self.owner)

        try:
            await self._write(op)
        except LeaseLostError:
            self._held.discard(round_id)
            raise
        self._held.discard(round_id)

    # -- leases ---------------------------------------------------------------------

    async def claim_rounds(
        self, surface: str | None = None, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Lease up to ``limit`` free running rounds (on ``surface``); return their rows.

        Free: no lease, an expired one, or one whose owner was a process on this host
        that has ended (``storage.leases``). Oldest first; atomic among workers.
        """

        def op(raw: sqlite3.Connection) -> list[dict[str, Any]]:
            return leases.claim(
                raw,
                self.owner,
                surface=surface,
                limit=limit,
                lease_s=self.lease_s,
                live=frozenset(_LIVE_OWNERS),
            )

        rows = await self._write(op)
        for row in rows:
            self._hold(row["id"])
        return rows

    async def release(self, round_id: int) -> None:
        """Drop this worker's lease on a round it stops playing (left running, to resume)."""
        self._held.discard(round_id)
        await self._write(lambda raw: leases.release(raw, (round_id,), self.owner))

    @property
    def held(self) -> frozenset[int]:
        """The rounds whose lease this worker holds."""
        return frozenset(self._held)

    def _hold(self, round_id: int) -> None:
        self._held.add(round_id)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_leases(), name="mikan-leases")

    async def _renew_leases(self) -> None:
        """Renew the held leases every third of ``lease_s`` while any is held."""
        while self._held:
            await asyncio.sleep(self.lease_s / 3)
            held = set(self._held)
            if not held:
                break
            try:
                lost = await self._write(
                    lambda raw, held=held: leases.renew(raw, held, self.owner, self.lease_s)
                )
            except (sqlite3.Error, DatabaseUnavailableError) as exc:
                # The next write to each round checks its lease anyway.
                log.warning("could not renew round leases (%s); trying again", exc)
                continue
            for round_id in lost:
                log.warning("round %s: lease lost to another worker", round_id)
                self._held.discard(round_id)

    async def set_channel_settings(
        self, channel_id: str, guild_id: str | None, rules_json: str, extra_json: str
    ) -> None:
        """Insert or replace a channel's default settings (stamped with the time)."""

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
        return await self._call(_fetch_all, self._raw, sql, params)

    async def unfinished_rounds(self, surface: str | None = None) -> list[dict[str, Any]]:
        """Return the rounds still running (on ``surface``, or any), oldest first."""
        if surface is None:
            return await self._all("SELECT * FROM rounds WHERE status = 'running' ORDER BY id")
        return await self._all(
            "SELECT * FROM rounds WHERE status = 'running' AND surface = ? ORDER BY id", (surface,)
        )

    async def round(self, round_id: int) -> dict[str, Any] | None:
        """Return the round's row, or None when there is no such round."""
        rows = await self._all("SELECT * FROM rounds WHERE id = ?", (round_id,))
        return rows[0] if rows else None

    async def seats(self, round_id: int) -> list[dict[str, Any]]:
        """Return the round's seats in seat order."""
        return await self._all(
            "SELECT * FROM seats WHERE round_id = ? ORDER BY position", (round_id,)
        )

    async def turns(self, round_id: int) -> list[dict[str, Any]]:
        """Return the round's turns in turn order."""
        return await self._all("SELECT * FROM turns WHERE round_id = ? ORDER BY idx", (round_id,))

    async def probes(self, round_id: int) -> list[dict[str, Any]]:
        """Return the round's probes in the order they were written."""
        return await self._all("SELECT * FROM probes WHERE round_id = ? ORDER BY id", (round_id,))

    async def calls(self, round_id: int) -> list[dict[str, Any]]:
        """Return the round's model calls (turns' and probes') in the order they were written."""
        return await self._all("SELECT * FROM calls WHERE round_id = ? ORDER BY id", (round_id,))

    async def channel_settings(self, channel_id: str) -> dict[str, Any] | None:
        """Return the channel's stored settings row, or None when it has none."""
        rows = await self._all("SELECT * FROM channel_settings WHERE channel_id = ?", (channel_id,))
        return rows[0] if rows else None

    async def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Run a read-only query (summaries, tests); return its rows as dicts."""
        return await self._all(sql, params)

    async def integrity_check(self) -> str:
        """Return SQLite's ``PRAGMA integrity_check`` verdict (``"ok"`` when sound)."""
        rows = await self._all("PRAGMA integrity_check")
        return str(next(iter(rows[0].values()))) if rows else "no answer"


async def _on(thread: ThreadPoolExecutor, fn: Callable[..., _T], *args: Any) -> _T:
    """Run ``fn(*args)`` on ``thread`` and return its result, without blocking the loop.

    Once queued the call runs, whole, even if the caller is cancelled: cancelling only
    stops the waiting (as a cancelled write still commits, or not, as one piece).
    """
    return await asyncio.shield(asyncio.get_running_loop().run_in_executor(thread, fn, *args))
