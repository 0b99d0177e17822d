"""Keys out of everything recorded, in every form a server may echo them back.

A server (or a model) may repeat the key anywhere: a header such as ``x-request-id``,
a body ``id`` or ``model``, an error message, the reply itself, percent-encoded from a
URL, or with some or all of its characters ``\\u``-escaped inside a JSON string. One
pattern matches the key with each character in any of those spellings, so a mixture is
caught too; :func:`scrub` applies it to every string of a record, nested or not.
"""

from __future__ import annotations

import dataclasses
import re
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"
# A "key" this short is a placeholder a local server takes (vLLM's EMPTY, none, x), not
# a secret; redacting it would rewrite every reply that holds the word.
MIN_SECRET_CHARS = 8


def _spellings(ch: str) -> str:
    code = ord(ch)
    forms = [re.escape(ch)]  # as written: case matters (a key is case-sensitive)
    if code < 0x10000:
        forms.append(rf"(?i:\\u{code:04x})")  # JSON escape, hex digits in either case
    if code < 0x80:
        forms.append(rf"(?i:%{code:02x})")  # percent-encoding, likewise
        if ch == "/":
            forms.append(r"\\/")  # JSON may escape the solidus
    else:
        forms.append("(?i:" + "".join(f"%{b:02x}" for b in ch.encode()) + ")")
    return "(?:" + "|".join(forms) + ")"


@lru_cache(maxsize=16)
def key_pattern(secret: str) -> re.Pattern[str]:
    """A pattern for ``secret`` spelt plainly, percent-encoded, ``\\u``-escaped or mixed."""
    return re.compile("".join(_spellings(c) for c in secret))


def redact(text: str | None, secret: str | None) -> str | None:
    """``text`` with every spelling of ``secret`` replaced by ``[REDACTED]`` (a secret
    shorter than :data:`MIN_SECRET_CHARS` is a placeholder, left alone)."""
    if text is None or not secret or len(secret) < MIN_SECRET_CHARS:
        return text
    return key_pattern(secret).sub(REDACTED, text)


def scrub(value: Any, secret: str | None) -> Any:
    """``value`` with ``secret`` redacted from every string in it.

    Strings, lists, tuples, dicts (keys too) and dataclass instances, walked all the way
    down; dataclasses are changed in place (and returned), the rest rebuilt.
    """
    if not secret or len(secret) < MIN_SECRET_CHARS:
        return value
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {scrub(k, secret): scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(v, secret) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            setattr(value, f.name, scrub(getattr(value, f.name), secret))
        return value
    return value
