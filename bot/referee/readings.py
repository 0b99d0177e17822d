"""Readings and the noun check, over JMdict, SudachiPy (core dictionary) and pykakasi.

JMdict is the noun authority (``jmdict.py``): a written form it has is a noun when one
of its pairings is, unless a more common non-noun shares it. A form it lacks is a noun
when SudachiPy has it as one common-noun entry, when it is お/ご + a JMdict noun, or a
numeral with a counter; under ``compounds=analysed`` also when the analyser reads it as
a sequence of known nouns (the landed behaviour). Readings are ranked by how common
they are (:class:`ReadingSource`).

One :class:`Analyser` per process is enough: building it loads the dictionary
(tens of milliseconds), and every analysis is cached by surface, so a word that
comes back (they do, in shiritori) costs a dictionary lookup only once.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from sudachipy import Dictionary, SplitMode

from bot.referee.cache import cache_dir
from bot.referee.jmdict import JMdict, Kind, Sense, Tier
from bot.referee.kana import SOKUON, is_kana_reading, joint_key, to_hiragana, to_katakana
from bot.referee.numerals import digits_to_kanji, has_latin, latin_to_kana, read_numeral_word

_KANJI = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\u3005\u3006\uf900-\ufaff\U00020000-\U0003134f]")
_NOUN_POS = frozenset({"名詞", "代名詞"})
_ASCII_DIGIT = re.compile("[0-9]")
_PREFIXES = frozenset("おご御")
_CACHE_SIZE = 1 << 16
_INDEX_FORMAT = 1
log = logging.getLogger(__name__)


def _dictionary_file() -> Path | None:
    try:
        import sudachidict_core

        return Path(sudachidict_core.__file__).parent / "resources" / "system.dic"
    except (ImportError, AttributeError):  # pragma: no cover - the dependency is required
        return None


class NounStatus(StrEnum):
    """The dictionary check's result; the two failures are also violation codes."""

    NOUN = "noun"
    NOT_A_NOUN = "not_a_noun"
    UNKNOWN = "unknown_word"


class ReadingSource(StrEnum):
    """Where a reading came from, and so how far it is trusted (docs/RULES.md "Readings").

    ``jmdict_common`` is a reading JMdict marks common; ``numeral`` the numeral reader's;
    ``sudachi`` the analyser's reading of the whole word or a common-noun entry;
    ``jmdict`` a JMdict reading without a priority tag that heads its entry (生 き, a word
    of its own); ``sudachi_entry`` another SudachiPy entry's reading of a form JMdict
    has; ``sudachi_name`` a name's reading (or the analyser's token-by-token reading of a
    numeral); ``jmdict_rare`` an archaic, obsolete or irregular one, or a variant reading
    without a priority tag (右腕 うわん); ``letters`` Latin letters read by name (Tシャツ).
    """

    FURIGANA = "furigana"
    KANA = "kana"
    JMDICT_COMMON = "jmdict_common"
    NUMERAL = "numeral"
    SUDACHI = "sudachi"
    JMDICT = "jmdict"
    SUDACHI_ENTRY = "sudachi_entry"
    SUDACHI_NAME = "sudachi_name"
    JMDICT_RARE = "jmdict_rare"
    LETTERS = "letters"
    PYKAKASI = "pykakasi"


