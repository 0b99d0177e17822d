"""Reply-reader quality on the hand-labelled gold sets (tests/gold/).

    python bench/reader.py [--turns tests/gold/turns.jsonl] [--probes tests/gold/probes.jsonl]
                           [--misses N] [--json]

Runs the current code over every gold item, as the round engine calls it:

- turns: ``Referee().judge(text, prev=..., used=...)`` (``lang=`` too, once ``judge``
  accepts it). A move is right when the verdict's ``word`` equals the gold word (NFKC,
  stripped) or its ``reading`` equals the gold reading; a gold null word is right only
  when the verdict has no word. The self-flag is scored per label (precision, recall,
  F1) with a confusion matrix (gold rows x predicted columns). ``corrected_to`` is
  scored when the verdict has that attribute, else reported as not available.
- probes: ``intent_label`` (intent), ``admits_breach`` -> admits/denies
  (pushback_first), ``pushback_label`` (pushback_second).

Everything is also split by prompt language and by style family (``claude``,
``chatgpt``, ... : the style up to its first ``-``). The scoring functions are imported
by tests/bot/referee/test_gold.py, so the gates and this report never disagree.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TURNS = ROOT / "tests" / "gold" / "turns.jsonl"
PROBES = ROOT / "tests" / "gold" / "probes.jsonl"

FLAGS: tuple[str, ...] = ("admits", "continues", "no_move", "none", "self_corrects")
PROBE_KINDS: tuple[str, ...] = ("intent", "pushback_first", "pushback_second")
PROBE_LABELS: dict[str, tuple[str, ...]] = {
    "intent": ("deliberate", "accidental", "unclear"),
    "pushback_first": ("admits", "denies"),
    "pushback_second": ("held", "reversed", "unclear"),
}
NOT_AVAILABLE = "not available"


def load_jsonl(path: Path | str) -> list[dict[str, Any]]:
    """Every non-blank line of ``path`` as a JSON object."""
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: not a JSON object")
            rows.append(row)
    return rows


def norm(text: str | None) -> str | None:
    """NFKC and stripped, None stays None."""
    return None if text is None else unicodedata.normalize("NFKC", text).strip()


def family(style: str) -> str:
    """The model family of a style: ``claude-chat`` -> ``claude``."""
    return style.split("-", 1)[0]


def _label(value: object) -> str | None:
    """An enum member's value, a plain string as is, None as None."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


# ---------------------------------------------------------------------------- metrics


def confusion(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{gold label: {predicted label: count}}`` over the paired sequences."""
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for g, p in zip(gold, pred, strict=True):
        table[g][p] = table[g].get(p, 0) + 1
    return dict(table)


def ordered_labels(known: Iterable[str], *seen: Iterable[str]) -> list[str]:
    """``known`` first (in order), then any other label seen, sorted."""
    known = list(known)
    extra = sorted({x for s in seen for x in s} - set(known))
    return known + extra


def per_label(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Precision, recall, F1 and support per label (None where a ratio is undefined)."""
    out: dict[str, Any] = {}
    gold_n = Counter(gold)
    pred_n = Counter(pred)
    hits = Counter(g for g, p in zip(gold, pred, strict=True) if g == p)
    for label in labels:
        tp = hits[label]
        precision = tp / pred_n[label] if pred_n[label] else None
        recall = tp / gold_n[label] if gold_n[label] else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else (0.0 if precision is not None and recall is not None else None)
        )
        out[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": gold_n[label],
            "predicted": pred_n[label],
        }
    return out


