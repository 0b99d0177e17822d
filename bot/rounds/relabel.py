"""``mikan relabel``: remake stored turns' and probes' labels with the current classifiers.

Each judged turn is read again, by the current reply reader, in the context it was
played in: its round is replayed through ``RoundState`` from the turns *as played*, so
the previous word, the used words and the required morae are the ones the model faced.
The new word, reading, verdict and self-flag go to ``turn_labels`` under the reader's
version, beside the originals in ``turns``, which are never changed: a round's history
(who went out, who won) stays as played; a changed verdict is a research label. Probe
answers are classified again from their stored exchange into ``probe_labels``.

A turn whose reply was cut short, refused or filtered (its call's ``finish``) keeps its
labels: the engine judged it under the cut rule (a breach, or a word the text ends on,
is ``no_answer``), which the text alone cannot replay.

Idempotent and resumable: a turn (probe) that already has a label of the current
version, or was labelled by it when played, is skipped; labels are committed a batch at
a time, so an interrupted run loses at most the batch in flight and the next run carries
on. After writing, the statistics rollups are rebuilt from the newest labels, in the
transaction that commits the run's last labels (each batch holds its newest back): a
run cut before that commit leaves labels for the next run to write, which then
rebuilds (a rebuild in a transaction of its own, cut, would leave every label written
and the rollups stale, with nothing left for a rerun to do). Synchronous: for the
command line (the bot does not relabel).
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.players.base import now_iso
from bot.players.finish import NO_ANSWER_CODES
from bot.referee.judge import Referee, Verdict
from bot.referee.kana import joint_key
from bot.referee.reader import READER_VERSION
from bot.rounds import probes, records
from bot.rounds.state import RoundState
from storage import files, migrations, rollups
from storage import queries as q

READER_1 = "reader-1"  # turns written before labels were versioned
CLASSIFIER_1 = "probe-labels-1"
FIELDS = ("word", "verdict", "flag")
EXAMPLES = 3  # per kind of change in the summary


def current_reader() -> str:
    """The version of the reply reader this code runs."""
    return READER_VERSION


def current_classifier() -> str:
    """The version of the probe-answer classifiers this code runs."""
    return probes.CLASSIFIER_VERSION


@dataclass(slots=True)
class Change:
    """One label that a relabel changed (or, in a dry run, would change)."""

    kind: str  # word | verdict | flag | probe
    round_id: int
    turn_id: int
    idx: int
    before: str
    after: str
    text: str  # the reply (or the probe answer), shortened


@dataclass(slots=True)
class Report:
    """What a relabel did: counts, the changes by kind, a few examples of each."""

    reader: str
    classifier: str
    dry_run: bool
    turns_seen: int = 0
    turns_labelled: int = 0
    turns_current: int = 0  # already labelled by this version
    turns_cut: int = 0  # replies cut short (their call's finish): labels kept as played
    probes_seen: int = 0
    probes_labelled: int = 0
    probes_current: int = 0
    changed: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[str, list[Change]] = field(default_factory=lambda: defaultdict(list))
    changes: list[Change] = field(default_factory=list)
    unreplayable: list[tuple[int, str]] = field(default_factory=list)  # (round, why)

    def add(self, change: Change, keep: bool) -> None:
        """Count a change (and keep it whole when the full diff is wanted)."""
        self.changed[change.kind] += 1
        self.transitions[change.kind][f"{change.before} → {change.after}"] += 1
        if len(self.examples[change.kind]) < EXAMPLES:
            self.examples[change.kind].append(change)
        if keep:
            self.changes.append(change)

    def to_json(self) -> dict[str, Any]:
        """The summary as plain data (for ``--json``)."""
        return {
            "reader": self.reader,
            "classifier": self.classifier,
            "dry_run": self.dry_run,
            "turns": {
                "seen": self.turns_seen,
                "labelled": self.turns_labelled,
                "already_current": self.turns_current,
                "cut_kept": self.turns_cut,
            },
            "probes": {
                "seen": self.probes_seen,
                "labelled": self.probes_labelled,
                "already_current": self.probes_current,
            },
            "changed": dict(self.changed),
            "unreplayable_rounds": [{"round": r, "why": why} for r, why in self.unreplayable],
            "transitions": {k: dict(v.most_common()) for k, v in self.transitions.items()},
            "examples": {
                k: [
                    {
                        "round": c.round_id,
                        "idx": c.idx,
                        "before": c.before,
                        "after": c.after,
                        "text": c.text,
                    }
                    for c in v
                ]
                for k, v in self.examples.items()
            },
        }


def _short(text: str | None, n: int = 80) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def _verdict_key(outcome: str, violations_json: str) -> str:
    codes = json.loads(violations_json or "[]")
    return f"{outcome}({','.join(codes)})" if codes else outcome


def judge_as_played(referee: Referee, state: RoundState, text: str, lang: str) -> Verdict:
    """Judge ``text`` in the context ``state`` is at, as the engine did when it was played."""
    return referee.judge(
        text,
        prev_reading=state.last_reading,
        used_readings=state.used,
        rules=state.spec.rules,
        lang=lang,
    )


def _label_row(turn_id: int, reader: str, verdict: Verdict) -> dict[str, Any]:
    return {
        "turn_id": turn_id,
        "reader": reader,
        "outcome": "accepted" if verdict.ok else "violation",
        "word": verdict.word,
        "reading": verdict.reading,
        "reading_source": verdict.reading_label,
        "first_mora": verdict.first,
        "next_json": json.dumps(list(verdict.next), ensure_ascii=False),
        "violations_json": json.dumps([str(v) for v in verdict.violations]),
        "self_flag": str(verdict.self_flag),
        "corrected_to": getattr(verdict, "corrected_to", None),
        "created_at": now_iso(),
    }


_COMPARED = ("word", "outcome", "violations_json", "self_flag")


class _RoundLabels:
    """A round's stored relabels: which turns ``reader`` already labelled (one query a
    round, on the indexes alone) and, read only once a turn of the round that has labels
    is labelled again, each turn's newest labels (not one query a turn)."""

    def __init__(self, con: sqlite3.Connection, round_id: int, reader: str) -> None:
        self._con, self._round_id = con, round_id
        self.done: set[int] = set()
        # Turns whose reply was cut short (or refused, filtered): judged under the cut
        # rule when played (engine.py), which a reader run on the text alone cannot apply.
        self.cut = {
            turn_id
            for (turn_id,) in con.execute(
                "SELECT turn_id FROM calls WHERE round_id = ? AND purpose = 'turn' AND finish IN "
                f"({', '.join('?' for _ in NO_ANSWER_CODES)})",
                (round_id, *sorted(NO_ANSWER_CODES)),
            )
        }
        self._labelled: set[int] = set()
        self._newest: dict[int, tuple[Any, ...]] | None = None
        for turn_id, version in con.execute(
            "SELECT l.turn_id, l.reader FROM turns t JOIN turn_labels l ON l.turn_id = t.id "
            "WHERE t.round_id = ?",
            (round_id,),
        ):
            self._labelled.add(turn_id)
            if version == reader:
                self.done.add(turn_id)

    def now(self, row: dict[str, Any]) -> dict[str, Any]:
        """The labels the turn has now: its newest relabel, else the original."""
        if row["id"] not in self._labelled:
            return {k: row[k] for k in _COMPARED}
        if self._newest is None:
            # Oldest first: the last row seen per turn is its newest.
            self._newest = {
                turn_id: tuple(labels)
                for turn_id, *labels in self._con.execute(
                    f"SELECT l.turn_id, {', '.join('l.' + k for k in _COMPARED)} "
                    "FROM turns t JOIN turn_labels l ON l.turn_id = t.id WHERE t.round_id = ? "
                    "ORDER BY l.turn_id, l.created_at, l.rowid",
                    (self._round_id,),
                )
            }
        return dict(zip(_COMPARED, self._newest[row["id"]], strict=True))


