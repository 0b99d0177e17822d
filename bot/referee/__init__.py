"""The referee: reads a reply and judges the word in it against the rules.

Holds kana handling (``kana``), finding the word in a reply (``extract``), readings and
the noun check over SudachiPy (``readings``), the rule options and violation codes
(``rules``), the judge itself (``judge``: ``Referee`` and ``Verdict``), the self-flag
classifier (``selfflag``) and the ``mikan judge`` JSON Lines loop (``stream``).

May import: the standard library and its text libraries only. Nothing of
``bot.players``, ``bot.rounds``, ``bot.research``, ``bot.surfaces``, ``storage`` or
``discord`` (a test enforces it): a verdict depends on the text, the context and the
rules, nothing else.
"""
