"""The built-in noun list (bot/data/lexicon.tsv): the offline player's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Entry:
    reading: str  # hiragana
    surface: str  # how it is usually written


@cache
def load() -> tuple[Entry, ...]:
    text = files("bot.players.data").joinpath("lexicon.tsv").read_text(encoding="utf-8")
    out: list[Entry] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        reading, surface = line.split("\t")
        out.append(Entry(reading, surface))
    return tuple(out)
