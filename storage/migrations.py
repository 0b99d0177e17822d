"""Numbered schema migrations, each one frozen: append a new one; never edit a shipped one.

A migration is one function, registered in order with ``@migration(n)``, that holds all
it does: its SQL written out in it and any Python step (a backfill of what the SQL
created from the rows already there) written out in it too. It imports no live code
(nothing of ``storage.rollups`` or any other module that keeps changing), so editing
the live code can never rewrite what a migration did to the databases it already ran
on. ``apply`` runs each pending migration and its version row as one transaction, and
refuses a database newer than this code. Besides the standard library this module
imports only ``storage.errors`` and ``storage.files`` (themselves standard library
only), for ``upgrade_file``'s check of the file; no migration uses them.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The file check and its errors, for ``apply`` and ``upgrade_file``; never used by a
# migration. Both modules import only the standard library (tests/storage/
# test_migrations.py checks it). SchemaTooNewError stays importable from here.
from storage import files
from storage.errors import SchemaTooNewError

# A migration: run inside the transaction ``apply`` opened, on a connection in
# autocommit mode (isolation_level None); it must not commit.
Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[tuple[int, Migration]] = []


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register the decorated function as migration ``version``, the next number due."""

    def register(fn: Migration) -> Migration:
        due = MIGRATIONS[-1][0] + 1 if MIGRATIONS else 1
        if version != due:
            raise ValueError(f"migration {version} registered where {due} was due")
        MIGRATIONS.append((version, fn))
        return fn

    return register


def _script(raw: sqlite3.Connection, script: str) -> None:
    """Run SQL ``script`` statement by statement in the open transaction.

    (``executescript`` would commit it first.) Shipped migrations rely on this: keep
    what it does as it is.
    """
    pending = ""
    *pieces, tail = script.split(";")
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):  # not a ";" inside a literal or comment
            raw.execute(pending)
            pending = ""
    if (pending + tail).strip():
        raw.execute(pending + tail)


@migration(1)
def _first_schema(raw: sqlite3.Connection) -> None:
    """The first schema: rounds, their seats, turns, probes, model calls, channel settings."""
    _script(
        raw,
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
    )


@migration(2)
def _statistics_indexes(raw: sqlite3.Connection) -> None:
    """Indexes for statistics and transcript exports.

    Statistics join every turn to its call; a covering index spares them the call rows'
    raw bodies (most of their bytes). Transcript exports read a round's probes.
    """
    _script(
        raw,
        """
        -- Statistics join every turn to its call; with the analytic columns in the index
        -- they never read the raw bodies (most of a call row's bytes).
        CREATE INDEX calls_turn_stats ON calls(
            turn_id, purpose, model_reported, input_tokens, output_tokens, latency_ms, retries);
        DROP INDEX calls_turn;
        -- Transcript exports read a round's probes.
        CREATE INDEX probes_round ON probes(round_id);
        """,
    )


