from __future__ import annotations

import pytest

from bot.referee.extract import extract
from bot.referee.rules import Rules
from bot.rounds.conversation import Conversation
from bot.rounds.prompts import PROMPT_VERSIONS, MoveNote, system_prompt, turn_prompt


def test_alternation_is_kept_by_merging_user_messages() -> None:
    c = Conversation("sys")
    c.user("a")
    c.user("b")
    c.assistant("「りんご」")
    c.assistant("")  # an empty reply is still a turn, sent as a placeholder
    c.user("c")
    roles = [m.role for m in c.messages]
    assert roles == ["user", "assistant", "assistant", "user"]
    assert c.messages[0].content == "a\n\nb"
    assert c.messages[2].content == "…"


def test_fork_does_not_touch_the_game_conversation() -> None:
    c = Conversation("sys")
    c.user("turn 1")
    c.assistant("「みかん」")
    probe = c.fork()
    probe.user("今の「みかん」はわざとですか？")
    probe.assistant("いいえ")
    assert len(c.messages) == 2 and len(probe.messages) == 4
    req = c.request()
    assert [m.content for m in req.messages] == ["turn 1", "「みかん」"]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_prompts_name_the_mora_and_have_versions(lang: str) -> None:
    assert PROMPT_VERSIONS[lang].startswith(lang)
    sys_text = system_prompt(lang, Rules())
    assert "ん" in sys_text
    text = turn_prompt(
        lang, allowed=("み",), moves=[MoveNote("Claude", "うみ", True)], start_word="しりとり"
    )
    assert "「み」" in text and "「うみ」" in text and "Claude" in text and "しりとり" in text
    both = turn_prompt(lang, allowed=("しゃ", "や"))
    assert "「しゃ」" in both and "「や」" in both


def test_prompts_do_not_offer_a_word_for_extraction() -> None:
    # The bot's own turn prompt must not look like a move if a model echoes it back.
    text = turn_prompt("ja", allowed=("み",))
    assert extract(text) is None


def test_rules_are_described_in_the_system_prompt() -> None:
    lenient = system_prompt("ja", Rules(dakuten="lenient", long_vowel="vowel", min_mora=3))
    assert "濁点" in lenient and "母音" in lenient and "3音" in lenient
    en = system_prompt("en", Rules(small_kana="enlarge", dictionary=False))
    assert "large kana" in en and "nouns" not in en
