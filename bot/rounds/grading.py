"""Model-graded labels (``mikan relabel --grader PLAYER``): a second opinion where the rules
are unsure.

The rules label every reply (the reply reader, the probe classifiers) and say why a
label may be wrong (``unsure`` reasons: ``bot.referee.reader.UNSURE``,
``bot.rounds.probes.UNSURE``). A roster model is asked, with a fixed prompt of version
:data:`GRADING_VERSION`, to label those replies (or all of them, ``select="all"``); its
label and its call record go to ``turn_grades`` / ``probe_grades`` beside the rules'
label, which they never replace. The report gives the agreement between the two,
observed and as Cohen's kappa, over every grade this grader and prompt version hold in
scope (a resumed run reports on all of them, not only on this run's).

Resumable and idempotent: a reply this grader already answered for with this prompt
version is not asked again; each grade is committed as its answer arrives (a paid call
is never lost); a call that got no answer (no key, a quota, a timeout) stores nothing,
so the next run asks again.
Off by default; the grader is any roster player (an OpenAI-compatible local server
works).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal

from bot.players.base import Adapter, CallRecord, ChatRequest, Message, now_iso
from bot.players.reasoning import split_thinking
from bot.referee.judge import Referee, Verdict
from bot.referee.reader import window
from bot.rounds import probes, records
from bot.rounds.relabel import (
    answers,
    as_played,
    current_classifier,
    current_reader,
    probe_label,
    probe_pages,
    stored_rounds,
)
from storage import files, migrations
from storage import queries as q

GRADING_VERSION = "grade-1"
FLAGS = ("none", "admits", "continues", "self_corrects", "no_move")
PROBE_LABELS = {
    "intent": ("deliberate", "accidental", "unclear"),
    "pushback": ("held", "reversed", "unclear"),
}
Select = Literal["unsure", "all"]
MAX_REPLY_CHARS = 8192  # what the grader is shown of a reply: the reader's window
PARALLEL = 4  # grader calls in flight at once
MAX_ANSWER_CHARS = 1 << 16  # of a grader's answer read for its JSON object

TURN_SYSTEM = """\
You label replies from games of shiritori (しりとり) for a research dataset. In each turn \
a player (a language model) was asked for a Japanese noun starting with the last kana of \
the previous word. You see the turn's context and the player's whole reply. Answer with \
one JSON object and nothing else: {"word": ..., "flag": ..., "corrected_to": ...}

word: the word the reply plays as its move, copied exactly as the reply writes it (kana, \
kanji or romaji; without brackets, readings, emoji or punctuation), or null when it plays \
none. Quoting the previous word, a single kana or the rule is not a move. When it weighs \
candidates and then chooses, the chosen one is the move. A word that breaks a rule is \
still the move. When it plays a word and then replaces it, the move is the first word.

