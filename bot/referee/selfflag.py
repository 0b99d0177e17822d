"""What a reply says about itself: the failure types of the original shiritori logs.

- ``admits``: the reply says it lost or broke a rule (負け, 終わっちゃった, 認めます,
  I lose…) after making its move, or without one. Stating the rule (「ん」で終わる言葉は
  負け), a negation (負けない) or the opponent's loss (あなたの負け) is no admission.
- ``continues``: it plays on and hands the turn over (「ん」からどうぞ, 次は…) without
  admitting anything — the model that does not see its own violation; stating the rule
  on the way and handing over is still ``continues``.
- ``self_corrects``: it plays a word, notices a problem (あっ, じゃなくて, wait…) and
  offers another; the first word is the move the referee judges, the other is kept as
  ``corrected_to``. It outranks ``admits``: noticing is part of correcting. A word
  offered only after the reply conceded (私の負け, I lose) is commentary: ``admits``.
- ``no_move``: there is no word in it at all; it waits, or announces the next mora.
- ``none``: a plain move.

The cues and their precedence live in :mod:`bot.referee.reader` (with the word, which
they depend on); statistics read the stored flag.
"""

from __future__ import annotations

from bot.referee.reader import SelfFlag, flag_for


def classify(text: str, *, has_word: bool) -> SelfFlag:
    """Flag a reply; ``has_word`` says whether a word could be extracted from it.

    The reader's flag (:func:`bot.referee.reader.flag_for`): empty text is NONE; without
    a word, ADMITS or NO_MOVE; with one, SELF_CORRECTS, ADMITS, CONTINUES or NONE.
    """
    return flag_for(text, has_word=has_word)


__all__ = ["SelfFlag", "classify"]
