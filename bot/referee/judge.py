"""The referee: judges one played word against the rules and the words already used.

Pure and total: :meth:`Referee.judge` returns a :class:`Verdict` for any text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.referee.extract import Extracted, extract
from bot.referee.kana import (
    CHOONPU,
    SOKUON,
    N,
    clean,
    enlarge,
    joint_key,
    morae,
    voicing_variants,
    vowel_of,
)
from bot.referee.readings import Analyser, NounStatus, ReadingSource, default_analyser
from bot.referee.rules import Rules, Violation
from bot.referee.selfflag import SelfFlag, classify


@dataclass(frozen=True, slots=True)
class Verdict:
    """The referee's judgement of one reply.

    Attributes:
        word: The word as written, or None when no word was found.
        reading: The hiragana reading judged, or None when there is none (``unreadable``).
        first: The reading's first mora, or None without a reading.
        next: The morae the following word may start with (:func:`next_morae`).
        violations: What is wrong, in :class:`Violation` order; empty when accepted.
        self_flag: What the reply says about itself.
        reading_source: Where the reading came from, or None without a reading.
        extracted_from: Which extraction rule found the word, or None when none did.
        candidates: Every reading considered, most likely first (only the furigana
            when the reply gave one).
    """

    word: str | None
    reading: str | None
    first: str | None
    next: tuple[str, ...]
    violations: tuple[Violation, ...]
    self_flag: SelfFlag
    reading_source: ReadingSource | None = None
    extracted_from: str | None = None
    # Every reading the analyser offered, most likely first (kanji words can have several).
    candidates: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when there are no violations."""
        return not self.violations

    def to_json(self) -> dict[str, Any]:
        """The shape ``mikan judge`` prints (docs/RULES.md).

        Leaves out ``reading_source``, ``extracted_from`` and ``candidates``.
        """
        return {
            "word": self.word,
            "reading": self.reading,
            "first": self.first,
            "next": list(self.next),
            "violations": [str(v) for v in self.violations],
            "ok": self.ok,
            "self_flag": str(self.self_flag),
        }


def next_morae(reading: str, rules: Rules) -> tuple[str, ...]:
    """The morae the following word may start with; empty if the word ends in ん.

    ``reading`` is hiragana; it is also empty when the reading has no mora but ー.
    ちきゅう -> (う,); きしゃ -> (しゃ, や) under small_kana=either; こーひー -> (ひ,)
    under long_vowel=previous or (い,) under vowel; a final っ -> (つ,); joint
    equivalences applied (はなぢ -> じ), and voicing variants added under
    dakuten=lenient (except to the vowel returned under long_vowel=vowel).
    """
    ms = morae(reading)
    while ms and ms[-1] == CHOONPU:
        ms.pop()
        if rules.long_vowel == "vowel" and ms:
            vowel = vowel_of(ms[-1])
            if vowel:
                return (vowel,)
    if not ms or ms[-1] == N:
        return ()
    last = ms[-1]
    if last == SOKUON:
        options = [enlarge(last)]
    elif len(last) > 1:  # a mora with a small kana: しゃ
        options = {
            "enlarge": [enlarge(last)],
            "whole": [last],
            "either": [last, enlarge(last)],
        }[rules.small_kana]
    else:
        options = [last]
    keyed = [joint_key(m) for m in options]
    if rules.dakuten == "lenient":
        keyed = [v for m in keyed for v in voicing_variants(m)]
    return tuple(dict.fromkeys(keyed))


def fits(reading: str, allowed: Iterable[str], rules: Rules) -> bool:
    """Whether ``reading`` begins with one of the ``allowed`` morae at the joint.

    A prefix test on joint keys (voicing dropped on both sides under dakuten=lenient), so
    after し a reading starting しゃ fits. False when ``allowed`` is empty.
    """
    lenient = rules.dakuten == "lenient"
    head = joint_key(reading, lenient=lenient)
    return any(head.startswith(joint_key(m, lenient=lenient)) for m in allowed)


def ends_with_n(reading: str) -> bool:
    """Whether ``reading`` ends in ん, trailing ー ignored (みかんー does)."""
    body = reading.rstrip(CHOONPU)
    return body.endswith(N)


@dataclass(frozen=True, slots=True)
class _Read:
    surface: str
    reading: str | None
    source: ReadingSource | None
    candidates: tuple[str, ...]
    noun: NounStatus