@migration(3)
def _statistics_rollups(raw: sqlite3.Connection) -> None:
    """Statistics rollups: the ``stats_*`` tables, filled from the rows already stored.

    ``mikan stats`` sums these per (player, model, channel, prompt language, UTC day)
    tables instead of reading every turn; the live writes keep them up to date
    (storage/rollups.py). This creates them and adds every stored model turn and probe,
    in the order they were written, exactly as the rollup writes of this migration's day
    did: a frozen copy of that code, which later changes to storage/rollups.py do not
    touch.
    """
    schema = textwrap.dedent(
        """
        CREATE TABLE stats_groups (
            id          INTEGER PRIMARY KEY,
            player_key  TEXT NOT NULL,
            model       TEXT NOT NULL,       -- the id the API reported (see Rollups._model)
            channel_id  TEXT NOT NULL,       -- '' for arena and console rounds
            prompt_lang TEXT NOT NULL,
            day         TEXT NOT NULL,       -- YYYY-MM-DD (UTC) the round was created
            UNIQUE (player_key, model, channel_id, prompt_lang, day)
        );
        CREATE TABLE stats_totals (
            group_id      INTEGER PRIMARY KEY REFERENCES stats_groups(id),
            rounds        INTEGER NOT NULL DEFAULT 0,
            turns         INTEGER NOT NULL DEFAULT 0,
            words         INTEGER NOT NULL DEFAULT 0,
            judged        INTEGER NOT NULL DEFAULT 0,   -- turns that got an answer
            no_answer     INTEGER NOT NULL DEFAULT 0,
            violations    INTEGER NOT NULL DEFAULT 0,
            ends_with_n   INTEGER NOT NULL DEFAULT 0,
            no_move       INTEGER NOT NULL DEFAULT 0,
            admits        INTEGER NOT NULL DEFAULT 0,   -- violations admitted in the same reply
            continues     INTEGER NOT NULL DEFAULT 0,   -- violations handed on as if valid
            chars_n       INTEGER NOT NULL DEFAULT 0,
            chars_sum     INTEGER NOT NULL DEFAULT 0,
            out_tokens_n  INTEGER NOT NULL DEFAULT 0,
            out_tokens_sum INTEGER NOT NULL DEFAULT 0,
            in_tokens_n   INTEGER NOT NULL DEFAULT 0,
            in_tokens_sum INTEGER NOT NULL DEFAULT 0,
            calls         INTEGER NOT NULL DEFAULT 0,
            retries_sum   INTEGER NOT NULL DEFAULT 0,
            calls_retried INTEGER NOT NULL DEFAULT 0,
            latency_sum   REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE stats_rounds (
            group_id INTEGER NOT NULL, round_id INTEGER NOT NULL,
            PRIMARY KEY (group_id, round_id)
        ) WITHOUT ROWID;
        CREATE TABLE stats_codes (
            group_id INTEGER NOT NULL, code TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (group_id, code)
        ) WITHOUT ROWID;
        CREATE TABLE stats_required (      -- judged turns by the morae they had to start with
            group_id INTEGER NOT NULL, required_json TEXT NOT NULL,
            n INTEGER NOT NULL, ends_with_n INTEGER NOT NULL,
            PRIMARY KEY (group_id, required_json)
        ) WITHOUT ROWID;
        CREATE TABLE stats_attractors (    -- violating words by the morae required
            group_id INTEGER NOT NULL, required_json TEXT NOT NULL, word TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (group_id, required_json, word)
        ) WITHOUT ROWID;
        CREATE TABLE stats_turn_index (    -- judged turns by their index in the round
            group_id INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL,
            chars_n INTEGER NOT NULL, chars_sum INTEGER NOT NULL,
            out_tokens_n INTEGER NOT NULL, out_tokens_sum INTEGER NOT NULL,
            PRIMARY KEY (group_id, idx)
        ) WITHOUT ROWID;
        CREATE TABLE stats_latency (       -- turn calls by latency, rounded to the millisecond
            group_id INTEGER NOT NULL, ms INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (group_id, ms)
        ) WITHOUT ROWID;
        CREATE TABLE stats_probes (
            group_id INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (group_id, kind, label)
        ) WITHOUT ROWID;
        CREATE TABLE stats_last_model (    -- the id each player last reported
            player_key TEXT PRIMARY KEY, model TEXT NOT NULL
        );
        """
    )
    _script(raw, schema)

    limit = 20_000  # entries per memory; past it, start over
    seat_fields = ("kind", "player_key", "model_asked", "channel", "lang", "day")
    turn_fields = (
        "round_id",
        "seat_id",
        "idx",
        "outcome",
        "required_json",
        "raw_text",
        "word",
        "violations_json",
        "self_flag",
    )
    call_fields = (
        "purpose",
        "model_reported",
        "input_tokens",
        "output_tokens",
        "latency_ms",
        "retries",
    )
    totals = (
        "turns",
        "words",
        "judged",
        "no_answer",
        "violations",
        "ends_with_n",
        "no_move",
        "admits",
        "continues",
        "chars_n",
        "chars_sum",
        "out_tokens_n",
        "out_tokens_sum",
        "in_tokens_n",
        "in_tokens_sum",
        "calls",
        "retries_sum",
        "calls_retried",
        "latency_sum",
    )
    add_totals = (
        f"INSERT INTO stats_totals (group_id, {', '.join(totals)}) "
        f"VALUES (?, {', '.join('?' for _ in totals)}) ON CONFLICT (group_id) DO UPDATE SET "
        + ", ".join(f"{c} = {c} + excluded.{c}" for c in totals)
    )
    # What was looked up or written already (all of it inside this transaction).
    seats: dict[int, dict[str, Any] | None] = {}
    groups: dict[tuple[str, ...], int] = {}
    counted: set[tuple[int, int]] = set()
    last_model: dict[str, str] = {}

    def one(sql: str, params: tuple[Any, ...]) -> Any:
        row = raw.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def latency_bin(ms: float) -> int:
        return int(ms + 0.5) if ms >= 0 else -int(-ms + 0.5)

    def seat_of(seat_id: int) -> dict[str, Any] | None:
        if seat_id not in seats:
            if len(seats) > limit:
                seats.clear()
            row = raw.execute(
                "SELECT s.kind, s.player_key, s.model_asked, r.channel_id, r.prompt_lang, "
                "substr(r.created_at, 1, 10) FROM seats s JOIN rounds r ON r.id = s.round_id "
                "WHERE s.id = ?",
                (seat_id,),
            ).fetchone()
            seats[seat_id] = None if row is None else dict(zip(seat_fields, row, strict=True))
        return seats[seat_id]

    def model_of(
        turn_id: int, turn: dict[str, Any], seat: dict[str, Any], reported: Any, remember: bool
    ) -> str:
        # The id the turn's call reported; without one, the id last reported on its
        # seat before it, else its player's last, else the model asked for.
        player = seat["player_key"] or ""
        if reported:
            if remember and last_model.get(player) != reported:
                raw.execute(
                    "INSERT INTO stats_last_model VALUES (?, ?) "
                    "ON CONFLICT (player_key) DO UPDATE SET model = excluded.model",
                    (player, reported),
                )
                last_model[player] = str(reported)
            return str(reported)
        on_seat = one(
            "SELECT model_reported FROM calls WHERE round_id = ? AND seat_id = ? "
            "AND purpose = 'turn' AND model_reported IS NOT NULL AND turn_id < ? "
            "ORDER BY id DESC LIMIT 1",
            (turn["round_id"], turn["seat_id"], turn_id),
        )
        if on_seat is not None:
            return str(on_seat)
        last = one("SELECT model FROM stats_last_model WHERE player_key = ?", (player,))
        return str(last or seat["model_asked"] or "")

    def group_of(seat: dict[str, Any], model: str) -> int:
        key = (seat["player_key"] or "", model, seat["channel"] or "", seat["lang"], seat["day"])
        group = groups.get(key)
        if group is None:
            if len(groups) > limit:
                groups.clear()
            group = groups[key] = int(
                one(
                    "INSERT INTO stats_groups (player_key, model, channel_id, prompt_lang, day) "
                    "VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (player_key, model, channel_id, prompt_lang, day) "
                    "DO UPDATE SET day = excluded.day RETURNING id",
                    key,
                )
            )
        return group

    def turn_group(
        turn_id: int, turn: dict[str, Any], call: dict[str, Any] | None, remember: bool
    ) -> int | None:
        seat = seat_of(turn["seat_id"])
        if seat is None or seat["kind"] != "model":
            return None  # a person's turn counts nowhere
        model = model_of(turn_id, turn, seat, call and call.get("model_reported"), remember)
        return group_of(seat, model)

    def add_turn(group: int, turn: dict[str, Any], call: dict[str, Any] | None) -> None:
        outcome, word, flag = turn["outcome"], turn.get("word"), turn.get("self_flag")
        codes = json.loads(turn.get("violations_json") or "[]")
        judged = outcome != "no_answer"
        violation = outcome == "violation"
        ends_n = "ends_with_n" in codes
        text = turn.get("raw_text")
        chars = len(text) if judged and text is not None else None
        c = call or {}
        out_tokens, in_tokens = c.get("output_tokens"), c.get("input_tokens")
        retries = c.get("retries") or 0
        raw.execute(
            add_totals,
            (
                group,
                1,
                word is not None,
                judged,
                not judged,
                violation,
                ends_n,
                flag == "no_move",
                violation and flag == "admits",
                violation and flag == "continues",
                chars is not None,
                chars or 0,
                out_tokens is not None,
                out_tokens or 0,
                in_tokens is not None,
                in_tokens or 0,
                call is not None,
                retries,
                retries > 0,
                c.get("latency_ms") or 0.0,
            ),
        )
        for code in codes:
            raw.execute(
                "INSERT INTO stats_codes VALUES (?, ?, 1) "
                "ON CONFLICT (group_id, code) DO UPDATE SET n = n + 1",
                (group, code),
            )
        required = turn["required_json"]
        if judged:
            raw.execute(
                "INSERT INTO stats_required VALUES (?, ?, 1, ?) "
                "ON CONFLICT (group_id, required_json) DO UPDATE SET n = n + 1, "
                "ends_with_n = ends_with_n + excluded.ends_with_n",
                (group, required, ends_n),
            )
            raw.execute(
                "INSERT INTO stats_turn_index VALUES (?, ?, 1, ?, ?, ?, ?) "
                "ON CONFLICT (group_id, idx) DO UPDATE SET "
                "n = n + 1, chars_n = chars_n + excluded.chars_n, "
                "chars_sum = chars_sum + excluded.chars_sum, "
                "out_tokens_n = out_tokens_n + excluded.out_tokens_n, "
                "out_tokens_sum = out_tokens_sum + excluded.out_tokens_sum",
                (
                    group,
                    turn["idx"],
                    chars is not None,
                    chars or 0,
                    out_tokens is not None,
                    out_tokens or 0,
                ),
            )
        if violation and word is not None:
            raw.execute(
                "INSERT INTO stats_attractors VALUES (?, ?, ?, 1) "
                "ON CONFLICT (group_id, required_json, word) DO UPDATE SET n = n + 1",
                (group, required, word),
            )
        if call is not None:
            raw.execute(
                "INSERT INTO stats_latency VALUES (?, ?, 1) "
                "ON CONFLICT (group_id, ms) DO UPDATE SET n = n + 1",
                (group, latency_bin(c.get("latency_ms") or 0.0)),
            )

    def record_turn(turn_id: int, turn: dict[str, Any], call: dict[str, Any] | None) -> None:
        if call is not None and call.get("purpose", "turn") != "turn":
            call = None
        group = turn_group(turn_id, turn, call, remember=True)
        if group is None:
            return
        round_key = (group, turn["round_id"])
        if round_key not in counted:
            if len(counted) > limit:
                counted.clear()
            if raw.execute("INSERT OR IGNORE INTO stats_rounds VALUES (?, ?)", round_key).rowcount:
                raw.execute(
                    "INSERT INTO stats_totals (group_id, rounds) VALUES (?, 1) "
                    "ON CONFLICT (group_id) DO UPDATE SET rounds = rounds + 1",
                    (group,),
                )
            counted.add(round_key)
        add_turn(group, turn, call)

    def record_probe(turn_id: int, kind: str, label: str) -> None:
        # A probe counts in its turn's group.
        row = raw.execute(
            f"SELECT {', '.join('t.' + f for f in turn_fields)}, c.model_reported FROM turns t "
            "LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn' WHERE t.id = ?",
            (turn_id,),
        ).fetchone()
        if row is None:
            return
        turn = dict(zip(turn_fields, row[:-1], strict=True))
        group = turn_group(turn_id, turn, {"model_reported": row[-1]}, remember=False)
        if group is None:
            return
        raw.execute(
            "INSERT INTO stats_probes VALUES (?, ?, ?, 1) "
            "ON CONFLICT (group_id, kind, label) DO UPDATE SET n = n + 1",
            (group, kind, label),
        )

    # Every turn (with its turn call), then every probe, in the order they were written.
    reader = raw.execute(
        f"SELECT t.id, {', '.join('t.' + f for f in turn_fields)}, c.id, "
        f"{', '.join('c.' + f for f in call_fields)} FROM turns t "
        "LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn' "
        "AND c.probe_id IS NULL ORDER BY t.id"
    )
    n = len(turn_fields)
    while rows := reader.fetchmany(2000):
        for row in rows:
            turn = dict(zip(turn_fields, row[1 : 1 + n], strict=True))
            call = None if row[1 + n] is None else dict(zip(call_fields, row[2 + n :], strict=True))
            record_turn(row[0], turn, call)
    reader = raw.execute("SELECT turn_id, kind, label FROM probes ORDER BY id")
    while rows := reader.fetchmany(2000):
        for turn_id, kind, label in rows:
            record_probe(turn_id, kind, label)


