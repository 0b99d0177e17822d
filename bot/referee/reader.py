"""Reading a reply (reader-3): the word a player played and what the reply says of it.

One pass over a reply gives both labels every stored turn carries, the move and the
self-flag, because each needs the other: an admission only counts once the move has been
made, and a word offered after the reply noticed its own mistake is a correction, not the
move. The turn's context (:class:`Context`) takes part: the previous word, the words
already used, the prompt language.

**Candidates.** Spans that may be the move are collected with where they stand:
「…」『…』【…】“…” "…" `…` quotes and **bold**/__bold__ (``quote``, ``bold``); the
Japanese run that opens a line, list item or heading, or that is a whole sentence, last
clause or table cell inside a line (``line``: みかん🍊 次は…, 「み」ですね。みかん！,
うーん、みかん, | みかん |), with copulas and commit phrases cut off (です, にします…);
the run after a commit marker (じゃあ, では, →, み：, 次の言葉は…; ``marker``), or a
romaji word after an English one (my word is ringo; ``romaji``, given in kana);
Japanese inside an English line, as in ``Mikan (みかん)!`` (``inline``). A bracket right
after a span is its reading (「りんご」（林檎） is 林檎 read りんご), or a gloss to ignore,
or a note that may reject it (みかん (ends in ん, no)). Reasoning blocks
(<think>…</think>) are dropped first.

**Never the move.** The previous word (same surface, or the same reading through the
analyser: 海 after うみ); a single mora (「ん」から, 「み」で始まる…) unless it is the
whole reply; a quoted rule or sentence (「んで終わったら負け」); an interjection opening a
line (うーん, はい, いいですね), or a run cut from a sentence that the analyser knows as
no noun (なるほど, 難しいです); a candidate the same sentence rejects (…はダメ, もう出た)
or only supposes (…なら良かった); anything after the reply concedes or the game is over
(私の負け, I lose, 楽しかった: commentary). A used word is never the move when it is only
mentioned; played outright it is (the referee then calls it ``repeated``).

**Levels.** Each candidate gets a level from the text beside it: 0 *mentioned*
(「うみ」の, 「み」から, the left side of →), 1 *offered* (a list item, 「りす」、…,
…?, 候補は…), 2 *played* (alone on its line, then ！/。/emoji/です/a hand-off; the first
thing in the reply), 3 *committed* (a marker before it, or にします/でいきます/はどう
after it). The move is the best level; among committed ones the last (deliberation ends
in the choice: "りす… りんご… I'll go with りんご"), among the others the first (the word,
then its explanation). Legality never enters: a word that breaks the joint, ends in ん or
repeats is read exactly as one that does not.

**Self-correction.** A *notice* (あっ, しまった, じゃなくて, 「ん」で終わ…, wait, oops,
already used) after a played or committed word splits the reply: the move is chosen from
what came before it — the first committed word is the one the referee judges — and the
best played or committed word after it, if any, is ``corrected_to``. A notice after a
word that was only offered is deliberation: no split.

**Self-flag precedence.** ``self_corrects`` (a correction was offered) > ``admits`` (an
admission after the move's start, or anywhere without a move; rule statements such as
「ん」で終わる言葉は負け and claims that the opponent lost do not count, nor do negations
such as 負けない) > ``no_move`` (no word) > ``continues`` (a hand-off after the move) >
``none``. A correction outranks an admission because noticing is part of correcting; a
word offered only after the reply conceded is commentary, so that reply is ``admits``.

**Long replies.** At most :data:`WINDOW_CHARS` characters are read: a longer reply is
read as its first :data:`HEAD_CHARS`, its last :data:`TAIL_CHARS` and up to
:data:`MARKER_LINES` lines between them that carry a commit marker (each cut to
:data:`MARKER_LINE_CHARS`; found with plain ``str.find``). Only that window is cleaned
and scanned, and at most 128 spans from each end of it are weighed, so a 1 MB reply costs
a few milliseconds.

**Unsure.** A reading also says why it may be wrong (:data:`UNSURE`: the move was only
offered, another word stood as high, no word in Japanese text, a correction, a reply
longer than the window...), so that a model grader can be asked about those replies
alone (``mikan relabel --grader``); the labels themselves never depend on it.

**Cost.** Most replies are one word: when the whole reply is one Japanese run with no
cue in it, it is that word (unless it is the previous one) and nothing else is scanned;
a test holds this shortcut to the general path's answer.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Literal, NamedTuple

import jaconv

from bot.referee.kana import clean, joint_key, morae, to_hiragana

READER_VERSION = "reader-3"
"""The version of this reader, stored beside what it read (reader-1 had no constant).

reader-3: what never is the move (the other player's word, headings, pieces of
sentences, Chinese), mora hand-offs without 次は, romaji alone, unsure marks (issue
15); digits and capital letters in a word (7月, Tシャツ) and verdicts from the JMdict
noun check (issue 16): ``mikan relabel`` labels again.
"""

MAX_WORD_CHARS = 40
"""The longest span taken for a word (the longest everyday compounds are ~20 characters)."""
MAX_SENTENCE_WORD = 12
"""The longest run taken for a word when it is a whole sentence inside a line (。みかん！)."""

WINDOW_CHARS = 8192
"""Replies up to this many characters are read whole; longer ones through a window."""
HEAD_CHARS = 4096
"""How much of a long reply's beginning is read."""
TAIL_CHARS = 2048
"""How much of a long reply's end is read."""
MARKER_LINES = 16
"""At most this many lines between head and tail are read, those with a commit marker."""
MARKER_LINE_CHARS = 400
"""Each such line is cut to this many characters around its marker."""

Source = Literal["quote", "bold", "line", "marker", "romaji", "inline"]


class SelfFlag(StrEnum):
    """How a reply speaks of its own move (docs/RULES.md, "A reply's self-flag").

    - ``admits``: it says it lost or broke a rule (負け, 終わっちゃった, I lose…).
    - ``continues``: it plays and hands the turn over without admitting anything, also
      when it states the rule on the way (「ん」で終わる言葉は負けなので…「ん」からどうぞ).
    - ``self_corrects``: it plays a word, notices a problem and offers another
      (the first word is judged; the other is ``corrected_to``).
    - ``no_move``: there is no word in it at all; it waits, or names the next mora.
    - ``none``: a plain move.
    """

    ADMITS = "admits"
    CONTINUES = "continues"
    SELF_CORRECTS = "self_corrects"
    NO_MOVE = "no_move"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Extracted:
    """A word found in text: what was written, its explicit reading if given, and where.

    Attributes:
        surface: The word as written (cleaned, trimmed), at most ``MAX_WORD_CHARS``;
            a romaji word is given in hiragana.
        furigana: The hiragana reading given beside it (``X（Y）``), else None.
        source: Which kind of span it came from (see the module docstring).
    """

    surface: str
    furigana: str | None
    source: Source


class Context(NamedTuple):
    """What the reader knows of the turn; every field may be left out.

    Attributes:
        prev: The previous word as written, or None.
        prev_reading: The previous word's hiragana reading, or None.
        used_keys: Joint keys (:func:`~bot.referee.kana.joint_key`) of the readings
            already played.
        allowed: The morae the move must start with; None for a free start. Kept for
            callers' sake: it never makes one candidate preferred over another.
        lang: The prompt language, ``ja`` or ``en``. Recorded, but the cues of both
            languages are always read: models answer a Japanese prompt in English and
            the other way round, so it decides nothing.
    """

    prev: str | None = None
    prev_reading: str | None = None
    used_keys: frozenset[str] = frozenset()
    allowed: tuple[str, ...] | None = None
    lang: str = "ja"


class ReplyReading(NamedTuple):
    """What :func:`read_reply` found in a reply.

    Attributes:
        word: The move, or None when the reply plays none.
        flag: The self-flag.
        corrected_to: The word a ``self_corrects`` reply offered instead, else None.
        reader: The reader's version (:data:`READER_VERSION`).
        unsure: Why the rules may have read this reply wrongly (:data:`UNSURE`), empty
            when they are sure; a model grader (``mikan relabel --grader``) is asked
            about these replies.
    """

    word: Extracted | None
    flag: SelfFlag
    corrected_to: Extracted | None = None
    reader: str = READER_VERSION
    unsure: tuple[str, ...] = ()


UNSURE: dict[str, str] = {
    "long_reply": "longer than the window read: parts of it were never read",
    "weak_move": "the move was only offered or mentioned, never played or committed to",
    "contested": "another word stood as high as the move; position broke the tie",
    "no_word": "Japanese (or romaji) text but no move in it (the previous word is none)",
    "correction": "the reply corrected itself (the move is its first word)",
    "flag_cues": "the reply both admits and hands the turn over",
}
"""The reasons a reading is unsure, with what each means (docs/RULES.md)."""


ReadingOf = Callable[[str], str | None]
"""``reading_of(surface) -> hiragana | None``: the most likely reading of a written word."""
IsWord = Callable[[str], bool]
"""``is_word(surface) -> bool``: False when the analyser knows it as something else (する)."""

# -- characters -----------------------------------------------------------------------

