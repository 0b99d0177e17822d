"""Rounds against stand-ins whose replies are cut short, refused or full of thinking:
none of it counts as a violation or an ん-ending, and the statistics count it apart."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bot.players import make_adapter
from bot.research.stats import compute
from bot.rounds.engine import RoundEngine
from bot.rounds.state import RoundSpec
from storage.db import Database
from tests.bot.rounds.test_engine import REF, Recorder, model, seats
from tests.support.providers import ProviderServer, Reply, openai_ok


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "r.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


def reply(text: str | None, finish: str = "stop", **message: object) -> Reply:
    body = openai_ok(text or "", model="m-2026")
    body["choices"][0]["message"] = {"role": "assistant", "content": text, **message}
    body["choices"][0]["finish_reason"] = finish
    return Reply(body=body)


async def test_cut_refused_and_thinking_replies_are_never_violations(
    db: Database, provider_server: ProviderServer, client
) -> None:
    provider_server.script(
        "/a/v1/chat/completions",
        reply("", "length"),  # the budget went on reasoning: nothing to judge
        reply("「かばん", "length"),  # cut: a word that ends in ん only because of the cut
        reply("<think>「めろん」は「ん」で終わるからだめ</think>「めだか」"),
        reply("「かき」", "length"),  # cut after a complete legal move: judged
    )
    provider_server.script(
        "/b/v1/chat/completions",
        reply("「すいか」"),
        reply("「かめ」"),
        reply(None, "stop", refusal="I won't play this."),
    )
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    spec = RoundSpec(seats=seats("a", "b"), start_word="からす", max_turns=7)
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    await engine.run()

    turns = await db.turns(engine.round_id)
    assert [(t["outcome"], t["word"], t["no_answer_reason"]) for t in turns] == [
        ("no_answer", None, "truncated"),
        ("accepted", "すいか", None),
        ("no_answer", None, "truncated"),
        ("accepted", "かめ", None),
        ("accepted", "めだか", None),
        ("no_answer", None, "refused"),
        ("accepted", "かき", None),
    ]
    assert all(json.loads(t["violations_json"]) == [] for t in turns)
    assert turns[2]["raw_text"] == "「かばん"  # kept for research, not judged
    assert turns[4]["raw_text"] == "「めだか」"  # the judged text holds no thinking
    assert {s["status"] for s in await db.seats(engine.round_id)} == {"playing"}
    assert await db.probes(engine.round_id) == []  # nothing to probe: no violation

    calls = [c for c in await db.calls(engine.round_id) if c["purpose"] == "turn"]
    assert [c["finish"] for c in calls] == [
        "truncated",
        "stop",
        "truncated",
        "stop",
        "stop",
        "refused",
        "truncated",
    ]
    assert calls[4]["reasoning"] == "「めろん」は「ん」で終わるからだめ"
    assert all(c["usage_version"] == 1 for c in calls)
    # A's next request carries its visible reply only, never the thinking.
    a_requests = [s.json for s in provider_server.seen if s.path.startswith("/a/")]
    assert all("めろん" not in m["content"] for m in a_requests[-1]["messages"])

    stats = {g["player"]: g for g in compute(db.path)["groups"]}
    a, b = stats["a"], stats["b"]
    assert a["violation_any"]["k"] == 0 and a["ends_with_n"]["k"] == 0
    assert a["no_answer_by_reason"]["truncated"] == {
        **a["no_answer_by_reason"]["truncated"],
        "k": 2,
        "n": 4,
    }
    assert b["no_answer_by_reason"]["refused"]["k"] == 1
    assert b["no_answer_by_reason"]["call_failed"]["k"] == 0
    assert a["tokens"]["calls"] == 4 and a["tokens"]["input_tokens"] == 4 * 42


async def test_a_cut_reply_counts_only_a_word_complete_before_the_cut(
    db: Database, provider_server: ProviderServer, client
) -> None:
    provider_server.script(
        "/a/v1/chat/completions",
        reply("「かば", "length"),  # かば is a word, but the text ends on it: maybe かばん
        reply("「めだか」です。次は「か", "length"),  # the move closed before the cut
    )
    provider_server.script("/b/v1/chat/completions", reply("「かめ」"))
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    spec = RoundSpec(seats=seats("a", "b"), start_word="すいか", max_turns=3)
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    await engine.run()
    turns = await db.turns(engine.round_id)
    assert [(t["outcome"], t["word"], t["no_answer_reason"]) for t in turns] == [
        ("no_answer", None, "truncated"),
        ("accepted", "かめ", None),
        ("accepted", "めだか", None),
    ]
    assert turns[0]["raw_text"] == "「かば"


async def test_probes_read_the_answer_without_its_thinking(
    db: Database, provider_server: ProviderServer, client
) -> None:
    """An intent probe answered with "わざと" only inside its thinking is labelled by
    what the model said, and the thinking is kept on the probe's call."""
    provider_server.script("/a/v1/chat/completions", reply("「りんご」"))
    provider_server.script(
        "/b/v1/chat/completions",
        reply("「ごはん」"),
        reply("<think>わざとだと言おうか…</think>いいえ、うっかりしていました。"),
    )
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    spec = RoundSpec(seats=seats("a", "b"), probes=("intent",))
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    await engine.run()
    (probe,) = await db.probes(engine.round_id)
    assert probe["reply"] == "いいえ、うっかりしていました。"
    assert probe["label"] == "accidental"
    assert "わざとだと" not in probe["exchange_json"]
    (call,) = [c for c in await db.calls(engine.round_id) if c["purpose"] == "probe:intent"]
    assert call["reasoning"] == "わざとだと言おうか…"
    # Probe calls share their seat's cache key with its turns.
    b_keys = {s.json.get("prompt_cache_key") for s in provider_server.seen if "/b/" in s.path}
    assert len(b_keys) == 1 and None not in b_keys


async def test_tokens_and_estimated_cost_per_model(
    db: Database, provider_server: ProviderServer, client
) -> None:
    from bot.research.stats import estimated_cost

    usage = {
        "prompt_tokens": 1_000_000,
        "completion_tokens": 300_000,
        "prompt_tokens_details": {"cached_tokens": 600_000},
        "completion_tokens_details": {"reasoning_tokens": 100_000},
    }
    body = openai_ok("「りんご」", model="m-2026", usage=usage)
    provider_server.script("/a/v1/chat/completions", Reply(body=body))
    provider_server.script("/b/v1/chat/completions", reply("「ごはん」"))
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    engine = await RoundEngine.create(
        db, RoundSpec(seats=seats("a", "b"), probes=()), adapters, Recorder(db), REF
    )
    await engine.run()
    prices = {"a": {"input": 2.0, "cached_input": 0.5, "output": 8.0}}
    a = next(g for g in compute(db.path, prices=prices)["groups"] if g["player"] == "a")
    assert a["tokens"] == {
        "calls": 1,
        "input_tokens": 1_000_000,
        "cached_input_tokens": 600_000,
        "cache_write_tokens": 0,
        "output_tokens": 200_000,
        "reasoning_tokens": 100_000,
        "cached_share": 0.6,
    }
    # 400k fresh at 2, 600k cached at 0.5, 300k output (reasoning included) at 8
    assert a["estimated_cost"] == pytest.approx(0.8 + 0.3 + 2.4)
    assert estimated_cost(a["tokens"], None) is None
    b = next(g for g in compute(db.path, prices=prices)["groups"] if g["player"] == "b")
    assert b["estimated_cost"] is None  # no prices for b
