"""User-facing wording shared by surfaces (the terminal and Discord): Japanese first."""

from __future__ import annotations

from collections.abc import Iterable

VIOLATION_TEXT: dict[str, tuple[str, str]] = {
    "unreadable": ("言葉が見つからない・読めない", "no readable word"),
    "wrong_start": ("前の言葉の最後の音から始まっていない", "wrong first mora"),
    "repeated": ("もう出た言葉", "already played"),
    "not_a_noun": ("名詞ではない", "not a noun"),
    "unknown_word": ("辞書にない言葉", "not in the dictionary"),
    "too_short": ("短すぎる", "too short"),
    "ends_with_n": ("「ん」で終わる", "ends in ん"),
    "timeout": ("時間切れ", "out of time"),
}


def describe(codes: Iterable[str]) -> str:
    """Violation codes as 「ん」で終わる (ends in ん)・もう出た言葉 (already played).

    A code without wording is shown as ``code (code)``.
    """
    parts = []
    for code in codes:
        ja, en = VIOLATION_TEXT.get(code, (code, code))
        parts.append(f"{ja} ({en})")
    return "・".join(parts)


def with_reading(word: str, reading: str | None, *, quoted: bool = False) -> str:
    """林檎（りんご）, or 「林檎」（りんご） quoted: the reading is added when it differs."""
    shown = f"「{word}」" if quoted else word
    return f"{shown}（{reading}）" if reading and reading != word else shown


def morae_text(morae: Iterable[str]) -> str:
    """Morae as 「み」・「ミ」, or （なし / none） when there are none."""
    items = list(morae)
    return "・".join(f"「{m}」" for m in items) if items else "（なし / none）"


def shorten(text: str, limit: int = 300) -> str:
    """For display only; the record keeps the whole text."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
