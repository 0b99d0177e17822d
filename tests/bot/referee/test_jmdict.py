"""The JMdict index: built once from the installed data, offline, cached, and optional."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.referee import jmdict
from bot.referee.jmdict import JMdict, Kind, Tier, data_file
from bot.referee.judge import Referee
from bot.referee.readings import Analyser, default_analyser


def test_the_data_ships_with_the_package() -> None:
    source = data_file()
    assert source is not None and source.stat().st_size > 100_000_000


def test_the_built_index_is_reused_without_a_progress_line() -> None:
    default_analyser().jmdict.warm()  # built once for the session (tests/conftest.py)
    lines: list[str] = []
    again = JMdict(progress=lines.append)
    again.warm()
    assert lines == []
    path = again.index_path()
    assert path is not None and path.is_file() and path.stat().st_size < 64_000_000


def test_a_fresh_cache_builds_the_index_with_a_progress_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIKAN_CACHE_DIR", str(tmp_path))
    lines: list[str] = []
    index = JMdict(progress=lines.append)
    assert index.lookup("蜜柑")[0].reading == "みかん"
    assert len(lines) == 2 and "building" in lines[0] and "built" in lines[1]
    assert list(tmp_path.glob("jmdict-v*.sqlite")) == [index.index_path()]
    assert not list(tmp_path.glob("*.tmp"))


def test_forms_are_keyed_across_scripts() -> None:
    index = default_analyser().jmdict
    assert index.lookup("ﾐｶﾝ") == index.lookup("ミカン") == index.lookup("みかん") != ()
    senses = index.lookup("今日")
    assert senses[0].tier is Tier.COMMON and senses[0].kind is Kind.NOUN
    assert [s.tier for s in senses] == sorted(s.tier for s in senses)
    assert index.lookup("") == () and index.lookup("\x00") == ()


def test_without_the_data_every_string_still_gets_a_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jmdict, "data_file", lambda: None)
    ref = Referee(Analyser(progress=None))
    assert ref.analyser.jmdict.available is False
    assert ref.analyser.jmdict.lookup("みかん") == ()
    for text in ("みかん", "蜜柑", "7月", "Tシャツ", "", "🍊", "ゑ" * 50):
        assert ref.judge(text, prev="うみ").violations is not None


def test_the_reading_and_why_are_recorded() -> None:
    ref = Referee()
    assert ref.judge("今日").reading_label == "jmdict_common"
    after = ref.judge("今日", prev="たこ")
    assert (after.reading, after.reading_label) == ("こんにち", "jmdict_common+joint")
    assert ref.judge("蜜柑（みかん）").reading_label == "furigana"
    assert ref.judge("🍊").reading_label is None
