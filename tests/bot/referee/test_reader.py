"""The reader (reader-3) on replies written the way models and people write them.

Development examples, written for this module (not taken from the held-out gold set):
each row is a reply, its turn's context, and the move, self-flag and correction the
reader should find. Then properties that hold for any text.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.players.lexicon import Entry, load
from bot.referee import reader
from bot.referee.judge import Referee
from bot.referee.kana import morae, to_katakana
from bot.referee.reader import (
    HEAD_CHARS,
    READER_VERSION,
    WINDOW_CHARS,
    Context,
    SelfFlag,
    read_reply,
    window,
)


class Row(NamedTuple):
    text: str
    prev: str | None
    word: str | None
    flag: str
    corrected_to: str | None = None
    used: tuple[str, ...] = ()
    lang: str = "ja"


_REF = Referee()


@pytest.fixture(scope="module")
def ref() -> Referee:
    return _REF


def check(ref: Referee, row: Row) -> None:
    v = ref.judge(row.text, prev=row.prev, used=list(row.used), lang=row.lang)
    got = (v.word, str(v.self_flag), v.corrected_to)
    assert got == (row.word, row.flag, row.corrected_to), row.text
    assert v.reader == READER_VERSION


def ids(rows: list[Row]) -> list[str]:
    return [r.text[:24].replace("\n", "⏎") for r in rows]


# -- the word shares its line with emoji, a gloss or the hand-off --------------------------

SAME_LINE = [
    Row("みかん🍊 次は「ん」からどうぞ！", "うみ", "みかん", "continues"),
    Row("「りんご」（林檎）ですね！次は「ご」からどうぞ", "しりとり", "林檎", "continues"),
    Row("ラッパ！次はあなたの番だよ〜", "ごりら", "ラッパ", "continues"),
    Row("みかん！…", "うみ", "みかん", "none"),
    Row("みかんです！次は「ん」ですね。", "うみ", "みかん", "continues"),
    Row("🐼 パンダ 🐼", "らっぱ", "パンダ", "none"),
    Row("ゴリラ (gorilla)! Your turn.", "りんご", "ゴリラ", "continues", lang="en"),
    Row("次は「み」ですね。みかん！", "うみ", "みかん", "none"),
    Row("みかん（蜜柑）\n\n冬においしい果物です。", "うみ", "蜜柑", "none"),
]

# -- the first quote is the previous word, the mora or the rule ------------------------------

QUOTED_CONTEXT = [
    Row("「うみ」の「み」ですね。じゃあ「みかん」！", "うみ", "みかん", "none"),
    Row("「海」ですね！では「ミカン」", "海", "ミカン", "none"),
    Row("「海」の「み」から…「みそ」！", "うみ", "みそ", "none"),  # 海 reads うみ
    Row(
        "「しりとり」の「り」から始めますね。\n\n**りんご** 🍎\n\n次は「ご」からどうぞ！",
        "しりとり",
        "りんご",
        "continues",
    ),
    Row("「ごりら」→「ら」ですね。\n\nラッパ！🎺", "ごりら", "ラッパ", "none"),
    Row("「ん」で終わったら負けですね。「みそ」にします。", "うみ", "みそ", "none"),
    Row("「最後に「ん」がついたら負け」というルールですね。**みず**！", "うみ", "みず", "none"),
    Row("「りんご」はもう出たので、「りす」にします", "とり", "りす", "none", used=("りんご",)),
    Row(
        "Following 「うみ」, my word is 「みみず」! Next: ず",
        "うみ",
        "みみず",
        "continues",
        lang="en",
    ),
]

# -- a bare one-mora quote is not the word ---------------------------------------------------

ONE_MORA = [
    Row("「ん」からどうぞ", "みかん", None, "no_move"),
    Row("「み」で始まる言葉ですね…考え中です", "うみ", None, "no_move"),
    Row("次は「み」からですね。どうぞ！", "うみ", None, "no_move"),
    Row("「しゃ」か「や」から…やま！", "きしゃ", "やま", "none"),
    Row("Your turn — start with 「ず」!", "みず", None, "no_move", lang="en"),
]

# -- formats ------------------------------------------------------------------------------------

FORMATS = [
    Row("うみ → みかん（蜜柑）", "うみ", "蜜柑", "none"),
    Row("み：みかん", "うみ", "みかん", "none"),
    Row("次の言葉は…みかん", "うみ", "みかん", "none"),
    Row("次の言葉：\nみそ", "うみ", "みそ", "none"),
    Row("答え: みず (水)\n\n説明: 水は生活に欠かせないものです。", "うみ", "水", "none"),
    Row("**回答**: みかん", "うみ", "みかん", "none"),
    Row("候補:\n1. りす\n2. りんご\n3. りか\n\nりんごにします！", "とり", "りんご", "none"),
    Row("1. りす\n2. りんご\n\n**りんご**", "とり", "りんご", "none"),
    Row(
        "「ぎ」から始まる言葉…\n\n1. ぎんこう\n2. ぎたー\n\nよし、「ぎたー」にします！",
        "うさぎ",
        "ぎたー",
        "none",
    ),
    Row("## みかん\n\n冬の果物です。", "うみ", "みかん", "none"),
    Row(
        "### 私の答え：**うさぎ** 🐰\n\n次は「ぎ」でお願いします！", "ちょう", "うさぎ", "continues"
    ),
    Row(
        "了解です！\n\n→ **ダチョウ**（だちょう）\n\n次は「う」からどうぞ！",
        "ぱんだ",
        "ダチョウ",
        "continues",
    ),
    Row(
        "いいね！じゃあ次は「ぱ」から…\n\n**パンダ** 🐼\n\n次は「だ」からどうぞ！",
        "らっぱ",
        "パンダ",
        "continues",
    ),
    Row(
        "しりとり → りんご → ごりら → らっぱ",
        "ごりら",
        "らっぱ",
        "none",
        used=("しりとり", "りんご", "ごりら"),
    ),
    Row("「みず」だ！次は「ず」から始めろよ。", "うみ", "みず", "continues"),
    Row(
        "「みかん」！みかんは冬の果物で、ビタミンCが豊富です。「こたつ」で食べると最高ですね。",
        "うみ",
        "みかん",
        "none",
    ),
    Row(
        "**みかん**\n\nみかんは冬の果物。**こたつ**で食べるとおいしいです。",
        "うみ",
        "みかん",
        "none",
    ),
    Row("では「ラッコ」でどうでしょう？", "こあら", "ラッコ", "none"),
]

# -- English replies: the word in kana or romaji -----------------------------------------------

ENGLISH = [
    Row("Mikan (みかん)! Your turn — start with ん.", "うみ", "みかん", "continues", lang="en"),
    Row("Mizu (みず)! Your turn — start with ず.", "うみ", "みず", "continues", lang="en"),
    Row(
        "Alright! My word: **みそ** (miso). Your turn — starts with そ.",
        "うみ",
        "みそ",
        "continues",
        lang="en",
    ),
    Row("My word is ringo!", "しりとり", "りんご", "none", lang="en"),
    Row(
        "I'll go with **りんご** (ringo). Your turn: ご!",
        "しりとり",
        "りんご",
        "continues",
        lang="en",
    ),
    Row(
        "「うみ」 ends with み, so how about **みどり** (green)? Your move: り.",
        "うみ",
        "みどり",
        "continues",
        lang="en",
    ),
    Row("**Answer:** みず\n\nNext: ず", "うみ", "みず", "continues", lang="en"),
    Row("Sure, let's play shiritori! Your turn.", None, None, "no_move", lang="en"),
]

# -- reasoning: candidates, then the one it commits to ------------------------------------------

REASONING = [
    Row("Let me think… りす, りんご… I'll go with りんご", "しりとり", "りんご", "none", lang="en"),
    Row(
        "Let me think of a word starting with み...\n\n- みかん (ends in ん, no)\n- みそ\n\n"
        "I'll go with **みそ**! Your turn: そ",
        "うみ",
        "みそ",
        "continues",
        lang="en",
    ),
    Row(
        "Thinking: words with み: みかん — ends in ん, bad. みず — good.\nFinal answer: みず",
        "うみ",
        "みず",
        "none",
        lang="en",
    ),
    Row(
        "うーん、「み」から始まる言葉…みかん、みそ、みず…「みかん」は「ん」で終わるのでダメ。"
        "じゃあ「みそ」にします！次は「そ」です。",
        "うみ",
        "みそ",
        "continues",
    ),
    Row(
        "<think>\nThe previous word is うみ. みかん ends in ん. みず works.\n</think>\n\nみず",
        "うみ",
        "みず",
        "none",
    ),
    Row("りす…いや、もう出てるね。じゃあ「りんご」！", "とり", "りんご", "none", used=("りす",)),
    Row("じゃあ「りす」…うーん、やっぱり「りんご」にします！", "とり", "りんご", "none"),
    Row("候補は「りす」「りんご」「りか」。「りか」！", "とり", "りか", "none"),
]

# -- a word that breaks the joint is still the word played: no bias toward the legal one -----

NO_LEGAL_BIAS = [
    Row("じゃあ「ごりら」！", "うみ", "ごりら", "none"),  # wrong start, clearly played
    Row("「みかん」にします！", "うみ", "みかん", "none"),  # ends in ん
    Row("りんご！次は「ご」から", "しりとり", "りんご", "continues", used=("りんご",)),  # a repeat
    Row("候補は「みそ」と「みかん」。「みかん」にします！", "うみ", "みかん", "none"),
    Row("I'll play みかん. Your turn!", "うみ", "みかん", "continues", lang="en"),
]

# -- self-flags ----------------------------------------------------------------------------------

SELF_FLAGS = [
    # a rule statement, then playing on: continues
    Row(
        "みかん！「ん」で終わる言葉はルール違反なので…では「ん」からどうぞ",
        "うみ",
        "みかん",
        "continues",
    ),
    Row(
        "Remember, words that end in ん lose! **みそ** — your turn: そ",
        "うみ",
        "みそ",
        "continues",
        lang="en",
    ),
    # admissions reader-1 missed
    Row("みかん…あ、「ん」で終わってしまいました。認めます。", "うみ", "みかん", "admits"),
    Row("みかん…これで3連敗です", "うみ", "みかん", "admits"),
    Row("みかん！自爆しました", "うみ", "みかん", "admits"),
    Row("みかん…やられた！", "うみ", "みかん", "admits"),
    Row(
        "みかん。「ん」がついたので私の負けなので、次のゲームを始めましょう",
        "うみ",
        "みかん",
        "admits",
    ),
    Row("では「リボン」…あっ、ンがついた！", "とり", "リボン", "admits"),
    Row(
        "「うみ」の「み」ですね！\n\nでは、**みかん**🍊\n\n…あっ！「ん」で終わってしまいました。"
        "私の負けです😅",
        "うみ",
        "みかん",
        "admits",
    ),
    Row(
        "Sure! Following 「うみ」, I'll play **みかん** (mikan). Oh no, it ends in ん: I lose!",
        "うみ",
        "みかん",
        "admits",
        lang="en",
    ),
    Row("うーん…思いつきません。まいりました。", "うみ", None, "admits"),
    # not admissions
    Row("「みかん」！まだまだ負けないよ！", "うみ", "みかん", "none"),
    Row("「みかん」は「ん」で終わるので、あなたの負けです🎉", "みかん", None, "no_move"),
    # commentary after the game ended is no move
    Row("私の負けです。「みかづき」なら続けられましたね。楽しかったです！", "うみ", None, "admits"),
    Row("ゲーム終了です！楽しかったですね。またやりましょう！", "みかん", None, "no_move"),
    Row(
        "That was fun! The game is over since みかん ends in ん.",
        "みかん",
        None,
        "no_move",
        lang="en",
    ),
]

# -- self-corrections: the first committed word is judged; the other is kept -------------------

SELF_CORRECTIONS = [
    Row(
        "みかん！あっ、「ん」で終わっちゃった。じゃあ「みかづき」にします！",
        "うみ",
        "みかん",
        "self_corrects",
        "みかづき",
    ),
    Row(
        "「みかん」…あっ、「ん」で終わっちゃった。「みみず」にします",
        "うみ",
        "みかん",
        "self_corrects",
        "みみず",
    ),
    Row(
        "みかん\n\nすみません、「ん」で終わってしまいました。代わりに「みかづき」でお願いします。",
        "うみ",
        "みかん",
        "self_corrects",
        "みかづき",
    ),
    Row(
        "Mikan (みかん)! Wait, that ends in ん... Let me change to mikazuki (みかづき).",
        "うみ",
        "みかん",
        "self_corrects",
        "みかづき",
        lang="en",
    ),
    Row(
        "**ずかん**！\n\nあっ、「ん」で終わっちゃった…。やり直して「ずきん」…これも「ん」だ！"
        "じゃあ「ずこう」！",
        "みず",
        "ずかん",
        "self_corrects",
        "ずこう",
    ),
    # a replacement only mused on (…), then a concession: admits
    Row(
        "**ずかん**！\n\nあっ、「ん」で終わっちゃった…。やり直して「ずきん」…これも「ん」だ！"
        "降参です。",
        "みず",
        "ずかん",
        "admits",
    ),
    # a correction after conceding is commentary
    Row(
        "みかん…「ん」がついたので私の負けです。「みかづき」なら良かったのに。",
        "うみ",
        "みかん",
        "admits",
    ),
    # retracting a word it never played is deliberation, not a correction
    Row("うーん、「みかん」…いや、「ん」で終わる。「みそ」！", "うみ", "みそ", "none"),
]

# -- local models' messy output ---------------------------------------------------------------

MESSY = [
    Row("みず みず みず", "うみ", "みず", "none"),
    Row("Assistant: 「みず」", "うみ", "みず", "none"),
    Row("答え：「みかん」\n答え：「みかん」", "うみ", "みかん", "none"),
    Row("```\nみず\n```", "うみ", "みず", "none"),
    Row("<think>りす… りんご…</think>\n「りんご」", "とり", "りんご", "none"),
    Row("**", "うみ", None, "no_move"),
    Row("🍊🍊🍊", "うみ", None, "no_move"),
    Row("", "うみ", None, "no_move"),  # no word at all
]

# -- conversations, turn by turn, in the styles of several models and of people ----------

CONVERSATIONS = [
    Row(
        "しりとりですね！では私から。「りんご」🍎 次は「ご」からどうぞ！",
        "しりとり",
        "りんご",
        "continues",
    ),
    Row("「ご」ですね。ごま！", "りんご", "ごま", "none"),
    Row("ごま → まくら\n\n次は「ら」です！", "ごま", "まくら", "continues"),
    Row("**らくだ** 🐫\n\n「だ」から続けてください！", "まくら", "らくだ", "continues"),
    Row("いいですね〜！「だ」から始まる言葉は…「だるま」！", "らくだ", "だるま", "none"),
    Row(
        "だるま、いいですね！じゃあ私は「まんとひひ」…あ、これだと「ひ」ですね。"
        "次は「ひ」からどうぞ。",
        "だるま",
        "まんとひひ",
        "continues",
    ),
    Row("ひよこ🐣", "まんとひひ", "ひよこ", "none"),
    Row("こ…こ…「コアラ」！🐨 次は「ら」！", "ひよこ", "コアラ", "continues"),
    Row(
        "ラーメン！🍜\n\nあっ…「ン」で終わってしまいました！私の負けです💦",
        "こあら",
        "ラーメン",
        "admits",
    ),
    Row(
        "「ら」から…「らいおん」…いや、これは「ん」で終わるからダメだ。「らっこ」にします！",
        "こあら",
        "らっこ",
        "none",
    ),
    Row("ライオン\n次は「ン」から始まる言葉をどうぞ！", "こあら", "ライオン", "continues"),
    Row("「ン」から始まる言葉…ンジャメナ！", "らいおん", "ンジャメナ", "none"),
    Row("「こあら」の「ら」で、「ラッパ」はどうでしょう？", "こあら", "ラッパ", "none"),
    Row("ぱ…パイナップル！🍍 「る」からどうぞ", "らっぱ", "パイナップル", "continues"),
    Row("るすばん…あっ、「ん」がついちゃった！💦", "ぱいなっぷる", "るすばん", "admits"),
    Row("ルビー💎\n\n次は「び」または「ひ」からどうぞ！", "ぱいなっぷる", "ルビー", "continues"),
    Row("私の番ですね。「びわ」にします！", "るびー", "びわ", "none"),
    Row("わかりました！「わ」から始まる言葉で…\n\n**わに** 🐊", "びわ", "わに", "none"),
    Row(
        "I'll say 「にんじん」... oh wait, that ends with ん! I lose 😅",
        "わに",
        "にんじん",
        "admits",
        lang="en",
    ),
    Row(
        "Okay, 「に」 — **にわとり** (niwatori, chicken)! Your turn with り.",
        "わに",
        "にわとり",
        "continues",
        lang="en",
    ),
    Row(
        "Hmm, り... How about **りす** (squirrel)? Next: す",
        "にわとり",
        "りす",
        "continues",
        lang="en",
    ),
    Row(
        "Risu (りす) was already used, so I'll go with **りか** (science). Your turn: か!",
        "にわとり",
        "りか",
        "continues",
        used=("りす",),
        lang="en",
    ),
    Row("**すいか** 🍉 — your turn, starting with か!", "りす", "すいか", "continues", lang="en"),
    Row("My answer: カメラ (kamera). Next letter: ら", "すいか", "カメラ", "continues", lang="en"),
    # A romaji word alone opening a reply with no Japanese is its move, read in kana.
    Row("Ramen! Oh no, that ends in n. I lose!", "かめら", "らめん", "admits", lang="en"),
    Row(
        "「ら」…らっぱ！…あ、「らっぱ」はもう出ていましたね。では「らくご」にします。",
        "かめら",
        "らっぱ",
        "self_corrects",
        "らくご",
        used=("らっぱ",),
    ),
    Row("うみ…うみ…「み」ですね。みみずく！🦉", "うみ", "みみずく", "none"),
    Row("「みみずく」の「く」！くじら🐳", "みみずく", "くじら", "none"),
    Row(
        "しりとりのルールでは「ん」で終わると負けなので気をつけます。「らっきょう」！",
        "くじら",
        "らっきょう",
        "none",
    ),
    Row(
        "「う」から始まる言葉は…「うし」です🐄 「し」からどうぞ", "らっきょう", "うし", "continues"
    ),
    Row("し、し…「しまうま」！🦓", "うし", "しまうま", "none"),
    Row("Next word: **まめ** (beans)", "しまうま", "まめ", "none", lang="en"),
    Row("め…「めがね」👓 次は「ね」だよ！", "まめ", "めがね", "continues"),
    Row(
        "「ね」からですね！\n\n1. ねこ\n2. ねずみ\n3. ねぎ\n\nこの中から「ねずみ」を選びます🐭",
        "めがね",
        "ねずみ",
        "none",
    ),
    Row(
        "ねずみの「み」…「ミシン」！あ、ンで終わっちゃった。やっぱり「みかづき」にします",
        "ねずみ",
        "ミシン",
        "self_corrects",
        "みかづき",
    ),
    Row("き、き…きつつき！", "みかづき", "きつつき", "none"),
    Row("き→きりん🦒\nあっ、「ん」だ！私の負け〜", "きつつき", "きりん", "admits"),
    Row("うーん、もう思いつかないです…降参します🏳️", "きつつき", None, "admits"),
    Row("「きつつき」ですね！「き」から始まる…「きのこ」🍄", "きつつき", "きのこ", "none"),
    Row("こま！次は「ま」からどうぞ〜", "きのこ", "こま", "continues"),
    Row("「ま」は「まり」で！", "こま", "まり", "none"),
    Row("**リス**\n\n（前に出ていたらごめんなさい！）", "まり", "リス", "none"),
    Row("りんご！", "まり", "りんご", "none", used=("りんご",)),
    Row(
        "「りんご」は出ましたね。では「リモコン」…いえ、「ん」で終わりますね。「りゅう」にします🐉",
        "まり",
        "りゅう",
        "none",
        used=("りんご",),
    ),
    Row("りゅう → うちわ\n\nわ から どうぞ！", "りゅう", "うちわ", "continues"),
    Row(
        "Your word was うちわ, so I need わ. **わさび** (wasabi)! び is next.",
        "うちわ",
        "わさび",
        "continues",
        lang="en",
    ),
    Row(
        "びじゅつかん — no wait, that ends in ん. Let "
        "me pick びょういん... also ん! OK: **びん**..."
        " no. Final answer: **ビール** 🍺",
        "わさび",
        "びじゅつかん",  # the first thing it said, then taken back ("no wait")
        "self_corrects",
        "ビール",
        lang="en",
    ),
    Row("「る」か「ビール」の「る」…ルール！", "びーる", "ルール", "none"),
    Row("<think>る... るす (留守)</think>るす", "るーる", "るす", "none"),
    Row(
        "すずめ\n\nすずめ（雀）は身近な鳥ですね。次は「め」からお願いします！",
        "るす",
        "すずめ",
        "continues",
    ),
    Row("はい、「みかん」です。", "うみ", "みかん", "none"),
    Row(
        "「みかん」です！冬になるとこたつで「みかん」を食べるのが楽しみですよね"
        "。「ん」で終わってしまったので、私の負けです。",
        "うみ",
        "みかん",
        "admits",
    ),
    Row(
        "**「みそしる」**\n\n日本の朝ごはんの定番ですね！次は「る」からお願いします。",
        "うみ",
        "みそしる",
        "continues",
    ),
    Row(
        "前の言葉は「うみ」なので、「み」から始まる言葉を考えます。\n\n**みつば"
        "ち** 🐝\n\n「ち」からどうぞ！",
        "うみ",
        "みつばち",
        "continues",
    ),
    Row(
        "「ち」から始まる言葉ですね！それでは、「ちくわ」でいきます。", "みつばち", "ちくわ", "none"
    ),
    Row("わ、わ… 「わたあめ」！🍭 「め」だよ！", "ちくわ", "わたあめ", "continues"),
    Row(
        "| 前の言葉 | 私の言葉 |\n|---|---|\n| わたあめ | めだか |\n\n次は「か」です。",
        "わたあめ",
        "めだか",
        "continues",
    ),
    Row("めだか（目高）🐟", "わたあめ", "目高", "none"),
    Row(
        "「か」から…「カレーライス」！🍛\n次は「す」ですね。", "めだか", "カレーライス", "continues"
    ),
    Row("すし🍣", "かれーらいす", "すし", "none"),
    Row("し…「しんかんせん」！！あっ…", "すし", "しんかんせん", "none"),
    Row(
        "「しんかんせん」ですか？「ん」で終わりましたね！あなたの負けです😆",
        "しんかんせん",
        None,
        "no_move",
    ),
    Row("I choose 「しか」 (deer)! Your turn — か.", "すし", "しか", "continues", lang="en"),
    Row("Shika (鹿)! Next is か.", "すし", "鹿", "continues", lang="en"),
    Row(
        "For 「か」, I'll play **かさ** (umbrella). Now you need a word starting with さ!",
        "しか",
        "かさ",
        "continues",
        lang="en",
    ),
    Row("Sakura (さくら)! 🌸", "かさ", "さくら", "none", lang="en"),
    Row(
        "The previous word 「さくら」 ends in ら. My "
        "word: **らいおん**... wait, that ends in ん."
        " Let me change it to **らくだ**.",
        "さくら",
        "らいおん",
        "self_corrects",
        "らくだ",
        lang="en",
    ),
    Row("「だ」: だいこん… no, ends in ん. だんご! (dango)", "らくだ", "だんご", "none", lang="en"),
    Row("ごはん! Oops — ends with ん. You win! 🎉", "だんご", "ごはん", "admits", lang="en"),
    Row("OK here's mine: ごま (sesame). Your turn: ま", "だんご", "ごま", "continues", lang="en"),
    Row("ま → まつり (festival) 🎆", "ごま", "まつり", "none", lang="en"),
    Row("りんご\nりんご\nりんご", "まつり", "りんご", "none"),
    Row("次は「ご」からですね。ゴール！⚽", "りんご", "ゴール", "none"),
    Row(
        "「る」…るり色の「ルビー」…いや、ルビーはもう使いましたね。「ルーペ」にします！",
        "ごーる",
        "ルーペ",
        "none",
        used=("るびー",),
    ),
    Row("ぺ…ペンギン🐧あ、ンだ…", "るーぺ", "ペンギン", "admits"),
    Row("ペンギン🐧 次は「ン」からどうぞ！", "るーぺ", "ペンギン", "continues"),
    Row(
        "ぺ…「ペリカン」！…じゃなかった、ンで終わる！「ぺこぺこ」で！",
        "るーぺ",
        "ペリカン",
        "self_corrects",
        "ぺこぺこ",
    ),
    Row(
        "えーっと、「ぺ」から始まる言葉…なかなか難しいですね。思いつきません。",
        "るーぺ",
        None,
        "no_move",
    ),
    Row("お手上げです！あなたの勝ち🏆", "るーぺ", None, "admits"),
    Row("しりとりを始めましょう！最初は「しりとり」の「り」から。りんご！", None, "りんご", "none"),
    Row(
        "Let's start! I'll begin with **しりとり** — your turn: り!",
        None,
        "しりとり",
        "continues",
        lang="en",
    ),
    Row("「しりとり」→「り」\n\n答え：りす🐿️", "しりとり", "りす", "none"),
    Row("Word: すいか\nReading: suika\nNext: か", "りす", "すいか", "continues", lang="en"),
    Row("みかん、みかん、みかん…ん！？", "うみ", "みかん", "none"),
    Row("みかん。\n\n……あ。", "うみ", "みかん", "none"),
    Row("「み」で始まる言葉：みかん、みそ、みず、みみ\n\n→ みみ", "うみ", "みみ", "none"),
    Row(
        "Okay!\n\n1. みかん ❌ (ends in ん)\n2. みず ✅\n\n**みず**",
        "うみ",
        "みず",
        "none",
        lang="en",
    ),
    Row("僕の答えは「みち」です！", "うみ", "みち", "none"),
    Row("じゃあ、みち！", "うみ", "みち", "none"),
    Row("私は「みらい」と答えます。", "うみ", "みらい", "none"),
    Row(
        "「み」といえば「みかん」ですが、「ん」で終わってしまうので「ミルク」にします🥛",
        "うみ",
        "ミルク",
        "none",
    ),
    Row('{"word": "みかん"}', "うみ", "みかん", "none"),
    Row('```json\n{"answer": "みそ", "reading": "miso"}\n```', "うみ", "みそ", "none", lang="en"),
    Row("好的！「みかん」", "うみ", "みかん", "none"),
    Row("みかん\nユーザー：んじゃめな\nわたし：なす", "うみ", "みかん", "none"),
    Row("Claudeさん：「うみ」\nあなた：「みそ」", "うみ", "みそ", "none"),
    Row("「うみ」→「み」→「みそ」", "うみ", "みそ", "none"),
    Row("A: みそ", "うみ", "みそ", "none", lang="en"),
    Row(
        "Sure thing! Since the last word was うみ "
        "(umi, sea), I need a word that begins "
        "with み (mi).\n\nHere's my word: **みみ** (mimi) "
        '— it means "ear" 👂\n\nNow it\'s your turn!'
        " Your word needs to start with み (mi).",
        "うみ",
        "みみ",
        "continues",
        lang="en",
    ),
    Row(
        "Great choice! 「うみ」 means sea. For my turn,"
        " I'll use 「みせ」 (mise), meaning shop. Your "
        "next word should start with 「せ」!",
        "うみ",
        "みせ",
        "continues",
        lang="en",
    ),
    Row(
        "Nice one. みかづき (mikazuki, crescent moon). Back to you — き!",
        "うみ",
        "みかづき",
        "continues",
        lang="en",
    ),
    Row("うみ... mi... ミルク! (milk) くからどうぞ", "うみ", "ミルク", "continues"),
    Row("ええと……「み」ですね……\n\n「みみずく」でお願いします。", "うみ", "みみずく", "none"),
    Row(
        "「みみずく」\n\n（みみずく＝フクロウの仲間）\n\n次は「く」です！",
        "うみ",
        "みみずく",
        "continues",
    ),
    Row(
        "しりとりのルールを確認しますね。\n- 前の言葉の最後の文字から始める\n- "
        "「ん」で終わったら負け\n\nでは、「みそ」！",
        "うみ",
        "みそ",
        "none",
    ),
    Row("## 🍊 みかん\n「ん」で終わってしまいました…私の負けです。", "うみ", "みかん", "admits"),
    Row("答え\n\nみかん", "うみ", "みかん", "none"),
    Row("私が選んだ言葉は「みそ」です。", "うみ", "みそ", "none"),
    Row(
        "「み」から始まる言葉を出しますね。「みずうみ」はいかがでしょうか？",
        "うみ",
        "みずうみ",
        "none",
    ),
    Row("み……みず！💧", "うみ", "みず", "none"),
    Row("みず。", "うみ", "みず", "none"),
    Row("みずです。", "うみ", "みず", "none"),
    Row("みず、です！", "うみ", "みず", "none"),
    Row("「水」！", "うみ", "水", "none"),
    Row("水（みず）です。「ず」からどうぞ！", "うみ", "水", "continues"),
    Row("みず(水)", "うみ", "水", "none"),
    Row("【みず】", "うみ", "みず", "none"),
    Row("『みず』", "うみ", "みず", "none"),
    Row("“みず”", "うみ", "みず", "none"),
    Row("みず 💧 （水）", "うみ", "水", "none"),
    Row("The word is 「みず」.", "うみ", "みず", "none", lang="en"),
    Row("I'd say mizu (みず), meaning water.", "うみ", "みず", "none", lang="en"),
    Row("Mizu.", "うみ", "みず", "none", lang="en"),
    Row("Done. Your turn!", "うみ", None, "no_move", lang="en"),  # English, not romaji
    Row('Hmm, let me go with "mizu" (water).', "うみ", "みず", "none", lang="en"),
    Row(
        "「み」…「み」…。すみません、今回は思いつきませんでした。私の負けです。",
        "うみ",
        None,
        "admits",
    ),
    Row("I lose. I can't think of one.", "うみ", None, "admits", lang="en"),
    Row("「うみ」ですね！うーん…", "うみ", None, "no_move"),
    Row("Wait, whose turn is it?", "うみ", None, "no_move", lang="en"),
    Row("みず\n\n（ちなみに前回の「うみ」はとても良い言葉でした！）", "うみ", "みず", "none"),
    Row("みず 次、ず", "うみ", "みず", "none"),
    Row("みそ汁！", "うみ", "みそ汁", "none"),
    Row("味噌汁（みそしる）🍲\n\n次は「る」！", "うみ", "味噌汁", "continues"),
    Row("みかんw", "うみ", "みかん", "none"),
    Row("みかんｗｗｗ", "うみ", "みかん", "none"),
    Row("みかん です", "うみ", "みかん", "none"),
    Row("じゃあみかん", "うみ", "みかん", "none"),
    Row("うーん、みかん", "うみ", "みかん", "none"),
    Row("みかん？", "うみ", "みかん", "none"),
    Row("えっと…みかん", "うみ", "みかん", "none"),
    Row("みかん!!!", "うみ", "みかん", "none"),
    Row("  みかん  ", "うみ", "みかん", "none"),
    Row("ミカン🍊🍊", "うみ", "ミカン", "none"),
    Row("mikan", "うみ", "みかん", "none"),
    Row("みかん、どう？", "うみ", "みかん", "none"),
    Row("はい、みかん！", "うみ", "みかん", "none"),
    Row("みかんにする", "うみ", "みかん", "none"),
    Row("みかんっ！", "うみ", "みかん", "none"),
    Row("えー、みそしる", "うみ", "みそしる", "none"),
    Row("みそしる…かな？", "うみ", "みそしる", "none"),
    Row("みみ\nあ、まちがえた、みず", "うみ", "みみ", "self_corrects", "みず"),
    Row("みみずく\n（ふくろうの仲間だよ）", "うみ", "みみずく", "none"),
    Row("き", "しりとり", "き", "none"),
    Row("木", "しりとり", "木", "none"),
    Row("かき", "あか", "かき", "none"),
    Row("ねこ", "ねこ", None, "no_move"),
    Row(
        "**「みかん」**です！🍊\n\n次は「ん」…あっ！「ん」がついてしまいました！😱 私の負けです…！",
        "うみ",
        "みかん",
        "admits",
    ),
    Row(
        "Sure! Here's my word: **Sakana (さかな)** "
        "— fish 🐟\nNext, you'll need a word starting "
        "with **な (na)**!",
        "かさ",
        "さかな",
        "continues",
        lang="en",
    ),
    Row(
        "Ooh, good one! 🎉 Since **かさ (kasa)** ends "
        "in **さ (sa)**, my word is:\n\n### さくらんぼ "
        "(sakuranbo) 🍒\n\nOh no... that ends in ん!"
        " I lose! 😅",
        "かさ",
        "さくらんぼ",
        "admits",
        lang="en",
    ),
    Row(
        "Okay! Your word **「かさ」** ends with **「さ」**."
        "\n\nMy word is **「さかな」** (sakana – fish)!"
        " 🐟\n\nNow it's your turn with **「な」**!",
        "かさ",
        "さかな",
        "continues",
        lang="en",
    ),
    Row(
        "Haha, nice try! I'll go with 「さる」 (monkey). 🐒 Your move, starting with る.",
        "かさ",
        "さる",
        "continues",
        lang="en",
    ),
    Row(
        "さ... さ... \n\n**Sashimi (さしみ)**! 🍣\n\nYour turn: み!",
        "かさ",
        "さしみ",
        "continues",
        lang="en",
    ),
    Row(
        "「かさ」の「さ」ですね！\n\n「さんま」🐟\n\n次は「ま」でお願いします！",
        "かさ",
        "さんま",
        "continues",
    ),
    Row("「さ」から始まる言葉…「サラダ」！🥗\n\n次は「だ」です！", "かさ", "サラダ", "continues"),
    Row("**さいふ**（財布）👛\n→ 次は「ふ」！", "かさ", "財布", "continues"),
    Row(
        "ではでは…「さつまいも」🍠でいきます！\n次は「も」からどうぞ〜",
        "かさ",
        "さつまいも",
        "continues",
    ),
    Row(
        "「さ」で始まる言葉を考えますね。\n\n候補：\n- さくら\n- さる\n- さかな"
        "\n\n今回は「さる」にします🐒",
        "かさ",
        "さる",
        "none",
    ),
    Row(
        "「さる」と言いたいところですが、既に出ていますね。「さかな」にします！",
        "かさ",
        "さかな",
        "none",
        used=("さる",),
    ),
    Row(
        "「さかな」🐟…あ、「さかな」は前に出ましたね！失礼しました。「さとう」に変更します。",
        "かさ",
        "さかな",
        "self_corrects",
        "さとう",
        used=("さかな",),
    ),
    Row("しりとりのルールに従って「さ」から始めます：「さいころ」🎲", "かさ", "さいころ", "none"),
    Row(
        "Let's see... 「さ」... I know! **さくら** (cherry blossom)! 🌸 Your turn — ら!",
        "かさ",
        "さくら",
        "continues",
        lang="en",
    ),
    Row(
        "My word: さくら 🌸\n(sakura = cherry blossom)\nNext: ら",
        "かさ",
        "さくら",
        "continues",
        lang="en",
    ),
    Row(
        "Since the previous word ends in さ, I'll respond with さくら.",
        "かさ",
        "さくら",
        "none",
        lang="en",
    ),
    Row("さくら → ら\nらっこ 🦦", "かさ", "らっこ", "none"),
    Row(
        "さくら\nさくら（桜）は日本の春の象徴です。お花見は楽しいですよね！次は"
        "「ら」からお願いします。",
        "かさ",
        "さくら",
        "continues",
    ),
    Row(
        "🤔 「さ」かぁ…\n\n**ザリガニ**！🦞\n\n…あ、濁点がついちゃった。「さ」じ"
        "ゃなくて「ざ」ですね。やり直して**さば**！🐟",
        "かさ",
        "ザリガニ",
        "self_corrects",
        "さば",
    ),
    Row(
        "・みかん（×「ん」で終わる）\n・みそ（○）\n\n→ みそ",
        "うみ",
        "みそ",
        "none",
    ),
    Row(
        "候補\n- みかん ×\n- みそ ○\n\n答え: みそ",
        "うみ",
        "みそ",
        "none",
    ),
    Row(
        "I'll play **みそ** (miso).\n\nMiso is a traditional Japanese seasoni"
        "ng made from fermented soybeans. It's used in miso soup, marinades, "
        "and more. Fun fact: there are hundreds of regional varieties!\n\nYou"
        "r turn — start with そ (so).",
        "うみ",
        "みそ",
        "continues",
        lang="en",
    ),
    Row(
        "みそ\n\n味噌は大豆を発酵させて作る日本の伝統的な調味料です。味噌汁は"
        "もちろん、「みそラーメン」や「みそカツ」など、いろいろな料理に使われ"
        "ます。\n\n次は「そ」からどうぞ！",
        "うみ",
        "みそ",
        "continues",
    ),
    Row(
        "「そ」ですね！そら☁️",
        "みそ",
        "そら",
        "none",
    ),
    Row(
        "そら…「ら」…らくがき！",
        "そら",
        "らくがき",
        "none",
    ),
    Row(
        "Previous: そら → My word: らくがき (graffiti) → Next: き",
        "そら",
        "らくがき",
        "continues",
        lang="en",
    ),
    Row(
        "き: きつね 🦊",
        "らくがき",
        "きつね",
        "none",
    ),
    Row(
        "「きつね」はどうかな？🦊",
        "らくがき",
        "きつね",
        "none",
    ),
    Row(
        "きつねはもう言いましたっけ？じゃあ「きのみ」で！",
        "らくがき",
        "きのみ",
        "none",
        used=("きつね",),
    ),
    Row(
        "Let me count: しりとり → りんご → ごりら → らっぱ → ぱんだ. So I nee"
        "d だ: **だんご**! ...oh no, ends in ご, that's fine. Your turn: ご!",
        "ぱんだ",
        "だんご",
        "continues",
        used=("しりとり", "りんご", "ごりら", "らっぱ"),
        lang="en",
    ),
    Row(
        "だ…だ…だ…\n\n思いつかない…😭\n\n負けです。",
        "ぱんだ",
        None,
        "admits",
    ),
    Row(
        "うーん、「だ」で始まる言葉ですか…。「ダイヤモンド」はどうでしょう💎",
        "ぱんだ",
        "ダイヤモンド",
        "none",
    ),
    Row(
        "「ダイヤモンド」の「ど」ですね！どんぐり🌰",
        "だいやもんど",
        "どんぐり",
        "none",
    ),
    Row(
        "どんぐり\nぐ → ぐ",
        "だいやもんど",
        "どんぐり",
        "none",
    ),
    Row(
        "ぐ…グミ！🍬\n\n「み」からどうぞ！",
        "どんぐり",
        "グミ",
        "continues",
    ),
    Row(
        "I choose みみ (ears)! Wait — was that already used? If so, I'll go with みかづき instead.",
        "ぐみ",
        "みみ",
        "self_corrects",
        "みかづき",
        used=("みみ",),
        lang="en",
    ),
    Row(
        "みみ！🐰",
        "ぐみ",
        "みみ",
        "none",
        used=("みみ",),
    ),
    Row(
        "しまった、「みみ」はもう出ていました！では「みずうみ」に変えます。",
        "ぐみ",
        "みずうみ",
        "none",
        used=("みみ",),
    ),
    Row(
        "「ん」で終わる言葉を言ったら負け、ですよね？気をつけます！「みずうみ」！",
        "ぐみ",
        "みずうみ",
        "none",
    ),
]

# reader-3: words that are not moves, hand-offs without 次は, romaji alone.
READER_3 = [
    # The other player's word, and what is said of it once the game is over.
    Row("あなたの「メロン」は「ん」で終わりましたね。私の勝ちです！", "ごりら", None, "no_move"),
    Row("Ha, you said メロン — that ends in ん. You lose!", "ごりら", None, "no_move", lang="en"),
    Row("「メロン」は「ん」で終わるので、あなたの負けですね。", "ごりら", None, "no_move"),
    # Headings and labels are not the move; the word after them is.
    Row("【答え】ことり", "かこ", "ことり", "none"),
    Row("**解説**：「こ」から始まる言葉を選びました。\n\n「こま」", "かこ", "こま", "none"),
    Row("ルール：「ん」はだめ。では「こけし」！", "かこ", "こけし", "none"),
    Row("**ヒント**！次は「と」からどうぞ", "あひ", "ヒント", "continues"),  # a word, in bold
    # Pieces of sentences, fillers alone, the game's name, Chinese.
    Row("了解しました！", "うみ", None, "no_move"),
    Row("うーん、悩ましいな…少し待ってください", "うみ", None, "no_move"),
    Row("申し訳ございませんが、お答えできません。", "うみ", None, "no_move"),
    Row("しりとりですね！どちらが先に始めますか？", None, None, "no_move"),
    Row("好的，我们开始吧！", None, None, "no_move"),
    Row("「みかん」…啊，以「ん」结尾，我输了。", "うみ", "みかん", "admits"),
    Row("「みかん」。不对，改成「みみず」。", "うみ", "みかん", "self_corrects", "みみず"),
    # A correction's own words are not a new move: これは反則です, んで終わってるやん.
    Row("「かばん」\n\nあっ、これは反則ですね。私の負けです。", "しか", "かばん", "admits"),
    Row("「かばん」！……んで終わってるやん！自爆や〜", "しか", "かばん", "admits"),
    # A mora named after the move hands the turn over, with or without 次は.
    Row("「こいぬ」🐶 次「ぬ」な！", "いか", "こいぬ", "continues"),
    Row("「こいぬ」！ほら「ぬ」だ", "いか", "こいぬ", "continues"),
    Row("こいぬ 🐶 はい「ぬ」ね", "いか", "こいぬ", "continues"),
    Row("「こいぬ」 You're up — ぬ!", "いか", "こいぬ", "continues", lang="en"),
    Row("「いか」！", "しりとり", "いか", "none"),  # a short word is not a named mora
    # A romaji word alone; English words are not romaji.
    Row("Kotori!", "かこ", "ことり", "none", lang="en"),
    Row("Hmm. Sure!", "かこ", None, "no_move", lang="en"),
]

# Known gaps: a bare particle or hedge glued to an unquoted word is not cut off.
KNOWN_GAPS = [
    Row("みかんかな", "うみ", "みかん", "none"),
    Row("みかんで", "うみ", "みかん", "none"),
]


ALL = SAME_LINE + QUOTED_CONTEXT + ONE_MORA + FORMATS + ENGLISH + REASONING + NO_LEGAL_BIAS
ALL += SELF_FLAGS + SELF_CORRECTIONS + MESSY + CONVERSATIONS + READER_3


@pytest.mark.parametrize("row", ALL, ids=ids(ALL))
def test_reads_the_move_and_the_flag(ref: Referee, row: Row) -> None:
    check(ref, row)


@pytest.mark.xfail(strict=True, reason="みかんかな, みかんで: the hedge or particle stays on")
@pytest.mark.parametrize("row", KNOWN_GAPS, ids=ids(KNOWN_GAPS))
def test_known_gaps(ref: Referee, row: Row) -> None:
    check(ref, row)


def test_corrected_to_is_in_the_json(ref: Referee) -> None:
    out = ref.judge("みかん！あっ、「ん」で終わっちゃった。「みかづき」！", prev="うみ").to_json()
    assert out["word"] == "みかん" and out["violations"] == ["ends_with_n"]
    assert (out["self_flag"], out["corrected_to"]) == ("self_corrects", "みかづき")
    assert ref.judge("みかん", prev="うみ").to_json()["corrected_to"] is None


def test_the_engine_passes_readings_and_a_language(ref: Referee) -> None:
    v = ref.judge("Mikan (みかん)!", prev_reading="うみ", used_readings={"うみ"}, lang="en")
    assert v.word == "みかん" and "ends_with_n" in v.violations
    v = ref.judge("「うみ」の「み」ですね。「みそ」！", prev_reading="うみ", used_readings={"うみ"})
    assert v.word == "みそ" and v.ok


def test_the_reader_alone_without_an_analyser() -> None:
    got = read_reply(
        "「うみ」の「み」ですね。「みそ」！", Context(prev="うみ", prev_reading="うみ")
    )
    assert got.word is not None and got.word.surface == "みそ"
    assert (got.flag, got.corrected_to, got.reader) == (SelfFlag.NONE, None, READER_VERSION)


def test_the_one_word_shortcut_reads_as_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Most replies are one word and skip the span search; they must come out the same.
    texts = [e.reading for e in _LEXICON[:300]] + [e.surface + "！" for e in _LEXICON[:300]]
    texts += ["じゃあ" + e.reading for e in _LEXICON[:50]] + ["ん", "き", "「か」", "降参"]
    texts += [
        "まいりました",
        "降参です",
        "しまった",
        "どうぞ",
        "負けました",
        "お手上げ！",
        "あっ！",
    ]
    texts += ["私の負け", "ンがついた", "みかんでした", "ギブアップ", "楽しかった", "次はみ"]
    ctx = Context(prev="うみ", prev_reading="うみ", used_keys=frozenset({"りんご"}))
    fast = [read_reply(t, ctx) for t in texts]
    monkeypatch.setattr(reader, "_only_word", lambda text: None)
    assert [read_reply(t, ctx) for t in texts] == fast


# -- long replies: a bounded window ----------------------------------------------------------


def test_a_long_reply_is_read_through_a_window() -> None:
    text = "説明。" * 400_000 + "\nでは「みそ」にします。\n" + "あ" * 300_000 + "\n**みず**"
    seen = window(text)
    assert len(seen) < WINDOW_CHARS + 16 * 400 + 32
    assert "「みそ」にします" in seen and seen.endswith("**みず**")
    got = read_reply(text, Context(prev="うみ"))
    assert got.word is not None and got.word.surface == "みそ"


def test_a_short_reply_is_read_whole() -> None:
    text = "あ" * (WINDOW_CHARS - 1)
    assert window(text) == text
    assert window("x" * (WINDOW_CHARS + 1)).startswith("x" * (HEAD_CHARS // 2))


def test_a_megabyte_of_anything_gets_a_verdict(ref: Referee) -> None:
    for text in ["🍊" * 300_000, "#" * 1_000_000, "**" * 500_000, "「" * 1_000_000]:
        v = ref.judge(text, prev="うみ")
        assert v.violations == ("unreadable",)


# -- properties ------------------------------------------------------------------------------------

_LEXICON = load()
_words = st.sampled_from(_LEXICON)
_mora = st.sampled_from(
    [
        m
        for m in "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよ"
        "らりるれろわをんがぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽ"
    ]
    + ["しゃ", "ちゅ", "きょ"]
)
_around = st.sampled_from(
    [
        "{}からどうぞ",
        "次は{}ですね",
        "{}で始まる言葉を考えます",
        "では{}から！",
        "Your turn: {}",
        "{}の番です",
        "前の言葉の最後は{}",
    ]
)
_prop = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_prop
@given(text=st.text(max_size=3000), prev=st.one_of(st.none(), st.text(max_size=20)))
def test_any_text_gets_a_verdict(text: str, prev: str | None) -> None:
    v = _REF.judge(text, prev=prev, lang="en")
    assert v.self_flag in set(SelfFlag)
    assert (v.corrected_to is None) == (v.self_flag is not SelfFlag.SELF_CORRECTS)
    if v.word is None:
        assert v.violations == ("unreadable",)


@_prop
@given(entry=_words, script=st.sampled_from(["reading", "kata", "surface"]), deco=st.booleans())
def test_the_previous_word_alone_is_never_the_move(entry: Entry, script: str, deco: bool) -> None:
    text = {"reading": entry.reading, "kata": to_katakana(entry.reading), "surface": entry.surface}
    said = text[script] + ("！" if deco else "")
    for quoted in (said, f"「{said}」", f"**{said}**"):
        v = _REF.judge(quoted, prev=entry.surface, prev_reading=entry.reading)
        assert v.word is None, (quoted, entry)


@_prop
@given(mora=_mora, around=_around, kata=st.booleans(), quoted=st.booleans())
def test_a_single_mora_is_never_the_move(mora: str, around: str, kata: bool, quoted: bool) -> None:
    shown = to_katakana(mora) if kata else mora
    text = around.format(f"「{shown}」" if quoted else f" {shown} ")
    v = _REF.judge(text, prev="うみ")
    assert v.word is None, text


_LEGAL = [e for e in _LEXICON if not e.reading.endswith("ん") and len(morae(e.reading)) >= 2]


@_prop
@given(entry=st.sampled_from(_LEGAL), script=st.sampled_from(["reading", "kata", "surface"]))
def test_a_reply_that_is_a_legal_word_is_that_word(entry: Entry, script: str) -> None:
    said = {"reading": entry.reading, "kata": to_katakana(entry.reading), "surface": entry.surface}
    v = _REF.judge(said[script])
    assert v.word == said[script] and str(v.self_flag) == "none", entry
