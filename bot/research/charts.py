"""Charts for ``mikan stats --chart`` (and the Discord stats command): matplotlib, Agg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROW = "み"  # the row of the ん-rate table the project is named after


def _label(g: dict[str, Any]) -> str:
    model = g["model"] or "?"
    return f"{g['player']}\n{model}" if model != g["player"] else g["player"]


def _bars(ax: Any, names: list[str], rates: list[dict[str, Any]], title: str) -> None:
    values = [100 * (w["rate"] or 0) for w in rates]
    lower = [100 * ((w["rate"] or 0) - (w["low"] or 0)) for w in rates]
    upper = [100 * ((w["high"] or 0) - (w["rate"] or 0)) for w in rates]
    xs = range(len(names))
    ax.bar(xs, values, yerr=[lower, upper], capsize=4, color="#f39800", edgecolor="#8a5200")
    for x, w in zip(xs, rates, strict=True):
        ax.annotate(
            f"n={w['n']}",
            (x, 0),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(list(xs), names, fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(title, fontsize=10)


def draw(stats: dict[str, Any], path: str | Path) -> Path:
    """Per-model violation rates with Wilson 95% intervals, and the み row of the ん table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401 - registers a Japanese font (IPAexGothic)

    groups = stats["groups"]
    names = [_label(g) for g in groups]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(groups) + 4), 4.2), dpi=110)
    _bars(left, names, [g["violation_any"] for g in groups], "反則率 / violation rate (95% CI)")
    empty = {"k": 0, "n": 0, "rate": None, "low": None, "high": None}
    _bars(
        right,
        names,
        [g["ends_with_n_by_required"].get(ROW, empty) for g in groups],
        f"「{ROW}」から始めるとき「ん」で終わる率 / ends in ん after {ROW}",
    )
    fig.suptitle("Mikan", fontsize=11)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
