"""The referee: reads a reply and judges the word in it against the rules.

Holds kana handling (``kana``), the reader of replies (``reader``: the word played and
the self-flag, read together in the turn's context; ``extract`` and ``selfflag`` keep
their old names for importers), readings and the noun check over SudachiPy
(``readings``), the rule options and violation codes (``rules``), the judge itself
(``judge``: ``Referee`` and ``Verdict``) and the ``mikan judge`` JSON Lines loop
(``stream``).

May import: the standard library and its text libraries only. Nothing of
``bot.players``, ``bot.rounds``, ``bot.research``, ``bot.surfaces``, ``storage`` or
``discord`` (a test enforces it): a verdict depends on the text, the context and the
rules, nothing else.
"""