@migration(4)
def _round_leases(raw: sqlite3.Connection) -> None:
    """Round leases: which worker plays a running round, and until when.

    One row per leased round. ``owner`` names a worker (``host:pid:token``);
    ``expires_at`` is Unix time (seconds), renewed while the worker plays. A round with
    no row, or an expired one, is free to be claimed. Bookkeeping between workers, not a
    record of the game: exports leave it out.
    """
    _script(
        raw,
        """
        CREATE TABLE leases (
            round_id   INTEGER PRIMARY KEY REFERENCES rounds(id) ON DELETE CASCADE,
            owner      TEXT NOT NULL,
            expires_at REAL NOT NULL
        );
        CREATE INDEX leases_owner ON leases (owner);
        """,
    )


@migration(5)
def _versioned_labels(raw: sqlite3.Connection) -> None:
    """Labels carry the version of the code that made them, and may be remade.

    ``turns.reader`` names the reply reader that produced the turn's word and self-flag
    as played (NULL: the first reader, ``reader-1``); ``turns.corrected_to`` is the word
    a reply corrected itself to. ``probes.classifier`` names the probe-answer classifier
    (NULL: ``probe-labels-1``). ``turn_labels`` and ``probe_labels`` hold labels remade
    later by ``mikan relabel``, one row per turn (probe) and version, beside the
    originals, which are never overwritten.
    """
    _script(
        raw,
        """
        ALTER TABLE turns ADD COLUMN reader TEXT;
        ALTER TABLE turns ADD COLUMN corrected_to TEXT;
        ALTER TABLE probes ADD COLUMN classifier TEXT;
        CREATE TABLE turn_labels (
            turn_id         INTEGER NOT NULL REFERENCES turns(id),
            reader          TEXT NOT NULL,
            outcome         TEXT NOT NULL,
            word            TEXT,
            reading         TEXT,
            reading_source  TEXT,
            first_mora      TEXT,
            next_json       TEXT NOT NULL,
            violations_json TEXT NOT NULL,
            self_flag       TEXT,
            corrected_to    TEXT,
            created_at      TEXT NOT NULL,
            PRIMARY KEY (turn_id, reader)
        );
        CREATE TABLE probe_labels (
            probe_id        INTEGER NOT NULL REFERENCES probes(id),
            classifier      TEXT NOT NULL,
            label           TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            PRIMARY KEY (probe_id, classifier)
        );
        """,
    )


