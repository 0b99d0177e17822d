"""``mikan relabel --grader``: a roster model grades the replies the rules are unsure of;
its labels and calls are stored beside the rules' labels, never replacing them, and the
agreement between the two is reported as Cohen's kappa. Against a loopback provider."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.players import make_adapter, make_client
from bot.players.roster import PlayerConfig
from bot.rounds.grading import (
    GRADING_VERSION,
    cohen_kappa,
    grade,
    parse_probe_grade,
    parse_turn_grade,
)
from storage.db import Database
from tests.support.providers import ProviderServer, openai_ok
from tests.support.records import T, write_round

ROOT = Path(__file__).resolve().parents[3]
KEY = "sk-grader-SECRET-0123456789"

SURE = "「りんご」"
CONTESTED = "「ごま」と「ごりら」で迷う"  # two words, neither committed to
CORRECTED = "「まくら」…あっ、やっぱり「まど」にします"
INTENT_UNCLEAR = "ルールでは「ん」で終わると負けになります。"
INTENT_SURE = "いいえ、わざとではありません。うっかりしました。"


class GraderServer(ProviderServer):
    """An OpenAI-compatible grader that labels each reply by what the request shows.

    Answers come back in any order (the grader runs calls side by side), so each one is
    chosen from the request itself, not from a queue.
    """

    answers: dict[str, str]

    async def _answer(self, request: web.Request, sent: Any = None) -> web.StreamResponse:
        body = sent if sent is not None else await request.json()
        prompt = body["messages"][-1]["content"]
        for needle, answer in self.answers.items():
            if needle in prompt:
                return web.json_response(openai_ok(answer, model="grader-1"))
        return web.json_response(openai_ok("I cannot tell.", model="grader-1"))


@pytest.fixture
async def grader_server():
    server = GraderServer()
    server.answers = {
        # Agrees with the rules on the word (ごま), not on the flag.
        CONTESTED: '```json\n{"word": "ごま", "flag": "continues", "corrected_to": null}\n```',
        # Agrees on both (the first word is the move; the correction beside it).
        CORRECTED: '{"word": "まくら", "flag": "self_corrects", "corrected_to": "まど"}',
        INTENT_UNCLEAR: '<think>It explains the rule.</think>{"label": "unclear"}',
    }
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIKAN_GRADER_KEY", KEY)


def grader(server: ProviderServer) -> PlayerConfig:
    return PlayerConfig(
        key="judge-model",
        provider="openai",
        model="grader-model",
        base_url=f"{server.base}/v1",
        api_key_env="MIKAN_GRADER_KEY",
        timeout_s=5.0,
    )


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def _played(path: Path) -> None:
    db = await Database.open(path)
    try:
        rid = await write_round(
            db,
            [("a", "a-1"), ("b", "b-1")],
            [
                T(0, ["り"], word="りんご", raw=SURE),
                T(1, ["ご"], word="ごま", raw=CONTESTED),
                T(0, ["ま"], word="まくら", raw=CORRECTED, flag="self_corrects"),
                T(1, ["ら"], "violation", "らいおん", ["ends_with_n"], raw="「らいおん」"),
            ],
            status="running",
        )
        turn = (await db.turns(rid))[-1]
        for kind, answer in (("intent", INTENT_UNCLEAR), ("intent", INTENT_SURE)):
            exchange = [
                {"role": "user", "content": "今の「らいおん」はわざとですか？"},
                {"role": "assistant", "content": answer},
            ]
            await db.add_probe(
                {
                    "round_id": rid,
                    "seat_id": turn["seat_id"],
                    "turn_id": turn["id"],
                    "kind": kind if answer == INTENT_UNCLEAR else "pushback",
                    "template_version": "probes-1",
                    "prompt": "?",
                    "reply": answer,
                    "label": "unclear",
                    "exchange_json": json.dumps(exchange, ensure_ascii=False),
                    "created_at": "t",
                },
                [],
            )
        await db.end_round(rid, "finished", 0, "x")
    finally:
        await db.close()


# -- agreement and answers -------------------------------------------------------------


def test_cohen_kappa_matches_the_textbook_value() -> None:
    # 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: observed 0.7, chance 0.5, kappa 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    a = cohen_kappa(pairs)
    assert a.n == 50 and a.observed == pytest.approx(0.7) and a.kappa == pytest.approx(0.4)


def test_cohen_kappa_is_undefined_without_variation_or_pairs() -> None:
    assert cohen_kappa([("none", "none")] * 4).kappa is None
    assert cohen_kappa([]).n == 0 and cohen_kappa([]).observed is None


def test_a_graders_answer_is_read_from_prose_fences_and_reasoning() -> None:
    assert parse_turn_grade('Sure! {"word": "「みかん」", "flag": "admits"} hope it helps') == (
        "みかん",
        "admits",
        None,
    )
    assert parse_turn_grade('<think>{"flag": "none"}</think>{"word": null, "flag": "no_move"}') == (
        None,
        "no_move",
        None,
    )
    fenced = '```json\n{"word": "みかん", "flag": "self_corrects", "corrected_to": "みどり"}\n```'
    assert parse_turn_grade(fenced) == ("みかん", "self_corrects", "みどり")
    # corrected_to only with self_corrects; an unknown flag or no JSON is no label.
    assert parse_turn_grade('{"word": "a", "flag": "none", "corrected_to": "b"}') == (
        "a",
        "none",
        None,
    )
    assert parse_turn_grade('{"word": "a", "flag": "maybe"}') is None
    assert parse_turn_grade("みかん, I think") is None
    assert parse_turn_grade("") is None


def test_probe_grades_map_to_the_probe_labels() -> None:
    assert parse_probe_grade("intent", '{"label": "Accidental"}', 1) == "accidental"
    assert parse_probe_grade("intent", '{"label": "yes"}', 1) is None
    assert parse_probe_grade("pushback", '{"admits": false, "second": null}', 2) == "no_admission"
    assert parse_probe_grade("pushback", '{"admits": true, "second": null}', 1) == "not_asked"
    assert parse_probe_grade("pushback", '{"admits": true, "second": "held"}', 2) == "held"
    assert parse_probe_grade("pushback", '{"admits": "yes"}', 2) is None


# -- a grading run against a loopback grader --------------------------------------------


async def test_only_unsure_replies_are_graded_and_stored_beside_the_rules(
    tmp_path: Path, grader_server: GraderServer
) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    before = rows(path, "SELECT * FROM turns ORDER BY id")
    async with make_client() as client:
        report = await grade(path, make_adapter(grader(grader_server), client))
    prompts = [s.json["messages"][-1]["content"] for s in grader_server.seen]
    assert len(prompts) == 3  # the two unsure turns and the unclear intent answer
    assert not any(SURE in p or INTENT_SURE in p for p in prompts)
    assert all(s.headers["Authorization"] == f"Bearer {KEY}" for s in grader_server.seen)
    assert report.turns_seen == 4 and report.turns_graded == 2 and report.probes_graded == 1
    assert report.unusable == 0 and report.calls_failed == 0

    grades = rows(
        path,
        "SELECT t.raw_text, g.grader, g.grading, g.rule_word, g.rule_flag, g.word, g.self_flag,"
        " g.corrected_to, g.ok, g.unsure_json FROM turn_grades g JOIN turns t ON t.id = g.turn_id"
        " ORDER BY t.idx",
    )
    contested, corrected = grades
    assert contested[:8] == (
        CONTESTED,
        "judge-model",
        GRADING_VERSION,
        "ごま",
        "none",
        "ごま",
        "continues",
        None,
    )
    assert contested[8] == 1 and "contested" in json.loads(contested[9])
    assert corrected[3:8] == ("まくら", "self_corrects", "まくら", "self_corrects", "まど")
    assert json.loads(corrected[9]) == ["correction"]
    (probe,) = rows(path, "SELECT rule_label, label, ok, unsure_json FROM probe_grades")
    assert probe[:3] == ("unclear", "unclear", 1) and "unclear" in json.loads(probe[3])

    # The grader's call is recorded with the grade; the key is nowhere in it.
    (call,) = rows(
        path,
        "SELECT g.call_json FROM turn_grades g JOIN turns t ON t.id = g.turn_id WHERE t.idx = 1",
    )
    record = json.loads(call[0])
    assert record["purpose"] == "grade" and record["model_reported"] == "grader-1"
    assert record["ok"] == 1 and CONTESTED in record["request_body"]
    dump = json.dumps(
        rows(
            path, "SELECT * FROM turn_grades UNION ALL SELECT *, NULL, NULL, NULL FROM probe_grades"
        ),
        ensure_ascii=False,
    )
    assert KEY not in dump

    # The rules' labels stay as they were.
    assert rows(path, "SELECT * FROM turns ORDER BY id") == before
    # Agreement: words 2 of 2; flags 1 of 2 (none vs continues); intent 1 of 1.
    agree = report.agreement
    assert agree["word"].n == 2 and agree["word"].observed == 1.0
    assert agree["flag"].n == 2 and agree["flag"].observed == 0.5
    assert agree["flag"].kappa == pytest.approx((0.5 - 0.25) / 0.75)
    assert agree["intent"].n == 1 and agree["intent"].observed == 1.0


async def test_a_second_run_asks_nothing_and_reports_all_grades(
    tmp_path: Path, grader_server: GraderServer
) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    async with make_client() as client:
        adapter = make_adapter(grader(grader_server), client)
        first = await grade(path, adapter)
        asked = len(grader_server.seen)
        again = await grade(path, adapter)
    assert len(grader_server.seen) == asked
    assert again.turns_graded == 0 and again.turns_already == 2 and again.probes_already == 1
    assert again.agreement == first.agreement


async def test_a_dry_run_and_a_limit(tmp_path: Path, grader_server: GraderServer) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    async with make_client() as client:
        adapter = make_adapter(grader(grader_server), client)
        dry = await grade(path, adapter, dry_run=True)
        assert grader_server.seen == [] and dry.turns_to_grade == 2 and dry.probes_to_grade == 1
        assert rows(path, "SELECT COUNT(*) FROM turn_grades") == [(0,)]
        one = await grade(path, adapter, limit=1)
        assert len(grader_server.seen) == 1 and one.turns_graded == 1
        everything = await grade(path, adapter, select="all")
    # "all": every judged turn and answered probe, the one graded before not again.
    assert everything.turns_graded == 3 and everything.probes_graded == 2
    assert rows(path, "SELECT COUNT(*) FROM turn_grades") == [(4,)]


async def test_an_unusable_answer_is_recorded_as_no_label(
    tmp_path: Path, grader_server: GraderServer
) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    grader_server.answers[CONTESTED] = "It plays ごま, I think."
    async with make_client() as client:
        report = await grade(path, make_adapter(grader(grader_server), client))
    assert report.unusable == 1
    assert rows(
        path,
        "SELECT g.ok, g.word, g.self_flag FROM turn_grades g JOIN turns t ON t.id = g.turn_id"
        " WHERE t.idx = 1",
    ) == [(0, None, None)]
    assert report.agreement["flag"].n == 1  # only usable grades are compared


async def test_the_command_grades_and_reports_kappa(
    tmp_path: Path, grader_server: GraderServer
) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    roster = tmp_path / "roster.toml"
    roster.write_text(
        "[players.judge]\n"
        'provider = "openai"\n'
        'model = "grader-model"\n'
        f'base_url = "{grader_server.base}/v1"\n'
        'api_key_env = "MIKAN_GRADER_KEY"\n',
        encoding="utf-8",
    )
    cmd = [sys.executable, "-m", "bot", "relabel", "--db", str(path), "--config", str(roster)]
    env = {**os.environ, "MIKAN_GRADER_KEY": KEY}

    async def run(*extra: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *cmd, *extra, cwd=ROOT, env=env, stdout=-1, stderr=-1
        )
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    code, out, err = await run("--grader", "nobody")
    assert code == 2 and "nobody" in err and grader_server.seen == []
    code, out, err = await run("--grader", "judge", "--json")
    assert code == 0, err
    graded = json.loads(out)["grading"]
    assert graded["grader"] == "judge" and graded["turns"]["graded"] == 2
    assert graded["agreement"]["flag"]["n"] == 2
    code, out, err = await run("--grader", "judge")
    assert code == 0, err
    assert "Cohen's kappa" in out and "already graded" in out
    assert KEY not in out + err


async def test_a_call_without_an_answer_stores_nothing_and_is_asked_again(
    tmp_path: Path, grader_server: GraderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "g.sqlite3"
    await _played(path)
    async with make_client() as client:
        monkeypatch.delenv("MIKAN_GRADER_KEY")  # no key: every call fails before sending
        keyless = await grade(path, make_adapter(grader(grader_server), client))
        assert keyless.calls_failed == 3 and keyless.turns_graded == 0
        assert keyless.first_error and grader_server.seen == []
        assert rows(path, "SELECT COUNT(*) FROM turn_grades") == [(0,)]
        monkeypatch.setenv("MIKAN_GRADER_KEY", KEY)
        keyed = await grade(path, make_adapter(grader(grader_server), client))
    assert keyed.turns_graded == 2 and keyed.probes_graded == 1 and keyed.calls_failed == 0
