"""Statistics rollups: the research figures' sums, kept up to date with each turn.

``mikan stats`` reads these small tables instead of every turn, so its time follows the
number of groups and days, not of turns (a month of play or ten years read alike).
Each model turn adds to the rollup of its *group*: roster key, model id, channel, prompt
language, and the UTC day its round was created (the finest ``--since`` there is). Sums
and counts only: every rate, mean and trend is a ratio of two of them; latency quantiles
come from a histogram at 1 ms resolution.

Written in the same transaction as the turn (``Database.add_turn``), so a rollup never
counts a turn the database does not hold. ``backfill`` replays existing rows through the
same functions (``bench/export.py``). Schema migration 3, which created these tables,
holds its own frozen copy of this code (storage/migrations.py): changing it here changes
new writes only, so a change to what is stored needs a new migration.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

SCHEMA = """
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

# no_answer reasons counted by name (a reply that ended so: bot/players/finish.py);
# every other reason is a failed call, counted as call_failed.
NO_ANSWER_CODES = ("truncated", "refused", "filtered", "error")


def no_answer_code(reason: str | None) -> str:
    """The rollup's name for a no_answer reason: a finish code, else ``call_failed``."""
    return reason if reason in NO_ANSWER_CODES else "call_failed"


_TOTALS = (
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
_ADD_TOTALS = (
    f"INSERT INTO stats_totals (group_id, {', '.join(_TOTALS)}) "
    f"VALUES (?, {', '.join('?' for _ in _TOTALS)}) ON CONFLICT (group_id) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _TOTALS)
)


def _one(raw: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    row = raw.execute(sql, params).fetchone()
    return None if row is None else row[0]


def latency_bin(ms: float) -> int:
    """Return milliseconds rounded to the nearest whole one (half away from zero)."""
    return int(ms + 0.5) if ms >= 0 else -int(-ms + 0.5)


_SEAT_FIELDS = ("kind", "player_key", "model_asked", "channel", "lang", "day")
_TURN_FIELDS = (
    "round_id",
    "seat_id",
    "idx",
    "outcome",
    "required_json",
    "raw_text",
    "word",
    "violations_json",
    "self_flag",
    "no_answer_reason",
)
# The turn fields a relabel may change (``turn_labels`` holds them per reader version).
_LABELLED = frozenset({"outcome", "word", "violations_json", "self_flag"})
_CALL_FIELDS = (
    "purpose",
    "model_reported",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "retries",
    "usage_version",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


class Rollups:
    """Keeps the rollups of one writer connection, inside the writer's transactions.

    It remembers what it looked up or wrote — seats (never change), group ids, (group,
    round) pairs already counted, each player's last model — to spare statements on the
    write path; all of it is only as durable as the transaction that wrote it, so
    ``forget`` runs whenever one rolls back.
    """

    LIMIT = 20_000  # entries per memory; past it, start over (a months-long bot)

    def __init__(self) -> None:
        """Start with nothing remembered."""
        self._seats: dict[int, dict[str, Any] | None] = {}
        self._groups: dict[tuple[str, ...], int] = {}
        self._rounds: set[tuple[int, int]] = set()
        self._last_model: dict[str, str] = {}

    def forget(self) -> None:
        """Drop everything remembered (a transaction that wrote some of it rolled back)."""
        self._seats.clear()
        self._groups.clear()
        self._rounds.clear()
        self._last_model.clear()

    def _seat(self, raw: sqlite3.Connection, seat_id: int) -> dict[str, Any] | None:
        if seat_id not in self._seats:
            if len(self._seats) > self.LIMIT:
                self._seats.clear()
            row = raw.execute(
                "SELECT s.kind, s.player_key, s.model_asked, r.channel_id, r.prompt_lang, "
                "substr(r.created_at, 1, 10) FROM seats s JOIN rounds r ON r.id = s.round_id "
                "WHERE s.id = ?",
                (seat_id,),
            ).fetchone()
            self._seats[seat_id] = (
                None if row is None else dict(zip(_SEAT_FIELDS, row, strict=True))
            )
        return self._seats[seat_id]

    def _model(
        self,
        raw: sqlite3.Connection,
        turn_id: int,
        turn: Mapping[str, Any],
        reported: Any,
        remember: bool,
    ) -> str:
        """Return the model id a turn counts under.

        The one its call reported; for a turn without one (no answer), the id last
        reported on its seat before it, else the id its player last reported, else the
        model asked for. ``remember``: this is the turn being written, so its id is now
        its player's last.
        """
        seat = self._seats[turn["seat_id"]]
        assert seat is not None
        player = seat["player_key"] or ""
        if reported:
            if remember and self._last_model.get(player) != reported:
                raw.execute(
                    "INSERT INTO stats_last_model VALUES (?, ?) "
                    "ON CONFLICT (player_key) DO UPDATE SET model = excluded.model",
                    (player, reported),
                )
                self._last_model[player] = str(reported)
            return str(reported)
        on_seat = _one(
            raw,
            "SELECT model_reported FROM calls WHERE round_id = ? AND seat_id = ? "
            "AND purpose = 'turn' AND model_reported IS NOT NULL AND turn_id < ? "
            "ORDER BY id DESC LIMIT 1",
            (turn["round_id"], turn["seat_id"], turn_id),
        )
        if on_seat is not None:
            return str(on_seat)
        last = _one(raw, "SELECT model FROM stats_last_model WHERE player_key = ?", (player,))
        return str(last or seat["model_asked"] or "")

    def _group(self, raw: sqlite3.Connection, seat: Mapping[str, Any], model: str) -> int:
        key = (seat["player_key"] or "", model, seat["channel"] or "", seat["lang"], seat["day"])
        group = self._groups.get(key)
        if group is None:
            if len(self._groups) > self.LIMIT:
                self._groups.clear()
            group = self._groups[key] = int(
                _one(
                    raw,
                    "INSERT INTO stats_groups (player_key, model, channel_id, prompt_lang, day) "
                    "VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (player_key, model, channel_id, prompt_lang, day) "
                    "DO UPDATE SET day = excluded.day RETURNING id",
                    key,
                )
            )
        return group

    def _turn_group(
        self,
        raw: sqlite3.Connection,
        turn_id: int,
        turn: Mapping[str, Any],
        call: Mapping[str, Any] | None,
        remember: bool = True,
    ) -> int | None:
        """The group a turn counts in (None for a person's turn)."""
        seat = self._seat(raw, turn["seat_id"])
        if seat is None or seat["kind"] != "model":
            return None
        model = self._model(raw, turn_id, turn, call and call.get("model_reported"), remember)
        return self._group(raw, seat, model)

    def record_turn(
        self,
        raw: sqlite3.Connection,
        turn_id: int,
        turn: Mapping[str, Any],
        call: Mapping[str, Any] | None,
    ) -> None:
        """Add one turn (and its turn call) to the rollups; a person's turn adds nothing."""
        if call is not None and call.get("purpose", "turn") != "turn":
            call = None
        group = self._turn_group(raw, turn_id, turn, call)
        if group is None:
            return
        round_key = (group, turn["round_id"])
        if round_key not in self._rounds:
            if len(self._rounds) > self.LIMIT:
                self._rounds.clear()
            if raw.execute("INSERT OR IGNORE INTO stats_rounds VALUES (?, ?)", round_key).rowcount:
                raw.execute(
                    "INSERT INTO stats_totals (group_id, rounds) VALUES (?, 1) "
                    "ON CONFLICT (group_id) DO UPDATE SET rounds = rounds + 1",
                    (group,),
                )
            self._rounds.add(round_key)
        _add_turn(raw, group, turn, call)

    def record_probe(self, raw: sqlite3.Connection, probe: Mapping[str, Any]) -> None:
        """Add one probe's label to the rollups of its turn's group."""
        row = raw.execute(
            f"SELECT {', '.join('t.' + f for f in _TURN_FIELDS)}, c.model_reported FROM turns t "
            "LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn' WHERE t.id = ?",
            (probe["turn_id"],),
        ).fetchone()
        if row is None:
            return
        turn = dict(zip(_TURN_FIELDS, row[:-1], strict=True))
        group = self._turn_group(
            raw, probe["turn_id"], turn, {"model_reported": row[-1]}, remember=False
        )
        if group is None:  # a person's turn (no probe is asked there)
            return
        raw.execute(
            "INSERT INTO stats_probes VALUES (?, ?, ?, 1) "
            "ON CONFLICT (group_id, kind, label) DO UPDATE SET n = n + 1",
            (group, probe["kind"], probe["label"]),
        )

    def backfill(
        self,
        raw: sqlite3.Connection,
        *,
        labels_of: str | None = None,
        probe_labels_of: str | None = None,
    ) -> None:
        """Add every stored turn and probe to the (empty) rollups, in written order.

        Through the functions live writes use; runs inside the caller's transaction.
        ``labels_of`` (a reader version): a turn relabelled by it (``turn_labels``)
        counts with those labels instead of the ones it was played with;
        ``probe_labels_of`` (a classifier version) likewise for probes.
        """
        turn_cols = ", ".join(
            f"CASE WHEN l.turn_id IS NULL THEN t.{f} ELSE l.{f} END"
            if labels_of is not None and f in _LABELLED
            else f"t.{f}"
            for f in _TURN_FIELDS
        )
        join = (
            "LEFT JOIN turn_labels l ON l.turn_id = t.id AND l.reader = ? "
            if labels_of is not None
            else ""
        )
        reader = raw.execute(
            f"SELECT t.id, {turn_cols}, c.id, "
            f"{', '.join('c.' + f for f in _CALL_FIELDS)} FROM turns t {join}"
            "LEFT JOIN calls c ON c.turn_id = t.id AND c.purpose = 'turn' "
            "AND c.probe_id IS NULL ORDER BY t.id",
            (labels_of,) if labels_of is not None else (),
        )
        n = len(_TURN_FIELDS)
        while rows := reader.fetchmany(2000):
            for row in rows:
                turn = dict(zip(_TURN_FIELDS, row[1 : 1 + n], strict=True))
                call = (
                    None
                    if row[1 + n] is None
                    else dict(zip(_CALL_FIELDS, row[2 + n :], strict=True))
                )
                self.record_turn(raw, row[0], turn, call)
        if probe_labels_of is None:
            reader = raw.execute("SELECT turn_id, kind, label FROM probes ORDER BY id")
        else:
            reader = raw.execute(
                "SELECT p.turn_id, p.kind, COALESCE(pl.label, p.label) FROM probes p "
                "LEFT JOIN probe_labels pl ON pl.probe_id = p.id AND pl.classifier = ? "
                "ORDER BY p.id",
                (probe_labels_of,),
            )
        while rows := reader.fetchmany(2000):
            for turn_id, kind, label in rows:
                self.record_probe(raw, {"turn_id": turn_id, "kind": kind, "label": label})


def backfill(raw: sqlite3.Connection) -> None:
    """Fill the empty rollups from every row already stored, as the live writes would."""
    Rollups().backfill(raw)


def rebuild(
    raw: sqlite3.Connection, *, reader: str | None = None, classifier: str | None = None
) -> None:
    """Empty the rollups and fill them again, with the labels of ``reader``/``classifier``.

    For ``mikan relabel``: statistics then count each turn (probe) by its labels of
    that version where it has them, else by the ones it was played with. Runs inside
    the caller's transaction.
    """
    names = [
        r[0]
        for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'stats\\_%' "
            "ESCAPE '\\'"
        )
    ]
    for name in sorted(names, key=lambda n: n == "stats_groups"):  # referenced: last
        raw.execute(f"DELETE FROM {name}")
    Rollups().backfill(raw, labels_of=reader, probe_labels_of=classifier)


def _add_turn(
    raw: sqlite3.Connection, group: int, turn: Mapping[str, Any], call: Mapping[str, Any] | None
) -> None:
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
        _ADD_TOTALS,
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
    if not judged:
        raw.execute(
            "INSERT INTO stats_no_answer VALUES (?, ?, 1) "
            "ON CONFLICT (group_id, reason) DO UPDATE SET n = n + 1",
            (group, no_answer_code(turn.get("no_answer_reason"))),
        )
    if c.get("usage_version") == 1:  # older calls' numbers mean different things
        raw.execute(
            "INSERT INTO stats_usage VALUES (?, 1, ?, ?, ?, ?, ?) "
            "ON CONFLICT (group_id) DO UPDATE SET calls = calls + 1, "
            "input_sum = input_sum + excluded.input_sum, "
            "cached_sum = cached_sum + excluded.cached_sum, "
            "cache_write_sum = cache_write_sum + excluded.cache_write_sum, "
            "output_sum = output_sum + excluded.output_sum, "
            "reasoning_sum = reasoning_sum + excluded.reasoning_sum",
            (
                group,
                in_tokens or 0,
                c.get("cached_input_tokens") or 0,
                c.get("cache_write_tokens") or 0,
                out_tokens or 0,
                c.get("reasoning_tokens") or 0,
            ),
        )
    if call is not None:
        raw.execute(
            "INSERT INTO stats_latency VALUES (?, ?, 1) "
            "ON CONFLICT (group_id, ms) DO UPDATE SET n = n + 1",
            (group, latency_bin(c.get("latency_ms") or 0.0)),
        )
