"""Kana normalisation and mora arithmetic: the referee's lowest layer.

Everything here works on strings only (no analyser), so it is cheap and total:
any input returns a value, nothing raises, except that :func:`enlarge` and
:func:`voicing_variants` need a non-empty mora.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

# Characters that carry no reading and that people paste by accident.
_INVISIBLE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufe00-\ufe0f]")
# Spacing (standalone) voicing marks written after a kana: turn them into the
# combining marks so NFKC composes them (か゛ -> が) instead of leaving a space.
_SPACING_MARKS = str.maketrans({"\u309b": "\u3099", "\u309c": "\u309a"})

SMALL_TO_LARGE = {
    "ぁ": "あ",
    "ぃ": "い",
    "ぅ": "う",
    "ぇ": "え",
    "ぉ": "お",
    "ゃ": "や",
    "ゅ": "ゆ",
    "ょ": "よ",
    "ゎ": "わ",
    "ゕ": "か",
    "ゖ": "け",
}
# Small kana that attach to the kana before them to form one mora.
_COMBINING_SMALL = frozenset(SMALL_TO_LARGE)
SOKUON = "っ"
CHOONPU = "ー"
N = "ん"

# Equivalences applied whenever two morae meet at a joint (ゐ and ゑ are old spellings
# of い and え; katakana ヰ ヱ are folded to them by to_hiragana first).
_JOINT = str.maketrans({"ぢ": "じ", "づ": "ず", "を": "お", "ゐ": "い", "ゑ": "え"})

_HIRA_RE = re.compile(r"^[\u3041-\u3096\u30fc]+$")
_VOWEL_ROWS = {
    "あ": "あかさたなはまやらわがざだばぱぁゃゎゕ",
    "い": "いきしちにひみりぎじぢびぴぃゐ",
    "う": "うくすつぬふむゆるぐずづぶぷぅゅゔ",
    "え": "えけせてねへめれげぜでべぺぇゖゑ",
    "お": "おこそとのほもよろをごぞどぼぽぉょ",
}
_VOWEL_OF = {ch: vowel for vowel, row in _VOWEL_ROWS.items() for ch in row}


def clean(text: str) -> str:
    """NFKC with voicing marks composed and invisible characters removed, stripped."""
    text = _INVISIBLE.sub("", text.translate(_SPACING_MARKS))
    return unicodedata.normalize("NFKC", text).strip()


def to_hiragana(text: str) -> str:
    """Katakana -> hiragana (ヴ -> ゔ); other characters pass through."""
    return jaconv.kata2hira(text)


def to_katakana(text: str) -> str:
    """Hiragana -> katakana (ゔ -> ヴ); other characters pass through."""
    return jaconv.hira2kata(text)


def is_kana_reading(text: str) -> bool:
    """True for a non-empty string of hiragana (and ー) only: a usable reading."""
    return bool(_HIRA_RE.match(text))


def morae(reading: str) -> list[str]:
    """Split a hiragana reading into morae: きしゃ -> [き, しゃ]; っ, ー and ん stand alone."""
    out: list[str] = []
    for ch in reading:
        if ch in _COMBINING_SMALL and out and out[-1][-1] not in (SOKUON, CHOONPU, N):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def vowel_of(mora: str) -> str | None:
    """The vowel a mora ends in (しゃ -> あ), or None for ん, っ, ー and non-kana."""
    return _VOWEL_OF.get(mora[-1]) if mora else None


def enlarge(mora: str) -> str:
    """The large-kana form of a mora's last sound: しゃ -> や, ぁ -> あ, っ -> つ.

    A one-kana mora that is not small comes back unchanged (か -> か). ``mora`` must be
    non-empty (IndexError otherwise).
    """
    last = mora[-1]
    if last == SOKUON:
        return "つ"
    return SMALL_TO_LARGE.get(last, mora if len(mora) == 1 else last)


def joint_key(text: str, *, lenient: bool = False) -> str:
    """The form two morae are compared in: ぢ≡じ, づ≡ず, を≡お, ゐ≡い, ゑ≡え.

    ``lenient`` also drops voicing marks.
    """
    text = text.translate(_JOINT)
    if lenient:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize("NFC", decomposed.replace("\u3099", "").replace("\u309a", ""))
    return text


def voicing_variants(mora: str) -> list[str]:
    """は -> [は, ば, ぱ]: the mora with its first kana's base, then its voiced forms.

    The base is the lenient joint key (ば -> は, ぢ -> し, を -> お), so ば gives the same
    list as は and ぢ gives [し, じ]; then ゛ and ゜ forms where they exist (しゃ ->
    [しゃ, じゃ]), in that stable order. ``mora`` must be non-empty (IndexError otherwise).
    """
    base = joint_key(mora, lenient=True)
    head, tail = base[0], base[1:]
    out = [base]
    for mark in ("\u3099", "\u309a"):
        composed = unicodedata.normalize("NFC", head + mark)
        if len(composed) == 1:
            out.append(composed + tail)
    return out
