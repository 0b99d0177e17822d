"""Numbers and counters read as a speaker reads them: 一冊 いっさつ, 三本 さんぼん, 七月 しちがつ.

The analyser reads a numeral and its counter apart (いち + さつ); Japanese joins them
with sound changes that depend on both. This module knows those changes for the common
counters, reads kanji numerals and digits (half- or full-width, already NFKC'd to
ASCII by the referee), and turns a digit run into kanji (7 -> 七) so that dictionary
entries such as 七月 are found for 7月. Latin letters inside a word are read by their
names (T -> てぃー). Everything here is a pure string function and total.
"""

from __future__ import annotations

import re

_DIGITS = "〇一二三四五六七八九"
_KANJI_VALUE = {ch: i for i, ch in enumerate(_DIGITS)} | {"零": 0}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "億": 10**8, "兆": 10**12}
_ONES = ["", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]
_HUNDREDS = {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}
_THOUSANDS = {1: "せん", 3: "さんぜん", 8: "はっせん"}
_GEMINATE = (("いち", "いっ"), ("ろく", "ろっ"), ("はち", "はっ"), ("じゅう", "じゅっ"))
_BIG_READ = {10**4: "まん", 10**8: "おく", 10**12: "ちょう"}

# Counters: reading, and how the number before it changes (the ones that do).
#   "h": は-row counters (本 ほん): 1/6/8/10/100 -> っぽ, 3/千/万 -> ぼ; "hp": 3/4 -> ぽ too
#   "k": か-row counters (個 こ): 1/6/8/10/100 -> っ; "k3": 3 voiced too (三階 さんがい)
#   "s": さ- and た-row counters (冊 さつ): 1/8/10 -> っ; "s3": 3 voiced (三足 さんぞく)
#   "": no change
_COUNTERS: dict[str, tuple[str, str]] = {
    "本": ("ほん", "h"),
    "杯": ("はい", "h"),
    "匹": ("ひき", "h"),
    "泊": ("はく", "hp"),
    "分": ("ふん", "hp"),
    "発": ("はつ", "hp"),
    "歩": ("ほ", "hp"),
    "編": ("へん", "hp"),
    "票": ("ひょう", "h"),
    "俵": ("ひょう", "h"),
    "頁": ("ぺーじ", ""),
    "個": ("こ", "k"),
    "回": ("かい", "k"),
    "階": ("かい", "k3"),
    "課": ("か", "k"),
    "件": ("けん", "k"),
    "軒": ("けん", "k3"),
    "曲": ("きょく", "k"),
    "巻": ("かん", "k"),
    "缶": ("かん", "k"),
    "機": ("き", "k"),
    "基": ("き", "k"),
    "期": ("き", "k"),
    "句": ("く", "k"),
    "校": ("こう", "k"),
    "局": ("きょく", "k"),
    "脚": ("きゃく", "k"),
    "か月": ("かげつ", "k"),
    "ヶ月": ("かげつ", "k"),
    "ヵ月": ("かげつ", "k"),
    "カ月": ("かげつ", "k"),
    "箇月": ("かげつ", "k"),
    "か国": ("かこく", "k"),
    "ヶ国": ("かこく", "k"),
    "カ国": ("かこく", "k"),
    "ヵ国": ("かこく", "k"),
    "冊": ("さつ", "s"),
    "歳": ("さい", "s"),
    "才": ("さい", "s"),
    "週": ("しゅう", "s"),
    "隻": ("せき", "s"),
    "足": ("そく", "s3"),
    "頭": ("とう", "s"),
    "通": ("つう", "s"),
    "着": ("ちゃく", "s"),
    "点": ("てん", "s"),
    "丁": ("ちょう", "s"),
    "センチ": ("せんち", "s"),
    "キロ": ("きろ", "k"),
    "トン": ("とん", "s"),
    "枚": ("まい", ""),
    "台": ("だい", ""),
    "番": ("ばん", ""),
    "位": ("い", ""),
    "秒": ("びょう", ""),
    "倍": ("ばい", ""),
    "度": ("ど", ""),
    "名": ("めい", ""),
    "円": ("えん", "en"),
    "年": ("ねん", "year"),
    "月": ("がつ", "month"),
    "時": ("じ", "hour"),
    "時間": ("じかん", "hour"),
    "人": ("にん", "person"),
    "日": ("にち", "day"),
    "つ": ("つ", "native"),
    "メートル": ("めーとる", ""),
    "グラム": ("ぐらむ", ""),
    "ドル": ("どる", ""),
}
_COUNTER_RE = "|".join(sorted(map(re.escape, _COUNTERS), key=len, reverse=True))
_NUMERAL = f"[0-9{_DIGITS}零十百千万億兆]+"
_WORD = re.compile(f"^(?P<num>{_NUMERAL})(?P<counter>{_COUNTER_RE})?$")
_DIGIT_RUN = re.compile("[0-9]+")

