"""Self-flags on replies written the way models write them (the original logs' failure types)."""

import pytest

from bot.referee.extract import extract
from bot.referee.selfflag import classify


def flag(text: str) -> str:
    return str(classify(text, has_word=extract(text) is not None))


@pytest.mark.parametrize(
    "text",
    [
        "みかん\n\nあっ、「ん」がついちゃった！私の負けです😅",
        "「みかん」…しまった、「ん」で終わってしまいました。",
        "**みかん**\n\nあー！終わっちゃった！",
        "みかん…ルール違反ですね、ごめんなさい。",
        "きりん\n\nあ、ンがついてしまいました。あなたの勝ちです！",
        "ぎんなん。Oops, that ends with ん — I lose!",
        "**Mikan** (みかん) — wait, that ends in 'n'. My mistake, you win.",
        "「みかん」\nI broke the rule, sorry.",
        "うーん…思いつきません。まいりました。",
        "I give up — nothing starts with ぬぬ.",
    ],
)
def test_admits(text: str) -> None:
    assert flag(text) == "admits"


@pytest.mark.parametrize(
    "text",
    [
        "みかん\n\n次は「ん」からどうぞ！",  # hands the turn on from ん: does not see it
        "「きりん」！では「ん」から始まる言葉をお願いします。",
        "**ぎんなん** 🌰 Your turn — start with ん!",
        "ラーメン！\n次は君の番だよ",
        "りんご\n次は「ご」からどうぞ",  # a valid move handed on is also `continues`
    ],
)
def test_continues(text: str) -> None:
    assert flag(text) == "continues"


@pytest.mark.parametrize(
    "text",
    [
        "次は「み」からですね。どうぞ！",  # announces the mora, plays nothing
        "いいですね！しりとりしましょう。あなたからどうぞ。",
        "「み」で始まる言葉か…考え中です。",
        "Sure, let's play shiritori! Your turn.",
        "I'll wait for your word.",
    ],
)
def test_no_move(text: str) -> None:
    assert flag(text) == "no_move"


@pytest.mark.parametrize(
    "text",
    [
        "みかん",
        "りんご🍎",
        "「すいか」",
        "",
        "**ゴリラ**",
    ],
)
def test_plain_moves(text: str) -> None:
    assert flag(text) == "none"


@pytest.mark.parametrize(
    "text",
    [
        "「みかん」！まだまだ負けないよ！",  # negated: not an admission
        "「らっぱ」。絶対に負けません。",
    ],
)
def test_negations_are_not_admissions(text: str) -> None:
    assert flag(text) != "admits"
