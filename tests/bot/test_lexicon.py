"""Every word the offline player can say is one the referee accepts, as kana and as written."""

import pytest

from bot.lexicon import load
from bot.referee import Referee

ENTRIES = load()


def test_lexicon_is_substantial_and_unique() -> None:
    assert len(ENTRIES) >= 200
    readings = [e.reading for e in ENTRIES]
    assert len(set(readings)) == len(readings)


@pytest.fixture(scope="module")
def ref() -> Referee:
    return Referee()


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.reading)
def test_entry_is_a_known_noun(ref: Referee, entry) -> None:
    as_kana = ref.judge(entry.reading)
    assert as_kana.reading == entry.reading
    assert not {"not_a_noun", "unknown_word", "unreadable"} & set(as_kana.violations)
    as_written = ref.judge(entry.surface)
    assert entry.reading in as_written.candidates
    assert not {"not_a_noun", "unknown_word", "unreadable"} & set(as_written.violations)
