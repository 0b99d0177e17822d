"""Readings and the dictionary check, over SudachiPy (core dictionary) and pykakasi.

One :class:`Analyser` per process is enough: building it loads the dictionary
(tens of milliseconds), and every analysis is cached by surface, so a word that
comes back (they do, in shiritori) costs a dictionary lookup only once.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import pykakasi
from sudachipy import Dictionary, SplitMode

from bot.referee.kana import SOKUON, is_kana_reading, joint_key, to_hiragana, to_katakana

_KANJI = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\u3005\u3006\uf900-\ufaff\U00020000-\U0003134f]")
_NOUN_POS = frozenset({"名詞", "代名詞"})
_CACHE_SIZE = 1 << 16
_INDEX_FORMAT = 1
log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where derived data lives: ``$MIKAN_CACHE_DIR``, else the XDG cache directory."""
    explicit = os.environ.get("MIKAN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mikan"


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
    """Where a reading came from: the reply's furigana, the word's own kana, SudachiPy, pykakasi."""

    FURIGANA = "furigana"
    KANA = "kana"
    SUDACHI = "sudachi"
    PYKAKASI = "pykakasi"


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the analyser knows of one written word.

    ``readings`` are hiragana candidates, most likely first, each with its source.
    """

    readings: tuple[tuple[str, ReadingSource], ...]
    noun: NounStatus


def _token_ok_for_compound(surface: str, pos: tuple[str, ...]) -> bool:
    """Noun tokens (and noun suffixes) that may make up an accepted word.

    A lone kana token inside a longer analysis is how the analyser splits nonsense
    (ろろろ -> ろ/ろ/ろ), so it is only allowed as a noun suffix.
    """
    if pos[0] in _NOUN_POS:
        return len(surface) > 1 or bool(_KANJI.match(surface))
    return pos[0] == "接尾辞" and pos[1] == "名詞的"


class Analyser:
    """Thread-safe facade over SudachiPy and pykakasi with an LRU cache.

    Building one loads the SudachiPy core dictionary.

    Attributes:
        analyse: ``analyse(surface) -> Analysis``, the readings and noun status of a
            written word, LRU-cached by surface (``cache_size`` entries).
    """

    def __init__(self, *, cache_size: int = _CACHE_SIZE) -> None:
        self._dictionary = Dictionary(dict="core")
        self._local = threading.local()
        # pykakasi holds ~115 MB once built and is only the last resort: built on first need.
        self._kakasi: pykakasi.kakasi | None = None
        self._kakasi_lock = threading.Lock()
        self._noun_readings: frozenset[str] | None = None
        self._index_lock = threading.Lock()
        self.analyse = lru_cache(maxsize=cache_size)(self._analyse)

    def warm(self) -> None:
        """Load everything lazy now (the noun-reading index), so no turn waits for it."""
        self._noun_index()

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

    def _dictionary_readings(self, surface: str) -> list[str]:
        """Readings of noun entries whose surface is exactly ``surface``.

        Rendaku forms (米 -> ごめ beside こめ) and clipped forms ending in っ are
        only ever the inside of a compound, so they are dropped.
        """
        found: list[str] = []
        for m in self._dictionary.lookup(surface):
            if m.part_of_speech()[0] in _NOUN_POS:
                reading = to_hiragana(m.reading_form())
                if is_kana_reading(reading) and not reading.endswith(SOKUON):
                    found.append(reading)
        plain = set(found)
        out = [r for r in found if _unvoiced(r) == r or _unvoiced(r) not in plain]
        return list(dict.fromkeys(out))

    def _sudachi_reading(self, surface: str) -> str | None:
        tokens = self._tokenizer().tokenize(surface)
        reading = to_hiragana("".join(t.reading_form() for t in tokens))
        return reading if is_kana_reading(reading) else None

    def _kakasi_reading(self, surface: str) -> str | None:
        with self._kakasi_lock:
            if self._kakasi is None:
                self._kakasi = pykakasi.kakasi()
            parts = self._kakasi.convert(surface)
        reading = "".join(p["hira"] for p in parts)
        # Every kanji reads as at least one kana; fewer means pykakasi dropped some.
        if len(reading) < len(_KANJI.findall(surface)):
            return None
        return reading if is_kana_reading(reading) else None

    def _analyse(self, surface: str) -> Analysis:
        hira = to_hiragana(surface)
        if is_kana_reading(hira):
            return Analysis(((hira, ReadingSource.KANA),), self._kana_noun_status(hira, surface))
        entries = self._dictionary_readings(surface)
        # A surface that is itself a noun entry is a noun, whatever the tokenizer's
        # first guess (上手 is じょうず, an adjectival noun, but also かみて, a noun).
        noun = NounStatus.NOUN if entries else self.noun_status(surface)
        contextual = self._sudachi_reading(surface)
        sudachi = [contextual] if contextual else []
        ordered = sudachi + entries if contextual in entries else entries + sudachi
        readings = [(r, ReadingSource.SUDACHI) for r in ordered]
        if not readings:  # the analyser could not read it: pykakasi, the last resort
            kakasi = self._kakasi_reading(surface)
            if kakasi:
                readings.append((kakasi, ReadingSource.PYKAKASI))
        # The same reading from two sources keeps its first (more trusted) source.
        first: dict[str, ReadingSource] = {}
        for reading, source in readings:
            first.setdefault(reading, source)
        return Analysis(tuple(first.items()), noun)

    def kana_noun_status(self, reading: str) -> NounStatus:
        """The dictionary check on a reading alone (for furigana: 蜜柑（みかん）).

        NOUN also when its katakana form is the reading of a common noun or pronoun in
        the dictionary (that index is loaded on first need).
        """
        return self._kana_noun_status(reading)


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