@migration(6)
def _grades(raw: sqlite3.Connection) -> None:
    """Labels a model grader gave (``mikan relabel --grader``), beside the rules' labels.

    One row per turn (probe), grader and grading-prompt version. ``reader``
    (``classifier``) and ``rule_*`` are the rules' label the grade is compared with;
    ``unsure_json`` lists why the rules were unsure (empty when the grader was asked
    anyway). ``ok`` is 0 when the grader gave no usable label; ``call_json`` is the
    grader's call record (keys scrubbed), as a ``calls`` row would hold it.
    """
    _script(
        raw,
        """
        CREATE TABLE turn_grades (
            turn_id         INTEGER NOT NULL REFERENCES turns(id),
            grader          TEXT NOT NULL,
            grading         TEXT NOT NULL,
            reader          TEXT NOT NULL,
            rule_word       TEXT,
            rule_flag       TEXT,
            unsure_json     TEXT NOT NULL,
            ok              INTEGER NOT NULL,
            word            TEXT,
            self_flag       TEXT,
            corrected_to    TEXT,
            call_json       TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            PRIMARY KEY (turn_id, grader, grading)
        );
        CREATE TABLE probe_grades (
            probe_id        INTEGER NOT NULL REFERENCES probes(id),
            grader          TEXT NOT NULL,
            grading         TEXT NOT NULL,
            classifier      TEXT NOT NULL,
            rule_label      TEXT,
            unsure_json     TEXT NOT NULL,
            ok              INTEGER NOT NULL,
            label           TEXT,
            call_json       TEXT NOT NULL,
            created_at      TEXT NOT NULL,
            PRIMARY KEY (probe_id, grader, grading)
        );
        """,
    )


