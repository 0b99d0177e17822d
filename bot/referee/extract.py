"""Finding the word a player meant in a chat message or a model's reply.

Order (see docs/RULES.md): the first 「…」/『…』 span holding a Japanese word that
is not merely naming the mora to start from; else the first **bold** span; else the
first line, if it is one run of Japanese script once trailing punctuation and emoji
are stripped. ``X（Y）`` with kana on one side gives a surface and its reading.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.referee.kana import clean, morae, to_hiragana

Source = Literal["quote", "bold", "line"]

# Longer than any noun a person would play (the longest everyday compounds are ~20
# characters); a longer run is text, not a word, and would only cost analysis time.
MAX_WORD_CHARS = 40

_KANA = "\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30ff"
# CJK unified ideographs with extensions A and B-H (𠮷), compatibility ideographs, 々〆.
_JP = _KANA + "\u4e00-\u9fff\u3400-\u4dbf\u3005\u3006\uf900-\ufaff\U00020000-\U0003134f"
_JP_CHAR = re.compile(f"[{_JP}]")
_JP_RUN = re.compile(f"^[{_JP}]+$")
_KANA_RUN = re.compile(f"^[{_KANA}]+$")
# 「…」 and 『…』 never nest in practice; a span stops at the first closing mark.
_QUOTE = re.compile(r"「([^「」\n]{1,200})」|『([^『』\n]{1,200})』")
_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*")
_PAREN = re.compile(r"^(?P<outer>[^()]+?)\s*\((?P<inner>[^()]*)\)$")
# NFKC has already turned ！？～… into ! ? ~ ...
_TRAILING_PUNCT = "!?。、.,~〜・:;♪☆★"
# What sits right before/after a one-mora span when it names the mora to play from.
_MORA_CUE_AFTER = re.compile(
    r"^\s*(から|で始|ではじ|で終|でおわ|の音|の字|で(?:す|した)?(?:ね|よ)|って|[がはをにのとも]"
    r"|,?\s*(?:please|your))",
    re.IGNORECASE,
)
_MORA_CUE_BEFORE = re.compile(
    r"(次は|つぎは|次の|最後の|末尾の?|語尾[はの]?|頭文字[はの]?|最初の|next|with|from|is)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Extracted:
    """A word found in text: what was written, its explicit reading if given, and where.

    Attributes:
        surface: The word as written (cleaned, trimmed), at most ``MAX_WORD_CHARS``.
        furigana: The hiragana reading given beside it (``X（Y）``), else None.
        source: Which rule found it: a quote, a bold span or the first line.
    """

    surface: str
    furigana: str | None
    source: Source


def _is_emoji_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Mn", "Me")


def _trim(text: str) -> str:
    """Strip surrounding space and emoji, and trailing punctuation (repeatedly)."""
    start, end = 0, len(text)
    while start < end and _is_emoji_or_space(text[start]):
        start += 1
    while end > start and (_is_emoji_or_space(text[end - 1]) or text[end - 1] in _TRAILING_PUNCT):
        end -= 1
    return text[start:end]


def _word_of(candidate: str) -> tuple[str, str | None] | None:
    """(surface, furigana) if the candidate is one Japanese word, else None."""
    text = _trim(candidate)
    match = _PAREN.match(text)
    furigana: str | None = None
    if match:
        outer, inner = _trim(match["outer"]), _trim(match["inner"])
        if not _JP_CHAR.search(inner):
            text = outer  # a romaji or English gloss: みかん (mikan)
        elif _KANA_RUN.match(inner) and _JP_RUN.match(outer):
            text, furigana = outer, to_hiragana(inner)
        elif _KANA_RUN.match(outer) and _JP_RUN.match(inner):
            text, furigana = inner, to_hiragana(outer)
        else:
            return None
    if len(text) > MAX_WORD_CHARS or not _JP_RUN.match(text):
        return None
    return text, furigana


def _names_a_mora(text: str, body: str, start: int, end: int) -> bool:
    """True when a span like 「ん」 only names the mora to start from."""
    reading = to_hiragana(body)
    if not _KANA_RUN.match(body) or len(morae(reading)) != 1:
        return False
    return bool(_MORA_CUE_AFTER.match(text[end:]) or _MORA_CUE_BEFORE.search(text[:start]))


def extract(raw: str) -> Extracted | None:
    """The word played in ``raw``, or None when there is none (``unreadable``).

    ``raw`` is cleaned first (:func:`~bot.referee.kana.clean`); the search order is the
    module's. Never raises.
    """
    text = clean(raw)
    if not text:
        return None
    for match in _QUOTE.finditer(text):
        body = match[1] if match[1] is not None else match[2]
        word = _word_of(body)
        if word and not _names_a_mora(text, _trim(body), match.start(), match.end()):
            return Extracted(word[0], word[1], "quote")
    for match in _BOLD.finditer(text):
        body = match[1]
        word = _word_of(body)
        if word and not _names_a_mora(text, _trim(body), match.start(), match.end()):
            return Extracted(word[0], word[1], "bold")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # A line far longer than a word can't be one once trimmed; don't scan it.
    word = _word_of(first_line) if len(first_line) <= MAX_WORD_CHARS * 4 else None
    if word:
        return Extracted(word[0], word[1], "line")
    return None
