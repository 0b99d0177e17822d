from __future__ import annotations

import pytest

from bot.players import make_adapter
from bot.players.base import ChatRequest, Message, TurnHint
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.referee.kana import joint_key


def player(seed: int = 1, pull: float = 0.3):
    return make_adapter(PlayerConfig("off", "offline", seed=seed, mikan_pull=pull), None)


def req(
    allowed: tuple[str, ...], used: frozenset[str] = frozenset(), salt: str = "", text: str = "turn"
) -> ChatRequest:
    return ChatRequest("sys", (Message("user", text),), TurnHint(allowed, used, salt=salt))


async def test_same_seed_same_replies_different_seed_differs() -> None:
    a, b, c = player(1), player(1), player(2)
    reqs = [req((m,), text=f"t{i}") for i, m in enumerate("かきくけこさしすせそたちつてと")]
    ra = [(await a.call(r)).text for r in reqs]
    rb = [(await b.call(r)).text for r in reqs]
    rc = [(await c.call(r)).text for r in reqs]
    assert ra == rb
    assert ra != rc


async def test_words_fit_the_joint_and_avoid_used_words() -> None:
    ref = Referee()
    p = player(pull=0.0)
    for mora in ["り", "ご", "ら", "す", "め", "か", "しゃ"]:
        used = frozenset({joint_key("りんご"), joint_key("りす")})
        for salt in map(str, range(10)):
            record = await p.call(req((mora,), used, salt=salt))
            v = ref.judge(record.text, prev_reading=None)
            assert v.reading is not None and v.reading.startswith(mora), record.text
            assert joint_key(v.reading) not in used
            assert "ends_with_n" not in v.violations  # pull 0: never a ん-word when safe ones exist
            assert record.ok and record.model_reported == "mikan-offline-1"


async def test_mikan_pull_reaches_for_n_words() -> None:
    ref = Referee()
    p = player(pull=1.0)
    record = await p.call(req(("み",)))
    v = ref.judge(record.text)
    assert v.reading == "みかん" and "ends_with_n" in v.violations
    assert v.self_flag in ("admits", "continues")


@pytest.mark.parametrize("pull", [0.2, 0.5])
async def test_mikan_pull_rate_is_roughly_the_setting(pull: float) -> None:
    ref = Referee()
    p = player(pull=pull)
    hits = 0
    n = 300
    for i in range(n):  # み has both safe words and みかん
        v = ref.judge((await p.call(req(("み",), salt=str(i)))).text)
        hits += "ends_with_n" in v.violations
    assert abs(hits / n - pull) < 0.1


async def test_no_word_left_is_an_admission_without_a_word() -> None:
    ref = Referee()
    record = await player().call(req(("ぬぬ",)))
    v = ref.judge(record.text)
    assert v.word is None and v.self_flag == "admits"