def stored_rounds(
    con: sqlite3.Connection,
) -> Iterator[tuple[dict[str, Any], list[dict], list[dict]]]:
    """Each round in the temp table ``xr`` (``queries.select_rounds``), in id order, with
    its seats (by position) and its turns (by index), as plain dicts."""
    for round_id in list(q.round_ids(con)):
        row = con.execute("SELECT * FROM rounds WHERE id = ?", (round_id,)).fetchone()
        seats = [
            dict(s)
            for s in con.execute(
                "SELECT * FROM seats WHERE round_id = ? ORDER BY position", (round_id,)
            )
        ]
        turns = [
            dict(t)
            for t in con.execute("SELECT * FROM turns WHERE round_id = ? ORDER BY idx", (round_id,))
        ]
        yield dict(row), seats, turns


def relabel(
    db_path: str | Path,
    scope: q.Scope | None = None,
    *,
    dry_run: bool = False,
    keep_changes: bool = False,
    referee: Referee | None = None,
    batch: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> Report:
    """Relabel the turns and probes of the rounds in ``scope``; return what changed.

    ``dry_run`` computes and reports without writing. ``keep_changes`` keeps every
    change (for ``write_diff``), not only the first examples. ``on_progress`` gets the
    number of turns seen so far, once a batch.
    """
    referee = referee or Referee()
    reader, classifier = current_reader(), current_classifier()
    report = Report(reader, classifier, dry_run)
    migrations.upgrade_file(db_path)
    con = files.connect(db_path, create=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA busy_timeout = 5000")
    con.execute("PRAGMA foreign_keys = ON")
    try:
        q.select_rounds(con, scope or q.Scope())
        pending: list[dict[str, Any]] = []
        for round_row, seat_rows, turn_rows in stored_rounds(con):
            _relabel_round(
                con,
                referee,
                round_row,
                seat_rows,
                turn_rows,
                report,
                pending,
                keep_changes,
            )
            if len(pending) > batch:
                _commit_but_newest(con, pending, _insert_turn_labels, dry_run)
                if on_progress:
                    on_progress(report.turns_seen)
        probe_rows = _relabel_probes(con, classifier, report, dry_run, keep_changes, batch)
        # The run's last labels (held back from the batches) commit with the rebuild.
        if not dry_run and (pending or probe_rows):
            con.execute("BEGIN IMMEDIATE")
            try:
                _insert_turn_labels(con, pending)
                _insert_probe_labels(con, probe_rows)
                rollups.rebuild(con, reader=reader, classifier=classifier)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        pending.clear()
    finally:
        con.close()
    return report


def _relabel_round(
    con: sqlite3.Connection,
    referee: Referee,
    round_row: dict[str, Any],
    seat_rows: list[dict[str, Any]],
    turn_rows: list[dict[str, Any]],
    report: Report,
    pending: list[dict[str, Any]],
    keep: bool,
) -> None:
    labels = _RoundLabels(con, round_row["id"], report.reader)
    for trow, judge in as_played(referee, round_row, seat_rows, turn_rows, report.unreplayable):
        _relabel_turn(trow, judge, report, pending, keep, labels)


def as_played(
    referee: Referee,
    round_row: dict[str, Any],
    seat_rows: list[dict[str, Any]],
    turn_rows: list[dict[str, Any]],
    unreplayable: list[tuple[int, str]],
) -> Iterator[tuple[dict[str, Any], Callable[[], Verdict]]]:
    """Each stored turn of a round with a judge of its reply in the context it was played
    in (call it before taking the next turn: the context moves on).

    The round is replayed through ``RoundState`` from the turns as played: the stored
    turn, not a new label, moves the round on. Rows no engine wrote (hand-made, or
    edited) stop the replay; the rest of the round is judged with the context its rows
    record (``prev_word``, the words accepted so far), and ``(round id, why)`` is added
    to ``unreplayable``.
    """
    spec = records.spec_from_rows(round_row, seat_rows)
    state = RoundState(spec, referee)
    by_id = {
        srow["id"]: (seat.position, seat) for seat, srow in zip(state.seats, seat_rows, strict=True)
    }
    lang = round_row.get("prompt_lang") or "ja"
    rows = iter(turn_rows)
    for trow in rows:
        position, seat = by_id[trow["seat_id"]]
        if seat.conversation is not None:
            state.begin_model_turn(seat)
        yield trow, lambda t=trow: judge_as_played(referee, state, t["raw_text"], lang)
        try:
            state.apply(records.turn_from_row(trow, position))
        except ValueError as exc:
            unreplayable.append((round_row["id"], str(exc)))
            break
    else:
        return
    used = list(state.used)
    for trow in rows:
        yield (
            trow,
            lambda t=trow: referee.judge(
                t["raw_text"],
                prev=t["prev_word"],
                used_readings=used,
                rules=state.spec.rules,
                lang=lang,
            ),
        )
        # As played, whether or not this turn needed a new label: a turn already current
        # (a resumed run, a round played partly by this reader) used its word all the same.
        if trow["outcome"] == "accepted" and trow["reading"]:
            used.append(joint_key(trow["reading"]))


def _relabel_turn(
    trow: dict[str, Any],
    judge: Callable[[], Verdict],
    report: Report,
    pending: list[dict[str, Any]],
    keep: bool,
    labels: _RoundLabels,
) -> None:
    """Count a stored turn and, unless this reader already labelled it, label it again."""
    if trow["raw_text"] is None or trow["outcome"] not in ("accepted", "violation"):
        return  # nothing was judged: no_answer, left
    report.turns_seen += 1
    if trow["id"] in labels.cut:
        report.turns_cut += 1  # a move complete before a cut stays as it was judged
        return
    if (trow.get("reader") or READER_1) == report.reader or trow["id"] in labels.done:
        report.turns_current += 1
        return
    label = _label_row(trow["id"], report.reader, judge())
    _compare(report, trow, labels.now(trow), label, keep)
    pending.append(label)
    report.turns_labelled += 1


def _compare(report: Report, trow: dict[str, Any], before: dict, after: dict, keep: bool) -> None:
    def change(kind: str, old: str, new: str) -> None:
        report.add(
            Change(
                kind, trow["round_id"], trow["id"], trow["idx"], old, new, _short(trow["raw_text"])
            ),
            keep,
        )

    if (before["word"] or "") != (after["word"] or ""):
        change("word", before["word"] or "∅", after["word"] or "∅")
    old_v = _verdict_key(before["outcome"], before["violations_json"])
    new_v = _verdict_key(after["outcome"], after["violations_json"])
    if old_v != new_v:
        change("verdict", old_v, new_v)
    if (before["self_flag"] or "") != (after["self_flag"] or ""):
        change("flag", before["self_flag"] or "∅", after["self_flag"] or "∅")


def _insert_turn_labels(con: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    """Insert label rows (in the caller's transaction)."""
    if not rows:
        return
    names = list(rows[0])
    sql = (
        f"INSERT OR IGNORE INTO turn_labels ({', '.join(names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    con.executemany(sql, [tuple(p[n] for n in names) for p in rows])


def _insert_probe_labels(con: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert probe label rows (in the caller's transaction)."""
    if rows:
        con.executemany("INSERT OR IGNORE INTO probe_labels VALUES (?, ?, ?, ?)", rows)


def _commit_but_newest(
    con: sqlite3.Connection,
    pending: list[Any],
    insert: Callable[[sqlite3.Connection, list[Any]], None],
    dry_run: bool,
) -> None:
    """Commit all of ``pending`` but its newest row as one batch (nothing in a dry run);
    leave only that row in it. Held back, the run's last label commits with the rollup
    rebuild, so a run cut after its last batch still leaves its next run a label to write
    (and the rollups to rebuild)."""
    batch, pending[:] = pending[:-1], pending[-1:]
    if not batch or dry_run:
        return
    con.execute("BEGIN IMMEDIATE")
    try:
        insert(con, batch)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def answers(exchange: list[dict[str, Any]]) -> list[Any]:
    """The model's answers in a probe's stored exchange, in order (None: no answer)."""
    return [m.get("content") for m in exchange if m.get("role") == "assistant"]


def probe_label(kind: str, exchange: list[dict[str, Any]]) -> str:
    """A probe's label from its stored exchange (prompts and replies in order).

    ``no_answer`` when the model gave no first answer. For ``pushback``: ``no_admission``
    when the first answer admits nothing; when it admits but the follow-up was never
    asked (the classifier that ran at the time saw no admission), ``not_asked``.
    """
    replies = answers(exchange)
    if not replies or replies[0] is None:
        return "no_answer"
    if kind == "intent":
        return str(probes.intent_label(replies[0]))
    if not probes.admits_breach(replies[0]):
        return "no_admission"
    if len(replies) < 2:
        return "not_asked"
    if replies[1] is None:
        return "no_answer"
    return str(probes.pushback_label(replies[1]))


_PROBE_PAGE = 2000  # probes read at a time (their exchanges are long)


def probe_pages(con: sqlite3.Connection, classifier: str) -> Iterator[list[sqlite3.Row]]:
    """The probes in scope, by id, a page at a time; each page its own query, so label
    batches can commit between pages. (``+p.round_id``: each page walks the probes by id
    from where the last one stopped; through the round index, every page would gather
    and sort all the probes left.)"""
    after = 0
    while rows := con.execute(
        "SELECT p.id, p.round_id, p.kind, p.label, p.classifier, p.exchange_json, t.idx, "
        "(SELECT l.label FROM probe_labels l WHERE l.probe_id = p.id "
        " ORDER BY l.created_at DESC, l.rowid DESC LIMIT 1) AS newest, "
        "EXISTS (SELECT 1 FROM probe_labels l WHERE l.probe_id = p.id AND l.classifier = ?) "
        "AS done FROM probes p JOIN turns t ON t.id = p.turn_id "
        "WHERE +p.round_id IN (SELECT id FROM xr) AND p.id > ? ORDER BY p.id LIMIT ?",
        (classifier, after, _PROBE_PAGE),
    ).fetchall():
        yield rows
        after = rows[-1]["id"]


def _relabel_probes(
    con: sqlite3.Connection,
    classifier: str,
    report: Report,
    dry_run: bool,
    keep: bool,
    batch: int = 500,
) -> list[tuple[Any, ...]]:
    """Classify the probes in scope again, committing the labels a batch at a time;
    return the ones held back for the closing transaction (``_commit_but_newest``)."""
    new_rows: list[tuple[Any, ...]] = []
    for page in probe_pages(con, classifier):
        _relabel_probe_rows(page, classifier, report, keep, new_rows)
        if len(new_rows) > batch:
            _commit_but_newest(con, new_rows, _insert_probe_labels, dry_run)
    return new_rows


def _relabel_probe_rows(
    rows: list[sqlite3.Row],
    classifier: str,
    report: Report,
    keep: bool,
    new_rows: list[tuple[Any, ...]],
) -> None:
    for r in rows:
        report.probes_seen += 1
        if (r["classifier"] or CLASSIFIER_1) == classifier or r["done"]:
            report.probes_current += 1
            continue
        exchange = json.loads(r["exchange_json"] or "[]")
        label = probe_label(r["kind"], exchange)
        before = r["newest"] or r["label"]
        if label != before:
            first = next((m.get("content") for m in exchange if m.get("role") == "assistant"), "")
            report.add(
                Change(
                    f"probe:{r['kind']}",
                    r["round_id"],
                    r["id"],
                    r["idx"],
                    before,
                    label,
                    _short(first),
                ),
                keep,
            )
        new_rows.append((r["id"], classifier, label, now_iso()))
        report.probes_labelled += 1


def write_diff(report: Report, path: str | Path) -> int:
    """Write every change in ``report`` (kept with ``keep_changes``) as CSV; return rows."""
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["kind", "round_id", "id", "idx", "before", "after", "text"])
        for c in report.changes:
            out.writerow([c.kind, c.round_id, c.turn_id, c.idx, c.before, c.after, c.text])
    return len(report.changes)
