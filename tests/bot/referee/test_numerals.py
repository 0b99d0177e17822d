"""Numbers, counters, digits and Latin letters read as a Japanese speaker reads them."""

from __future__ import annotations

import pytest

from bot.referee.judge import Referee
from bot.referee.numerals import (
    digits_to_kanji,
    latin_to_kana,
    parse_number,
    read_number,
    read_numeral_word,
    to_kanji,
)


@pytest.fixture(scope="module")
def ref() -> Referee:
    return Referee()


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("一冊", "いっさつ"),
        ("八冊", "はっさつ"),
        ("六冊", "ろくさつ"),
        ("三本", "さんぼん"),
        ("一本", "いっぽん"),
        ("六本", "ろっぽん"),
        ("十本", "じゅっぽん"),
        ("二十本", "にじゅっぽん"),
        ("百本", "ひゃっぽん"),
        ("千本", "せんぼん"),
        ("三分", "さんぷん"),
        ("四分", "よんぷん"),
        ("六個", "ろっこ"),
        ("三階", "さんがい"),
        ("三足", "さんぞく"),
        ("七月", "しちがつ"),
        ("四月", "しがつ"),
        ("九月", "くがつ"),
        ("二十日", "はつか"),
        ("十四日", "じゅうよっか"),
        ("三日", "みっか"),
        ("一人", "ひとり"),
        ("四人", "よにん"),
        ("三つ", "みっつ"),
        ("四時", "よじ"),
        ("四年", "よねん"),
        ("四円", "よえん"),
        ("三十七冊", "さんじゅうななさつ"),
        ("二千二十六年", "にせんにじゅうろくねん"),
        ("一万円", "いちまんえん"),
    ],
)
def test_numeral_with_counter(word: str, reading: str) -> None:
    assert read_numeral_word(word) == reading


def test_numbers_both_ways() -> None:
    for n in (1, 7, 10, 11, 20, 105, 2026, 10000, 123456789):
        assert parse_number(to_kanji(n)) == n
        assert parse_number(str(n)) == n
    assert parse_number("二〇二六") == 2026
    assert parse_number("〇" * 5000) is None  # past int()'s digit limit: no number, no error
    assert parse_number("一〇〇〇万") == 10_000_000  # digits in a row are positional
    # Hundreds voiced (三百 さんびゃく, 六百 ろっぴゃく) clip before a counter as 百 does.
    assert [read_numeral_word(w) for w in ("三百本", "六百本", "八百本", "三百冊")] == [
        "さんびゃっぽん",
        "ろっぴゃっぽん",
        "はっぴゃっぽん",
        "さんびゃくさつ",
    ]
    assert read_number(0) == "ぜろ" and read_number(300) == "さんびゃく"
    assert digits_to_kanji("7月") == "七月" and digits_to_kanji("20日") == "二十日"
    assert latin_to_kana("Tシャツ") == "てぃーシャツ"


@pytest.mark.parametrize(
    "word", ["月", "冊本", "十八x", "", "1" * 30 + "冊", "億兆", "〇" * 5000, "〇" * 5000 + "冊"]
)
def test_not_a_numeral_or_out_of_range_is_no_crash(word: str) -> None:
    assert read_numeral_word(word) is None or isinstance(read_numeral_word(word), str)


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("7月", "しちがつ"),  # half-width digits
        ("７月", "しちがつ"),  # full-width digits
        ("3本", "さんぼん"),
        ("20日", "はつか"),
        ("Tシャツ", "てぃーしゃつ"),  # Latin letters read by name
        ("Ｔシャツ", "てぃーしゃつ"),
    ],
)
def test_mixed_script_words_are_read(ref: Referee, word: str, reading: str) -> None:
    v = ref.judge(word)
    assert v.reading == reading
    assert "not_a_noun" not in v.violations and "unknown_word" not in v.violations


def test_a_numeral_the_dictionary_lacks_is_read_by_the_counter_rules(ref: Referee) -> None:
    v = ref.judge("三十七冊")
    assert (v.reading, str(v.reading_source)) == ("さんじゅうななさつ", "numeral")
    assert v.ok


@pytest.mark.parametrize(("prev", "word"), [("こゐ", "いす"), ("すゑ", "えき"), ("コヰ", "いす")])
def test_wi_and_we_are_i_and_e_at_the_joint(ref: Referee, prev: str, word: str) -> None:
    v = ref.judge(word, prev=prev)
    assert "wrong_start" not in v.violations
    assert v.first in ("い", "え")


def test_wi_and_we_still_differ_from_other_kana(ref: Referee) -> None:
    assert "wrong_start" in ref.judge("うし", prev="こゐ").violations


def test_a_word_starting_with_wi_fits_after_i(ref: Referee) -> None:
    assert "wrong_start" not in ref.judge("ゐど", prev="たい").violations


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("「7月」！", "7月"),
        ("**20日**", "20日"),
        ("Tシャツ！次は「つ」からどうぞ", "Tシャツ"),
        ("I'll go with CDプレーヤー", "CDプレーヤー"),
    ],
)
def test_the_reader_takes_digits_and_capitals_in_a_word(ref: Referee, text: str, word: str) -> None:
    assert ref.judge(text).word == word
