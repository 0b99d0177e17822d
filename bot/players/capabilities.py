"""Parameters a model does not take, learnt from its 400s and remembered per model.

Reasoning models reject ``temperature`` (OpenAI: ``"Unsupported parameter:
'temperature' is not supported with this model."``, with ``error.param``), some
models lack ``logprobs``, newer Claude models reject sampling options, Gemini answers
``Unknown name "…"`` or ``… is not enabled``. When a 400 names a parameter we sent
that we may leave out, the adapter drops it, tries once more, and every later call to
that model (same provider, endpoint and model, for the rest of the process) goes
without it; the call records what was dropped, so nobody reads the temperature as
applied when it was not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Words with which providers say a parameter is not accepted.
_REJECTION = re.compile(
    r"unsupported|not supported|unknown name|unrecognized|not allowed|not permitted|"
    r"not enabled|not available|deprecated|cannot be|may not|extra inputs|invalid field",
    re.IGNORECASE,
)

# (provider, endpoint, model) -> parameters left out of every request to it.
_DROPPED: dict[tuple[str, str, str], set[str]] = {}


def dropped(scope: tuple[str, str, str]) -> frozenset[str]:
    """The parameters this process has learnt to leave out for ``scope``."""
    return frozenset(_DROPPED.get(scope, ()))


def remember(scope: tuple[str, str, str], names: Iterable[str]) -> None:
    """Leave ``names`` out of every later request for ``scope``."""
    _DROPPED.setdefault(scope, set()).update(names)


def forget_all() -> None:
    """Forget everything learnt (tests: each starts from a fresh process's state)."""
    _DROPPED.clear()


def rejected_parameter(
    data: Any, message: str, sent: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...] | None:
    """The droppable parameters a 400 says the model does not take, or None.

    ``sent`` maps each droppable parameter that was sent to the group that goes with
    it (``logprobs`` takes ``top_logprobs`` along). The parameter is found in
    OpenAI's ``error.param`` or named in the message next to a word of rejection.
    """
    param = code = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        param, code = data["error"].get("param"), data["error"].get("code")
    # error.param alone names a parameter whose *value* was wrong too (a seed out of
    # range): that one is the roster's to fix, not the model's to go without.
    rejected = _REJECTION.search(message) is not None or (
        isinstance(code, str) and code.startswith("unsupported")
    )
    if isinstance(param, str) and param in sent and rejected:
        return sent[param]
    if not rejected:
        return None
    lowered = message.lower()
    # Longest names first: "top_logprobs" before "logprobs", "responselogprobs" too.
    for name in sorted(sent, key=len, reverse=True):
        if re.search(rf"(?<![a-z_]){re.escape(name.lower())}(?![a-z_])", lowered):
            return sent[name]
    return None
