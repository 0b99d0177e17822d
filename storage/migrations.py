"""Numbered schema migrations. Append a new one; never edit one that has shipped."""

from __future__ import annotations

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
]

LATEST = MIGRATIONS[-1][0]