class Referee:
    """Judges replies; one can serve a whole process, and it caches played words' readings.

    Args:
        analyser: The analyser to use; the process-wide :func:`default_analyser` if None.

    Attributes:
        reading_of: ``reading_of(word) -> str | None``, the most likely reading of a word
            as written (extracted as a reply would be), LRU-cached; None if unreadable.
    """

    def __init__(self, analyser: Analyser | None = None) -> None:
        self.analyser = analyser or default_analyser()
        # Used and previous words come back on every turn of a round.
        self.reading_of = lru_cache(maxsize=1 << 14)(self._reading_of)
        self._used_key = lru_cache(maxsize=1 << 14)(self._used_key_of)

    def _read(self, found: Extracted, allowed: tuple[str, ...] | None, rules: Rules) -> _Read:
        analysis = self.analyser.analyse(found.surface)
        if found.furigana:
            noun = analysis.noun
            if noun is not NounStatus.NOUN:
                noun = self.analyser.kana_noun_status(found.furigana)
            return _Read(
                found.surface, found.furigana, ReadingSource.FURIGANA, (found.furigana,), noun
            )
        candidates = tuple(r for r, _ in analysis.readings)
        if not candidates:
            return _Read(found.surface, None, None, (), analysis.noun)
        chosen = analysis.readings[0]
        if allowed:
            chosen = next((c for c in analysis.readings if fits(c[0], allowed, rules)), chosen)
        return _Read(found.surface, chosen[0], chosen[1], candidates, analysis.noun)

    def _reading_of(self, word: str) -> str | None:
        """The most likely reading of a word as written (used words, previous words)."""
        text = clean(word)
        found = extract(text) if text else None
        if found is None:
            return None
        return self._read(found, None, Rules()).reading

    def _used_key_of(self, word: str) -> str | None:
        reading = self.reading_of(word)
        return joint_key(reading) if reading else None

    def judge(
        self,
        text: str,
        *,
        prev: str | None = None,
        used: Iterable[str] = (),
        rules: Rules | None = None,
        prev_reading: str | None = None,
        used_readings: Iterable[str] | None = None,
    ) -> Verdict:
        """Judge the word in ``text``.

        ``prev`` is the previous accepted word (``None`` for a free start); callers
        that already know readings (the round engine) pass ``prev_reading`` and
        ``used_readings`` so that nothing is analysed twice.

        Args:
            text: The reply; the word is found in it with :func:`extract`.
            prev: The previous accepted word, as written; ignored if ``prev_reading``
                is given. One with no next mora (ends in ん, unreadable) leaves
                ``wrong_start`` unjudged.
            used: Words already played, as written; compared by joint-normalised
                reading. Ignored if ``used_readings`` is given.
            rules: The rule set; the defaults if None.
            prev_reading: The previous word's hiragana reading.
            used_readings: Hiragana readings already played.

        Returns:
            A verdict for any text: no word, or one without a usable reading, gives
            the single violation ``unreadable``; otherwise every violation found.
        """
        rules = rules or Rules()
        found = extract(text)
        flag = classify(text, has_word=found is not None)
        if found is None:
            return Verdict(None, None, None, (), (Violation.UNREADABLE,), flag)

        if prev_reading is None and prev is not None:
            prev_reading = self.reading_of(prev)
        allowed = next_morae(prev_reading, rules) if prev_reading else None

        read = self._read(found, allowed, rules)
        if read.reading is None:
            return Verdict(
                found.surface,
                None,
                None,
                (),
                (Violation.UNREADABLE,),
                flag,
                extracted_from=found.source,
            )
        reading = read.reading
        if not reading.strip(CHOONPU + SOKUON):
            # Only marks (ー, っ): there is no mora to judge or continue from.
            return Verdict(
                found.surface,
                None,
                None,
                (),
                (Violation.UNREADABLE,),
                flag,
                extracted_from=found.source,
            )
        key = joint_key(reading)
        if used_readings is None:
            repeated = any(self._used_key(u) == key for u in used)
        else:
            repeated = any(joint_key(r) == key for r in used_readings)
        ms = morae(reading)
        violations: list[Violation] = []
        if allowed and not fits(reading, allowed, rules):
            violations.append(Violation.WRONG_START)
        if repeated:
            violations.append(Violation.REPEATED)
        if rules.dictionary and read.noun is not NounStatus.NOUN:
            violations.append(Violation(str(read.noun)))
        if len(ms) < rules.min_mora:
            violations.append(Violation.TOO_SHORT)
        if ends_with_n(reading):
            violations.append(Violation.ENDS_WITH_N)
        return Verdict(
            word=found.surface,
            reading=reading,
            first=ms[0] if ms else None,
            next=next_morae(reading, rules),
            violations=tuple(violations),
            self_flag=flag,
            reading_source=read.source,
            extracted_from=found.source,
            candidates=read.candidates,
        )
