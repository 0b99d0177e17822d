"""Every word the offline player can say is one the referee accepts, as kana and as written."""

import pytest

from bot.players.lexicon import load
from bot.referee.judge import Referee
from bot.referee.kana import joint_key

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
    # ぢ and じ are one sound at the joint (鼻血 is read はなじ by the analyser)
    assert joint_key(entry.reading) in {joint_key(c) for c in as_written.candidates}
    assert not {"not_a_noun", "unknown_word", "unreadable"} & set(as_written.violations)