@migration(7)
def _provider_fidelity(raw: sqlite3.Connection) -> None:
    """What a call records of how the provider meant its reply, and what it cost.

    ``calls`` gains ``finish`` (stop, truncated, refused, filtered, error: the shared
    taxonomy; ``finish_reason`` stays the provider's value), ``reasoning`` (thinking
    kept out of the judged text), ``cached_input_tokens`` and ``cache_write_tokens``,
    ``usage_json`` (the provider's usage object), ``usage_version`` (1: the token
    columns are normalised; NULL, every call stored before: the provider's own
    numbers), ``system_fingerprint`` and ``params_dropped_json`` (configured
    parameters the model did not take, so not sent). The rollups gain
    ``stats_no_answer`` (no_answer turns by reason code: truncated, refused, filtered,
    error, else call_failed; every no_answer before this schema was a failed call, so
    the backfill counts them all as call_failed) and token sums for cost estimates
    over normalised calls only (none before this schema).
    """
    # Dedented, as migration 3's: SQLite keeps a table's SQL as written, and
    # storage/rollups.py SCHEMA declares the same text.
    _script(
        raw,
        textwrap.dedent(
            """
            CREATE TABLE stats_no_answer (     -- no_answer turns by reason code
                group_id INTEGER NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY (group_id, reason)
            ) WITHOUT ROWID;
            CREATE TABLE stats_usage (         -- tokens of normalised turn calls (usage_version 1)
                group_id      INTEGER PRIMARY KEY REFERENCES stats_groups(id),
                calls         INTEGER NOT NULL DEFAULT 0,
                input_sum     INTEGER NOT NULL DEFAULT 0,
                cached_sum    INTEGER NOT NULL DEFAULT 0,
                cache_write_sum INTEGER NOT NULL DEFAULT 0,
                output_sum    INTEGER NOT NULL DEFAULT 0,
                reasoning_sum INTEGER NOT NULL DEFAULT 0
            );
            """
        ),
    )
    _script(
        raw,
        """
        ALTER TABLE calls ADD COLUMN finish TEXT;
        ALTER TABLE calls ADD COLUMN reasoning TEXT;
        ALTER TABLE calls ADD COLUMN cached_input_tokens INTEGER;
        ALTER TABLE calls ADD COLUMN cache_write_tokens INTEGER;
        ALTER TABLE calls ADD COLUMN usage_json TEXT;
        ALTER TABLE calls ADD COLUMN usage_version INTEGER;
        ALTER TABLE calls ADD COLUMN system_fingerprint TEXT;
        ALTER TABLE calls ADD COLUMN params_dropped_json TEXT;
        INSERT INTO stats_no_answer (group_id, reason, n)
            SELECT group_id, 'call_failed', no_answer FROM stats_totals WHERE no_answer > 0;
        """,
    )


