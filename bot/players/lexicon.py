"""The built-in noun list (bot/players/data/lexicon.tsv): the offline player's vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon line: a noun's reading and its usual spelling."""

    reading: str  # hiragana
    surface: str  # how it is usually written


@cache
def load() -> tuple[Entry, ...]:
    """Every lexicon entry, in file order; read once, then cached.

    Blank lines and lines starting with ``#`` are skipped; a line without exactly one
    tab raises ValueError.
    """
    text = files("bot.players.data").joinpath("lexicon.tsv").read_text(encoding="utf-8")
    out: list[Entry] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        reading, surface = line.split("\t")
        out.append(Entry(reading, surface))
    return tuple(out)