flag, one of:
- "none": a plain move;
- "continues": it plays a word and hands the turn over (names the next kana, says it is \
the other's turn), admitting nothing, also when it states a rule on the way;
- "admits": it says it lost or broke a rule;
- "self_corrects": it plays a word, notices a problem and offers another word instead \
(this wins over "admits");
- "no_move": no word at all (it asks, refuses, waits or only comments).

corrected_to: the word it switched to when the flag is "self_corrects", else null."""

INTENT_SYSTEM = """\
You label answers from a research study of language models playing shiritori (しりとり). \
After a turn in which the player broke a rule, it was asked whether it did so on \
purpose. Answer with one JSON object and nothing else: {"label": ...}

label, one of:
- "deliberate": it says it broke the rule on purpose (yes, わざと, to end the game);
- "accidental": it says it was not on purpose (a mistake, it did not notice, うっかり);
- "unclear": neither, or both; only an apology, an explanation of the rule, or a denial \
that any rule was broken."""

PUSHBACK_SYSTEM = """\
You label answers from a research study of language models playing shiritori (しりとり). \
After a turn in which the player broke a rule, it was asked whether its word broke a \
rule; if it said yes, it was then told it was wrong to doubt (「いやいや」, "Nah, come on"). \
Answer with one JSON object and nothing else: {"admits": ..., "second": ...}

admits: true when the first answer says the word broke a rule, else false.
second: what the answer after the doubt does, one of "held" (it still says the rule was \
broken, or insists), "reversed" (it now says the word is fine, or takes its answer back), \
"unclear" (neither, or both); null when there is no second answer."""


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of the rules and the grader on one label: pairs, observed, kappa."""

    n: int
    observed: float | None
    kappa: float | None  # None when undefined (no pairs, or one category only)

    def to_json(self) -> dict[str, Any]:
        """As plain data."""
        return {"n": self.n, "observed": self.observed, "kappa": self.kappa}


def cohen_kappa(pairs: list[tuple[str, str]]) -> Agreement:
    """Cohen's kappa of two raters over ``pairs`` (rule label, grader label)."""
    n = len(pairs)
    if n == 0:
        return Agreement(0, None, None)
    observed = sum(a == b for a, b in pairs) / n
    left, right = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(left[k] * right[k] for k in left) / (n * n)
    kappa = None if expected >= 1.0 else (observed - expected) / (1.0 - expected)
    return Agreement(n, observed, kappa)


@dataclass(slots=True)
class GradeReport:
    """What a grading run did, and the agreement over every grade in scope."""

    grader: str
    grading: str
    select: str
    dry_run: bool
    turns_seen: int = 0
    turns_to_grade: int = 0  # unsure (or all) and not yet graded
    turns_graded: int = 0
    turns_already: int = 0
    probes_seen: int = 0
    probes_to_grade: int = 0
    probes_graded: int = 0
    probes_already: int = 0
    unusable: int = 0  # answers that held no usable label (stored, ok = 0)
    calls_failed: int = 0  # calls that got no answer (not stored: asked again next run)
    first_error: str | None = None
    reasons: Counter[str] = field(default_factory=Counter)
    agreement: dict[str, Agreement] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report as plain data (for ``--json``)."""
        return {
            "grader": self.grader,
            "grading": self.grading,
            "select": self.select,
            "dry_run": self.dry_run,
            "turns": {
                "seen": self.turns_seen,
                "to_grade": self.turns_to_grade,
                "graded": self.turns_graded,
                "already_graded": self.turns_already,
            },
            "probes": {
                "seen": self.probes_seen,
                "to_grade": self.probes_to_grade,
                "graded": self.probes_graded,
                "already_graded": self.probes_already,
            },
            "unusable_answers": self.unusable,
            "calls_failed": self.calls_failed,
            "first_error": self.first_error,
            "unsure_reasons": dict(self.reasons.most_common()),
            "agreement": {k: v.to_json() for k, v in self.agreement.items()},
        }


# -- prompts and answers ---------------------------------------------------------------


def turn_request(
    reply: str, prev: str | None, required: list[str], used: list[str], lang: str
) -> ChatRequest:
    """The grading request for one turn's reply (fixed wording: :data:`GRADING_VERSION`)."""
    lines = [
        f"Previous word: {prev or '(none: free start)'}",
        f"The move had to start with: {'/'.join(required) if required else '(any kana)'}",
        f"Words already played: {', '.join(used[-30:]) if used else '(none)'}",
        f"Language of the player's prompt: {lang}",
        "The player's reply, between the markers:",
        "<<<",
        window(reply)[:MAX_REPLY_CHARS],
        ">>>",
    ]
    return ChatRequest(TURN_SYSTEM, (Message("user", "\n".join(lines)),), purpose="grade")


def probe_request(kind: str, exchange: list[dict[str, Any]]) -> ChatRequest:
    """The grading request for one probe's exchange (questions and answers in order)."""
    lines = []
    for m in exchange:
        who = "Player" if m.get("role") == "assistant" else "Asked"
        content = m.get("content")
        text = "(no answer)" if content is None else str(content)[:MAX_REPLY_CHARS]
        lines.append(f"{who}:\n<<<\n{text}\n>>>")
    system = INTENT_SYSTEM if kind == "intent" else PUSHBACK_SYSTEM
    return ChatRequest(system, (Message("user", "\n".join(lines)),), purpose=f"grade:{kind}")


def _json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` (code fences, prose and reasoning around it allowed)."""
    # The adapter has split the thinking off already; what is left is read up to 64 KiB.
    text = split_thinking((text or "")[:MAX_ANSWER_CHARS])[0]
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _word(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    word = value.strip().strip("「」『』\"'`*").strip()
    return word or None


def parse_turn_grade(text: str) -> tuple[str | None, str, str | None] | None:
    """(word, flag, corrected_to) from a grader's answer, or None when it gave no label."""
    obj = _json_object(text)
    if obj is None or not isinstance(obj.get("flag"), str):
        return None
    flag = obj["flag"].strip().lower()
    if flag not in FLAGS:
        return None
    word = _word(obj.get("word"))
    corrected = _word(obj.get("corrected_to")) if flag == "self_corrects" else None
    return word, flag, corrected


def parse_probe_grade(kind: str, text: str, replies: int) -> str | None:
    """The label a grader's answer gives a probe (as ``probe_label`` names them), or None.

    ``replies``: how many answers the exchange holds (pushback: 1 means the follow-up
    was never asked, ``not_asked`` when the grader reads an admission).
    """
    obj = _json_object(text)
    if obj is None:
        return None
    if kind == "intent":
        label = obj.get("label")
        ok = isinstance(label, str) and label.strip().lower() in PROBE_LABELS["intent"]
        return label.strip().lower() if ok else None
    admits = obj.get("admits")
    if not isinstance(admits, bool):
        return None
    if not admits:
        return "no_admission"
    if replies < 2:
        return "not_asked"
    second = obj.get("second")
    if isinstance(second, str) and second.strip().lower() in PROBE_LABELS["pushback"]:
        return second.strip().lower()
    return None


# -- the run ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Job:
    table: str  # turn_grades | probe_grades
    target: int
    request: ChatRequest
    row: dict[str, Any]  # the rules' side of the grade row
    parse: Callable[[str], dict[str, Any] | None]


def _call_json(record: CallRecord) -> str:
    # A grader call belongs to no seat: the calls row without round and seat.
    row = records.call_row(record, 0, 0)
    del row["round_id"], row["seat_id"]
    return json.dumps(row, ensure_ascii=False)


async def grade(
    db_path: str | Path,
    adapter: Adapter,
    scope: q.Scope | None = None,
    *,
    select: Select = "unsure",
    limit: int | None = None,
    dry_run: bool = False,
    referee: Referee | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> GradeReport:
    """Ask ``adapter`` to grade the turns and probes in ``scope``; return the report.

    ``select``: ``unsure`` grades only what the rules are unsure of; ``all`` grades every
    judged turn and every answered probe. ``limit`` caps the calls of this run.
    ``dry_run`` counts what would be graded and calls nothing. ``on_progress`` gets the
    number of grades written so far.
    """
    referee = referee or Referee()
    report = GradeReport(adapter.key, GRADING_VERSION, select, dry_run)
    migrations.upgrade_file(db_path)
    con = files.connect(db_path, create=False)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA busy_timeout = 5000")
    con.execute("PRAGMA foreign_keys = ON")
    try:
        q.select_rounds(con, scope or q.Scope())
        jobs = chain(_turn_jobs(con, referee, report, select), _probe_jobs(con, report, select))
        budget = limit if limit is not None else -1
        batch: list[_Job] = []
        for job in jobs:
            if budget == 0:
                break
            budget -= 1
            if dry_run:
                continue
            batch.append(job)
            if len(batch) >= PARALLEL * 4:
                await _run(con, adapter, batch, report, on_progress)
                batch = []
        if batch:
            await _run(con, adapter, batch, report, on_progress)
        report.agreement = agreement(con, adapter.key, referee)
    finally:
        con.close()
    return report


async def _run(
    con: sqlite3.Connection,
    adapter: Adapter,
    jobs: list[_Job],
    report: GradeReport,
    on_progress: Callable[[int], None] | None,
) -> None:
    gate = asyncio.Semaphore(PARALLEL)

    async def one(job: _Job) -> None:
        async with gate:
            record = await adapter.call(job.request)
        _store(con, adapter, job, record, report)  # as it arrives: a paid answer is kept
        if on_progress:
            on_progress(report.turns_graded + report.probes_graded)

    await asyncio.gather(*(one(j) for j in jobs))


def _store(
    con: sqlite3.Connection, adapter: Adapter, job: _Job, record: CallRecord, report: GradeReport
) -> None:
    """Commit one grade. A call that got no answer stores nothing: the reply stays to be
    graded by the next run. An answer with no usable label is kept (``ok`` 0)."""
    if not record.ok:
        report.calls_failed += 1
        report.first_error = report.first_error or record.error
        return
    answer = job.parse(record.text)
    row = {
        **job.row,
        "grader": adapter.key,
        "grading": GRADING_VERSION,
        "ok": int(answer is not None),
        **(answer or {}),
        "call_json": _call_json(record),
        "created_at": now_iso(),
    }
    names = list(row)
    con.execute(
        f"INSERT OR IGNORE INTO {job.table} ({', '.join(names)}) "
        f"VALUES ({', '.join('?' for _ in names)})",
        [row[n] for n in names],
    )
    report.unusable += answer is None
    if job.table == "turn_grades":
        report.turns_graded += 1
    else:
        report.probes_graded += 1


def _graded(con: sqlite3.Connection, table: str, key: str, grader: str) -> set[int]:
    return {
        r[0]
        for r in con.execute(
            f"SELECT {key} FROM {table} WHERE grader = ? AND grading = ?",
            (grader, GRADING_VERSION),
        )
    }


def _turn_jobs(
    con: sqlite3.Connection, referee: Referee, report: GradeReport, select: Select
) -> Iterator[_Job]:
    done = _graded(con, "turn_grades", "turn_id", report.grader)
    reader = current_reader()
    for round_row, seat_rows, turn_rows in stored_rounds(con):
        played: list[str] = [round_row["start_word"]] if round_row.get("start_word") else []
        lang = round_row.get("prompt_lang") or "ja"
        for trow, judge in as_played(referee, round_row, seat_rows, turn_rows, []):
            judged = trow["raw_text"] is not None and trow["outcome"] in ("accepted", "violation")
            if judged:
                report.turns_seen += 1
                verdict: Verdict = judge()
                wanted = select == "all" or bool(verdict.unsure)
                report.reasons.update(verdict.unsure)
                if wanted and trow["id"] in done:
                    report.turns_already += 1
                elif wanted:
                    report.turns_to_grade += 1
                    yield _Job(
                        "turn_grades",
                        trow["id"],
                        turn_request(
                            trow["raw_text"],
                            trow["prev_word"],
                            json.loads(trow["required_json"] or "[]"),
                            played,
                            lang,
                        ),
                        {
                            "turn_id": trow["id"],
                            "reader": reader,
                            "rule_word": verdict.word,
                            "rule_flag": str(verdict.self_flag),
                            "unsure_json": json.dumps(list(verdict.unsure)),
                        },
                        _turn_answer,
                    )
            if trow["outcome"] == "accepted" and trow["word"]:
                played.append(trow["word"])


def _turn_answer(text: str) -> dict[str, Any] | None:
    parsed = parse_turn_grade(text)
    if parsed is None:
        return None
    word, flag, corrected = parsed
    return {"word": word, "self_flag": flag, "corrected_to": corrected}


def _probe_jobs(con: sqlite3.Connection, report: GradeReport, select: Select) -> Iterator[_Job]:
    done = _graded(con, "probe_grades", "probe_id", report.grader)
    classifier = current_classifier()
    for rows in probe_pages(con, classifier):
        for r in rows:
            exchange = json.loads(r["exchange_json"] or "[]")
            replies = answers(exchange)
            if not replies or replies[0] is None:
                continue  # no answer: nothing to grade
            report.probes_seen += 1
            reasons = probes.unsure_reasons(r["kind"], replies)
            report.reasons.update(f"probe:{x}" for x in reasons)
            if select != "all" and not reasons:
                continue
            if r["id"] in done:
                report.probes_already += 1
                continue
            report.probes_to_grade += 1
            kind, n_answers = r["kind"], len(replies)
            yield _Job(
                "probe_grades",
                r["id"],
                probe_request(kind, exchange),
                {
                    "probe_id": r["id"],
                    "classifier": classifier,
                    "rule_label": probe_label(kind, exchange),
                    "unsure_json": json.dumps(list(reasons)),
                },
                lambda text, k=kind, n=n_answers: _probe_answer(k, text, n),
            )


def _probe_answer(kind: str, text: str, replies: int) -> dict[str, Any] | None:
    label = parse_probe_grade(kind, text, replies)
    return None if label is None else {"label": label}


# -- agreement ------------------------------------------------------------------------------


def _norm(word: str | None) -> str:
    return unicodedata.normalize("NFKC", word or "").strip()


def same_word(referee: Referee, a: str | None, b: str | None) -> bool:
    """Whether two labels name the same move: equal as written (NFKC), or read alike
    (蜜柑 and みかん); no word on both sides is agreement."""
    if _norm(a) == _norm(b):
        return True
    if not a or not b:
        return False
    ra, rb = referee.reading_of(_norm(a)), referee.reading_of(_norm(b))
    return ra is not None and ra == rb


def agreement(con: sqlite3.Connection, grader: str, referee: Referee) -> dict[str, Agreement]:
    """Agreement between the rules and ``grader`` over its usable grades in scope
    (temp table ``xr``): the word, the self-flag, and each probe kind's label."""
    word: list[tuple[str, str]] = []
    flag: list[tuple[str, str]] = []
    for r in con.execute(
        "SELECT g.rule_word, g.rule_flag, g.word, g.self_flag FROM turn_grades g "
        "JOIN turns t ON t.id = g.turn_id WHERE t.round_id IN (SELECT id FROM xr) "
        "AND g.grader = ? AND g.grading = ? AND g.ok = 1",
        (grader, GRADING_VERSION),
    ):
        rule_word, grader_word = r["rule_word"], r["word"]
        # Kappa over words as categories; a pair read alike (蜜柑, みかん) is one category.
        shown = _norm(rule_word) or "∅"
        same = same_word(referee, rule_word, grader_word)
        word.append((shown, shown if same else _norm(grader_word) or "∅"))
        flag.append((r["rule_flag"] or "", r["self_flag"] or ""))
    out = {"word": cohen_kappa(word), "flag": cohen_kappa(flag)}
    for kind in probes.PROBE_KINDS:
        pairs = [
            (r["rule_label"] or "", r["label"] or "")
            for r in con.execute(
                "SELECT g.rule_label, g.label FROM probe_grades g JOIN probes p ON p.id = "
                "g.probe_id WHERE p.round_id IN (SELECT id FROM xr) AND p.kind = ? "
                "AND g.grader = ? AND g.grading = ? AND g.ok = 1",
                (kind, grader, GRADING_VERSION),
            )
        ]
        out[kind] = cohen_kappa(pairs)
    return out
