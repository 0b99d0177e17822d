"""The referee's verdicts: every convention and violation code, table-driven."""

from __future__ import annotations

import pytest

from bot.referee.judge import Referee, fits, next_morae
from bot.referee.rules import Rules, RulesError

R = Rules()


@pytest.fixture(scope="module")
def ref() -> Referee:
    return Referee()


def codes(ref: Referee, text: str, **kw: object) -> list[str]:
    return ref.judge(text, **kw).to_json()["violations"]  # type: ignore[arg-type]


# -- the joint: next morae under each option ---------------------------------------


@pytest.mark.parametrize(
    ("reading", "rules", "expected"),
    [
        ("ちきゅう", R, ("う",)),
        ("きしゃ", Rules(small_kana="either"), ("しゃ", "や")),
        ("きしゃ", Rules(small_kana="enlarge"), ("や",)),
        ("きしゃ", Rules(small_kana="whole"), ("しゃ",)),
        ("こーひー", Rules(long_vowel="previous"), ("ひ",)),
        ("こーひー", Rules(long_vowel="vowel"), ("い",)),
        ("しゃわー", Rules(long_vowel="previous"), ("わ",)),
        ("しゃわー", Rules(long_vowel="vowel"), ("あ",)),
        ("すーぱー", Rules(long_vowel="vowel"), ("あ",)),
        ("みかん", R, ()),
        ("らーめん", R, ()),
        ("はなぢ", R, ("じ",)),  # ぢ ≡ じ
        ("こづつみ", R, ("み",)),
        ("みかづ", R, ("ず",)),  # づ ≡ ず
        ("かば", Rules(dakuten="lenient"), ("は", "ば", "ぱ")),
        ("かば", Rules(dakuten="strict"), ("ば",)),
        ("きしゃ", Rules(small_kana="either", dakuten="lenient"), ("しゃ", "じゃ", "や")),
    ],
)
def test_next_morae(reading: str, rules: Rules, expected: tuple[str, ...]) -> None:
    assert next_morae(reading, rules) == expected


@pytest.mark.parametrize(
    ("reading", "allowed", "rules", "ok"),
    [
        ("しゃしん", ("し",), R, True),  # after うし, しゃしん begins with し
        ("やま", ("しゃ", "や"), R, True),
        ("しゃしん", ("しゃ", "や"), R, True),
        ("しゃしん", ("や",), Rules(small_kana="enlarge"), False),
        ("じしょ", ("じ",), R, True),
        ("ぢしょ", ("じ",), R, True),
        ("おに", ("お",), R, True),
        ("ばす", ("は",), R, False),
        ("ばす", ("は",), Rules(dakuten="lenient"), True),
        ("ぱん", ("ば",), Rules(dakuten="lenient"), True),
    ],
)
def test_fits(reading: str, allowed: tuple[str, ...], rules: Rules, ok: bool) -> None:
    assert fits(reading, allowed, rules) is ok


# -- whole verdicts ---------------------------------------------------------------


def test_mikan_after_umi_ends_with_n(ref: Referee) -> None:
    v = ref.judge("みかん", prev="うみ")
    assert v.to_json() == {
        "word": "みかん",
        "reading": "みかん",
        "first": "み",
        "next": [],
        "violations": ["ends_with_n"],
        "ok": False,
        "self_flag": "none",
        "corrected_to": None,
    }


def test_valid_word_after_start_word(ref: Referee) -> None:
    v = ref.judge("りんご", prev="しりとり")
    assert v.ok and v.reading == "りんご" and v.first == "り" and v.next == ("ご",)


def test_shashin_after_ushi(ref: Referee) -> None:
    assert codes(ref, "しゃしん", prev="うし") == ["ends_with_n"]
    assert codes(ref, "しゃしょう", prev="うし") == []


def test_kisha_either_way(ref: Referee) -> None:
    assert ref.judge("きしゃ").next == ("しゃ", "や")
    assert codes(ref, "やま", prev="きしゃ") == []
    assert codes(ref, "しゃしょう", prev="きしゃ") == []
    assert codes(ref, "やま", prev="きしゃ", rules=Rules(small_kana="whole")) == ["wrong_start"]
    assert codes(ref, "しゃしょう", prev="きしゃ", rules=Rules(small_kana="enlarge")) == [
        "wrong_start"
    ]