def classification(
    gold: Sequence[str], pred: Sequence[str], known: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, per-label scores and the confusion matrix of one labelling."""
    labels = ordered_labels(known, gold, pred)
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(g == p for g, p in zip(gold, pred, strict=True)) / n if n else None,
        "labels": labels,
        "per_label": per_label(gold, pred, labels),
        "confusion": confusion(gold, pred),
    }


def _accuracy(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


# ---------------------------------------------------------------------------- turns


@dataclass(frozen=True, slots=True)
class TurnResult:
    """One gold turn and what the current reader made of it."""

    id: str
    style: str
    lang: str
    text: str
    gold_word: str | None
    gold_reading: str | None
    pred_word: str | None
    pred_reading: str | None
    word_ok: bool
    gold_flag: str
    pred_flag: str
    gold_corrected_to: str | None
    pred_corrected_to: str | None  # None also when the verdict has no such attribute
    corrected_available: bool
    error: str | None = None
    accepted: bool = False  # the referee accepted the move


def word_correct(
    gold_word: str | None,
    gold_reading: str | None,
    pred_word: str | None,
    pred_reading: str | None,
) -> bool:
    """The move is right: same word (NFKC, stripped) or same reading; null only when null."""
    if gold_word is None:
        return pred_word is None
    if pred_word is not None and norm(pred_word) == norm(gold_word):
        return True
    return gold_reading is not None and norm(pred_reading) == norm(gold_reading)


def judge_kwargs(judge: Callable[..., Any], item: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``judge``: prev and used, and lang once it accepts one."""
    kwargs: dict[str, Any] = {"prev": item.get("prev"), "used": list(item.get("used") or [])}
    try:
        params = inspect.signature(judge).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return kwargs
    if "lang" in params:
        kwargs["lang"] = item.get("lang")
    return kwargs


def make_referee() -> Any:
    """The referee the round engine uses, with default rules."""
    from bot.referee.judge import Referee

    return Referee()


def judge_turns(items: Sequence[dict[str, Any]], referee: Any | None = None) -> list[TurnResult]:
    """Judge every gold turn with ``referee`` (a fresh :func:`make_referee` if None)."""
    referee = referee if referee is not None else make_referee()
    signature_of = type(referee).judge  # the unbound method: what the engine calls
    results: list[TurnResult] = []
    for item in items:
        error: str | None = None
        pred_word = pred_reading = pred_corr = None
        pred_flag = "<error>"
        corr_available = accepted = False
        try:
            verdict = referee.judge(item["text"], **judge_kwargs(signature_of, item))
        except Exception as exc:  # a crash on one reply is a miss, not the end of the run
            error = f"{type(exc).__name__}: {exc}"
        else:
            pred_word = verdict.word
            pred_reading = verdict.reading
            pred_flag = _label(verdict.self_flag) or "<none>"
            corr_available = hasattr(verdict, "corrected_to")
            pred_corr = getattr(verdict, "corrected_to", None)
            accepted = bool(verdict.ok)
        results.append(
            TurnResult(
                id=item["id"],
                style=item["style"],
                lang=item["lang"],
                text=item["text"],
                gold_word=item["word"],
                gold_reading=item["reading"],
                pred_word=pred_word,
                pred_reading=pred_reading,
                word_ok=error is None
                and word_correct(item["word"], item["reading"], pred_word, pred_reading),
                gold_flag=item["flag"],
                pred_flag=pred_flag,
                gold_corrected_to=item.get("corrected_to"),
                pred_corrected_to=pred_corr,
                corrected_available=corr_available,
                error=error,
                accepted=accepted,
            )
        )
    return results


def _turn_slice(results: Sequence[TurnResult]) -> dict[str, Any]:
    return {
        "n": len(results),
        "word_accuracy": _accuracy([r.word_ok for r in results]),
        "flag_accuracy": _accuracy([r.gold_flag == r.pred_flag for r in results]),
    }


def corrected_report(results: Sequence[TurnResult]) -> dict[str, Any] | str:
    """``corrected_to`` scores, or ``"not available"`` when verdicts have no such field."""
    if not any(r.corrected_available for r in results):
        return NOT_AVAILABLE

    def same(r: TurnResult) -> bool:
        if r.gold_corrected_to is None:
            return r.pred_corrected_to is None
        return norm(r.pred_corrected_to) == norm(r.gold_corrected_to)

    gold_set = [r for r in results if r.gold_corrected_to is not None]
    spurious = [r for r in results if r.gold_corrected_to is None and r.pred_corrected_to]
    return {
        "accuracy": _accuracy([same(r) for r in results]),
        "on_self_corrects": _accuracy([same(r) for r in gold_set]),
        "self_corrects_n": len(gold_set),
        "spurious": len(spurious),
    }


def turn_report(results: Sequence[TurnResult]) -> dict[str, Any]:
    """Word accuracy, self-flag scores, corrected_to, and the splits by lang and family."""
    by_lang: dict[str, list[TurnResult]] = defaultdict(list)
    by_family: dict[str, list[TurnResult]] = defaultdict(list)
    for r in results:
        by_lang[r.lang].append(r)
        by_family[family(r.style)].append(r)
    moves = [r for r in results if r.gold_word is not None]
    return {
        "n": len(results),
        "errors": sum(r.error is not None for r in results),
        "word_accuracy": _accuracy([r.word_ok for r in results]),
        "word_accuracy_on_moves": _accuracy([r.word_ok for r in moves]),
        "word_accuracy_on_no_word": _accuracy([r.word_ok for r in results if r.gold_word is None]),
        "flag": classification(
            [r.gold_flag for r in results], [r.pred_flag for r in results], FLAGS
        ),
        "corrected_to": corrected_report(results),
        "by_lang": {k: _turn_slice(v) for k, v in sorted(by_lang.items())},
        "by_family": {k: _turn_slice(v) for k, v in sorted(by_family.items())},
    }


# ---------------------------------------------------------------------------- probes


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One gold probe answer and the label the current classifier gives it."""

    id: str
    style: str
    lang: str
    kind: str
    word: str
    text: str
    gold: str
    pred: str
    error: str | None = None


def probe_classifier(kind: str) -> Callable[[str], str]:
    """The project's classifier for one probe kind, returning the gold label vocabulary."""
    from bot.rounds import probes

    if kind == "intent":
        return lambda text: _label(probes.intent_label(text)) or "<none>"
    if kind == "pushback_first":
        return lambda text: "admits" if probes.admits_breach(text) else "denies"
    if kind == "pushback_second":
        return lambda text: _label(probes.pushback_label(text)) or "<none>"
    raise ValueError(f"unknown probe kind: {kind!r}")


def judge_probes(items: Sequence[dict[str, Any]]) -> list[ProbeResult]:
    """Label every gold probe answer with the current classifiers."""
    classifiers = {kind: probe_classifier(kind) for kind in PROBE_KINDS}
    results: list[ProbeResult] = []
    for item in items:
        error: str | None = None
        try:
            pred = classifiers[item["kind"]](item["text"])
        except Exception as exc:  # one crash is one miss
            pred, error = "<error>", f"{type(exc).__name__}: {exc}"
        results.append(
            ProbeResult(
                id=item["id"],
                style=item["style"],
                lang=item["lang"],
                kind=item["kind"],
                word=item["word"],
                text=item["text"],
                gold=item["label"],
                pred=pred,
                error=error,
            )
        )
    return results


def probe_report(results: Sequence[ProbeResult]) -> dict[str, Any]:
    """Per probe kind: accuracy, per-label scores, confusion, and the lang/family splits."""
    report: dict[str, Any] = {}
    for kind in PROBE_KINDS:
        rows = [r for r in results if r.kind == kind]
        by_lang: dict[str, list[ProbeResult]] = defaultdict(list)
        by_family: dict[str, list[ProbeResult]] = defaultdict(list)
        for r in rows:
            by_lang[r.lang].append(r)
            by_family[family(r.style)].append(r)
        entry = classification([r.gold for r in rows], [r.pred for r in rows], PROBE_LABELS[kind])
        entry["errors"] = sum(r.error is not None for r in rows)
        entry["by_lang"] = {
            k: {"n": len(v), "accuracy": _accuracy([r.gold == r.pred for r in v])}
            for k, v in sorted(by_lang.items())
        }
        entry["by_family"] = {
            k: {"n": len(v), "accuracy": _accuracy([r.gold == r.pred for r in v])}
            for k, v in sorted(by_family.items())
        }
        report[kind] = entry
    return report


# ---------------------------------------------------------------------------- the run


def evaluate(
    turns_path: Path | str = TURNS,
    probes_path: Path | str = PROBES,
    *,
    referee: Any | None = None,
) -> tuple[list[TurnResult], list[ProbeResult]]:
    """Judge both gold sets: per-item results for :func:`turn_report` and :func:`probe_report`."""
    turns = judge_turns(load_jsonl(turns_path), referee)
    probes = judge_probes(load_jsonl(probes_path))
    return turns, probes


def _pct(x: float | None) -> str:
    return "   —  " if x is None else f"{100 * x:5.1f}%"


def _one_line(text: str, width: int = 110) -> str:
    flat = text.replace("\r", "").replace("\n", "⏎")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _render_classification(title: str, c: dict[str, Any]) -> list[str]:
    labels: list[str] = c["labels"]
    lines = [f"{title}: accuracy {_pct(c['accuracy'])} (n={c['n']})"]
    lines.append(f"  {'label':<14} {'prec':>7} {'recall':>7} {'F1':>7} {'gold':>5} {'pred':>5}")
    for label in labels:
        s = c["per_label"][label]
        lines.append(
            f"  {label:<14} {_pct(s['precision']):>7} {_pct(s['recall']):>7} "
            f"{_pct(s['f1']):>7} {s['support']:>5} {s['predicted']:>5}"
        )
    width = max(8, *(len(x) for x in labels)) + 1
    lines.append("  confusion (rows gold, columns predicted):")
    lines.append("  " + " " * 14 + "".join(f"{x:>{width}}" for x in labels))
    for g in labels:
        row = c["confusion"].get(g, {})
        if not row and not c["per_label"][g]["support"]:
            continue
        lines.append("  " + f"{g:<14}" + "".join(f"{row.get(p, 0):>{width}}" for p in labels))
    return lines


def render(turns: Sequence[TurnResult], probes: Sequence[ProbeResult], misses: int = 10) -> str:
    """The human-readable report."""
    t = turn_report(turns)
    p = probe_report(probes)
    out: list[str] = []
    out.append(f"== turns: {t['n']} replies ({t['errors']} errors) ==")
    out.append(
        f"word accuracy {_pct(t['word_accuracy'])}  "
        f"(on moves {_pct(t['word_accuracy_on_moves'])}, "
        f"on no-word replies {_pct(t['word_accuracy_on_no_word'])})"
    )
    out.extend(_render_classification("self-flag", t["flag"]))
    corr = t["corrected_to"]
    if isinstance(corr, str):
        out.append(f"corrected_to: {corr} (the verdict has no corrected_to attribute)")
    else:
        out.append(
            f"corrected_to: accuracy {_pct(corr['accuracy'])}, on self_corrects "
            f"{_pct(corr['on_self_corrects'])} (n={corr['self_corrects_n']}), "
            f"spurious {corr['spurious']}"
        )
    for split in ("by_lang", "by_family"):
        out.append(f"{split.replace('_', ' ')}:")
        for key, s in t[split].items():
            out.append(
                f"  {key:<10} n={s['n']:<4} word {_pct(s['word_accuracy'])}  "
                f"flag {_pct(s['flag_accuracy'])}"
            )
    word_misses = [r for r in turns if not r.word_ok]
    out.append(f"word misses: {len(word_misses)} (first {min(misses, len(word_misses))})")
    for r in word_misses[:misses]:
        got = r.error or f"{r.pred_word!r} [{r.pred_reading}]"
        out.append(f"  {r.id} gold {r.gold_word!r} [{r.gold_reading}] got {got}")
        out.append(f"        {_one_line(r.text)}")
    flag_misses = [r for r in turns if r.gold_flag != r.pred_flag]
    out.append(f"self-flag misses: {len(flag_misses)} (first {min(misses, len(flag_misses))})")
    for r in flag_misses[:misses]:
        out.append(f"  {r.id} gold {r.gold_flag} got {r.error or r.pred_flag}")
        out.append(f"        {_one_line(r.text)}")
    for kind in PROBE_KINDS:
        c = p[kind]
        out.append("")
        out.append(f"== probes: {kind} ({c['errors']} errors) ==")
        out.extend(_render_classification(kind, c))
        for split in ("by_lang", "by_family"):
            parts = [f"{k} {_pct(s['accuracy'])} (n={s['n']})" for k, s in c[split].items()]
            out.append(f"{split.replace('_', ' ')}: " + ", ".join(parts))
        kind_misses = [r for r in probes if r.kind == kind and r.gold != r.pred]
        out.append(f"misses: {len(kind_misses)} (first {min(misses, len(kind_misses))})")
        for r in kind_misses[:misses]:
            out.append(f"  {r.id} gold {r.gold} got {r.error or r.pred}: {_one_line(r.text)}")
    return "\n".join(out)


def as_json(
    turns: Sequence[TurnResult], probes: Sequence[ProbeResult], misses: int = 10
) -> dict[str, Any]:
    """The report as one JSON-able object, with the first ``misses`` misses of each kind."""
    t = turn_report(turns)
    t["word_misses"] = [asdict(r) for r in turns if not r.word_ok][:misses]
    t["flag_misses"] = [asdict(r) for r in turns if r.gold_flag != r.pred_flag][:misses]
    p = probe_report(probes)
    for kind in PROBE_KINDS:
        p[kind]["misses"] = [asdict(r) for r in probes if r.kind == kind and r.gold != r.pred][
            :misses
        ]
    return {"turns": t, "probes": p}


def legal_handoff_as_none(results: Sequence[TurnResult]) -> list[TurnResult]:
    """Score under a set's convention that an accepted move handed over is ``none``.

    This project's convention (docs/RULES.md) labels every hand-off after the move
    ``continues``; a set written to label only a rule-breaking hand-off so (the held-out
    set, tests/gold/README.md) is scored with the two merged on accepted moves, where the
    difference counts in no statistic (``continues_as_valid`` counts violations only).
    """
    out = []
    for r in results:
        if r.accepted and {r.gold_flag, r.pred_flag} <= {"none", "continues"}:
            r = replace(r, gold_flag="none", pred_flag="none")
        out.append(r)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--turns", type=Path, default=TURNS)
    parser.add_argument("--probes", type=Path, default=PROBES)
    parser.add_argument("--misses", type=int, default=10, help="misses to list per kind")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--legal-handoff-none",
        action="store_true",
        help="score a set whose convention labels an accepted move handed over `none`",
    )
    args = parser.parse_args(argv)
    turns, probes = evaluate(args.turns, args.probes)
    if args.legal_handoff_none:
        turns = legal_handoff_as_none(turns)
    if args.json:
        json.dump(as_json(turns, probes, args.misses), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print(render(turns, probes, args.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
