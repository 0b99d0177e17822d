import pytest

from bot.referee.kana import (
    clean,
    enlarge,
    joint_key,
    morae,
    to_hiragana,
    voicing_variants,
    vowel_of,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ﾐｶﾝ", "ミカン"),  # halfwidth katakana
        ("ｶﾞｯｺｳ", "ガッコウ"),  # halfwidth with voicing mark
        ("か\u3099っこう", "がっこう"),  # combining dakuten composes
        ("は\u309aん", "ぱん"),  # combining handakuten composes
        ("か゛っこう", "がっこう"),  # spacing dakuten (U+309B) composes too
        ("\u200bみ\u200dか\ufeffん\u2060", "みかん"),  # zero-width characters removed
        ("  みかん\n ", "みかん"),  # surrounding whitespace
        ("ＡＢＣ１２３", "ABC123"),  # fullwidth ASCII folds
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_katakana_to_hiragana_keeps_long_vowel_and_vu() -> None:
    assert to_hiragana("コーヒー") == "こーひー"
    assert to_hiragana("ヴァイオリン") == "ゔぁいおりん"


@pytest.mark.parametrize(
    ("reading", "expected"),
    [
        ("きしゃ", ["き", "しゃ"]),
        ("ちきゅう", ["ち", "きゅ", "う"]),
        ("がっこう", ["が", "っ", "こ", "う"]),
        ("こーひー", ["こ", "ー", "ひ", "ー"]),
        ("しゃわー", ["しゃ", "わ", "ー"]),
        ("ふぁん", ["ふぁ", "ん"]),
        ("ぁ", ["ぁ"]),  # a stray small kana stands alone
    ],
)
def test_morae(reading: str, expected: list[str]) -> None:
    assert morae(reading) == expected


def test_vowels_and_enlarge() -> None:
    assert vowel_of("しゃ") == "あ"
    assert vowel_of("ひ") == "い"
    assert vowel_of("ん") is None
    assert enlarge("しゃ") == "や"
    assert enlarge("ふぁ") == "あ"
    assert enlarge("っ") == "つ"


def test_joint_equivalences() -> None:
    assert joint_key("ぢ") == joint_key("じ")
    assert joint_key("づ") == joint_key("ず")
    assert joint_key("を") == joint_key("お")
    assert joint_key("ば") != joint_key("は")
    assert joint_key("ば", lenient=True) == joint_key("ぱ", lenient=True) == "は"


def test_voicing_variants() -> None:
    assert voicing_variants("は") == ["は", "ば", "ぱ"]
    assert voicing_variants("が") == ["か", "が"]
    assert voicing_variants("み") == ["み"]
    assert voicing_variants("しゃ") == ["しゃ", "じゃ"]
