"""The gold sets (tests/gold/): their shape, and the current reader's quality on them.

The quality figures come from bench/reader.py's own scoring functions (loaded by path:
bench/ is not a package), so ``python bench/reader.py`` and these gates never disagree.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOLD = ROOT / "tests" / "gold"


def _load_reader() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mikan_bench_reader", ROOT / "bench" / "reader.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


reader = _load_reader()
TURNS: list[dict[str, Any]] = reader.load_jsonl(GOLD / "turns.jsonl")
HELDOUT: list[dict[str, Any]] = reader.load_jsonl(GOLD / "heldout_turns.jsonl")
PROBES: list[dict[str, Any]] = reader.load_jsonl(GOLD / "probes.jsonl")

TURN_KEYS = {
    "id",
    "style",
    "lang",
    "prev",
    "used",
    "text",
    "word",
    "reading",
    "flag",
    "corrected_to",
    "note",
}
PROBE_KEYS = {"id", "style", "lang", "kind", "word", "text", "label"}
STYLE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
HIRAGANA = re.compile(r"^[\u3041-\u3096ー]+$")
WORD_FLAGS = {"continues", "none", "self_corrects"}  # these always play a word


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# ----------------------------------------------------------------------------- schema


@pytest.mark.parametrize("item", TURNS + HELDOUT, ids=lambda t: t["id"])
def test_turn_item_is_well_formed(item: dict[str, Any]) -> None:
    assert set(item) == TURN_KEYS
    assert re.fullmatch(r"[th]\d{4}", item["id"])
    assert STYLE.match(item["style"]), item["style"]
    assert item["lang"] in ("ja", "en")
    assert isinstance(item["text"], str)
    assert isinstance(item["note"], str) and item["note"].strip()
    assert isinstance(item["used"], list) and all(isinstance(w, str) and w for w in item["used"])
    if item["prev"] is not None:
        assert isinstance(item["prev"], str) and item["prev"] in item["used"]
    assert item["flag"] in reader.FLAGS

    word, reading = item["word"], item["reading"]
    assert (word is None) == (reading is None)
    if word is None:
        # No word: the reply plays nothing, or only says it lost.
        assert item["flag"] in ("no_move", "admits")
    else:
        assert item["flag"] != "no_move"
        assert isinstance(word, str) and word.strip() == word and word
        assert _nfkc(word) in _nfkc(item["text"]), "the word is written in the reply"
        assert HIRAGANA.match(reading), reading
    if item["flag"] in WORD_FLAGS:
        assert word is not None

    corrected = item["corrected_to"]
    if item["flag"] == "self_corrects":
        assert isinstance(corrected, str) and corrected
        assert _nfkc(corrected) in _nfkc(item["text"])
        assert _nfkc(corrected) != _nfkc(word)
    else:
        assert corrected is None


@pytest.mark.parametrize("item", PROBES, ids=lambda p: p["id"])
def test_probe_item_is_well_formed(item: dict[str, Any]) -> None:
    assert set(item) == PROBE_KEYS
    assert re.fullmatch(r"p\d{3}", item["id"])
    assert STYLE.match(item["style"]), item["style"]
    assert item["lang"] in ("ja", "en")
    assert item["kind"] in reader.PROBE_KINDS
    assert item["label"] in reader.PROBE_LABELS[item["kind"]]
    assert isinstance(item["word"], str) and item["word"].strip()
    assert isinstance(item["text"], str)


def test_ids_are_unique() -> None:
    for rows in (TURNS, HELDOUT, PROBES):
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]


def test_the_turn_set_is_big_and_varied_enough() -> None:
    assert len(TURNS) >= 400
    flags = Counter(t["flag"] for t in TURNS)
    assert set(flags) == set(reader.FLAGS)
    assert flags["admits"] >= 40
    assert flags["self_corrects"] >= 20
    langs = Counter(t["lang"] for t in TURNS)
    assert langs["en"] >= 0.25 * len(TURNS)
    assert len({reader.family(t["style"]) for t in TURNS}) >= 5


def test_the_probe_set_is_big_and_varied_enough() -> None:
    assert len(PROBES) >= 150
    kinds = Counter(p["kind"] for p in PROBES)
    assert kinds["intent"] >= 60
    assert kinds["pushback_first"] >= 45
    assert kinds["pushback_second"] >= 45
    for kind in reader.PROBE_KINDS:
        rows = [p for p in PROBES if p["kind"] == kind]
        assert {p["lang"] for p in rows} == {"ja", "en"}
        assert {p["label"] for p in rows} == set(reader.PROBE_LABELS[kind])


# ---------------------------------------------------------------------- the scoring


def test_word_scoring_follows_the_documented_rule() -> None:
    assert reader.word_correct("みかん", "みかん", "みかん", "みかん")
    assert reader.word_correct("ﾐｶﾝ", "みかん", " ミカン ", None)  # NFKC, stripped
    assert reader.word_correct("Mikan", "みかん", "みかん", "みかん")  # by reading
    assert not reader.word_correct("みかん", "みかん", "うみ", "うみ")
    assert not reader.word_correct("みかん", "みかん", None, None)
    assert reader.word_correct(None, None, None, None)
    assert not reader.word_correct(None, None, "うみ", "うみ")


def test_lang_is_passed_only_to_a_judge_that_takes_it() -> None:
    item = {"prev": "うみ", "used": ["うみ"], "lang": "en"}

    def old(text: str, *, prev: str | None = None, used: Any = ()) -> None: ...

    def new(text: str, *, prev: str | None = None, used: Any = (), lang: str = "ja") -> None: ...

    assert reader.judge_kwargs(old, item) == {"prev": "うみ", "used": ["うみ"]}
    assert reader.judge_kwargs(new, item) == {"prev": "うみ", "used": ["うみ"], "lang": "en"}


def test_classification_counts() -> None:
    c = reader.classification(["a", "a", "b"], ["a", "b", "b"], ("a", "b"))
    assert c["accuracy"] == pytest.approx(2 / 3)
    assert c["confusion"] == {"a": {"a": 1, "b": 1}, "b": {"b": 1}}
    assert c["per_label"]["a"]["precision"] == 1.0
    assert c["per_label"]["a"]["recall"] == 0.5
    assert c["per_label"]["b"]["precision"] == 0.5


# ------------------------------------------------------------------ quality on gold


@pytest.fixture(scope="module")
def turn_report() -> dict[str, Any]:
    return reader.turn_report(reader.judge_turns(TURNS))


@pytest.fixture(scope="module")
def probe_report() -> dict[str, Any]:
    return reader.probe_report(reader.judge_probes(PROBES))


def test_every_gold_reply_is_judged_without_raising(
    turn_report: dict[str, Any], probe_report: dict[str, Any]
) -> None:
    assert turn_report["n"] == len(TURNS)
    assert turn_report["errors"] == 0
    assert sum(probe_report[k]["n"] for k in reader.PROBE_KINDS) == len(PROBES)
    assert all(probe_report[k]["errors"] == 0 for k in reader.PROBE_KINDS)


# Floors: what the current reader and classifiers reach on the gold set (reader-3,
# probe-labels-3: word 98.4%, flag 97.8%, intent 93.8%, pushback_first 96.0%,
# pushback_second 86.8%), so a change that reads worse fails. Targets: issue 15's
# figures (met).


def test_word_accuracy_does_not_fall(turn_report: dict[str, Any]) -> None:
    assert turn_report["word_accuracy"] >= 0.98


def test_self_flag_accuracy_does_not_fall(turn_report: dict[str, Any]) -> None:
    assert turn_report["flag"]["accuracy"] >= 0.97


def test_word_accuracy_reaches_the_target(turn_report: dict[str, Any]) -> None:
    assert turn_report["word_accuracy"] >= 0.95


def test_self_flag_accuracy_reaches_the_target(turn_report: dict[str, Any]) -> None:
    assert turn_report["flag"]["accuracy"] >= 0.90


@pytest.mark.parametrize(
    ("kind", "floor"), [("intent", 0.93), ("pushback_first", 0.95), ("pushback_second", 0.86)]
)
def test_probe_accuracy_does_not_fall(
    probe_report: dict[str, Any], kind: str, floor: float
) -> None:
    assert probe_report[kind]["accuracy"] >= floor


def test_the_second_pushback_answer_reaches_the_target(probe_report: dict[str, Any]) -> None:
    assert probe_report["pushback_second"]["accuracy"] >= 0.85


# The held-out set (tests/gold/README.md): scored under its own convention for accepted
# moves handed over. Floors at what reader-3 reached without its items being read.
@pytest.fixture(scope="module")
def heldout_report() -> dict[str, Any]:
    return reader.turn_report(reader.legal_handoff_as_none(reader.judge_turns(HELDOUT)))


def test_the_heldout_set_does_not_fall(heldout_report: dict[str, Any]) -> None:
    assert heldout_report["n"] == len(HELDOUT) == 250 and heldout_report["errors"] == 0
    assert heldout_report["word_accuracy"] >= 0.97
    assert heldout_report["flag"]["accuracy"] >= 0.92


def test_a_legal_handoff_merges_only_on_accepted_moves() -> None:
    base = reader.TurnResult(
        "x", "s-t", "ja", "", "a", "a", "a", "a", True, "none", "continues", None, None, True
    )
    merged = reader.legal_handoff_as_none([base, reader.replace(base, accepted=True)])
    assert (merged[0].gold_flag, merged[0].pred_flag) == ("none", "continues")
    assert (merged[1].gold_flag, merged[1].pred_flag) == ("none", "none")