def test_coffee_long_vowel(ref: Referee) -> None:
    assert codes(ref, "ひつじ", prev="コーヒー") == []
    assert codes(ref, "いぬ", prev="コーヒー") == ["wrong_start"]
    assert codes(ref, "いぬ", prev="コーヒー", rules=Rules(long_vowel="vowel")) == []
    assert ref.judge("シャワー").next == ("わ",)


def test_dakuten_lenient(ref: Referee) -> None:
    assert codes(ref, "ばす", prev="かば") == []
    assert codes(ref, "はし", prev="かば") == ["wrong_start"]
    assert codes(ref, "はし", prev="かば", rules=Rules(dakuten="lenient")) == []
    assert codes(ref, "ぱん", prev="かば", rules=Rules(dakuten="lenient")) == ["ends_with_n"]


def test_joint_equivalences_in_play(ref: Referee) -> None:
    assert codes(ref, "じてんしゃ", prev="はなぢ") == []
    assert codes(ref, "ずかん", prev="みかづ", rules=Rules(dictionary=False)) == ["ends_with_n"]
    assert codes(ref, "おにぎり", prev="を", rules=Rules(min_mora=1, dictionary=False)) == []


def test_wrong_start(ref: Referee) -> None:
    assert codes(ref, "ごりら", prev="うみ") == ["wrong_start"]


def test_free_start_has_no_wrong_start(ref: Referee) -> None:
    assert codes(ref, "ごりら", prev=None) == []


@pytest.mark.parametrize("played", ["めだか", "メダカ", "目高", "ﾒﾀﾞｶ", "目高（めだか）"])
@pytest.mark.parametrize("used", ["めだか", "メダカ", "目高"])
def test_repeats_are_judged_by_reading(ref: Referee, played: str, used: str) -> None:
    assert codes(ref, played, prev="すずめ", used=[used]) == ["repeated"]


def test_repeat_with_joint_equivalence(ref: Referee) -> None:
    assert "repeated" in codes(ref, "はなじ", used=["はなぢ"])


@pytest.mark.parametrize(
    "word",
    [
        "みかん",
        "よーぐると",
        "ごりら",
        "イルカ",
        "カサ",
        "みかんばたけ",
        "目高",
        "ヨーグルト",
        "ゴリラ",
        "いるか",
        "からす",
        "コーヒーカップ",
        "わたし",
    ],
)
def test_dictionary_accepts_nouns_in_any_script(ref: Referee, word: str) -> None:
    v = ref.judge(word)
    assert "not_a_noun" not in v.violations and "unknown_word" not in v.violations


@pytest.mark.parametrize("word", ["東京タワー", "みかんごりら", "林檎電車"])
def test_compounds_option(ref: Referee, word: str) -> None:
    # No dictionary entry: strict play rejects it; an analysed channel takes the nouns.
    assert "unknown_word" in codes(ref, word)
    lenient = codes(ref, word, rules=Rules(compounds="analysed"))
    assert "unknown_word" not in lenient and "not_a_noun" not in lenient


def test_compounds_option_keeps_non_nouns_out(ref: Referee) -> None:
    assert "not_a_noun" in codes(ref, "さむい", rules=Rules(compounds="analysed"))


@pytest.mark.parametrize("word", ["する", "美しい", "おいしい", "はしる", "きれい", "ほげほげ"])
def test_known_non_nouns(ref: Referee, word: str) -> None:
    assert "not_a_noun" in codes(ref, word)


@pytest.mark.parametrize("word", ["みぴょろぽ", "ろろろ", "ぬぬぬぬ"])
def test_nonsense_is_rejected(ref: Referee, word: str) -> None:
    c = codes(ref, word)
    assert "unknown_word" in c or "not_a_noun" in c


def test_dictionary_off_accepts_anything_readable(ref: Referee) -> None:
    assert codes(ref, "みぴょろぽ", rules=Rules(dictionary=False)) == []


def test_too_short(ref: Referee) -> None:
    assert codes(ref, "き") == ["too_short"]
    assert codes(ref, "き", rules=Rules(min_mora=1)) == []
    assert codes(ref, "きつね", rules=Rules(min_mora=4)) == ["too_short"]
    # ー and っ count as morae: コーヒー is 4
    assert codes(ref, "コーヒー", rules=Rules(min_mora=4)) == []