# Readings of these sources may win at the joint over a more common one; the others
# (names, archaic or variant readings, pykakasi's guess) only when nothing better exists.
JOINT_POOL = frozenset(
    {
        ReadingSource.KANA,
        ReadingSource.LETTERS,
        ReadingSource.JMDICT_COMMON,
        ReadingSource.NUMERAL,
        ReadingSource.SUDACHI,
        ReadingSource.JMDICT,
    }
)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analyser knows of one written word.

    Attributes:
        readings: Hiragana candidates, most common first, each with its source.
        noun: The noun check under ``compounds=dictionary`` (the word must be an entry).
        decided: True when a dictionary entry (or the numeral rule) settled ``noun``, so
            ``compounds=analysed`` has nothing to add.
    """

    readings: tuple[tuple[str, ReadingSource], ...]
    noun: NounStatus
    decided: bool = True


def _token_ok_for_compound(surface: str, pos: tuple[str, ...]) -> bool:
    """Noun tokens (and noun suffixes) that may make up an accepted word.

    A lone kana token inside a longer analysis is how the analyser splits nonsense
    (ろろろ -> ろ/ろ/ろ), so it is only allowed as a noun suffix.
    """
    if pos[0] in _NOUN_POS:
        return len(surface) > 1 or bool(_KANJI.match(surface))
    return pos[0] == "接尾辞" and pos[1] == "名詞的"


def _progress_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _senses_status(senses: tuple[Sense, ...]) -> NounStatus:
    """JMdict's verdict on a written form: a noun unless a more common non-noun shares it.

    Ties go to the noun, so a word that is both (はなし, a noun and a verb's stem) stays a
    noun; a rare noun that shares the kana of a common adjective (さむい) does not.
    """
    noun = min((s.tier for s in senses if s.kind is Kind.NOUN), default=None)
    other = min((s.tier for s in senses if s.kind is Kind.NON_NOUN), default=None)
    if noun is not None and (other is None or noun <= other):
        return NounStatus.NOUN
    return NounStatus.NOT_A_NOUN


class Analyser:
    """Thread-safe facade over JMdict, SudachiPy and pykakasi with an LRU cache.

    Building one loads the SudachiPy core dictionary; the JMdict index is opened (built
    into the cache the first time, with a progress line on stderr) on first need or by
    :meth:`warm`.

    Attributes:
        analyse: ``analyse(surface) -> Analysis``, the readings and noun status of a
            written word, LRU-cached by surface (``cache_size`` entries).
        jmdict: The JMdict index.
    """

    def __init__(
        self,
        *,
        cache_size: int = _CACHE_SIZE,
        progress: Callable[[str], None] | None = _progress_line,
    ) -> None:
        self._dictionary = Dictionary(dict="core")
        self._local = threading.local()
        # pykakasi holds ~115 MB once built and is only the last resort: built on first need.
        self._kakasi: Any = None
        self._kakasi_lock = threading.Lock()
        self._noun_readings: frozenset[str] | None = None
        self._index_lock = threading.Lock()
        self.jmdict = JMdict(progress=progress)
        self.analyse = lru_cache(maxsize=cache_size)(self._analyse)
        self._analysed = lru_cache(maxsize=cache_size)(self._analysed_status)

    def warm(self) -> None:
        """Load everything lazy now (both indexes), so no turn waits for it."""
        self.jmdict.warm()
        self._noun_index()
        self._tokenizer()

    def _noun_index(self) -> frozenset[str]:
        """Katakana readings of every common noun and pronoun in the dictionary.

        The core dictionary spells many nouns only in kanji, so ひこうき or きって have
        no hiragana entry; their readings do. Built from the dictionary's own entries
        (a few seconds, once) and cached on disk next to nothing else we own.
        """
        if self._noun_readings is not None:
            return self._noun_readings
        with self._index_lock:
            if self._noun_readings is None:
                self._noun_readings = self._load_or_build_index()
        return self._noun_readings

    def _index_path(self) -> Path | None:
        dic = _dictionary_file()
        if dic is None or not dic.exists():
            return None
        st = dic.stat()
        return cache_dir() / f"noun-readings-v{_INDEX_FORMAT}-{st.st_size}-{int(st.st_mtime)}.txt"

    def _load_or_build_index(self) -> frozenset[str]:
        path = self._index_path()
        if path is not None:
            try:
                return frozenset(path.read_text(encoding="utf-8").split("\n")) - {""}
            except OSError:
                pass
        wanted: dict[int, bool] = {}
        readings: set[str] = set()
        for m in self._dictionary.entries():
            pid = m.part_of_speech_id()
            ok = wanted.get(pid)
            if ok is None:
                pos = m.part_of_speech()
                ok = wanted[pid] = (pos[0] == "名詞" and pos[1] == "普通名詞") or pos[0] == "代名詞"
            if ok:
                readings.add(m.reading_form())
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text("\n".join(sorted(readings)), encoding="utf-8")
                tmp.replace(path)
            except OSError as exc:  # a read-only home is fine: keep it in memory
                log.info("noun-reading index not cached: %s", exc)
        return frozenset(readings)

    # SudachiPy tokenizers are not safe to share between threads.
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._dictionary.tokenizer(mode=SplitMode.C)
            self._local.tokenizer = tok
        return tok

    def _noun_status_of(self, text: str) -> NounStatus:
        tokens = self._tokenizer().tokenize(text)
        if len(tokens) == 0 or any(t.is_oov() for t in tokens):
            return NounStatus.UNKNOWN
        parts = [(t.surface(), tuple(t.part_of_speech())) for t in tokens]
        if len(parts) == 1:
            return NounStatus.NOUN if parts[0][1][0] in _NOUN_POS else NounStatus.NOT_A_NOUN
        # A beautifying or other prefix may lead (お菓子, ご飯); the rest must be nouns.
        body = parts[1:] if parts[0][1][0] == "接頭辞" else parts
        if body[0][1][0] in _NOUN_POS and all(_token_ok_for_compound(s, p) for s, p in body):
            return NounStatus.NOUN
        if any(len(s) == 1 and not _KANJI.match(s) for s, _ in parts):
            return NounStatus.UNKNOWN  # fragments: the analyser did not know the whole
        return NounStatus.NOT_A_NOUN

    def noun_status(self, *forms: str) -> NounStatus:
        """Best status over the written forms given (e.g. the hiragana and katakana).

        NOUN beats NOT_A_NOUN beats UNKNOWN; empty forms are skipped, so no form at all
        gives UNKNOWN.
        """
        best = NounStatus.UNKNOWN
        for form in dict.fromkeys(f for f in forms if f):
            status = self._noun_status_of(form)
            if status is NounStatus.NOUN:
                return status
            if status is NounStatus.NOT_A_NOUN:
                best = status
        return best

    def _kana_noun_status(self, hira: str, *also: str) -> NounStatus:
        """A word written in kana: an analysis as nouns, or a common noun's reading."""
        status = self.noun_status(hira, to_katakana(hira), *also)
        if status is not NounStatus.NOUN and to_katakana(hira) in self._noun_index():
            return NounStatus.NOUN
        return status

    def _dictionary_readings(self, surface: str) -> list[tuple[str, bool]]:
        """Readings of SudachiPy noun entries whose surface is exactly ``surface``.

        Each with whether it is a name's (固有名詞). Rendaku forms (米 -> ごめ beside
        こめ) and clipped forms ending in っ are only ever the inside of a compound, so
        they are dropped.
        """
        found: list[tuple[str, bool]] = []
        for m in self._dictionary.lookup(surface):
            pos = m.part_of_speech()
            if pos[0] in _NOUN_POS:
                reading = to_hiragana(m.reading_form())
                if is_kana_reading(reading) and not reading.endswith(SOKUON):
                    found.append((reading, pos[1] == "固有名詞"))
        plain = {r for r, _ in found}
        out = [(r, n) for r, n in found if _unvoiced(r) == r or _unvoiced(r) not in plain]
        # A reading that is also a common noun's is not a name's.
        common = {r for r, n in out if not n}
        return list(dict.fromkeys((r, n and r not in common) for r, n in out))

    def _sudachi_reading(self, surface: str) -> tuple[str, bool] | None:
        """The analyser's reading of the whole word, and whether a name is part of it."""
        tokens = self._tokenizer().tokenize(surface)
        reading = to_hiragana("".join(t.reading_form() for t in tokens))
        if not is_kana_reading(reading):
            return None
        return reading, any(t.part_of_speech()[1] == "固有名詞" for t in tokens)

    def _kakasi_reading(self, surface: str) -> str | None:
        with self._kakasi_lock:
            if self._kakasi is None:
                import pykakasi  # a 0.4 s import: only for words nothing else reads

                self._kakasi = pykakasi.kakasi()
            parts = self._kakasi.convert(surface)
        reading = "".join(p["hira"] for p in parts)
        # Every kanji reads as at least one kana; fewer means pykakasi dropped some.
        if len(reading) < len(_KANJI.findall(surface)):
            return None
        return reading if is_kana_reading(reading) else None

    def _entry_status(self, *forms: str) -> NounStatus | None:
        """NOUN when SudachiPy has one of ``forms`` as a common-noun entry, else None."""
        for form in dict.fromkeys(f for f in forms if f):
            for m in self._dictionary.lookup(form):
                pos = m.part_of_speech()
                if pos[0] == "代名詞" or (pos[0] == "名詞" and pos[1] in ("普通名詞", "数詞")):
                    return NounStatus.NOUN
        return None

    def _prefixed_status(self, surface: str) -> NounStatus | None:
        """お茶碗, ご近所: a beautifying prefix before a JMdict noun makes a noun."""
        if len(surface) > 2 and surface[0] in _PREFIXES:
            rest = self.jmdict.lookup(surface[1:])
            if rest and _senses_status(rest) is NounStatus.NOUN:
                return NounStatus.NOUN
        return None

    def _undecided_status(self, *forms: str) -> NounStatus:
        """A word JMdict lacks under ``compounds=dictionary``: an entry, or not a word.

        A known non-noun (a conjugated verb) stays ``not_a_noun``; a sequence of nouns that
        is no entry (an invented compound) is ``unknown_word``.
        """
        found = self._entry_status(*forms) or self._prefixed_status(forms[0])
        if found is not None:
            return found
        status = self.noun_status(*forms)
        return NounStatus.NOT_A_NOUN if status is NounStatus.NOT_A_NOUN else NounStatus.UNKNOWN

    def _kana_analysis(self, hira: str, surface: str, source: ReadingSource) -> Analysis:
        senses = self.jmdict.lookup(hira)
        if senses:
            return Analysis(((hira, source),), _senses_status(senses))
        noun = self._undecided_status(hira, to_katakana(hira), surface)
        return Analysis(((hira, source),), noun, decided=False)

    def _analyse(self, surface: str) -> Analysis:
        hira = to_hiragana(surface)
        if is_kana_reading(hira):
            return self._kana_analysis(hira, surface, ReadingSource.KANA)
        written = digits_to_kanji(surface) if _ASCII_DIGIT.search(surface) else surface
        senses = self.jmdict.lookup(surface) or self.jmdict.lookup(written)
        if not senses and has_latin(written):
            spelled = to_hiragana(latin_to_kana(written))
            if is_kana_reading(spelled):
                return self._kana_analysis(spelled, surface, ReadingSource.LETTERS)
            written = spelled
        numeral = read_numeral_word(written)
        ranked: list[tuple[str, ReadingSource]] = []
        common = [s.reading for s in senses if s.tier == Tier.COMMON]
        ranked += [(r, ReadingSource.JMDICT_COMMON) for r in common]
        if numeral:
            ranked.append((numeral, ReadingSource.NUMERAL))
        contextual = self._sudachi_reading(written)
        ordinary = {s.reading for s in senses if s.tier == Tier.ORDINARY}
        if contextual and not contextual[1] and not numeral:
            source = ReadingSource.JMDICT if contextual[0] in ordinary else ReadingSource.SUDACHI
            ranked.append((contextual[0], source))
        ranked += [(s.reading, ReadingSource.JMDICT) for s in senses if s.tier == Tier.ORDINARY]
        entries = self._dictionary_readings(written)
        # Where JMdict has the form it is the authority: SudachiPy's other entries for it
        # (熟睡 うまい) are candidates, never chosen for the joint.
        other = ReadingSource.SUDACHI_ENTRY if senses else ReadingSource.SUDACHI
        ranked += [(r, other) for r, name in entries if not name]
        if contextual and (contextual[1] or numeral):
            ranked.append((contextual[0], ReadingSource.SUDACHI_NAME))
        ranked += [(r, ReadingSource.SUDACHI_NAME) for r, name in entries if name]
        ranked += [(s.reading, ReadingSource.JMDICT_RARE) for s in senses if s.tier == Tier.RARE]
        if not ranked:  # nothing could read it: pykakasi, the last resort
            kakasi = self._kakasi_reading(written)
            if kakasi:
                ranked.append((kakasi, ReadingSource.PYKAKASI))
        # The same reading from two sources keeps its first (more trusted) source.
        first: dict[str, ReadingSource] = {}
        for reading, source in ranked:
            if is_kana_reading(reading):
                first.setdefault(reading, source)
        readings = tuple(first.items())
        if senses:
            return Analysis(readings, _senses_status(senses))
        if numeral:  # a numeral with a counter the reader knows is a noun (三十七冊)
            return Analysis(readings, NounStatus.NOUN)
        return Analysis(readings, self._undecided_status(written), decided=False)

    def analysed_noun_status(self, surface: str) -> NounStatus:
        """The noun check under ``compounds=analysed``: also any sequence of known nouns.

        What JMdict (or the numeral rule) decided stands; otherwise the analyser's
        reading of the word as nouns (みかんごりら, 海犬) passes, and a kana word also
        when it is the reading of one of SudachiPy's common nouns. LRU-cached.
        """
        return self._analysed(surface)

    def _analysed_status(self, surface: str) -> NounStatus:
        analysis = self.analyse(surface)
        if analysis.decided or analysis.noun is NounStatus.NOUN:
            return analysis.noun
        hira = to_hiragana(surface)
        if is_kana_reading(hira):
            return self._kana_noun_status(hira, surface)
        written = digits_to_kanji(surface)
        if has_latin(written):
            written = to_hiragana(latin_to_kana(written))
            if is_kana_reading(written):
                return self._kana_noun_status(written)
        if any(not name for _, name in self._dictionary_readings(written)):
            return NounStatus.NOUN
        return self.noun_status(written)

    def kana_noun_status(self, reading: str, *, compounds: str = "dictionary") -> NounStatus:
        """The noun check on a reading alone (for furigana: 蜜柑（みかん）)."""
        if compounds == "analysed":
            return self.analysed_noun_status(reading)
        return self.analyse(reading).noun


def _unvoiced(reading: str) -> str:
    """The reading with its first kana unvoiced: ごめ -> こめ (rendaku check)."""
    return joint_key(reading[0], lenient=True) + reading[1:]


_default: Analyser | None = None
_default_lock = threading.Lock()


def default_analyser() -> Analyser:
    """The process-wide analyser, built on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyser()
        return _default
