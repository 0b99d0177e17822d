"""Property: any Unicode, any previous word, any rule set -> a verdict, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.referee.judge import Referee
from bot.referee.rules import Rules, Violation

_REF = Referee()

kana = st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x30FF), max_size=12)
rules = st.builds(
    Rules,
    small_kana=st.sampled_from(["enlarge", "whole", "either"]),
    long_vowel=st.sampled_from(["previous", "vowel"]),
    dakuten=st.sampled_from(["strict", "lenient"]),
    dictionary=st.booleans(),
    min_mora=st.integers(min_value=1, max_value=6),
)
any_text = st.text(max_size=4000)
japaneseish = st.one_of(
    any_text, kana, kana.map(lambda s: f"「{s}」"), kana.map(lambda s: f"**{s}**")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=japaneseish,
    prev=st.one_of(st.none(), any_text, kana),
    used=st.lists(kana, max_size=5),
    rules=rules,
)
def test_any_input_gets_a_verdict(
    text: str, prev: str | None, used: list[str], rules: Rules
) -> None:
    v = _REF.judge(text, prev=prev, used=used, rules=rules)
    out = v.to_json()
    assert out["ok"] == (out["violations"] == [])
    assert all(code in {c.value for c in Violation} for code in out["violations"])
    if out["word"] is None or out["reading"] is None:
        assert out["violations"] == ["unreadable"] and out["next"] == []
    if "ends_with_n" in out["violations"]:
        assert out["next"] == []
