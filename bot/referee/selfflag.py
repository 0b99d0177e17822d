"""What a reply says about itself: the failure types of the original shiritori logs.

- ``admits``: the reply says it lost or broke a rule (負け, 終わっちゃった, I lose…).
- ``continues``: it plays on and hands the turn over (「ん」からどうぞ, 次は…) without
  admitting anything — the model that does not see its own violation.
- ``no_move``: there is no word in it at all; it waits, or announces the next mora.
- ``none``: a plain move.

This is the one place these cues live; statistics read the stored flag.
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.referee.kana import clean


class SelfFlag(StrEnum):
    """How a reply speaks of its own move; the values are described in the module docstring."""

    ADMITS = "admits"
    CONTINUES = "continues"
    NO_MOVE = "no_move"
    NONE = "none"


_ADMIT_JA = (
    r"(?:私|わたし|僕|ぼく|俺|おれ|自分|こちら)の負け",
    r"負け(?:です|だ|ね|ちゃ|てしま|まし|た|〜|~|!|。|…|\s*$)",
    r"まけ(?:です|ちゃ|ました)",
    r"(?:終|お)わ(?:っちゃ|ってしま|りです|りだ|りました|っちゃいました)",
    r"ルール違反|反則|違反(?:です|でした|して|しちゃ|しま)",
    r"[「『]?[んン][」』]?\s*(?:が|で)\s*(?:つい|付い|終わっ|おわっ)て?\s*(?:しま|ちゃ)",
    r"しまった|やってしま|やっちゃ(?:った|いました)",
    r"(?:あなた|きみ|君|そちら)の勝ち",
    r"失敗(?:しま|です|した)|間違え(?:まし|た|ちゃ)",
    r"まいりました|参りました|降参|ギブアップ|お手上げ",
)
_ADMIT_EN = (
    r"\bi\s+(?:lose|lost)\b",
    r"\byou\s+win\b",
    r"\bmy\s+(?:mistake|bad)\b",
    r"\boops\b",
    r"\bgame\s+over\b",
    r"\bi\s+give\s+up\b",
    r"\bi\s+(?:broke|violated)\s+the\s+rules?\b",
    r"\b(?:that'?s|this\s+is|it'?s)\s+against\s+the\s+rules?\b",
    r"\bends?\s+(?:with|in)\s+(?:an?\s+)?[\"'「]?(?:n|ん)[\"'」]?(?:\s|[.!,]|$).*\b(?:lose|lost|mistake|oops|sorry)",
)
# Negated forms: 負けない, 負けません, 終わらない are not admissions.
_NEGATED = re.compile(r"負けな|負けませ|負けず|終わらな|終わりませ|違反ではな|違反じゃな")

_HANDOFF_JA = (
    r"[「『][^」』]{1,3}[」』]\s*(?:から|で始|ではじ)",
    r"次は|つぎは|次の方|あなたの番|君の番|きみの番|どうぞ|お願いします|の番です",
    r"で始まる(?:言葉|単語|ことば)",
)
_HANDOFF_EN = (
    r"\byour\s+turn\b",
    r"\bnext\s+(?:is|up|word|one|player)\b",
    r"\bstart(?:ing|s)?\s+with\b",
    r"\bover\s+to\s+you\b",
    r"\bgo\s+ahead\b",
)

_ADMIT = re.compile("|".join(_ADMIT_JA + _ADMIT_EN), re.IGNORECASE)
_HANDOFF = re.compile("|".join(_HANDOFF_JA + _HANDOFF_EN), re.IGNORECASE)


def _admits(cleaned: str) -> bool:
    return bool(_ADMIT.search(_NEGATED.sub("", cleaned)))


def _hands_over(cleaned: str) -> bool:
    return bool(_HANDOFF.search(cleaned))


def classify(text: str, *, has_word: bool) -> SelfFlag:
    """Flag a reply; ``has_word`` says whether a word could be extracted from it.

    Checked in this order on the cleaned text: empty text is NONE; an admission is
    ADMITS (even with no word); no word is NO_MOVE; a hand-over is CONTINUES; else NONE.
    """
    text = clean(text)  # once: the reply can be long
    if not text:
        return SelfFlag.NONE
    if _admits(text):
        return SelfFlag.ADMITS
    if not has_word:
        # Whatever it says, it did not take its turn.
        return SelfFlag.NO_MOVE
    if _hands_over(text):
        return SelfFlag.CONTINUES
    return SelfFlag.NONE
