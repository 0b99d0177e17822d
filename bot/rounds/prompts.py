"""Prompt templates for model players, versioned so rounds record exactly what was said.

Change a template -> bump its version. ``PROMPT_VERSIONS`` is stored with every round.
Human players reach a model only as the word they played (never their free text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.referee.rules import Rules

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")
PROMPT_VERSIONS: dict[Lang, str] = {"ja": "ja-1", "en": "en-1"}


@dataclass(frozen=True, slots=True)
class MoveNote:
    """Another seat's move, as a model is told about it."""

    player: str
    word: str | None  # None: it played no word
    ok: bool
    out: bool = False  # the seat left the round with this move


def _quote(morae: Sequence[str]) -> str:
    return "・".join(f"「{m}」" for m in morae)


def _rules_ja(rules: Rules) -> str:
    parts = [
        f"{rules.min_mora}音以上の名詞だけを使います。"
        if rules.dictionary
        else f"{rules.min_mora}音以上の言葉を使います。"
    ]
    parts.append(
        "小さい「ゃ」などで終わったら、その音でも大きくした音でも続けられます。"
        if rules.small_kana == "either"
        else "小さい「ゃ」などで終わったら大きくした音（しゃ→や）から続けます。"
        if rules.small_kana == "enlarge"
        else "小さい「ゃ」などで終わったら、その音（しゃ）から続けます。"
    )
    parts.append(
        "「ー」で終わったら、その前の音から続けます。"
        if rules.long_vowel == "previous"
        else "「ー」で終わったら、その母音（コーヒー→い）から続けます。"
    )
    if rules.dakuten == "lenient":
        parts.append("濁点・半濁点はあってもなくてもかまいません（は・ば・ぱ）。")
    return "".join(parts)


def _rules_en(rules: Rules) -> str:
    parts = [
        f"Use only nouns of at least {rules.min_mora} morae. "
        if rules.dictionary
        else f"Use words of at least {rules.min_mora} morae. "
    ]
    parts.append(
        {
            "either": "A word ending in a small kana (しゃ) may be followed from しゃ or や. ",
            "enlarge": "A word ending in a small kana continues from the large kana (しゃ -> や). ",
            "whole": "A word ending in a small kana continues from that mora (しゃ). ",
        }[rules.small_kana]
    )
    parts.append(
        "A word ending in ー continues from the mora before it. "
        if rules.long_vowel == "previous"
        else "A word ending in ー continues from its vowel (コーヒー -> い). "
    )
    if rules.dakuten == "lenient":
        parts.append("Voicing marks do not matter at the joint (は, ば, ぱ). ")
    return "".join(parts).strip()


def system_prompt(lang: Lang, rules: Rules) -> str:
    """The system prompt in ``lang``: the game, ``rules`` in words, and how to answer."""
    if lang == "en":
        return (
            "You are a player in a game of shiritori (the Japanese word chain game). "
            "Each word must start with the last mora of the previous word. "
            "A word ending in ん loses. A word already used cannot be used again. "
            f"{_rules_en(rules)} "
            "Write your word in Japanese inside 「」, one word per turn."
        )
    return (
        "あなたはしりとりのプレイヤーです。前の言葉の最後の音から始まる言葉を答えます。"
        "「ん」で終わる言葉を言ったら負けです。一度出た言葉は使えません。"
        f"{_rules_ja(rules)}"
        "答える言葉は「」で囲んで、一回に一つだけ書いてください。"
    )


def _moves_ja(moves: Sequence[MoveNote]) -> str:
    lines = []
    for m in moves:
        said = f"「{m.word}」" if m.word else "（言葉なし）"
        tail = "" if m.ok else "（反則）"
        if m.out:
            tail += f"。{m.player}さんは脱落しました"
        lines.append(f"{m.player}さん：{said}{tail}")
    return "\n".join(lines)


def _moves_en(moves: Sequence[MoveNote]) -> str:
    lines = []
    for m in moves:
        said = f"「{m.word}」" if m.word else "(no word)"
        tail = "" if m.ok else " (a foul)"
        if m.out:
            tail += f"; {m.player} is out"
        lines.append(f"{m.player}: {said}{tail}")
    return "\n".join(lines)


def turn_prompt(
    lang: Lang,
    *,
    allowed: Sequence[str],
    moves: Sequence[MoveNote] = (),
    start_word: str | None = None,
) -> str:
    """Tell the model plainly that it is its turn and which mora to start from."""
    if lang == "en":
        head = f"We start from 「{start_word}」.\n" if start_word else ""
        played = _moves_en(moves) + "\n" if moves else ""
        ask = (
            f"It is your turn. Say a word starting with {_quote(allowed)}."
            if allowed
            else "It is your turn. Say any word to start."
        )
        return f"{head}{played}{ask}"
    head = f"最初の言葉は「{start_word}」です。\n" if start_word else ""
    played = _moves_ja(moves) + "\n" if moves else ""
    ask = (
        f"あなたの番です。{_quote(allowed)}から始まる言葉を答えてください。"
        if allowed
        else "あなたの番です。好きな言葉から始めてください。"
    )
    return f"{head}{played}{ask}"