_KANA = "\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30ff"
_KANJI = "\u4e00-\u9fff\u3400-\u4dbf\u3005\u3006\uf900-\ufaff\U00020000-\U0003134f"
# CJK unified ideographs with extensions A and B-H (𠮷), compatibility ideographs, 々〆.
_JP = _KANA + _KANJI
_JP_CHAR = re.compile(f"[{_JP}]")
# A word may hold capital letters beside its Japanese (Tシャツ, CDプレーヤー), and digits
# (7月, 1対1) where it stands alone (the whole reply, quoted, bold): in running text a
# digit and a counter are commentary (3連敗…). One character class keeps each scan as
# cheap as a Japanese run alone.
_JP_RUN = re.compile(f"^[0-9０-９A-Z]*[{_JP}][{_JP}0-9０-９A-Z]*$")
_JP_RUNS = re.compile(f"[A-Z]*[{_JP}][{_JP}A-Z]*")
_KANA_RUN = re.compile(f"^[{_KANA}]+$")
_LATIN_WORDS = re.compile(r"[A-Za-z]{3,}")
_LONGEST_CANDIDATE = MAX_WORD_CHARS * 4
_PAREN = re.compile(r"^(?P<outer>[^()]+?)\s*\((?P<inner>[^()]*)\)$")
# NFKC has already turned ！？～… into ! ? ~ ...
# A final small っ is emphasis, never part of a noun: みかんっ！
_TRAILING_PUNCT = "!?。、.,~〜・:;♪☆★っッ"


@lru_cache(maxsize=4096)  # called on every character at a span's edges
def _is_decoration(ch: str) -> bool:
    """Space, emoji and marks: what may stand around a word without changing it."""
    return ch.isspace() or unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Mn", "Me")


def _trim(text: str) -> str:
    """Strip surrounding space and emoji, and trailing punctuation (repeatedly)."""
    start, end = 0, len(text)
    while start < end and _is_decoration(text[start]):
        start += 1
    while end > start and (_is_decoration(text[end - 1]) or text[end - 1] in _TRAILING_PUNCT):
        end -= 1
    return text[start:end]


def _word_of(candidate: str) -> tuple[str, str | None] | None:
    """(surface, furigana) if the candidate is one Japanese word, else None."""
    if len(candidate) > _LONGEST_CANDIDATE:
        return None  # longer than a word and its gloss with any decoration: skip the scans
    text = _trim(candidate)
    match = _PAREN.match(text)
    furigana: str | None = None
    if match:
        outer, inner = _trim(match["outer"]), _trim(match["inner"])
        if not _JP_CHAR.search(inner):
            text = outer  # a romaji or English gloss: みかん (mikan)
        elif _KANA_RUN.match(inner) and _JP_RUN.match(outer):
            text, furigana = outer, to_hiragana(inner)
        elif _KANA_RUN.match(outer) and _JP_RUN.match(inner):
            text, furigana = inner, to_hiragana(outer)
        else:
            return None
    if len(text) > MAX_WORD_CHARS or not _JP_RUN.match(text):
        return None
    return text, furigana


# -- the long-reply window ---------------------------------------------------------------

# Literal hints of a line between head and tail that may hold the move (found with
# str.find: a regex over a megabyte would cost more than the rest of the reading).
_MARKER_HINTS = (
    "じゃあ", "では", "にします", "にしよう", "でいきます", "→", "答え", ":", "：", "go with",
    "Go with", "my word", "My word", "my answer", "My answer", "final answer", "Final answer",
)  # fmt: skip