LATEST = MIGRATIONS[-1][0]


def apply(raw: sqlite3.Connection) -> int:
    """Bring a database (a connection in autocommit mode) to LATEST; return its old version.

    Each migration and its version row are one transaction. Raises
    ``SchemaTooNewError`` (and changes nothing) for a database newer than LATEST; a
    database already at LATEST is not written to.
    """
    raw.execute(
        "CREATE TABLE IF NOT EXISTS schema_version "
        "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    current = int(raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)
    if current > LATEST:
        file = raw.execute("PRAGMA database_list").fetchone()[2] or ":memory:"
        raise SchemaTooNewError(file, current, LATEST)
    for version, step in MIGRATIONS:
        if version <= current:
            continue
        try:
            if raw.in_transaction:  # as executescript did: a pending transaction commits
                raw.execute("COMMIT")
            # IMMEDIATE, then look again: several workers opening one new file at once
            # each see the same old version; only the first to get the write lock
            # migrates, the others find it done.
            raw.execute("BEGIN IMMEDIATE")
            done = raw.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            if int(done or 0) >= version:
                raw.execute("ROLLBACK")
                continue
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
    """Migrate the Mikan database file at ``path`` to LATEST; return the version it had.

    For commands that then read it through a read-only connection. The file is checked
    first (``storage.files.require``, as for a reader) and refused unchanged, with
    ``MissingDatabaseError`` when there is none (nothing is created),
    ``ForeignDatabaseError`` when it is not a Mikan database and ``SchemaTooNewError``
    when it is newer than this code. A database already at LATEST is not even opened
    for writing (so a read-only copy works).
    """
    found = files.require(path, create=False, init=False, latest=LATEST)
    if found.version == LATEST:
        return LATEST
    raw = files.connect(path, create=False)
    try:
        raw.execute("PRAGMA busy_timeout = 5000")
        return apply(raw)
    finally:
        raw.close()
