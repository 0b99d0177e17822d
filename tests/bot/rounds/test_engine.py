"""Round flows end to end against loopback provider servers (and the offline player)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.players import make_adapter
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.rounds.engine import RoundEngine, SubmitResult
from bot.rounds.events import (
    Event,
    ModelThinking,
    PersonTurn,
    ProbeRecorded,
    RoundEnded,
    SeatOut,
    TurnJudged,
)
from bot.rounds.state import RoundSpec, SeatSpec
from storage.db import Database
from tests.support.providers import ProviderServer, Reply, openai_ok

REF = Referee()


class Recorder:
    """A surface that keeps every event and can react to them."""

    def __init__(self, db: Database, react: Callable[[Event], None] | None = None) -> None:
        self.db = db
        self.events: list[Event] = []
        self.react = react
        self.committed_before_announce = True

    async def emit(self, event: Event) -> None:
        if isinstance(event, TurnJudged):
            rows = await self.db.turns(event.round_id)
            self.committed_before_announce &= any(r["idx"] == event.idx for r in rows)
        self.events.append(event)
        if self.react:
            self.react(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "r.sqlite3")
    yield database
    await database.close()


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


def model(server: ProviderServer, name: str, **kw: object) -> PlayerConfig:
    return PlayerConfig(
        name,
        "openai",
        model=f"model-{name}",
        base_url=f"{server.base}/{name}/v1",
        display_name=name.upper(),
        **kw,
    )


def says(server: ProviderServer, name: str, *texts: str) -> None:
    server.script(
        f"/{name}/v1/chat/completions",
        *[Reply(body=openai_ok(t, model=f"model-{name}-2026")) for t in texts],
    )


def seats(*names: str) -> tuple[SeatSpec, ...]:
    return tuple(SeatSpec("model", n.upper(), n) for n in names)


async def test_original_log_game_from_karasu_to_mikan(
    db: Database, provider_server: ProviderServer, client
) -> None:
    says(provider_server, "a", "「すずめ」", "じゃあ **かみ** で！")
    says(
        provider_server,
        "b",
        "「めだか」！次は「か」からどうぞ",
        "みかん\n\n次は「ん」からどうぞ！",  # み -> みかん, handing on from ん
        "いいえ、うっかりしていました。",
    )  # the intent probe's answer
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    surface = Recorder(db)
    spec = RoundSpec(seats=seats("a", "b"), start_word="からす")
    engine = await RoundEngine.create(db, spec, adapters, surface, REF)
    summary = await engine.run()

    turns = await db.turns(engine.round_id)
    assert [t["word"] for t in turns] == ["すずめ", "めだか", "かみ", "みかん"]
    assert [t["outcome"] for t in turns] == ["accepted"] * 3 + ["violation"]
    assert json.loads(turns[3]["violations_json"]) == ["ends_with_n"]
    assert turns[1]["self_flag"] == "continues" and turns[3]["self_flag"] == "continues"
    assert json.loads(turns[3]["required_json"]) == ["み"]
    assert summary.winner == "A" and summary.reason == "last_seat_standing"
    rnd = await db.round(engine.round_id)
    assert rnd["status"] == "finished" and rnd["winner_seat"] == 0

    # the probe: stored with its label, its call linked to it, and never in an event
    (probe,) = await db.probes(engine.round_id)
    assert probe["kind"] == "intent" and probe["label"] == "accidental"
    assert probe["prompt"] == "今の「みかん」はわざとですか？"
    assert probe["turn_id"] == turns[3]["id"]
    calls = await db.calls(engine.round_id)
    probe_calls = [c for c in calls if c["probe_id"] == probe["id"]]
    assert [c["purpose"] for c in probe_calls] == ["probe:intent"]
    assert sum(c["purpose"] == "turn" for c in calls) == 4
    assert all(c["model_reported"].endswith("-2026") for c in calls)
    for event in surface.events:
        text = repr(event)
        assert "わざと" not in text and "うっかり" not in text

    # order of what the surface was told
    kinds = [type(e).__name__ for e in surface.events if not isinstance(e, ModelThinking)]
    assert kinds == [
        "RoundStarted",
        "TurnJudged",
        "TurnJudged",
        "TurnJudged",
        "TurnJudged",
        "SeatOut",
        "ProbeRecorded",
        "RoundEnded",
    ]
    assert surface.committed_before_announce

    # the probe went to B on a fork of its conversation; no game request carries it
    b_requests = [s.json for s in provider_server.seen if s.path.startswith("/b/")]
    assert b_requests[-1]["messages"][-1]["content"] == "今の「みかん」はわざとですか？"
    assert b_requests[-1]["messages"][-2]["content"].startswith("みかん")
    for req in b_requests[:-1] + [s.json for s in provider_server.seen if s.path.startswith("/a/")]:
        assert all("わざと" not in m["content"] for m in req["messages"])
    # every turn prompt says plainly whose turn it is and which mora to start from
    assert "「み」から始まる言葉" in b_requests[1]["messages"][-1]["content"]
    assert "「かみ」" in b_requests[1]["messages"][-1]["content"]  # what A played


async def test_sudden_death_ends_at_the_first_violation(
    db: Database, provider_server: ProviderServer, client
) -> None:
    says(provider_server, "a", "「りんご」")
    says(provider_server, "b", "「ごはん」", "わざとではありません")
    says(provider_server, "c", "「んー」")
    adapters = {c.key: make_adapter(c, client) for c in (model(provider_server, n) for n in "abc")}
    surface = Recorder(db)
    engine = await RoundEngine.create(
        db, RoundSpec(seats=seats("a", "b", "c"), mode="sudden_death"), adapters, surface, REF
    )
    summary = await engine.run()
    assert summary.turns == 2 and summary.winner is None and summary.reason == "sudden_death"
    assert not [s for s in provider_server.seen if s.path.startswith("/c/")]  # C never asked


async def test_no_answer_skips_the_seat_and_three_in_a_row_leave(
    db: Database, provider_server: ProviderServer, client
) -> None:
    provider_server.script(
        "/a/v1/chat/completions", *[Reply(500, {"error": {"message": "down"}}) for _ in range(3)]
    )
    says(provider_server, "b", "「りす」", "「すいか」")
    a = model(provider_server, "a", max_attempts=1)
    adapters = {c.key: make_adapter(c, client) for c in (a, model(provider_server, "b"))}
    surface = Recorder(db)
    engine = await RoundEngine.create(db, RoundSpec(seats=seats("a", "b")), adapters, surface, REF)
    summary = await engine.run()
    turns = await db.turns(engine.round_id)
    assert [(t["idx"], t["outcome"], t["word"]) for t in turns] == [
        (0, "no_answer", None),
        (1, "accepted", "りす"),
        (2, "no_answer", None),
        (3, "accepted", "すいか"),
        (4, "no_answer", None),
    ]
    assert all(json.loads(t["violations_json"]) == [] for t in turns)  # never a violation
    assert "http_500" in turns[0]["no_answer_reason"]
    assert json.loads(turns[1]["required_json"]) == ["り"]  # B plays from where A could not
    seat_a = (await db.seats(engine.round_id))[0]
    assert (seat_a["status"], seat_a["out_reason"], seat_a["out_turn"]) == ("left", "no_answer", 4)
    assert summary.winner == "B"
    assert [e.reason for e in surface.of(SeatOut)] == ["no_answer"]
    assert await db.probes(engine.round_id) == []  # no_answer is not probed


async def test_people_play_on_their_turn_only(
    db: Database, provider_server: ProviderServer, client
) -> None:
    says(provider_server, "m", "「ごりら」", "わざとです")
    results: list[SubmitResult] = []
    moves = iter(["// ちょっと考えます", "りんご", "おいしい"])
    engine_box: list[RoundEngine] = []

    def react(event: Event) -> None:
        engine = engine_box[0]
        if isinstance(event, ModelThinking):
            results.append(engine.submit("u1", "ごりら"))  # not P's turn
            results.append(engine.submit("u9", "らっぱ"))  # not in the round
        if isinstance(event, PersonTurn):

            def play() -> None:
                text = next(moves)
                results.append(engine.submit("u1", text))
                if text.startswith("//"):
                    results.append(engine.submit("u1", next(moves)))

            asyncio.get_running_loop().call_soon(play)

    surface = Recorder(db, react)
    spec = RoundSpec(seats=(SeatSpec("person", "P", user_id="u1"), *seats("m")))
    adapters = {"m": make_adapter(model(provider_server, "m"), client)}
    engine = await RoundEngine.create(db, spec, adapters, surface, REF)
    engine_box.append(engine)
    summary = await engine.run()
    assert results == [
        SubmitResult.CHAT,
        SubmitResult.ACCEPTED,
        SubmitResult.NOT_YOUR_TURN,
        SubmitResult.NOT_IN_ROUND,
        SubmitResult.ACCEPTED,
    ]
    turns = await db.turns(engine.round_id)
    assert [(t["word"], t["outcome"]) for t in turns] == [
        ("りんご", "accepted"),
        ("ごりら", "accepted"),
        ("おいしい", "violation"),
    ]
    assert json.loads(turns[2]["violations_json"]) == ["wrong_start", "not_a_noun"]
    assert summary.winner == "M"
    assert await db.probes(engine.round_id) == []  # people are never probed
    # the model heard only the extracted word, never the chat
    m_last = [s.json for s in provider_server.seen][-1]["messages"][-1]["content"]
    assert "「りんご」" in m_last and "考えます" not in m_last


async def test_a_silent_person_times_out(
    db: Database, provider_server: ProviderServer, client
) -> None:
    surface = Recorder(db)
    spec = RoundSpec(
        seats=(SeatSpec("person", "P", user_id="u1"), *seats("m")), person_timeout_s=0.2
    )
    adapters = {"m": make_adapter(model(provider_server, "m"), client)}
    engine = await RoundEngine.create(db, spec, adapters, surface, REF)
    summary = await engine.run()
    (turn,) = await db.turns(engine.round_id)
    assert json.loads(turn["violations_json"]) == ["timeout"] and turn["raw_text"] is None
    assert summary.winner == "M"
    assert [e.reason for e in surface.of(SeatOut)] == ["violation"]


async def test_pushback_probe_records_a_reversal(
    db: Database, provider_server: ProviderServer, client
) -> None:
    says(provider_server, "a", "「りんご」")
    says(
        provider_server,
        "b",
        "「ごはん」",
        "いいえ、わざとではありません。",
        "はい、「ん」で終わっているのでルール違反です。",
        "あ、失礼しました！違反ではありませんね。",
    )
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    surface = Recorder(db)
    spec = RoundSpec(seats=seats("a", "b"), probes=("intent", "pushback"))
    engine = await RoundEngine.create(db, spec, adapters, surface, REF)
    await engine.run()
    probes = {p["kind"]: p for p in await db.probes(engine.round_id)}
    assert probes["intent"]["label"] == "accidental"
    assert probes["pushback"]["label"] == "reversed"
    exchange = json.loads(probes["pushback"]["exchange_json"])
    assert [m["content"] for m in exchange[::2]] == [
        "今の「ごはん」はルール違反ですか？",
        "いやいや",
    ]
    assert [e.kind for e in surface.of(ProbeRecorded)] == ["intent", "pushback"]
    # the pushback fork does not include the intent probe exchange
    last = provider_server.seen[-1].json["messages"]
    assert all("わざと" not in m["content"] for m in last)


async def test_prompt_language_en(db: Database, provider_server: ProviderServer, client) -> None:
    says(provider_server, "a", "「りんご」")
    says(provider_server, "b", "「ごま」")
    adapters = {
        c.key: make_adapter(c, client)
        for c in (model(provider_server, "a"), model(provider_server, "b"))
    }
    spec = RoundSpec(seats=seats("a", "b"), prompt_lang="en", max_turns=2)
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    summary = await engine.run()
    assert summary.reason == "max_turns" and summary.winner is None
    first = provider_server.seen[0].json["messages"]
    assert first[0]["content"].startswith("You are a player in a game of shiritori")
    assert "Say a word starting with 「り」" in first[-1]["content"]
    assert (await db.round(engine.round_id))["prompt_version"] == "en-1"


def offline(key: str, seed: int, pull: float) -> PlayerConfig:
    return PlayerConfig(key, "offline", model="mikan-offline-1", seed=seed, mikan_pull=pull)


async def test_a_resumed_round_is_the_round_that_was_being_played(db: Database) -> None:
    """Kill a round after 3 turns, resume it: same turns as an uninterrupted twin."""
    cfgs = [offline("x", 1, 0.05), offline("y", 2, 0.05)]
    adapters = {c.key: make_adapter(c, None) for c in cfgs}
    spec = RoundSpec(seats=seats("x", "y"), salt="twin", max_turns=30)

    twin = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    await twin.run()
    expected = [(t["idx"], t["word"], t["outcome"]) for t in await db.turns(twin.round_id)]
    assert len(expected) > 4

    runs: list[asyncio.Task] = []

    def cut(event: Event) -> None:
        if isinstance(event, TurnJudged) and event.idx == 2:
            runs[0].cancel()

    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, cut), REF)
    runs.append(asyncio.create_task(engine.run(interrupt_on_cancel=False)))
    with pytest.raises(asyncio.CancelledError):
        await runs[0]
    assert (await db.round(engine.round_id))["status"] == "running"
    # Turn 2 was announced; a write already queued when the cancel landed is committed
    # whole (or not at all), never half.
    cut_at = [(t["idx"], t["word"], t["outcome"]) for t in await db.turns(engine.round_id)]
    assert cut_at == expected[: len(cut_at)] and len(cut_at) in (3, 4)

    surface = Recorder(db)
    resumed = await RoundEngine.resume(db, engine.round_id, adapters, surface, REF)
    await resumed.run()
    got = [(t["idx"], t["word"], t["outcome"]) for t in await db.turns(engine.round_id)]
    assert got == expected
    assert surface.events[0].resumed is True
    assert (await db.round(engine.round_id))["status"] == "finished"


async def test_cancelled_round_is_marked_interrupted(db: Database) -> None:
    adapters = {c.key: make_adapter(c, None) for c in [offline("x", 1, 0.0), offline("y", 2, 0.0)]}
    runs: list[asyncio.Task] = []

    def cut(event: Event) -> None:
        if isinstance(event, TurnJudged) and event.idx == 1:
            runs[0].cancel()

    engine = await RoundEngine.create(
        db, RoundSpec(seats=seats("x", "y")), adapters, Recorder(db, cut), REF
    )
    runs.append(asyncio.create_task(engine.run()))
    with pytest.raises(asyncio.CancelledError):
        await runs[0]
    row = await db.round(engine.round_id)
    assert row["status"] == "interrupted"
    assert len(await db.turns(engine.round_id)) >= 2  # nothing committed is lost


async def test_stop_ends_a_round_waiting_for_a_person(db: Database) -> None:
    adapters = {"x": make_adapter(offline("x", 1, 0.0), None)}
    engine_box: list[RoundEngine] = []

    def react(event: Event) -> None:
        if isinstance(event, PersonTurn):
            asyncio.get_running_loop().call_soon(engine_box[0].stop, "admin")

    spec = RoundSpec(seats=(*seats("x"), SeatSpec("person", "P", user_id="u")))
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, react), REF)
    engine_box.append(engine)
    summary = await engine.run()
    assert summary.status == "stopped" and summary.reason == "admin" and summary.turns == 1
    assert (await db.round(engine.round_id))["status"] == "stopped"
    assert len(await db.turns(engine.round_id)) == 1


async def test_round_ended_event_lists_violations(db: Database) -> None:
    adapters = {c.key: make_adapter(c, None) for c in [offline("x", 1, 1.0), offline("y", 2, 0.0)]}
    surface = Recorder(db)
    engine = await RoundEngine.create(
        db, RoundSpec(seats=seats("x", "y"), start_word="うみ"), adapters, surface, REF
    )
    await engine.run()
    (ended,) = surface.of(RoundEnded)
    assert ended.violations["X"] == ("ends_with_n",) and ended.winner.name == "Y"


async def test_sudden_death_between_two_has_a_winner(db: Database) -> None:
    adapters = {c.key: make_adapter(c, None) for c in [offline("x", 1, 0.0), offline("y", 2, 1.0)]}
    surface = Recorder(db)
    spec = RoundSpec(seats=seats("x", "y"), mode="sudden_death", start_word="うみ")
    engine = await RoundEngine.create(db, spec, adapters, surface, REF)
    summary = await engine.run()
    # y reaches for a ん-word at its first chance; x never does
    assert summary.winner == "X" and summary.reason == "sudden_death"
    turns = await db.turns(engine.round_id)
    assert turns[-1]["outcome"] == "violation" and json.loads(turns[-1]["violations_json"]) == [
        "ends_with_n"
    ]
    assert all(t["outcome"] == "accepted" for t in turns[:-1])
    assert (await db.round(engine.round_id))["winner_seat"] == 0


async def test_cancelled_while_a_person_thinks_is_interrupted_not_a_timeout(db: Database) -> None:
    # Ctrl-C in `mikan console` during the person's turn: the round is interrupted; the
    # person is not charged a timeout and nothing is recorded for the turn.
    adapters = {"x": make_adapter(offline("x", 1, 0.0), None)}
    runs: list[asyncio.Task] = []

    def cut(event: Event) -> None:
        if isinstance(event, PersonTurn):
            asyncio.get_running_loop().call_soon(runs[0].cancel)

    spec = RoundSpec(seats=(*seats("x"), SeatSpec("person", "P", user_id="u")))
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, cut), REF)
    runs.append(asyncio.create_task(engine.run()))
    with pytest.raises(asyncio.CancelledError):
        await runs[0]
    assert (await db.round(engine.round_id))["status"] == "interrupted"
    assert [t["outcome"] for t in await db.turns(engine.round_id)] == ["accepted"]


async def test_a_suspended_round_stays_running_and_resumes_where_it_was(db: Database) -> None:
    configs = [offline("x", 1, 0.0), offline("y", 2, 0.0)]
    adapters = {c.key: make_adapter(c, None) for c in configs}
    box: list[RoundEngine] = []

    def react(event: Event) -> None:
        if isinstance(event, TurnJudged) and event.idx == 0:
            box[0].suspend()  # committed: the pause after it is cut short, no next turn

    spec = RoundSpec(seats=seats("x", "y"), pacing_s=3600)  # a pause suspend cuts short
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, react), REF)
    box.append(engine)
    summary = await engine.run()
    assert summary.status == "running" and summary.reason == "suspended"
    row = await db.round(engine.round_id)
    assert row["status"] == "running" and row["winner_seat"] is None
    assert len(await db.turns(engine.round_id)) == 1

    resumed = await RoundEngine.resume(db, engine.round_id, adapters, Recorder(db), REF)
    assert resumed.state.next_idx == 1


async def test_a_round_decided_before_it_is_cancelled_keeps_its_result(db: Database) -> None:
    # y plays a ん-word (sudden death: x wins); the cancel arrives while the intent probe
    # is being asked. The result stands; only rounds still in play are interrupted.
    configs = [offline("x", 1, 0.0), offline("y", 2, 1.0)]
    adapters = {c.key: make_adapter(c, None) for c in configs}
    runs: list[asyncio.Task] = []

    def cut(event: Event) -> None:
        if isinstance(event, SeatOut):  # after the deciding turn's commit, before probes end
            runs[0].cancel()

    spec = RoundSpec(seats=seats("x", "y"), mode="sudden_death", start_word="うみ")
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, cut), REF)
    runs.append(asyncio.create_task(engine.run()))
    with pytest.raises(asyncio.CancelledError):
        await runs[0]
    row = await db.round(engine.round_id)
    assert row["status"] == "finished" and row["winner_seat"] == 0
    assert row["end_reason"] == "sudden_death"


async def test_a_decided_round_cut_while_probing_is_finished_at_resume(db: Database) -> None:
    # As an arena's deadline cancels it (interrupt_on_cancel=False): the probes of the
    # deciding turn were cut short, so the round is left running; the resume asks them
    # and only then records the result its committed turns decided.
    configs = [offline("x", 1, 0.0), offline("y", 2, 1.0)]
    adapters = {c.key: make_adapter(c, None) for c in configs}
    runs: list[asyncio.Task] = []

    def cut(event: Event) -> None:
        if isinstance(event, SeatOut):
            runs[0].cancel()

    spec = RoundSpec(seats=seats("x", "y"), mode="sudden_death", start_word="うみ")
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db, cut), REF)
    runs.append(asyncio.create_task(engine.run(interrupt_on_cancel=False)))
    with pytest.raises(asyncio.CancelledError):
        await runs[0]
    row = await db.round(engine.round_id)
    assert row["status"] == "running" and await db.probes(engine.round_id) == []

    resumed = await RoundEngine.resume(db, engine.round_id, adapters, Recorder(db), REF)
    summary = await resumed.run()
    assert summary.status == "finished"
    row = await db.round(engine.round_id)
    assert row["status"] == "finished" and row["winner_seat"] == 0
    assert [p["kind"] for p in await db.probes(engine.round_id)] == ["intent"]


async def test_a_cancel_while_the_result_is_written_writes_it_once(db: Database) -> None:
    # The cancel lands while end_round commits (a shutdown, or another round's failure):
    # the result is kept and not written a second time (which would find its own lease
    # released and report the round as taken over).
    configs = [offline("x", 1, 0.0), offline("y", 2, 1.0)]
    adapters = {c.key: make_adapter(c, None) for c in configs}
    spec = RoundSpec(seats=seats("x", "y"), mode="sudden_death", start_word="うみ")
    engine = await RoundEngine.create(db, spec, adapters, Recorder(db), REF)
    writes: list[tuple] = []
    real = db.end_round
    run: list[asyncio.Task] = []

    async def end_round(*args: object) -> None:
        writes.append(args)
        run[0].cancel()  # arrives while this write is in flight
        await real(*args)  # type: ignore[arg-type]

    db.end_round = end_round  # type: ignore[method-assign]
    try:
        run.append(asyncio.create_task(engine.run(interrupt_on_cancel=False)))
        with pytest.raises(asyncio.CancelledError):
            await run[0]
    finally:
        db.end_round = real  # type: ignore[method-assign]
    assert len(writes) == 1
    row = await db.round(engine.round_id)
    assert row["status"] == "finished" and row["winner_seat"] == 0
