"""Numbered schema migrations. Append a new one; never edit one that has shipped.

A migration is SQL, optionally followed by a Python step (``STEPS``) that fills what the
SQL created from the rows already there; both land in one transaction with the version.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from storage import rollups

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE rounds (
            id               INTEGER PRIMARY KEY,
            surface          TEXT NOT NULL,            -- arena | console | discord
            guild_id         TEXT,
            channel_id       TEXT,
            rules_json       TEXT NOT NULL,
            mode             TEXT NOT NULL,            -- elimination | sudden_death
            prompt_lang      TEXT NOT NULL,
            prompt_version   TEXT NOT NULL,
            probe_version    TEXT NOT NULL,
            probes_json      TEXT NOT NULL,            -- which probes run
            app_version      TEXT NOT NULL,
            start_word       TEXT NOT NULL,
            max_turns        INTEGER NOT NULL,
            person_timeout_s REAL NOT NULL,
            pacing_s         REAL NOT NULL,
            salt             TEXT NOT NULL,            -- seeds seeded choices of this round
            status           TEXT NOT NULL,            -- running | finished | interrupted | stopped
            winner_seat      INTEGER,                  -- seats.position
            end_reason       TEXT,
            created_at       TEXT NOT NULL,
            ended_at         TEXT
        );
        CREATE INDEX rounds_status ON rounds(status);
        CREATE INDEX rounds_channel ON rounds(channel_id, created_at);

        CREATE TABLE seats (
            id            INTEGER PRIMARY KEY,
            round_id      INTEGER NOT NULL REFERENCES rounds(id),
            position      INTEGER NOT NULL,
            kind          TEXT NOT NULL,               -- model | person
            player_key    TEXT,                        -- roster key (models)
            user_id       TEXT,                        -- person id on the surface
            display_name  TEXT NOT NULL,
            provider      TEXT,
            model_asked   TEXT,
            params_json   TEXT NOT NULL,               -- the roster entry (no keys)
            status        TEXT NOT NULL,               -- playing | out | left
            out_reason    TEXT,
            out_turn      INTEGER,
            UNIQUE (round_id, position)
        );

        CREATE TABLE turns (
            id              INTEGER PRIMARY KEY,
            round_id        INTEGER NOT NULL REFERENCES rounds(id),
            seat_id         INTEGER NOT NULL REFERENCES seats(id),
            idx             INTEGER NOT NULL,          -- 0, 1, 2 ... in the round
            outcome         TEXT NOT NULL,             -- accepted | violation | no_answer
            required_json   TEXT NOT NULL,             -- morae the word had to start with
            prev_word       TEXT,
            raw_text        TEXT,                      -- the whole message or reply
            word            TEXT,
            reading         TEXT,
            reading_source  TEXT,
            first_mora      TEXT,
            next_json       TEXT NOT NULL,
            violations_json TEXT NOT NULL,
            self_flag       TEXT,
            no_answer_reason TEXT,
            started_at      TEXT NOT NULL,
            ended_at        TEXT NOT NULL,
            duration_ms     REAL NOT NULL,
            UNIQUE (round_id, idx)
        );
        CREATE INDEX turns_seat ON turns(seat_id);

        CREATE TABLE probes (
            id               INTEGER PRIMARY KEY,
            round_id         INTEGER NOT NULL REFERENCES rounds(id),
            seat_id          INTEGER NOT NULL REFERENCES seats(id),
            turn_id          INTEGER NOT NULL REFERENCES turns(id),
            kind             TEXT NOT NULL,            -- intent | pushback
            template_version TEXT NOT NULL,
            prompt           TEXT NOT NULL,
            reply            TEXT,
            label            TEXT NOT NULL,
            exchange_json    TEXT NOT NULL,            -- every prompt and reply, in order
            created_at       TEXT NOT NULL,
            UNIQUE (turn_id, kind)
        );

        CREATE TABLE calls (
            id               INTEGER PRIMARY KEY,
            round_id         INTEGER NOT NULL REFERENCES rounds(id),
            seat_id          INTEGER NOT NULL REFERENCES seats(id),
            turn_id          INTEGER REFERENCES turns(id),
            probe_id         INTEGER REFERENCES probes(id),
            purpose          TEXT NOT NULL,
            player_key       TEXT NOT NULL,
            provider         TEXT NOT NULL,
            model_asked      TEXT NOT NULL,
            model_reported   TEXT,
            ok               INTEGER NOT NULL,
            error            TEXT,
            params_json      TEXT NOT NULL,
            started_at       TEXT NOT NULL,
            latency_ms       REAL NOT NULL,
            input_tokens     INTEGER,
            output_tokens    INTEGER,
            reasoning_tokens INTEGER,
            request_id       TEXT,
            finish_reason    TEXT,
            retries          INTEGER NOT NULL,
            attempts_json    TEXT NOT NULL,
            logprobs_json    TEXT,
            request_body     TEXT,
            response_body    TEXT
        );
        CREATE INDEX calls_turn ON calls(turn_id);
        CREATE INDEX calls_round ON calls(round_id);

        CREATE TABLE channel_settings (
            channel_id   TEXT PRIMARY KEY,
            guild_id     TEXT,
            rules_json   TEXT NOT NULL,
            extra_json   TEXT NOT NULL DEFAULT '{}',
            updated_at   TEXT NOT NULL
        );
        """,
    ),
    (
        2,
        """
        -- Statistics join every turn to its call; with the analytic columns in the index
        -- they never read the raw bodies (most of a call row's bytes).
        CREATE INDEX calls_turn_stats ON calls(
            turn_id, purpose, model_reported, input_tokens, output_tokens, latency_ms, retries);
        DROP INDEX calls_turn;
        -- Transcript exports read a round's probes.
        CREATE INDEX probes_round ON probes(round_id);
        """,
    ),
    (
        3,
        # Statistics rollups (storage/rollups.py), filled from the turns already stored.
        rollups.SCHEMA,
    ),
]


class SchemaTooNewError(RuntimeError):
    pass


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {3: rollups.backfill}

LATEST = MIGRATIONS[-1][0]


def apply(raw: sqlite3.Connection) -> int:
    """Bring a database (a connection in autocommit mode) to LATEST; returns the version
    it had. Each migration, its step and its version row are one transaction."""
    raw.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    current = int(raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    if current > LATEST:
        raise SchemaTooNewError(f"schema version {current}; this Mikan knows up to {LATEST}")
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        try:
            # executescript commits a pending transaction first: BEGIN goes in the script.
            raw.executescript(f"BEGIN;\n{sql}")
            step = STEPS.get(version)
            if step is not None:
                step(raw)
            raw.execute(
                "INSERT INTO schema_version VALUES (?, ?)",
                (version, datetime.now(UTC).isoformat(timespec="milliseconds")),
            )
            raw.execute("COMMIT")
        except BaseException:
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise
    return current


def upgrade_file(path: str | Path) -> int:
    """Migrate the database file at ``path`` to LATEST (a no-op when it is there); for
    commands that then read it through a read-only connection. Returns its old version."""
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA busy_timeout = 5000")
        return apply(raw)
    finally:
        raw.close()