def test_all_violations_are_reported(ref: Referee) -> None:
    # wrong start, repeated and ending in ん at once
    assert codes(ref, "みかん", prev="すずめ", used=["蜜柑"]) == [
        "wrong_start",
        "repeated",
        "ends_with_n",
    ]
    assert codes(ref, "ん", prev="すずめ") == [
        "wrong_start",
        "not_a_noun",
        "too_short",
        "ends_with_n",
    ]


def test_unreadable(ref: Referee) -> None:
    for text in ["", "apple", "🍊", "ーー", "しりとりしようよ、ね？"]:
        v = ref.judge(text, prev="うみ")
        assert v.violations == ("unreadable",), text
        assert v.next == () and not v.ok


# -- readings -------------------------------------------------------------------


def test_furigana_is_the_reading(ref: Referee) -> None:
    v = ref.judge("蜜柑（みかん）")
    assert (v.word, v.reading, v.reading_source) == ("蜜柑", "みかん", "furigana")
    v = ref.judge("「日本（にほん）」", prev="うに")
    assert v.reading == "にほん" and v.violations == ("ends_with_n",)


def test_kanji_reading_from_the_analyser(ref: Referee) -> None:
    v = ref.judge("烏", prev="しりとり", rules=Rules(min_mora=1))
    assert v.reading is None or v.reading == "からす"  # 烏 reads からす
    v = ref.judge("雀")
    assert v.reading == "すずめ" and v.reading_source == "jmdict_common"


@pytest.mark.parametrize(
    ("word", "prev", "reading"),
    [
        ("今日", None, "きょう"),  # no joint to satisfy: the usual reading
        ("今日", "たこ", "こんにち"),  # こ: the reading that fits wins
        ("生", "すき", "き"),
        ("生", "さかな", "なま"),
        ("日本", "うに", "にほん"),  # the common reading fits: it wins
        ("内蔵", "かう", "うちくら"),  # a word of its own spelled the same (a storehouse)
    ],
)
def test_reading_that_fits_the_joint_wins(
    ref: Referee, word: str, prev: str | None, reading: str
) -> None:
    v = ref.judge(word, prev=prev)
    assert v.reading == reading
    assert "wrong_start" not in v.violations


@pytest.mark.parametrize(
    ("word", "prev", "reading"),
    [
        ("上手", "たか", "じょうず"),  # かみて is a variant reading of another entry's head
        ("右腕", "きゅう", "みぎうで"),  # うわん: a variant without a priority tag
        ("熟睡", "かう", "じゅくすい"),  # うまい: SudachiPy's, for a form JMdict has
    ],
)
def test_a_variant_reading_is_not_chosen_to_fit_the_joint(
    ref: Referee, word: str, prev: str, reading: str
) -> None:
    v = ref.judge(word, prev=prev)
    assert v.reading == reading
    assert "wrong_start" in v.violations


def test_rendaku_forms_are_not_readings_of_the_bare_word(ref: Referee) -> None:
    # 米 is こめ; ごめ only occurs inside compounds (玄米 is not ごめ either)
    assert "ごめ" not in ref.judge("米").candidates
    assert "wrong_start" in ref.judge("米", prev="りんご").violations


def test_first_mora_is_a_whole_mora(ref: Referee) -> None:
    assert ref.judge("しゃしん").first == "しゃ"
    assert ref.judge("ちきゅう").first == "ち"


# -- rules parsing ------------------------------------------------------------------


def test_rules_defaults() -> None:
    assert Rules.from_mapping({}) == Rules() == Rules.from_mapping(None)
    assert Rules().to_dict() == {
        "small_kana": "either",
        "long_vowel": "previous",
        "dakuten": "strict",
        "dictionary": True,
        "min_mora": 2,
        "compounds": "dictionary",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"small_kana": "big"}, "small_kana"),
        ({"long_vowel": 1}, "long_vowel"),
        ({"dakuten": None}, "dakuten"),
        ({"dictionary": "yes"}, "dictionary"),
        ({"min_mora": 0}, "min_mora"),
        ({"min_mora": True}, "min_mora"),
        ({"colour": "red"}, "colour"),
        (["small_kana"], "object"),
    ],
)
def test_bad_rules_name_the_option(data: object, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        Rules.from_mapping(data)


def test_rare_kanji_outside_the_basic_block(ref: Referee) -> None:
    # 𠮷 (U+20BB7) is Japanese script too; a reading the fallback cannot give whole is none
    v = ref.judge("𠮷野家")
    assert v.word == "𠮷野家"
    assert v.reading is None or len(v.reading) >= 3
