"""Round leases: one worker plays each running round, and a dead worker's rounds move on.

A lease is a row in ``leases`` (migration 4): the round, its owner and when the lease
expires. A worker takes a lease when it creates a round or claims an unfinished one,
renews its leases while it plays, and drops each when the round ends or is suspended.
Every write to a round checks, in its own transaction, that the lease is still this
worker's (``check``): a worker that stalled past its expiry and lost the round to
another finds out at its next write, which is rolled back, instead of writing turns
the other worker also writes.

A round is free to claim when it has no lease, its lease expired, or its owner is a
process on this host that no longer runs (a killed worker's rounds resume at once on
the same machine; elsewhere they wait for the expiry). Claims run inside a write
transaction (``BEGIN IMMEDIATE``), so two workers never claim the same round.

These functions take the connection and run on the database thread; ``Database``
calls them. Standard library only.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from storage.errors import LeaseLostError

LEASE_S = 30.0  # a worker renews every third of this; a dead one's rounds wait this long


def new_owner() -> str:
    """A worker id, unique across processes and hosts: ``host:pid:token``."""
    host = socket.gethostname().replace(":", "_") or "localhost"
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


def _local_process_gone(owner: str, live: frozenset[str]) -> bool:
    """True when ``owner`` was a worker process on this host that no longer runs.

    ``live`` names the owners open in this process (a closed one released its leases;
    one neither closed nor in ``live`` was abandoned, as by a crash).
    """
    host, _, rest = owner.partition(":")
    pid_text, _, _token = rest.partition(":")
    if host != (socket.gethostname().replace(":", "_") or "localhost") or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner not in live
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it runs, as someone else
        return False
    return False


def claim(
    raw: sqlite3.Connection,
    owner: str,
    *,
    surface: str | None,
    limit: int | None,
    lease_s: float,
    live: frozenset[str],
    now: float | None = None,
) -> list[dict[str, Any]]:
    """Take the leases of up to ``limit`` free running rounds (on ``surface``), oldest first.

    Call inside a write transaction. Rounds this owner already holds are not free: it
    is playing them. Returns the claimed rounds' rows.
    """
    now = time.time() if now is None else now
    sql = (
        "SELECT r.*, l.owner AS lease_owner, l.expires_at AS lease_expires FROM rounds r "
        "LEFT JOIN leases l ON l.round_id = r.id WHERE r.status = 'running'"
    )
    params: tuple[Any, ...] = ()
    if surface is not None:
        sql += " AND r.surface = ?"
        params = (surface,)
    claimed = []
    for row in raw.execute(sql + " ORDER BY r.id", params).fetchall():
        r = dict(row)
        held_by = r.pop("lease_owner")
        expires = r.pop("lease_expires")
        free = held_by is None or (
            held_by != owner and (expires < now or _local_process_gone(held_by, live))
        )
        if not free:
            continue
        raw.execute(
            "INSERT INTO leases (round_id, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(round_id) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at",
            (r["id"], owner, now + lease_s),
        )
        claimed.append(r)
        if limit is not None and len(claimed) >= limit:
            break
    return claimed


def take(raw: sqlite3.Connection, round_id: int, owner: str, lease_s: float) -> None:
    """Lease a round just created by ``owner`` (in the transaction that created it)."""
    raw.execute(
        "INSERT INTO leases (round_id, owner, expires_at) VALUES (?, ?, ?)",
        (round_id, owner, time.time() + lease_s),
    )


def check(raw: sqlite3.Connection, round_id: int, owner: str) -> None:
    """Raise ``LeaseLostError`` unless ``owner`` holds the round's lease (expired or not).

    An expired lease nobody took yet is still its owner's: nothing else wrote since.
    """
    row = raw.execute("SELECT owner FROM leases WHERE round_id = ?", (round_id,)).fetchone()
    if row is None or row[0] != owner:
        raise LeaseLostError(round_id, row[0] if row else None)


def renew(
    raw: sqlite3.Connection, round_ids: Iterable[int], owner: str, lease_s: float
) -> set[int]:
    """Extend ``owner``'s leases on ``round_ids``; return the ids it no longer holds."""
    ids = list(round_ids)
    if not ids:
        return set()
    until = time.time() + lease_s
    lost = set()
    for round_id in ids:
        cur = raw.execute(
            "UPDATE leases SET expires_at = ? WHERE round_id = ? AND owner = ?",
            (until, round_id, owner),
        )
        if cur.rowcount == 0:
            lost.add(round_id)
    return lost


def release(raw: sqlite3.Connection, round_ids: Iterable[int], owner: str) -> None:
    """Drop ``owner``'s leases on ``round_ids`` (rounds it ended or stopped playing)."""
    raw.executemany(
        "DELETE FROM leases WHERE round_id = ? AND owner = ?",
        [(round_id, owner) for round_id in round_ids],
    )