_DAYS = {
    1: "ついたち",
    2: "ふつか",
    3: "みっか",
    4: "よっか",
    5: "いつか",
    6: "むいか",
    7: "なのか",
    8: "ようか",
    9: "ここのか",
    10: "とおか",
    14: "じゅうよっか",
    20: "はつか",
    24: "にじゅうよっか",
}
_NATIVE = {
    1: "ひとつ",
    2: "ふたつ",
    3: "みっつ",
    4: "よっつ",
    5: "いつつ",
    6: "むっつ",
    7: "ななつ",
    8: "やっつ",
    9: "ここのつ",
}
_PERSONS = {1: "ひとり", 2: "ふたり", 4: "よにん", 7: "しちにん"}
_MONTHS = {4: "しがつ", 7: "しちがつ", 9: "くがつ"}
_HOURS = {4: "よ", 7: "しち", 9: "く"}

_LATIN = {
    "a": "えー",
    "b": "びー",
    "c": "しー",
    "d": "でぃー",
    "e": "いー",
    "f": "えふ",
    "g": "じー",
    "h": "えいち",
    "i": "あい",
    "j": "じぇー",
    "k": "けー",
    "l": "える",
    "m": "えむ",
    "n": "えぬ",
    "o": "おー",
    "p": "ぴー",
    "q": "きゅー",
    "r": "あーる",
    "s": "えす",
    "t": "てぃー",
    "u": "ゆー",
    "v": "ぶい",
    "w": "だぶりゅー",
    "x": "えっくす",
    "y": "わい",
    "z": "ぜっと",
}
_LATIN_RE = re.compile("[A-Za-z]")


def parse_number(text: str) -> int | None:
    """The value of a numeral in digits or kanji (二千二十六, 2026, 二〇二六), else None."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 16 else None
    if all(ch in _KANJI_VALUE for ch in text):  # digit by digit: 二〇二六
        if len(text) > 16:  # as for digits: no word holds such a number (and int() caps)
            return None
        return int("".join(str(_KANJI_VALUE[ch]) for ch in text))
    if len(text) > 32:
        return None
    total = section = digit = 0
    after_digit = False
    for ch in text:
        if ch in _KANJI_VALUE:
            # Digits in a row are positional (一〇〇〇万 is 1000 × 万), as digits are.
            digit = digit * 10 + _KANJI_VALUE[ch] if after_digit else _KANJI_VALUE[ch]
            after_digit = True
            continue
        after_digit = False
        if ch in _SMALL_UNITS:
            section += (digit or 1) * _SMALL_UNITS[ch]
            digit = 0
        elif ch in _BIG_UNITS:
            total += ((section + digit) or 1) * _BIG_UNITS[ch]
            section = digit = 0
        else:
            return None
    return total + section + digit


def to_kanji(n: int) -> str:
    """A number written in kanji as in dictionary entries: 7 -> 七, 20 -> 二十, 105 -> 百五."""
    if n == 0:
        return "〇"
    out = []
    for unit, name in ((10**12, "兆"), (10**8, "億"), (10**4, "万")):
        if n >= unit:
            out.append(to_kanji(n // unit) + name)
            n %= unit
    for unit, name in ((1000, "千"), (100, "百"), (10, "十")):
        if n >= unit:
            d = n // unit
            out.append(("" if d == 1 else _DIGITS[d]) + name)
            n %= unit
    if n:
        out.append(_DIGITS[n])
    return "".join(out)


def digits_to_kanji(surface: str) -> str:
    """Every run of ASCII digits in ``surface`` written in kanji (7月 -> 七月)."""
    return _DIGIT_RUN.sub(
        lambda m: to_kanji(int(m.group())) if len(m.group()) <= 12 else m.group(), surface
    )


def _below_10000(n: int) -> str:
    parts = []
    thousands, n = divmod(n, 1000)
    if thousands:
        parts.append(_THOUSANDS.get(thousands, _ONES[thousands] + "せん"))
    hundreds, n = divmod(n, 100)
    if hundreds:
        parts.append(_HUNDREDS.get(hundreds, _ONES[hundreds] + "ひゃく"))
    tens, n = divmod(n, 10)
    if tens:
        parts.append(("" if tens == 1 else _ONES[tens]) + "じゅう")
    if n:
        parts.append(_ONES[n])
    return "".join(parts)


def read_number(n: int) -> str:
    """A number as it is read alone: 2026 -> にせんにじゅうろく, 0 -> ぜろ."""
    if n == 0:
        return "ぜろ"
    parts = []
    for unit in (10**12, 10**8, 10**4):
        if n >= unit:
            head, n = divmod(n, unit)
            parts.append(read_number(head) + _BIG_READ[unit])
            if head >= 10**4:
                return ""  # beyond what is read aloud: 兆 of 兆
    if n:
        parts.append(_below_10000(n))
    return "".join(parts)


def _geminate(reading: str) -> str:
    """The number's last sound clipped to っ before a counter: いち -> いっ, じゅう -> じゅっ."""
    for tail, clipped in _GEMINATE:
        if reading.endswith(tail):
            return reading[: -len(tail)] + clipped
    if reading.endswith(("ひゃく", "びゃく", "ぴゃく")):  # 百, 三百, 六百 and 八百 alike
        return reading[:-1] + "っ"
    return reading


