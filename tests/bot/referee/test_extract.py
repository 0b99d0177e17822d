"""Word extraction, on replies in the styles models and people really write."""

import pytest

from bot.referee.extract import extract


@pytest.mark.parametrize(
    ("text", "surface", "furigana", "source"),
    [
        # a message that is just the word
        ("みかん", "みかん", None, "line"),
        ("ゴリラ", "ゴリラ", None, "line"),
        ("蜜柑", "蜜柑", None, "line"),
        # the word, then the hand-over on later lines
        ("みかん\n\n次は「ん」からどうぞ", "みかん", None, "line"),
        # trailing punctuation and emoji
        ("りんご！🍎", "りんご", None, "line"),
        ("すいか〜♪", "すいか", None, "line"),
        ("めだか…", "めだか", None, "line"),
        ("ラッパ!?", "ラッパ", None, "line"),
        # quoted words; the mora being named is not the word
        ("では「ラッコ」でどうでしょう？", "ラッコ", None, "quote"),
        ("『すずめ』にします", "すずめ", None, "quote"),
        ("「ん」から始まる言葉はないので…「みかん」！", "みかん", None, "quote"),
        ("次は「う」ですね。「うさぎ」！", "うさぎ", None, "quote"),
        ("「ご」で始まる言葉…「ゴリラ」！次は「ら」からどうぞ。", "ゴリラ", None, "quote"),
        # bold, as models write it, with the mora named in quotes first
        ("次は「み」だね。\n\n**みかん** 🍊\n\n「ん」がついちゃった！", "みかん", None, "bold"),
        ("Sure! My word is **りんご** (ringo).", "りんご", None, "bold"),
        # furigana both ways, fullwidth and ASCII parentheses
        ("蜜柑（みかん）", "蜜柑", "みかん", "line"),
        ("みかん（蜜柑）", "蜜柑", "みかん", "line"),
        # a copula or commit phrase after the word is cut off (reader-1 found no word here)
        ("目高(めだか)です", "目高", "めだか", "line"),
        ("みかんにします！", "みかん", None, "line"),
        ("「目高（めだか）」", "目高", "めだか", "quote"),
        ("「日本（ニホン）」", "日本", "にほん", "quote"),
        # a romaji or English gloss is not a reading
        ("りんご (ringo)", "りんご", None, "line"),
        ("**すいか**（watermelon）", "すいか", None, "bold"),
        # self-corrections: the first word written is the word played (reader-1 took the
        # bold みみず in the second; the reader now reports it as corrected_to)
        ("「みかん」…あっ、「ん」で終わっちゃった。「みみず」にします", "みかん", None, "quote"),
        ("みかん…じゃなくて、**みみず**！", "みかん", None, "line"),
        # halfwidth input
        ("ﾐｶﾝ", "ミカン", None, "line"),
        # leading blank lines
        ("\n\n  きつね  \n", "きつね", None, "line"),
    ],
)
def test_extract(text: str, surface: str | None, furigana: str | None, source: str | None) -> None:
    found = extract(text)
    if surface is None:
        assert found is None
    else:
        assert found is not None
        assert (found.surface, found.furigana, found.source) == (surface, furigana, source)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "apple",
        "しりとりしましょう、いいですよ",  # a sentence, not a word
        "次は「み」からですね。うーん、どうぞ！",  # waits, names the mora, plays nothing
        "「ん」から始まる言葉はありません。",
        "I'll pass.",
        "🍊🍊🍊",
        "「」",
        "**  **",
    ],
)
def test_no_word(text: str) -> None:
    assert extract(text) is None


def test_one_mora_quote_without_cue_is_a_word() -> None:
    # 「か」 alone is a (too short) word, not a mora being named
    found = extract("「か」")
    assert found is not None and found.surface == "か"


def test_huge_message_is_handled() -> None:
    text = "あ" * 100_000 + "\n**みかん**"
    found = extract(text)
    assert found is not None and found.surface == "みかん"


def test_a_run_longer_than_any_word_is_not_a_word() -> None:
    assert extract("あ" * 41) is None
    assert extract("「" + "あ" * 41 + "」") is None
    found = extract("あ" * 40)
    assert found is not None and len(found.surface) == 40
