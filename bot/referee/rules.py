"""The referee's options (DESIGN.md "Referee conventions") and violation codes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, Literal

SmallKana = Literal["enlarge", "whole", "either"]
LongVowel = Literal["previous", "vowel"]
Dakuten = Literal["strict", "lenient"]
Compounds = Literal["dictionary", "analysed"]


class Violation(StrEnum):
    """Codes in the order they are reported."""

    UNREADABLE = "unreadable"
    WRONG_START = "wrong_start"
    REPEATED = "repeated"
    NOT_A_NOUN = "not_a_noun"
    UNKNOWN_WORD = "unknown_word"
    TOO_SHORT = "too_short"
    ENDS_WITH_N = "ends_with_n"
    # Added by the round, never by the referee.
    TIMEOUT = "timeout"


_CHOICES: dict[str, tuple[str, ...]] = {
    "small_kana": ("enlarge", "whole", "either"),
    "long_vowel": ("previous", "vowel"),
    "dakuten": ("strict", "lenient"),
    "compounds": ("dictionary", "analysed"),
}


class RulesError(ValueError):
    """A rule set that cannot be used; the message names the option."""


@dataclass(frozen=True, slots=True)
class Rules:
    """One rule set (docs/RULES.md, which explains each option and its default).

    Built directly, the values are not checked; :meth:`from_mapping` checks them.

    Attributes:
        small_kana: After a final small-kana mora (きしゃ): start from its large form
            (``enlarge``: や), the whole mora (``whole``: しゃ) or ``either``.
        long_vowel: After a final ー: the mora before it (``previous``) or its vowel.
        dakuten: ``lenient`` ignores voicing marks at the joint (は≡ば≡ぱ).
        dictionary: Whether the word must be a noun the analyser knows.
        min_mora: Fewest morae a word may have (ー and っ count).
        compounds: Under the noun check, whether the word (or, written in kana, its
            reading) must be a dictionary entry (``dictionary``) or may be any sequence
            of known nouns the analyser finds (``analysed``: 海犬 passes).
    """

    small_kana: SmallKana = "either"
    long_vowel: LongVowel = "previous"
    dakuten: Dakuten = "strict"
    dictionary: bool = True
    min_mora: int = 2
    compounds: Compounds = "dictionary"

    @classmethod
    def from_mapping(cls, data: Any) -> Rules:
        """Build from a JSON-like mapping; missing keys take the defaults.

        Args:
            data: A dict of option names to values, or None for all defaults.

        Raises:
            RulesError: ``data`` is not a dict, names an unknown option, or gives a value
                of the wrong type or out of range (``min_mora`` is 1 to 50).
        """
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise RulesError("rules must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RulesError(f"unknown rule option(s): {', '.join(map(str, unknown))}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name in _CHOICES:
                if value not in _CHOICES[name]:
                    allowed = " | ".join(_CHOICES[name])
                    raise RulesError(f"{name} must be one of {allowed}, got {value!r}")
            elif name == "dictionary":
                if not isinstance(value, bool):
                    raise RulesError(f"dictionary must be true or false, got {value!r}")
            elif name == "min_mora" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50
            ):
                raise RulesError(f"min_mora must be an integer from 1 to 50, got {value!r}")
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Every option by name, as plain values (:meth:`from_mapping` reads it back)."""
        return asdict(self)
