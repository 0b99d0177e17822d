"""The referee: judges one played word against the rules and the words already used.

Pure and total: :meth:`Referee.judge` returns a :class:`Verdict` for any text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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
from bot.referee.reader import READER_VERSION, Context, Extracted, SelfFlag, extract, read_reply
from bot.referee.readings import (
    JOINT_POOL,
    Analyser,
    Analysis,
    NounStatus,
    ReadingSource,
    default_analyser,
)
from bot.referee.rules import Rules, Violation


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
        corrected_to: The word a ``self_corrects`` reply offered instead of ``word``
            (never judged), else None.
        reader: The version of the reader that found ``word`` and ``self_flag``.
        unsure: Why the reader may have read the reply wrongly (reader ``UNSURE``
            codes); empty when it is sure.
        fit_joint: True when a less common reading was chosen because it fits the joint
            (the most common one does not).
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
    corrected_to: str | None = None
    reader: str = READER_VERSION
    unsure: tuple[str, ...] = ()
    fit_joint: bool = False

    @property
    def ok(self) -> bool:
        """True when there are no violations."""
        return not self.violations

    @property
    def reading_label(self) -> str | None:
        """What a turn records as ``reading_source``: the source, ``+joint`` when chosen
        for the joint over a more common reading (``jmdict+joint``); None without one."""
        if self.reading_source is None:
            return None
        return f"{self.reading_source}+joint" if self.fit_joint else str(self.reading_source)

    def to_json(self) -> dict[str, Any]:
        """The shape ``mikan judge`` prints (docs/RULES.md).

        Leaves out ``reading_source``, ``extracted_from``, ``candidates`` and ``reader``.
        """
        return {
            "word": self.word,
            "reading": self.reading,
            "first": self.first,
            "next": list(self.next),
            "violations": [str(v) for v in self.violations],
            "ok": self.ok,
            "self_flag": str(self.self_flag),
            "corrected_to": self.corrected_to,
        }


@lru_cache(maxsize=1 << 14)  # pure; the same few thousand readings come back all game
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
    return _fits(reading, tuple(allowed), rules)


@lru_cache(maxsize=1 << 14)
def _fits(reading: str, allowed: tuple[str, ...], rules: Rules) -> bool:
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
    fit_joint: bool = False


# A round has far fewer words than this; a longer list (a stream's request) is not cached.
_CACHED_USED_WORDS = 512


class _Analyses:
    """One judgement's analyses: the reader and the judge share them, none is made twice.

    The analyser's own cache may be off (or the word too rare to stay in it).
    """

    __slots__ = ("_analyse", "_memo")

    def __init__(self, analyse: Callable[[str], Analysis]) -> None:
        self._analyse = analyse
        self._memo: dict[str, Analysis] = {}

    def analyse(self, surface: str) -> Analysis:
        """The analysis of ``surface``, made at most once per judgement."""
        found = self._memo.get(surface)
        if found is None:
            found = self._memo[surface] = self._analyse(surface)
        return found

    def reading_of(self, surface: str) -> str | None:
        """The most likely reading of ``surface``, or None."""
        readings = self.analyse(surface).readings
        return readings[0][0] if readings else None

    def is_word(self, surface: str) -> bool:
        """False when the analyser knows ``surface`` as something other than a noun."""
        return self.analyse(surface).noun is not NounStatus.NOT_A_NOUN


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
        # A round's used words come back, one more each turn: a few sets cover them.
        self._used_set = lru_cache(maxsize=64)(self._used_set_of)

    def _read(
        self,
        found: Extracted,
        allowed: tuple[str, ...] | None,
        rules: Rules,
        analyse: Callable[[str], Analysis],
    ) -> _Read:
        analysis = analyse(found.surface)
        noun = analysis.noun
        if rules.compounds == "analysed" and noun is not NounStatus.NOUN:
            noun = self.analyser.analysed_noun_status(found.surface)
        if found.furigana:
            # The player's furigana always wins; the word passes as written or as read.
            if noun is not NounStatus.NOUN:
                noun = self.analyser.kana_noun_status(found.furigana, compounds=rules.compounds)
            return _Read(
                found.surface, found.furigana, ReadingSource.FURIGANA, (found.furigana,), noun
            )
        candidates = tuple(r for r, _ in analysis.readings)
        if not candidates:
            return _Read(found.surface, None, None, (), noun)
        chosen = analysis.readings[0]
        if allowed and not fits(chosen[0], allowed, rules):
            # Among the readings a player would accept (never a name's or an archaic one
            # over them), the most common that fits the joint.
            pool = [c for c in analysis.readings if c[1] in JOINT_POOL]
            chosen = next((c for c in pool if fits(c[0], allowed, rules)), chosen)
        fit_joint = chosen is not analysis.readings[0]
        return _Read(found.surface, chosen[0], chosen[1], candidates, noun, fit_joint)

    def _reading_of(self, word: str) -> str | None:
        """The most likely reading of a word as written (used words, previous words)."""
        text = clean(word)
        found = extract(text) if text else None
        if found is None:
            return None
        return self._read(found, None, Rules(), self.analyser.analyse).reading

    def _used_key_of(self, word: str) -> str | None:
        reading = self.reading_of(word)
        return joint_key(reading) if reading else None

    def _used_keys(
        self, used: Iterable[str], used_readings: Iterable[str] | None
    ) -> frozenset[str]:
        """Joint keys of the words already played (from readings when the caller has them)."""
        if used_readings is not None:
            return frozenset(joint_key(r) for r in used_readings)
        words = tuple(used)
        if len(words) > _CACHED_USED_WORDS:  # what a cache entry may hold stays bounded
            return self._used_set_of(words)
        return self._used_set(words)

    def _used_set_of(self, used: tuple[str, ...]) -> frozenset[str]:
        return frozenset(k for k in map(self._used_key, used) if k is not None)

    def judge(
        self,
        text: str,
        *,
        prev: str | None = None,
        used: Iterable[str] = (),
        rules: Rules | None = None,
        prev_reading: str | None = None,
        used_readings: Iterable[str] | None = None,
        lang: str = "ja",
    ) -> Verdict:
        """Judge the word in ``text``.

        ``prev`` is the previous accepted word (``None`` for a free start); callers
        that already know readings (the round engine) pass ``prev_reading`` and
        ``used_readings`` so that nothing is analysed twice.

        Args:
            text: The reply; the move and the self-flag are read from it by
                :func:`~bot.referee.reader.read_reply`, which knows this context.
            prev: The previous accepted word, as written; its reading is ignored if
                ``prev_reading`` is given. One with no next mora (ends in ん,
                unreadable) leaves ``wrong_start`` unjudged.
            used: Words already played, as written; compared by joint-normalised
                reading. Ignored if ``used_readings`` is given.
            rules: The rule set; the defaults if None.
            prev_reading: The previous word's hiragana reading.
            used_readings: Hiragana readings already played.
            lang: The prompt language (``ja`` or ``en``), passed to the reader.

        Returns:
            A verdict for any text: no word, or one without a usable reading, gives
            the single violation ``unreadable``; otherwise every violation found.
            ``corrected_to`` and ``reader`` say what the reader found beside the move.
        """
        rules = rules or Rules()
        if prev_reading is None and prev is not None:
            prev_reading = self.reading_of(prev)
        allowed = next_morae(prev_reading, rules) if prev_reading else None
        used_keys = self._used_keys(used, used_readings)
        analyses = _Analyses(self.analyser.analyse)
        context = Context(prev, prev_reading, used_keys, allowed, lang)
        read = read_reply(text, context, reading_of=analyses.reading_of, is_word=analyses.is_word)
        flag, found = read.flag, read.word
        corrected_to = read.corrected_to.surface if read.corrected_to else None
        if found is None:
            return Verdict(
                None,
                None,
                None,
                (),
                (Violation.UNREADABLE,),
                flag,
                corrected_to=corrected_to,
                unsure=read.unsure,
            )

        judged = self._read(found, allowed, rules, analyses.analyse)
        if judged.reading is None or not judged.reading.strip(CHOONPU + SOKUON):
            # No reading, or only marks (ー, っ): no mora to judge or continue from.
            return Verdict(
                found.surface,
                None,
                None,
                (),
                (Violation.UNREADABLE,),
                flag,
                extracted_from=found.source,
                corrected_to=corrected_to,
                unsure=read.unsure,
            )
        reading = judged.reading
        ms = morae(reading)
        violations: list[Violation] = []
        if allowed and not fits(reading, allowed, rules):
            violations.append(Violation.WRONG_START)
        if joint_key(reading) in used_keys:
            violations.append(Violation.REPEATED)
        if rules.dictionary and judged.noun is not NounStatus.NOUN:
            violations.append(Violation(str(judged.noun)))
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
            reading_source=judged.source,
            extracted_from=found.source,
            candidates=judged.candidates,
            corrected_to=corrected_to,
            unsure=read.unsure,
            fit_joint=judged.fit_joint,
        )