def _voiced(kana: str, semi: bool) -> str:
    table = {"は": "ぱば", "ひ": "ぴび", "ふ": "ぷぶ", "へ": "ぺべ", "ほ": "ぽぼ"}
    pair = table.get(kana[0])
    if pair is None:
        return kana
    return (pair[0] if semi else pair[1]) + kana[1:]


def _with_counter(n: int, counter: str) -> str | None:
    reading, rule = _COUNTERS[counter]
    number = read_number(n)
    if not number:
        return None
    last = n % 10 or None  # None: the number ends in 十, 百, 千 or 万
    if rule == "day":
        if n in _DAYS:
            return _DAYS[n]
        if last == 4:
            return number[: -len(_ONES[4])] + "よっか"
    elif rule == "native":
        return _NATIVE.get(n)
    elif rule == "person":
        if n in _PERSONS:
            return _PERSONS[n]
        if last in (4, 7):
            return number[: -len(_ONES[last])] + ("よ" if last == 4 else "しち") + reading
    elif rule == "month":
        return _MONTHS.get(n, number + reading) if 1 <= n <= 12 else None
    elif rule == "hour":
        if last in _HOURS:
            return number[: -len(_ONES[last])] + _HOURS[last] + reading
    elif rule in ("year", "en"):
        if last == 4:
            return number[: -len(_ONES[4])] + "よ" + reading
    elif rule:
        return _sound_change(number, last, reading, rule)
    return number + reading


def _sound_change(number: str, last: int | None, reading: str, rule: str) -> str:
    """は-, か-, さ- and た-row counters after a number: 一本 いっぽん, 三本 さんぼん."""
    row = rule[0]
    hundreds = ("ひゃく", "びゃく", "ぴゃく")  # 百, 三百 さんびゃく, 六百 ろっぴゃく
    tens_or_hundreds = last is None and number.endswith(("じゅう", *hundreds))
    if row == "s" and number.endswith(hundreds) and last is None:
        tens_or_hundreds = False  # 百冊 ひゃくさつ
    if last in (1, 8) or (last == 6 and row != "s") or tens_or_hundreds:
        clipped = _geminate(number)
        return clipped + (_voiced(reading, semi=True) if row == "h" else reading)
    if row == "h":
        after_n = last == 3 or (last is None and number.endswith(("せん", "ぜん", "まん")))
        if rule == "hp" and (after_n or last == 4):
            return number + _voiced(reading, semi=True)
        if after_n:
            return number + _voiced(reading, semi=False)
    if rule in ("k3", "s3") and last == 3:
        voiced = {"か": "が", "け": "げ", "そ": "ぞ"}.get(reading[0], reading[0])
        return number + voiced + reading[1:]
    return number + reading


def read_numeral_word(surface: str) -> str | None:
    """The reading of a numeral with an optional counter (三本 さんぼん, 7月 しちがつ), else None.

    ``surface`` is NFKC'd (digits are ASCII). None when it is not a numeral and counter.
    """
    m = _WORD.match(surface)
    if m is None:
        return None
    n = parse_number(m.group("num"))
    if n is None:
        return None
    counter = m.group("counter")
    if counter is None:
        return read_number(n) or None
    return _with_counter(n, counter)


def has_latin(surface: str) -> bool:
    """Whether the word holds a Latin letter (Tシャツ)."""
    return bool(_LATIN_RE.search(surface))


def latin_to_kana(surface: str) -> str:
    """Latin letters replaced by their names in hiragana: Tシャツ -> てぃーシャツ."""
    return _LATIN_RE.sub(lambda m: _LATIN[m.group().lower()], surface)