def window(text: str) -> str:
    """The part of ``text`` that is read: all of it up to :data:`WINDOW_CHARS` characters.

    A longer text gives its head and tail (cut at line ends where one is near) and up
    to :data:`MARKER_LINES` lines between them holding a commit marker, joined by
    newlines. Never raises.
    """
    if len(text) <= WINDOW_CHARS:
        return text
    head = text[:HEAD_CHARS]
    cut = head.rfind("\n")
    if cut > HEAD_CHARS // 2:  # don't leave half a line that could pass for a word
        head = head[:cut]
    tail_start = len(text) - TAIL_CHARS
    newline = text.find("\n", tail_start, tail_start + TAIL_CHARS // 2)
    if newline != -1:
        tail_start = newline + 1
    middle = _marker_lines(text, len(head), tail_start)
    return "\n".join([head, *middle, text[tail_start:]])


def _marker_lines(text: str, lo: int, hi: int) -> list[str]:
    """Up to MARKER_LINES lines of ``text[lo:hi]`` with a commit marker, in order.

    Each is its line, or :data:`MARKER_LINE_CHARS` around the marker when the line is
    longer.
    """
    hits: list[int] = []
    for hint in _MARKER_HINTS:
        pos = lo
        for _ in range(MARKER_LINES):
            found = text.find(hint, pos, hi)
            if found == -1:
                break
            hits.append(found)
            pos = found + len(hint)
    half = MARKER_LINE_CHARS // 2
    out: list[str] = []
    covered = lo
    for hit in sorted(hits):
        if hit < covered:
            continue  # inside a line already taken
        newline = text.rfind("\n", max(lo, hit - half), hit)
        start = newline + 1 if newline != -1 else max(lo, hit - half)
        end = text.find("\n", hit, min(hi, hit + half))
        if end == -1:
            end = min(hi, hit + half)
        out.append(text[start:end])
        covered = end
        if len(out) == MARKER_LINES:
            break
    return out


def _prepare(raw: str) -> tuple[str, bool]:
    """The windowed, cleaned text without reasoning blocks (<think>…</think>).

    Also whether there was any text before the blocks went (so that a reply that is
    only reasoning is told from an empty one).
    """
    text = clean(window(raw))
    if text and ("<think" in text or "</think" in text):
        return _THINK_TAG.sub("\n", _THINK.sub("\n", text)).strip(), True
    return text, bool(text)


_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_THINK_TAG = re.compile(r"</?(?:think|thinking|reasoning)>", re.IGNORECASE)

# -- cues ----------------------------------------------------------------------------------

_NOT_JP_BEFORE = f"(?<![{_JP}])"

# Commit markers written before the move. "み：" names the mora and so marks the move too;
# "Claudeさん：" (a player) does not.
_LEFT_COMMIT = re.compile(
    r"(?:じゃあ|じゃ|では|それでは|それなら|なら|よし|よーし|ようし|決めた|決めました|"
    r"これで|ここは|今回は|ずばり|答え(?:は|:)?|回答(?:は|:)?|正解は|"
    r"(?:私|わたし|僕|ぼく|俺|おれ)(?:の(?:答え|番|言葉|ターン|単語)(?:は|です|:)?|は|なら)|"
    r"次の(?:言葉|単語|ことば|ワード|答え)(?:は|:)?|言葉は|単語は|"
    r"→|⇒|⇨|->|=>|"
    rf"{_NOT_JP_BEFORE}(?!さん|くん|ちゃん)[{_KANA}]{{1,2}}\s*:|"
    r"(?i:i'?ll\s+(?:go\s+with|play|say|use|pick|choose|take|try|answer(?:\s+with)?)|"
    r"i\s+will\s+(?:go\s+with|play|say|use|pick|choose)|i'?m\s+going\s+(?:with|to\s+(?:say|play))|"
    r"let'?s\s+go\s+with|let\s+me\s+(?:go\s+with|play|say|use|pick|choose|try)|"
    r"i\s+(?:choose|pick|play|say)|going\s+with|how\s+about|"
    r"(?:change|switch)\s+(?:it\s+|that\s+|my\s+word\s+)?to|"
    r"(?:my|the|next)\s+(?:word|answer|move|pick|choice|reply)(?:\s+is)?|"
    r"final\s+answer|answer|word|here'?s\s+my\s+word)"
    r")[\s、,.…~*_:\"'「『]*$"
)
# Connectives that mark a move only when nothing hedges it (では「りす」… is musing).
_WEAK_COMMIT = re.compile(r"(?:じゃあ|じゃ|では|それでは|それなら|なら|よし|よーし|ようし)")
# Words before a span that make it one of several, or a mention.
_LEFT_OFFER = re.compile(
    r"(?:候補|例えば|たとえば|思いつく|考えられる|とか|といえば|と言えば|"
    r"\b(?:or|maybe|perhaps|options?|candidates?|e\.g\.|for\s+example|such\s+as|like)\b)"
    r"[^「『]{0,12}$",
    re.IGNORECASE,
)
_LEFT_MENTION = re.compile(
    r"(?:前の(?:言葉|単語|ことば)|さっきの|あなたの|君の|きみの|相手の|you\s+said|your\s+word|"
    r"previous\s+word|the\s+word|last\s+word)[^「『]{0,6}$",
    re.IGNORECASE,
)

_RIGHT_MENTION = re.compile(
    r"\s*(?:の(?!で)|は(?!どう)|が|を(?!出|選|使い?ます|どうぞ)|も|から|より|"
    r"で(?:始|はじ|終|おわ)|って|という|に(?:続|つな)|→|⇒|->|=>|"
    r"(?i:means|is\s+(?:a|an|the)\b|was\b|'s\b|ends\b|starts\b|which\b))"
)
_RIGHT_COMMIT = re.compile(
    r"\s*(?:に(?:します|しよう|しました|する|決め|け|変更|変え|替え|訂正|チェンジ)|"
    r"で(?:いきます|行きます|いこう|行こう|いく|行く|勝負|お願い|どう|(?=[!。、,\s]|$))|"
    r"を(?:出|選|使い?ます|どうぞ)|と(?:答え|言い|言わ)|はどう|"
    r"(?i:is\s+my\s+(?:word|answer|move|pick|choice)))"
)
_RIGHT_PLAYED = re.compile(
    r"\s*(?:$|[!。~♪☆★]|\.(?:\s|$)|です|でした|だ(?:よ|ね|!|。|$)|でーす|かな|"
    r"次は|つぎは|あなたの番|君の番|きみの番|どうぞ|(?i:your\s+turn|over\s+to\s+you|next))"
)
# Within the span's own sentence: supposed (なら) or rejected (ダメ) words are not moves.
_SUPPOSED = re.compile(
    r"^\s*(?:なら|だったら|であれば|ならば|でも良|でもよ|とか(?:なら|でも)|"
    r"と言いた|と言おう|と言いかけ|って言いた|にしたい(?:ところ|けど|けれど))|"
    r"(?i:would\s+have|could\s+have|should\s+have|might\s+have|would\s+(?:work|be)|"
    r"could\s+(?:work|be))"
)
_REJECTED = re.compile(
    r"ダメ|だめ|駄目|NG|アウト|使えない|使えません|無理|はもう|もう(?:出|使)|既に|すでに|"
    r"(?i:^\s*[-–—:,]?\s*(?:no|nope|bad)\b|\bno\s+good\b|not\s+allowed|won'?t\s+(?:work|do)|"
    r"doesn'?t\s+work|already|can'?t\s+(?:use|play)|\binvalid\b|\bnot\s+valid\b|"
    r"[-–—:,]\s*(?:no|nope|bad)\b)"
)

_NOTICE_JA = (
    rf"{_NOT_JP_BEFORE}あっ?[、,!…]|{_NOT_JP_BEFORE}あー[!、,]|しまった|おっと|待って|まって|"
    r"ちょっと待|いや[、,]|いや待|じゃなくて|ではなくて|ではなく|訂正|やり直|言い直|取り消|撤回|"
    r"失礼|間違え|まちがえ|まちがい|ごめん|すみません|申し訳|[んン][」』]?\s*(?:で終わ|でおわ|が(?:つ|付))|"
    r"違反|反則|もう(?:出|使)|既に(?:出|使)|すでに(?:出|使)|代わりに|かわりに|改めて|"
    r"不对|不對|改成|换成|換成"
)
_NOTICE_EN = (
    r"\b(?:wait|oops|whoops|sorry|correction|instead|actually|hold\s+on|"
    r"scratch\s+that|i\s+mean|on\s+second\s+thought|oh\s+no|my\s+(?:bad|mistake)|"
    r"let\s+me\s+(?:correct|fix|change|revise|try\s+again|redo|rethink)|"
    r"ends?\s+(?:with|in)|already\s+(?:been\s+)?(?:used|played|said|taken)|"
    r"not\s+allowed|against\s+the\s+rules?)\b"
)
_NOTICE = re.compile(f"{_NOTICE_JA}|(?i:{_NOTICE_EN})")
# The notices that take back what was just said (not those that only say what is wrong
# with it, which a rejection says too): 「みかん」 — actually, no…
_TAKING_BACK = re.compile(
    rf"{_NOT_JP_BEFORE}あっ?[、,!…]|しまった|おっと|待って|まって|ちょっと待|いや待|じゃなくて|"
    r"ではなくて|訂正|やり直|言い直|取り消|撤回|失礼|間違え|"
    r"(?i:\b(?:wait|oops|whoops|correction|actually|hold\s+on|scratch\s+that|i\s+mean|"
    r"on\s+second\s+thought|oh\s+no|my\s+(?:bad|mistake)|let\s+me\s+(?:correct|fix|change|"
    r"revise|try\s+again|redo|rethink))\b)"
)

_ADMIT_JA = (
    r"(?:私|わたし|わたくし|僕|ぼく|俺|おれ|自分|こちら)の負け|"
    r"負け(?:です|でした|だ|ね|ちゃ|てしま|まし|た|なので|なんで|か|を認め|〜|~|!|。|…|\.|\s*$)|"
    r"まけ(?:です|ちゃ|ました|た)|認めます|"
    r"(?:終|お)わ(?:っちゃ|ってしま|りです|りだ|りました|っちゃいました)|"
    r"ルール違反|反則|違反(?:です|でした|して|しちゃ|しま)|"
    r"[「『]?[んン][」』]?\s*(?:が|で)\s*(?:つい|付い|終わっ|おわっ)(?:て?\s*(?:しま|ちゃ)|た)|"
    r"しまった|やってしま|やっちゃ(?:った|いました)|"
    rf"{_NOT_JP_BEFORE}あっ?[、,!…]*\s*[「『]?[んン][」』]?\s*(?:だ|です|が|で)|"
    r"(?:あなた|きみ|君|そちら)の勝ち|"
    r"失敗(?:しま|です|した)|間違え(?:まし|た|ちゃ)|"
    r"まいりました|参りました|降参|ギブアップ|お手上げ|連敗|自爆|やられた|我输了|我輸了|认输|認輸"
)
_ADMIT_EN = (
    r"\bi\s+(?:just\s+)?(?:lose|lost)\b|\byou\s+(?:win|won)\b|\bmy\s+(?:mistake|bad)\b|"
    r"\b(?:oops|whoops|uh[- ]oh|oh\s+no)\b|\bgame\s+over\b|\bi\s+give\s+up\b|"
    r"\bi\s+(?:concede|resign)\b|\bi'?ll\s+concede\b|\byou\s+got\s+me\b|"
    r"\b(?:that'?s|it'?s)\s+my\s+loss\b|\bbreaks?\s+the\s+rules?\b|"
    r"\bi\s+(?:broke|violated)\s+the\s+rules?\b|"
    r"\b(?:that'?s|this\s+is|it'?s)\s+against\s+the\s+rules?\b|"
    r"\bends?\s+(?:with|in)\s+(?:an?\s+)?[\"'「]?(?:n|ん)[\"'」]?(?:\s|[.!,]|$).*"
    r"\b(?:lose|lost|mistake|oops|sorry)"
)
_ADMIT = re.compile(f"{_ADMIT_JA}|(?i:{_ADMIT_EN})")
# Where the game ends: a word after one of these is commentary, not a move.
_GAME_OVER_JA = (
    r"(?:私|わたし|わたくし|僕|ぼく|俺|おれ|自分|こちら)の負け|負け(?:です|でした|ました|だ|なので|を認め)|"
    r"認めます|(?:あなた|きみ|君|そちら)の(?:勝ち|負け)|(?:私|僕|俺)の勝ち|降参|ギブアップ|"
    r"お手上げ|まいりました|参りました|ゲーム(?:終了|オーバー|セット)|試合終了|楽しかった|"
    r"またやりましょう|また遊|ゲーム(?:は|が)終わ|勝負あり|勝負が(?:つ|決)"
)
_GAME_OVER_EN = (
    r"\bi\s+(?:just\s+)?(?:lose|lost)\b|\byou\s+(?:win|won|lose|lost)\b|\bi\s+(?:win|won)\b|"
    r"\bi\s+give\s+up\b|\bi\s+(?:concede|resign)\b|\bgame\s+over\b|\bgood\s+game\b|\bgg\b|"
    r"\bthanks\s+for\s+playing\b|\bwell\s+played\b|\bthe\s+game\s+is\s+over\b"
)
_GAME_OVER = re.compile(f"{_GAME_OVER_JA}|(?i:{_GAME_OVER_EN})")
_ADMIT_OR_OVER = re.compile(f"{_ADMIT_JA}|{_GAME_OVER_JA}|(?i:{_ADMIT_EN}|{_GAME_OVER_EN})")
# Not admissions: negations (負けない), the opponent's loss, and sentences stating the rule.
_NEGATION_JA = (
    r"負けな(?:い|く|かった)|負けませ|負けず|負けるか|終わらな|終わりませ|違反ではな|違反じゃな|"
    r"違反になりませ|違反しない|反則ではな|反則じゃな"
)
_NEGATION_EN = (
    r"\bnot\s+(?:a\s+)?(?:violation|against)|\bi\s+(?:won'?t|will\s+not|don'?t)\s+"
    r"(?:lose|give\s+up)|\bnot\s+giving\s+up\b|\bnever\s+give\s+up\b|"
    r"\boh\s+no\b[^.!?\n]{0,40}\b(?:that'?s\s+)?(?:fine|ok|okay|safe)\b"  # a false alarm
)
_NEGATION = re.compile(f"{_NEGATION_JA}|(?i:{_NEGATION_EN})")
# The other player's loss ends the game too, but admits nothing.
_OPPONENT_LOSES = re.compile(
    r"(?:あなた|きみ|君|そちら)の負け|(?:私|僕|俺)の勝ち|"
    r"(?i:\byou\s+(?:lose|lost)\b|\bi\s+(?:win|won)\b)"
)
_RULE_STATEMENT = re.compile(
    r"(?:言葉|単語|ことば|語|ワード|もの)(?:は|を|が|も|で)|"
    r"(?:たら|ると|れば|ては|ちゃ|のは)(?:負け|ルール違反|反則|アウト|ダメ|だめ|いけない|終わり)|"
    r"ルール(?:では|上|で|として|により|によると|なので|です)|というルール|のがルール|がルール|"
    r"(?i:\bwords?\s+(?:that\s+)?(?:end|ending)|\bif\s+(?:a|the|you|your|someone|anyone)\b.*"
    r"\b(?:lose|loses)\b|\brules?\s+(?:is|says|are|states?)\b|according\s+to\s+the\s+rules|"
    r"\bwould\s+(?:lose|end)\b|\bloses?\s+the\s+game\b)"
)
_SELF_REFERENCE = re.compile(
    r"(?:私|わたし|僕|ぼく|俺|自分)の(?:負け|ミス)|認めます|降参|(?i:\bi\s+(?:lose|lost)\b|"
    r"\bmy\s+(?:mistake|bad)\b)"
)
_MORA_QUOTE = f"[「『][{_KANA}][ぁぃぅぇぉゃゅょゎァィゥェォャュョヮ]?[」』]"
_HANDOFF_JA = (
    r"[「『][^」』]{1,3}[」』]\s*(?:から|で始|ではじ|だよ|です(?:よ|!|。)|をどうぞ)|"
    # A mora named after the move: 次「ま」！, はい「り」ね, 「す」いってみよう, ほら「す」だ
    rf"{_MORA_QUOTE}\s*(?:(?:だ|な|ね|よ)(?:[!?。…~〜]|\s|$)|いって|行って|いこう|行こう)|"
    rf"次[、,:]?\s*{_MORA_QUOTE}|(?:ほら|さあ|さぁ|はい)[、,]?\s*{_MORA_QUOTE}|"
    r"次は|つぎは|次の方|あなたの番|君の番|きみの番|どうぞ|(?<![でに])お願いします|の番です|"
    r"で始まる(?:言葉|単語|ことば)"
)
_HANDOFF_EN = (
    r"\byour\s+(?:turn|move)\b|\bnext\s+(?:is|up|word|one|player|letter|mora|sound|"
    r"syllable|kana)\b|\bnext\s*:|\bis\s+next\b|"
    r"\bstart(?:ing|s)?\s+with\b|\bover\s+to\s+you\b|\bgo\s+ahead\b|\bback\s+to\s+you\b|"
    r"\byou'?re\s+up\b|\byour\s+go\b|\bup\s+next\b|\byou\s+next\b"
)
_HANDOFF = re.compile(f"{_HANDOFF_JA}|(?i:{_HANDOFF_EN})")
_SENTENCE_END = re.compile(r"[。!?\n]|\.\.\.|…|\.(?:\s|$)")
# Any cue at all: a reply without one that is one word needs no further reading.
_ANY_CUE = re.compile(
    "|".join(p.pattern for p in (_ADMIT, _GAME_OVER, _HANDOFF, _NEGATION, _NOTICE))
)
# For a reply that is one unpunctuated Japanese word (most replies): literals that every
# Japanese cue above written without punctuation contains, so a superset of them. Plain
# literals, because re then scans for their first characters at C speed.
_ONE_WORD_CUE_WORDS = """
    負け まけ 認めます 終わ おわ 違反 反則 しまった やってしま やっちゃ の勝ち 失敗 間違え
    まちが まいりました 参りました 降参 ギブアップ お手上げ 連敗 自爆 やられた ゲーム 試合終了
    楽しかった またやりましょう また遊 勝負 次は つぎは 次の方 の番 どうぞ お願いします
    で始まる おっと 待って まって ちょっと待 いや待 じゃなくて ではなく 訂正 やり直 言い直
    取り消 撤回 失礼 ごめん すみません 申し訳 んで ンで んが ンが もう出 もう使 既に すでに
    代わりに かわりに 改めて あん あっん あン あっン
"""
_ONE_WORD_CUES = re.compile("|".join(_ONE_WORD_CUE_WORDS.split()))
_ASCII_LETTER = re.compile("[A-Za-z]")

# -- spans -----------------------------------------------------------------------------------

_QUOTE = re.compile(
    r"「([^「」\n]{1,200})」|『([^『』\n]{1,200})』|【([^【】\n]{1,200})】|"
    r"“([^“”\n]{1,200})”|\"([^\"\n]{1,200})\"|`([^`\n]{1,200})`"
)
_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*|__([^_\n]{1,200})__")
_GLOSS = re.compile(r"[ \t]*\(([^()\n]{1,80})\)")
# Where a line's own content starts: after quote marks (>), a heading's #, a list mark.
_LIST_MARK = r"(?:[-*+][ \t]+|[•・][ \t]*|\d{1,3}(?:[.)、][ \t]*|[ \t]+))"
_LINE_PREFIX = re.compile(rf"[ \t>]*(?:#{{1,6}}[ \t]+|{_LIST_MARK})?")
_LIST_ITEM = re.compile(rf"[ \t>]*{_LIST_MARK}")
_LABEL = r"(?:答え|回答|単語|言葉|ことば|ワード|(?<![A-Za-z])A|(?i:word|answer))[*_]*"
_MARKER_RUN = re.compile(
    r"(?:(?:^|(?<=[\s、。,.!?…~*]))(?:じゃあ|では|それでは|それなら|よし|決めた|ずばり)|"
    r"答え(?:は|:)|回答(?:は|:)|次の(?:言葉|単語|ことば|ワード)は|"
    rf"(?:私|僕|俺)の(?:答え|言葉|単語)は|→|⇒|⇨|->|=>|{_LABEL}\s*:|"
    rf"{_NOT_JP_BEFORE}(?!さん|くん|ちゃん)[{_KANA}]{{1,2}}\s*:)"
    rf"[\s、,.…~*_]*([{_JP}]+)"
)
# A plain alternation (its first characters make a fast scan): most lines have no marker.
_MARKER_GATE = re.compile(r"じゃあ|では|それなら|よし|決めた|ずばり|答え|回答|の|→|⇒|⇨|->|=>|:")
_ROMAJI_RUN = re.compile(
    r"(?i:\b(?:(?:i'?ll|i\s+will|let\s+me)\s+(?:go\s+with|play|say|use|pick|choose)|"
    r"let'?s\s+go\s+with|my\s+(?:word|answer|move)(?:\s+is)?|final\s+answer|"
    r"i\s+(?:choose|pick|play|say)|going\s+with|the\s+word\s+is)[\s:*_\"']*"
    r"([a-z][a-z'-]{1,30})(?![a-z'-]|\s+with\b))"
)
_GLOSS_PAIR = re.compile(
    rf"(?:\*\*|__)?[A-Za-z][A-Za-z'ōūāēī-]*(?:\*\*|__)?[\"']?[ \t]*\(([{_JP}]+)\)"
)
_ROMAJI_WORD = re.compile(
    r"^(?:(?:kk|ss|tt|pp|cc|gg|dd|bb|zz|hh|ff|jj|mm|rr)?"
    r"(?:sh|ch|ts|tch|[kgszjtdnhbpmrf]y|[kgszjtdnhbpmrywf])?[aeiou]|n'?)+$"
)
_ROMAJI_STOP = frozenset({"sure", "here", "sake", "name", "more", "one", "mine", "to", "so"})
_MACRONS = str.maketrans({"ā": "aa", "ī": "ii", "ū": "uu", "ē": "ee", "ō": "ou", "â": "aa"})

# Commit phrases and copulas cut off the end of a run: みかんにします is みかん.
# Longest first, so that にしておきます is not taken for にします.
_COMMIT_TAILS = (
    "にしておきます", "でお願いします", "でどうでしょう", "はどうでしょう", "にしました",
    "でいきます", "で行きます", "はどうかな", "でどうかな", "と答えます", "を出します",
    "にします", "にしよう", "でいこう", "で行こう", "にする", "はどう", "でどう", "で勝負",
    "に変更します", "に変えます", "に訂正します",
)  # fmt: skip
_COPULA_TAILS = ("でした", "ですね", "ですよ", "ですか", "でーす", "です", "だよ", "だね", "だぜ")
# A run that is a sentence, not a word: しりとりしましょう, 考えています.
_PREDICATE_TAIL = re.compile(
    r"(?:(?:ます|ました|ません|ましょう|ましょ|でしょう|ください|ている|てる|った|しよう)[ねよかな]?|"
    r"ようよ|ようね|ようか|ないで|ないよ|ないね|たいな|たいね|どうぞ|お願いします|下さい)$"
)
_PHRASE = re.compile(f"[{_KANJI}][のがはをにでとへも][{_KANJI}]")
# A clause in the past: ンがついた, 目が覚めた (not まないた: no particle in it).
_PAST_CLAUSE = re.compile(f"^[{_JP}]+[がをはにも][{_JP}]+[ただ]$")
_RULE_WORDS = re.compile(
    r"で終わ|でおわ|で始ま|ではじま|負け|ルール|禁止|使え|ついたら|言葉|単語|ことば|しりとり|"
    r"反則|違反"
)
# What opens a line without being a move: fillers, greetings, labels, reactions.
_FILLER_WORDS = """
    うーん うーむ うむ うん ううん ええ えー ええと えーと えっと えーっと はい はーい いいえ
    よし よーし ようし よっしゃ なるほど そう そうか そうだ そうそう いい いいね いいよ すごい
    では じゃあ じゃ それでは それなら さて さあ ふむ ふむふむ ほう ほほう おお おー おっ わあ
    わー あ あっ ああ あー あれ おっと しまった やった やば ありがとう ありがとうございます
    こんにちは こんばんは おはよう 了解 了解しました わかりました 分かりました 承知しました
    もちろん オッケー おけ 次 次は つぎ つぎは 私 わたし 僕 ぼく 俺 答え 回答 正解 残念
    ごめん ごめんなさい すみません 失礼 考え中 えへへ へへ ふふ 楽しい 面白い 素晴らしい
    頑張ります まいりました 参りました 降参 負け 勝ち これ それ あれ どうぞ お願いします
    いきます 行きます うわ うわあ えっ え なに 何 ん んー んーと 次の言葉 次の単語 私の番
    僕の番 あなたの番 私の答え 難しい むずかしい 困った ふう ほっ よかった 良かった 最高
    了解です 承知 スタート 候補 例えば たとえば ちなみに ところで 実は 答えは 回答は
    です でした ですね ですよ だよ だね でーす だ
    あなた こちら そちら 私から 僕から 俺から こちらから わたしから ぼくから
    私は 僕は 俺は わたしは ぼくは おれは 私も 僕も 俺も 自分は うちは あたしは
    いや いやいや いやー ううむ んー よーし さーて さてさて
    ルール違反 違反 反則 反則負け 失格 訂正 不正解 私の負け 僕の負け 俺の負け あなたの勝ち
    ゲームオーバー おしまい 考え方 ルール確認 前の言葉 選んだ言葉 私の回答 回答例 答え合わせ
    次の文字 最後の文字 最後の音 お疲れさま お疲れ様 おつかれさま お疲れ おつかれ
"""
_FILLERS = frozenset(_FILLER_WORDS.split())
# Simplified Chinese characters that Japanese never writes (Japanese has 們→none, 這, 輸,
# 規則): a run holding one is Chinese, not a Japanese word (我输了, 规则). Local models
# trained mostly on Chinese slip into it.
_HANZI_ONLY = frozenset(
    "们这个说还过进远违连迟适选递边达迁运为吗呢吧么啊嗯哦什样给从后里应该经两图动无专业"
    "义乐习产亲仅众优传伤华协单卫历变听启员围园场坏块报处备复头夺妇孙实审宪宽对寻导层岁"
    "岛师帮带庆废异张弹强归录彻忆忧怀态总恶恼惊惯战执扩扫扬护拟拥择换摄时显晓暂术杀杂权"
    "极构标栏树样桥梦检欢毕气汉汤沟泽洁测济浓润渐满灭灵灾热爱犹狱猎环现电疗盖盘监确础祸"
    "种积稳穷竞笔简粮紧红纪约级纯线练组细终结绍继续维绿编网罗职联肃脑脸艺节苏苹药获虑虽"
    "补装讨认识语误说请读谁谢负财责败货质购费资赛转轮软轻较辆输过运邮释针钟钱铁银错长门"
    "问间闻队阳阴际陆陈险随难雾顶项顺须顾预领频题颜风飞饭馆验鱼鸟鸡龙计订让训议讯记讲许"
    "论设访证评诉词译试诗诚话该详课调谈谓规视觉览观见东车书页贝马鸭齐尔吗们么"
)
# Headings that are also plausible moves (ヒント, 理由): a label only where a heading
# stands, in 【…】 or before a colon (**解説**：…).
_LABEL_WORD_LIST = """
    ルール 解説 説明 理由 ポイント まとめ 補足 注意 確認 結果 結論 ヒント 答え 回答 単語
    言葉 ことば ワード 候補 選択 判定 理由付け 根拠 メモ 備考 ひとこと 一言 感想
"""
_LABEL_WORDS = frozenset(_LABEL_WORD_LIST.split())
_LABEL_AFTER = re.compile(r"[ \t*_]*[:：]")


def _chinese(surface: str) -> bool:
    """Whether a run is written with a character only Chinese writes (我输了, 规则)."""
    return any(ch in _HANZI_ONLY for ch in surface)


def _no_move_alone(surface: str) -> bool:
    """A reply that is only this run plays nothing: a filler (了解です！, はい), a sentence
    (ちょっと考えさせてください), Chinese (我输了). One mora alone stays a word (ん)."""
    if _chinese(surface):
        return True
    if len(surface) == 1 or _is_mora(Extracted(surface, None, "line")):
        return False
    if surface in _FILLERS or _CLAUSE_TAIL.search(surface):
        return True
    predicate = _PREDICATE_TAIL.search(surface)
    return predicate is not None and predicate.start() > 0 and len(surface) > 4


# Levels (module docstring).
_MENTIONED, _OFFERED, _PLAYED, _COMMITTED = 0, 1, 2, 3


class _Line(NamedTuple):  # a tuple: made by the dozen per reply
    start: int  # where the line starts in the text
    body: int  # where its content starts, after list and heading marks and emoji
    end: int
    list_item: bool


class _Span(NamedTuple):  # a tuple: made by the dozen per reply
    word: Extracted
    start: int
    end: int  # after any gloss
    line: _Line
    implied: int | None  # the level a cut-off tail implies (にします: committed)
    note: str  # a bracketed gloss after it that was no reading: (mandarin), (ends in ん, no)


class _Candidate(NamedTuple):  # a tuple: made by the dozen per reply
    word: Extracted
    start: int
    end: int
    level: int
    key: str | None  # joint key of its reading, when known


def _lines(text: str) -> list[_Line]:
    """The text's lines, with where each one's content starts."""
    out: list[_Line] = []
    pos = 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        prefix = _LINE_PREFIX.match(raw)
        body = pos + (prefix.end() if prefix else 0)
        while body < end and _is_decoration(text[body]):  # a leading emoji: 🍊 みかん
            body += 1
        out.append(_Line(pos, body, end, bool(_LIST_ITEM.match(raw))))
        pos = end + 1
    return out


def _glossed(
    text: str, run: str, end: int, line: _Line
) -> tuple[tuple[str, str | None], int, str] | None:
    """The word in ``run`` read with the bracketed gloss right after it, if any.

    Returns (the word, where the span ends, the gloss when it was no reading), or None
    when ``run`` is no word. A gloss that is neither a reading nor a surface (みかん
    (ends in ん, no)) is kept as a note: it may reject the word.
    """
    gloss = _GLOSS.match(text, end, line.end)
    if gloss is not None:
        word = _word_of(f"{run}({gloss[1]})")
        if word is None:
            word = _word_of(run)
        if word is None:
            return None
        return word, gloss.end(), "" if word[1] else gloss[1]
    word = _word_of(run)
    return (word, end, "") if word else None


def _strip_head(run: str) -> str:
    """The run without a leading connective written onto it: じゃあみかん is みかん."""
    for head in _CONNECTIVE_HEADS:
        if run.startswith(head) and len(run) > len(head) + 1:
            return run[len(head) :]
    return run


_CONNECTIVE_HEADS = ("それじゃあ", "それでは", "じゃあ")


def _strip_tail(run: str) -> tuple[str, int | None]:
    """The word in a run without a trailing commit phrase or copula, and the level implied."""
    for tails, level in ((_COMMIT_TAILS, _COMMITTED), (_COPULA_TAILS, _PLAYED)):
        if run.endswith(tails):  # one C call; the loop below runs only on a hit
            for tail in tails:
                if run.endswith(tail) and len(run) > len(tail):
                    return run[: -len(tail)], level
    return run, None


def _romaji(word: str) -> str | None:
    """The hiragana of a romaji word (ringo -> りんご), or None when it is not one."""
    text = word.lower().translate(_MACRONS)
    if text in _ROMAJI_STOP or not _ROMAJI_WORD.match(text):
        return None
    kana = jaconv.alphabet2kana(re.sub(r"nn(?=[aiueoy])", "n'n", text)).replace("'", "")
    return kana if _KANA_RUN.match(kana) else None


class _Spans:
    """Collects spans; a span never overlaps one found before it (a quote owns its text)."""

    def __init__(self) -> None:
        self.found: list[_Span] = []
        # Taken intervals, disjoint and so sorted alike by start and by end.
        self._starts: list[int] = []
        self._ends: list[int] = []

    def free(self, start: int, end: int) -> bool:
        """Whether nothing found so far overlaps ``[start, end)``."""
        i = bisect.bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return False
        return i == len(self._starts) or self._starts[i] >= end

    def add(self, span: _Span) -> None:
        """Keep ``span`` (call :meth:`free` first)."""
        i = bisect.bisect_right(self._starts, span.start)
        self._starts.insert(i, span.start)
        self._ends.insert(i, span.end)
        self.found.append(span)


_OPENERS = re.compile('[「『【“"`*_]')


def _bracketed(text: str, line: _Line, spans: _Spans) -> None:
    """Quotes and bold spans holding one Japanese word (a gloss after them included)."""
    if not _OPENERS.search(text, line.start, line.end):
        return  # most lines quote nothing
    for pattern, source in ((_QUOTE, "quote"), (_BOLD, "bold")):
        for m in pattern.finditer(text, line.start, line.end):
            body = next(g for g in m.groups() if g is not None)
            if not _JP_CHAR.search(body) or not spans.free(m.start(), m.end()):
                continue
            run, implied = _strip_tail(_trim(body))
            read = _glossed(text, run, m.end(), line)
            if read:
                (surface, furigana), end, note = read
                found = Extracted(surface, furigana, source)  # type: ignore[arg-type]
                spans.add(_Span(found, m.start(), end, line, implied, note))


def _marked(text: str, line: _Line, spans: _Spans) -> None:
    """Unquoted runs after a commit marker (→ みかん, み：みかん), and romaji after one."""
    if _MARKER_GATE.search(text, line.start, line.end):  # most lines have no marker
        for m in _MARKER_RUN.finditer(text, line.start, line.end):
            if not spans.free(m.start(1), m.end(1)):
                continue
            run, _ = _strip_tail(m[1])
            read = _glossed(text, run, m.end(1), line)
            if read:
                (surface, furigana), end, note = read
                found = Extracted(surface, furigana, "marker")
                spans.add(_Span(found, m.start(1), end, line, _COMMITTED, note))
    if _LATIN_WORDS.search(text, line.start, line.end):
        for m in _ROMAJI_RUN.finditer(text, line.start, line.end):
            kana = _romaji(m[1])
            if kana and spans.free(m.start(1), m.end(1)):
                found = Extracted(kana, None, "romaji")
                spans.add(_Span(found, m.start(1), m.end(1), line, _COMMITTED, ""))


def _leading(text: str, line: _Line, spans: _Spans) -> None:
    """Runs that open the line (みかん🍊 次は…, ラッパ！…, みかん（蜜柑）) or are a whole
    sentence, last clause or table cell in it (「み」ですね。みかん！, うーん、みかん, |みかん|)."""
    _opening_run(text, line, line.body, spans, whole_sentence=False)
    if text.startswith("【", line.body):  # 【回答】りす
        close = text.find("】", line.body, line.end)
        if close > 0:
            _opening_run(text, line, close + 1, spans, whole_sentence=False)
    for end in _SENTENCE_BREAK.finditer(text, line.body, line.end):
        if end.end() < line.end:  # a break that closes the line opens nothing
            _opening_run(text, line, end.end(), spans, whole_sentence=True)


# Inside a line, a sentence, its last clause or a table cell may hold a word on its own:
# 。みかん！ | はい、みかん！ | めだか |
_SENTENCE_BREAK = re.compile(r"(?:[。!?|、,]|\.\.\.)+[ \t]*")
_SENTENCE_CLOSE = re.compile(r"[ \t]*(?:[。!?~♪☆★|]|\.\.\.|$)")


def _opening_run(
    text: str, line: _Line, start: int, spans: _Spans, *, whole_sentence: bool
) -> None:
    """The run at ``start`` as a span; with ``whole_sentence``, only if it is all the sentence."""
    while start < line.end and _is_decoration(text[start]):
        start += 1
    lead = _JP_RUNS.match(text, start, line.end)
    if lead is None or not spans.free(lead.start(), lead.end()):
        return
    if whole_sentence and (
        len(lead[0]) > MAX_SENTENCE_WORD or not _closes_sentence(text, lead.end(), line.end)
    ):
        return
    run, implied = _strip_tail(_strip_head(lead[0]))
    read = _glossed(text, run, lead.end(), line)
    if read:
        (surface, furigana), end, note = read
        found = Extracted(surface, furigana, "line")
        spans.add(_Span(found, lead.start(), end, line, implied, note))


def _closes_sentence(text: str, pos: int, line_end: int) -> bool:
    """Whether the sentence ends at ``pos`` (punctuation, emoji, a gloss, the line end)."""
    gloss = _GLOSS.match(text, pos, line_end)
    if gloss:
        pos = gloss.end()
    if pos < line_end and _is_decoration(text[pos]) and not text[pos].isspace():
        return True
    return bool(_SENTENCE_CLOSE.match(text, pos, line_end))


def _inline(text: str, line: _Line, spans: _Spans) -> None:
    """Japanese inside an English line: Mikan (みかん)!, …りす, りんご… I'll go with りんご."""
    if not _LATIN_WORDS.search(text, line.start, line.end):
        return
    for m in _GLOSS_PAIR.finditer(text, line.start, line.end):
        if spans.free(m.start(), m.end()) and len(m[1]) <= MAX_WORD_CHARS:
            spans.add(_Span(Extracted(m[1], None, "inline"), m.start(), m.end(), line, None, ""))
    for m in _JP_RUNS.finditer(text, line.start, line.end):
        if spans.free(m.start(), m.end()) and len(m[0]) <= MAX_WORD_CHARS:
            spans.add(_Span(Extracted(m[0], None, "inline"), m.start(), m.end(), line, None, ""))


def _spans(text: str, lines: list[_Line]) -> list[_Span]:
    """Every span that may be a word, in text order."""
    spans = _Spans()
    for line in lines:
        if line.body >= line.end:
            continue
        _bracketed(text, line, spans)
        _marked(text, line, spans)
        _leading(text, line, spans)
        _inline(text, line, spans)
    return sorted(spans.found, key=lambda s: s.start)


# -- the reply and its cues ---------------------------------------------------------------------


class _Reply:
    """A prepared reply: its text, its lines, and where its cues are (computed on demand)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _lines(text)
        self._masked: str | None = None
        self._admission_seen: bool | None = None

    def sentence_after(self, pos: int, limit: int = 40) -> str:
        """The rest of the sentence from ``pos`` (at most ``limit`` characters)."""
        end = _SENTENCE_END.search(self.text, pos, pos + limit)
        return self.text[pos : end.start() if end else pos + limit]

    def masked(self) -> str:
        """The text with negations (負けない) and rule statements blanked out.

        Blanked, not removed, so that positions still match the text.
        """
        if self._masked is None:
            text = _NEGATION.sub(_blank, self.text)
            pieces, pos = [], 0
            for end in _SENTENCE_END.finditer(text):
                pieces.append(_unless_rule(text[pos : end.end()]))
                pos = end.end()
            pieces.append(_unless_rule(text[pos:]))
            self._masked = "".join(pieces)
        return self._masked

    def notices(self) -> list[int]:
        """Where the reply notices a problem with what it wrote (あっ, しまった, wait…)."""
        return [m.start() for m in _NOTICE.finditer(self.text)]

    def game_over(self) -> int:
        """Where the reply concedes or declares the game over; its length if nowhere."""
        if not self._may_admit() or not _GAME_OVER.search(self.text):
            return len(self.text)  # the common case: no need to mask
        found = _GAME_OVER.search(self.masked())
        return found.start() if found else len(self.text)

    def _may_admit(self) -> bool:
        """Whether any admission or end of game is written anywhere (one scan, cached)."""
        if self._admission_seen is None:
            self._admission_seen = _ADMIT_OR_OVER.search(self.text) is not None
        return self._admission_seen

    def admits_from(self, pos: int) -> bool:
        """Whether the reply admits a loss or a broken rule at or after ``pos``."""
        if not self._may_admit() or not _ADMIT.search(self.text, pos):
            return False
        if _OPPONENT_LOSES.search(self.text):
            # 「ん」で終わりましたね！あなたの負け: the ending it speaks of is not its own.
            return bool(_SELF_REFERENCE.search(self.masked(), pos))
        return bool(_ADMIT.search(self.masked(), pos))

    def hands_over_from(self, pos: int) -> bool:
        """Whether the reply hands the turn over at or after ``pos``."""
        return bool(_HANDOFF.search(self.text, pos))


def _blank(match: re.Match[str]) -> str:
    return " " * len(match[0])


def _unless_rule(sentence: str) -> str:
    """The sentence, blanked when it states the rule rather than the speaker's own loss."""
    if _RULE_STATEMENT.search(sentence) and not _SELF_REFERENCE.search(sentence):
        return " " * len(sentence)
    return sentence


# -- levels --------------------------------------------------------------------------------------


def _right_kind(right: str) -> str:
    """What the text right after a span makes of it: mention, commit, list, thinking, played."""
    if not right.strip():
        return "played"  # the end of its line
    if _RIGHT_MENTION.match(right):
        return "mention"
    if _RIGHT_COMMIT.match(right):
        return "commit"
    if _RIGHT_LIST.match(right):
        return "list"
    if _RIGHT_THINKING.match(right):
        return "thinking"
    head = right.lstrip()[:1]
    if _RIGHT_PLAYED.match(right) or (head and _is_decoration(head)):
        return "played"
    return "plain"


_RIGHT_LIST = re.compile(
    r"\s*(?:、|,|・|と(?![答言])|とか|など|や(?=\s*[「『])|ですが|だけど|だが|けど|ですけど|"
    r"(?i:or\b|and\b|but\b))"
)
_RIGHT_THINKING = re.compile(r"\s*(?:\.\.\.|\?)")
_LEVEL_OF_KIND = {"mention": _MENTIONED, "commit": _COMMITTED, "list": _OFFERED}


_LEFT_NOISE = " \t*_#>-•・「『"


def _left_of(reply: _Reply, span: _Span, floor: int) -> str:
    """The text before a span back to the sentence start, a previous span or its line start.

    A span that opens its line also sees the line before it (次の言葉は：\\nみかん).
    """
    text, line = reply.text, span.line
    lo = max(line.start, floor, span.start - 40)
    left = text[lo : span.start]
    cut = max(left.rfind("。"), left.rfind("!"), left.rfind("?"))
    if cut >= 0:
        return left[cut + 1 :]
    if not left.strip(" \t*_#>-•・") and line.start > 0:
        above = text[max(0, line.start - 41) : line.start - 1].rsplit("\n", 1)[-1]
        return above + " " + left
    return left


def _level(reply: _Reply, span: _Span, floor: int) -> tuple[int, int] | None:
    """The span's level (module docstring), or None when it is rejected or only supposed.

    Two levels: with and without the lift the first thing a reply says gets (a used word
    is only taken for played on its own shape).
    """
    text = reply.text
    after = reply.sentence_after(span.end)
    # 「みかん」 — actually, no, that ends in ん: the first thing a reply says is its move
    # even when it is rejected after a notice; what follows the notice corrects it.
    if (
        after
        and (_SUPPOSED.match(after) or _REJECTED.search(after))
        and not (_opens_reply(text, span.start) and _TAKING_BACK.search(after))
    ):
        return None
    if span.note and _REJECTED.search(span.note):
        return None
    kind = _right_kind(text[span.end : min(span.line.end, span.end + 24)])
    if span.implied is not None and kind != "mention":
        level = span.implied
    else:
        level = _LEVEL_OF_KIND.get(kind, _PLAYED if kind == "played" else _OFFERED)
    left = _left_of(reply, span, floor)
    if not left.strip(_LEFT_NOISE):
        pass  # nothing before it: the right side alone decides
    elif _LEFT_MENTION.search(left):
        level = min(level, _MENTIONED)
    elif _LEFT_OFFER.search(left):
        level = min(level, _OFFERED)
    elif (commit := _LEFT_COMMIT.search(left)) and kind not in ("mention", "list"):
        if kind != "thinking":
            level = _COMMITTED
        elif not _WEAK_COMMIT.match(commit[0]):
            # My word: **らいおん**... wait: a declaration, then a pause; では「りす」…: musing.
            level = _PLAYED
    if span.line.list_item and level < _COMMITTED:
        return min(level, _OFFERED), min(level, _OFFERED)
    if level == _OFFERED and kind in ("thinking", "plain") and _opens_reply(text, span.start):
        return _PLAYED, level  # the first thing a reply says is its move: 「みかん」…あっ
    return level, level


def _opens_reply(text: str, pos: int) -> bool:
    """Whether nothing but marks, emoji and space comes before ``pos``."""
    return not any(unicodedata.category(ch)[0] in "LN" for ch in text[:pos])


# -- candidates --------------------------------------------------------------------------------


def _key_of(word: Extracted, reading_of: ReadingOf | None) -> str | None:
    """The joint key of the word's reading: its furigana, its kana, or the analyser's."""
    if word.furigana:
        return joint_key(word.furigana)
    hira = to_hiragana(word.surface)
    if _KANA_RUN.match(hira):
        return joint_key(hira)
    reading = reading_of(word.surface) if reading_of else None
    return joint_key(reading) if reading else None


def _is_mora(word: Extracted) -> bool:
    """A kana span of one mora (「ん」, 「み」, 「しゃ」): it names a mora, it is not a word."""
    return (
        len(word.surface) <= 2  # a mora is one kana, or two with a small one
        and word.furigana is None
        and _KANA_RUN.match(word.surface) is not None
        and len(morae(to_hiragana(word.surface))) == 1
    )


_LEADS_INTO_QUOTE = re.compile(r"[「『]")


def _plainly_not_a_word(span: _Span, text: str) -> bool:
    """Spans that are Japanese but plainly no move: fillers, sentences, quoted rules."""
    surface = span.word.surface
    bracketed = text[span.start] == "【"
    if (span.word.source == "bold" or bracketed) and (
        surface in _FILLERS
        or _LABEL_AFTER.match(text, span.end)
        or (bracketed and surface in _LABEL_WORDS)
    ):
        return True  # a label: **回答** みかん, 【回答】りす, **解説**：… (not **ヒント**！)
    if span.word.source in ("quote", "bold"):
        rule = _RULE_WORDS.search(surface)
        if rule and len(rule[0]) < len(surface):
            return True  # 「んで終わったら負け」
        return bool(_PREDICATE_TAIL.search(surface)) and len(surface) > 3
    if span.word.source not in ("line", "marker"):
        return False
    if surface in _FILLERS or _PHRASE.search(surface) or _LEADS_INTO_QUOTE.match(text, span.end):
        return True
    if surface in _GAME_NAMES or _TOPIC_PHRASE.match(surface) or _CLAUSE_TAIL.search(surface):
        return True  # しりとりですね！, これは反則です, 難しいな, 申し訳ありませんが
    if surface in _LABEL_WORDS and _LABEL_AFTER.match(text, span.end):
        return True  # ルール：「ん」で終わったら負け
    rule = _RULE_WORDS.search(surface)
    if rule and len(rule[0]) < len(surface):
        return True  # んで終わってるやん, これはルール違反
    if _HANDOFF.search(surface) or (len(surface) >= 4 and _PAST_CLAUSE.match(surface)):
        return True  # あなたからどうぞ, 次はみです (a hand-off without spaces), ンがついた
    predicate = _PREDICATE_TAIL.search(surface)
    return predicate is not None and predicate.start() > 0


_GAME_NAMES = frozenset({"しりとり", "シリトリ", "尻取り"})  # unquoted: the game, not a move
# これは反則, 今のは…: a run that opens with a pointing word and a particle is a clause.
_TOPIC_PHRASE = re.compile(r"^(?:これ|それ|あれ|今の|いまの|今回の|こっち|そっち)(?:は|が|も|って)")
# A clause, not a word: a kanji or katakana stem, then two or more kana ending in a
# particle (難しいな, 申し訳ありませんが, ルールでは, 俺からいくぜ, は使ったし).
_CLAUSE_TAIL = re.compile(
    f"[{_KANJI}\u30a1-\u30fa\u30fc](?=[\u3041-\u3096]{{2,}}$)[\u3041-\u3096]*"
    r"(?:が|けど|けれど|ので|から|では|には|とは|って|し|な|ね|よ|ぜ|ぞ|わ)$"
)


def _known_non_noun(span: _Span, is_word: IsWord | None) -> bool:
    """An unquoted run the analyser knows as no noun (なるほど, 難しいです): not a move.

    Only asked when the reply holds more than that run, and never of a run a commit
    phrase followed (…にします: whatever it is, it was played).
    """
    if is_word is None or span.word.source not in ("line", "marker") or span.implied == _COMMITTED:
        return False
    return not is_word(span.word.surface)


# The most spans read at each end of a reply (a real one has a handful).
_SPANS_KEPT = 128


def _candidates(
    reply: _Reply, context: Context, reading_of: ReadingOf | None, is_word: IsWord | None
) -> list[_Candidate]:
    """The spans that may be the move, with their levels, in text order."""
    text = reply.text
    spans = _spans(text, reply.lines)
    if len(spans) > 2 * _SPANS_KEPT:  # a pathological reply: its first and last spans
        spans = spans[:_SPANS_KEPT] + spans[-_SPANS_KEPT:]
    sole = len(spans) == 1 and _nothing_else(reply.text, spans[0])
    prev_key = joint_key(context.prev_reading) if context.prev_reading else None
    game_over = reply.game_over() if spans else 0
    out: list[_Candidate] = []
    floor = 0
    for span in spans:
        if span.start >= game_over:
            break  # commentary: the game is over
        left_floor, floor = floor, span.end
        if sole and _no_move_alone(span.word.surface):
            continue
        if not sole and (_is_mora(span.word) or _plainly_not_a_word(span, text)):
            continue
        if _chinese(span.word.surface) or _opponents(reply, span):
            continue
        levels = _level(reply, span, left_floor)
        if levels is None or (not sole and _known_non_noun(span, is_word)):
            continue
        level, own_level = levels
        key = _key_of(span.word, reading_of) if (prev_key or context.used_keys) else None
        if _is_previous(span.word, key, context, prev_key):
            continue  # the previous word, quoted back: 「うみ」の「み」ですね
        if key in context.used_keys and own_level < _PLAYED:
            continue  # a used word only mentioned, or mused on: りす…いや、もう出てる
        out.append(_Candidate(span.word, span.start, span.end, level, key))
    return out


_OPPONENTS_WORD = re.compile(
    r"(?:あなたの|君の|きみの|相手の|さっきの|(?i:\byou\s+said|\byour(?:\s+word)?))[^「『。!?\n]{0,4}$"
)


def _opponents(reply: _Reply, span: _Span) -> bool:
    """A word the reply gives to the other player: あなたの「パン」, you said ラーメン, or
    one in a sentence that says the other player lost (「ラーメン」は…あなたの負け)."""
    # Past any span before it (あなたの is a run of its own): back to the sentence start.
    if _OPPONENTS_WORD.search(_left_of(reply, span, 0)):
        return True
    return bool(_OPPONENT_LOSES.search(reply.sentence_after(span.end, 80)))


def _is_previous(word: Extracted, key: str | None, context: Context, prev_key: str | None) -> bool:
    """Whether ``word`` is the previous word: written the same, or read the same."""
    if context.prev is not None and word.surface == context.prev.strip():
        return True
    return key is not None and key == prev_key


def _nothing_else(text: str, span: _Span) -> bool:
    """Whether the text has no letters or digits outside the span."""
    rest = text[: span.start] + text[span.end :]
    return not any(unicodedata.category(ch)[0] in "LN" for ch in rest)


# -- choosing ------------------------------------------------------------------------------------


def _best(candidates: list[_Candidate]) -> _Candidate:
    """The highest level; the last committed one, else the first of the highest."""
    top = max(c.level for c in candidates)
    tied = [c for c in candidates if c.level == top]
    return tied[-1] if top == _COMMITTED else tied[0]


def _same(a: _Candidate, b: _Candidate) -> bool:
    return a.word.surface == b.word.surface or (a.key is not None and a.key == b.key)


def _choose(
    candidates: list[_Candidate], notices: Iterable[int]
) -> tuple[_Candidate | None, _Candidate | None]:
    """The move and the word it is corrected to (module docstring, "Self-correction")."""
    if not candidates:
        return None, None
    for pos in notices:
        before = [c for c in candidates if c.end <= pos]
        if not before:
            continue
        move = _best(before)
        if move.level < _PLAYED:
            continue  # still deliberating: the notice is about a word it never played
        after = [c for c in candidates if c.start >= pos and not _same(c, move)]
        correction = _best(after) if after else None
        if correction is not None and correction.level < _PLAYED:
            correction = None
        return move, correction
    return _best(candidates), None


def _flag(reply: _Reply, move: _Candidate | None, correction: _Candidate | None) -> SelfFlag:
    """The self-flag, in the precedence of the module docstring."""
    if correction is not None:
        return SelfFlag.SELF_CORRECTS
    if reply.admits_from(move.start if move else 0):
        return SelfFlag.ADMITS
    if move is None:
        return SelfFlag.NO_MOVE
    if reply.hands_over_from(move.end):
        return SelfFlag.CONTINUES
    return SelfFlag.NONE


# -- the reader ------------------------------------------------------------------------------------


def read_reply(
    text: str,
    context: Context | None = None,
    *,
    reading_of: ReadingOf | None = None,
    is_word: IsWord | None = None,
) -> ReplyReading:
    """Read a reply: its move, its self-flag and any word it corrected to. Never raises.

    Args:
        text: The reply as received, any length (a window of it is read: module docstring).
        context: The turn; none means a free start with nothing used.
        reading_of: The most likely reading of a written word, to recognise the previous
            and used words written in kanji; without it only kana and surfaces are compared.
        is_word: The analyser's view of a run cut from a sentence (False: a known non-noun
            such as なるほど); without it such runs are kept unless they are fillers.

    Returns:
        The reading; ``word`` is None when the reply plays no word (flag ``no_move``,
        or ``admits``; ``no_move`` for an empty reply too).
    """
    context = context or _NO_CONTEXT
    prepared, _ = _prepare(text)
    if not prepared:
        return ReplyReading(None, SelfFlag.NO_MOVE)  # nothing, or only reasoning
    word = _only_word(prepared)
    if word is not None:
        return _read_only_word(word, context, reading_of)
    reply = _Reply(prepared)
    if _JP_CHAR.search(prepared) or _ROMAJI_RUN.search(prepared):
        candidates = _candidates(reply, context, reading_of, is_word)
    else:
        candidates = _romaji_opening(prepared)  # Mikan! / Neko. Oh wait…; else only a flag
    move, correction = _choose(candidates, reply.notices() if len(candidates) > 1 else ())
    flag = _flag(reply, move, correction)
    return ReplyReading(
        move.word if move else None,
        flag,
        correction.word if correction else None,
        unsure=_unsure(text, reply, candidates, move, correction, flag),
    )


def _unsure(
    text: str,
    reply: _Reply,
    candidates: list[_Candidate],
    move: _Candidate | None,
    correction: _Candidate | None,
    flag: SelfFlag,
) -> tuple[str, ...]:
    """Why this reading may be wrong (:data:`UNSURE`): where the rules decided on little."""
    reasons: list[str] = []
    if len(text) > WINDOW_CHARS:
        reasons.append("long_reply")
    if move is None:
        if _JP_CHAR.search(reply.text) or _ROMAJI_RUN.search(reply.text):
            reasons.append("no_word")
    else:
        if move.level < _PLAYED:
            reasons.append("weak_move")
        if any(
            c.level == move.level and not _same(c, move) and c is not correction for c in candidates
        ):
            reasons.append("contested")
        if flag is SelfFlag.ADMITS and reply.hands_over_from(move.end):
            reasons.append("flag_cues")
    if correction is not None:
        reasons.append("correction")
    return tuple(reasons)


_NO_CONTEXT = Context()


_ROMAJI_OPENING = re.compile(
    r"[\s*_\"'“]*([A-Za-z][A-Za-z'āīūēōâ-]{2,30})[\s*_\"'”]*(?:[.!?,;:~—–-]|\s*$|\s+(?=\W))"
)
# English words that are also well-formed romaji, common where a reply opens.
_ENGLISH_ROMAJI_LIST = """
    done made take same come gone hope base game more some home rose note nose wise wake
    bake make name mine here sure nine wine fine line time tide ride side wide hide bike
    like joke poke woke zone tone bone dome rope pose nope are use age ate due tie die
    toe sue haha hehe hoho fun sun run gun bun man ten hen men can ran won son ton amen
    wow yay yea yeah nah huh uh ah oh hmm one two so no to go me we be he she
"""
_ENGLISH_ROMAJI = frozenset(_ENGLISH_ROMAJI_LIST.split())


def _romaji_opening(text: str) -> list[_Candidate]:
    """A reply with no Japanese that opens with one romaji word alone (Mikan!, Neko. Oh
    wait…): that word, in kana, played."""
    m = _ROMAJI_OPENING.match(text)
    if m is None or m[1].lower() in _ENGLISH_ROMAJI:
        return []
    kana = _romaji(m[1])
    if kana is None or len(kana) < 2:
        return []
    return [_Candidate(Extracted(kana, None, "romaji"), m.start(1), m.end(1), _PLAYED, None)]


def _only_word(text: str) -> Extracted | None:
    """The word when the reply is nothing but one word (most replies), with no cue in it.

    The general path would find the same: this one only skips its work.
    """
    if "\n" in text or len(text) > MAX_WORD_CHARS * 2:
        return None
    word = _word_of(text)
    if word is None:
        return None
    cues = _ANY_CUE if _ASCII_LETTER.search(text) else _ONE_WORD_CUES
    if cues.search(text):
        return None  # a cue: the general path reads it
    surface, furigana = word
    if furigana is not None:
        return Extracted(surface, furigana, "line")
    run = _strip_head(surface)  # じゃあみかん: the run after a marker, as the general path says
    return Extracted(_strip_tail(run)[0], None, "line" if run == surface else "marker")


def _read_only_word(
    word: Extracted, context: Context, reading_of: ReadingOf | None
) -> ReplyReading:
    """The reading of a reply that is one word: that word, unless it is the previous one."""
    prev_key = None
    if context.prev_reading and not _unlike(word, context.prev_reading):
        prev_key = joint_key(context.prev_reading)
    key = _key_of(word, reading_of) if prev_key else None
    if _is_previous(word, key, context, prev_key) or _no_move_alone(word.surface):
        return ReplyReading(None, SelfFlag.NO_MOVE, unsure=("no_word",))
    return ReplyReading(word, SelfFlag.NONE)


def _unlike(word: Extracted, reading: str) -> bool:
    """True when a kana word cannot read as ``reading``: a kana word has one kana per kana."""
    return word.furigana is None and len(word.surface) != len(reading) and _all_kana(word.surface)


def _all_kana(text: str) -> bool:
    return _KANA_RUN.match(text) is not None


def flag_for(text: str, *, has_word: bool) -> SelfFlag:
    """The self-flag of ``text`` when the caller decides whether it holds a word.

    With ``has_word``, the flag of :func:`read_reply` (reading a move at the start if it
    found none); without, ``admits`` or ``no_move``. An empty text is ``none``.
    """
    prepared, said_something = _prepare(text)
    if not prepared:
        return SelfFlag.NO_MOVE if said_something and not has_word else SelfFlag.NONE
    reply = _Reply(prepared)
    if not has_word:
        return SelfFlag.ADMITS if reply.admits_from(0) else SelfFlag.NO_MOVE
    read = read_reply(text)
    if read.word is not None:
        return read.flag
    at_start = _Candidate(Extracted("", None, "line"), 0, 0, _PLAYED, None)
    return _flag(reply, at_start, None)


def extract(raw: str) -> Extracted | None:
    """The word played in ``raw`` read without context, or None (``unreadable``). Never raises."""
    return read_reply(raw).word
