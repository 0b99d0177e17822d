"""How a reply that ended without a move reads in a channel and in the stats embed."""

from __future__ import annotations

from bot.research.stats import wilson
from bot.rounds.events import SeatInfo, TurnJudged
from cogs.shiritori.presentation import stats_embed, turn_text

SEAT = SeatInfo(0, "GPT", "model", "gpt")


def judged(reason: str) -> TurnJudged:
    return TurnJudged(
        1, 0, SEAT, "no_answer", "「かば", None, None, None, (), ("か",), None, reason
    )


def test_a_cut_reply_says_so_and_is_no_violation() -> None:
    text = turn_text(judged("truncated"))
    assert "応答なし (no answer)" in text and "cut short" in text and "❌" not in text
    assert "down (gave up" in turn_text(judged("http_500: down (gave up after retries)"))


def test_the_stats_embed_gives_no_answers_by_reason() -> None:
    group = {
        "player": "gpt",
        "model": "m",
        "prompt_lang": "ja",
        "rounds": 1,
        "turns": 10,
        "violation_any": wilson(1, 8),
        "ends_with_n": wilson(0, 8),
        "ends_with_n_by_required": {},
        "intent": {},
        "no_answer": wilson(2, 10),
        "no_answer_by_reason": {"truncated": wilson(2, 10), "refused": wilson(0, 10)},
    }
    (field,) = stats_embed({"groups": [group]}).fields
    assert "(truncated 2)" in field.value and "refused" not in field.value
