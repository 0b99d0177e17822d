"""How a reply ended, in one taxonomy shared by every adapter.

Providers name the end of a reply differently (OpenAI ``finish_reason``, Anthropic
``stop_reason``, Gemini ``finishReason`` and ``promptFeedback.blockReason``). Each
adapter maps its own value to one of :data:`FINISHES` and keeps the provider's value
beside it. A reply that did not end ``stop`` and holds no visible text is no move at
all: the round records it as ``no_answer`` with the code as its reason, never as a
violation (see :data:`NO_ANSWER_CODES`).
"""

from __future__ import annotations

from typing import Literal

Finish = Literal["stop", "truncated", "refused", "filtered", "error"]
FINISHES: tuple[Finish, ...] = ("stop", "truncated", "refused", "filtered", "error")
# The ends that are not the model choosing to stop: a reply that ended so is not judged
# as a breach of the rules (docs/EXPORTS.md "no_answer reasons").
NO_ANSWER_CODES: frozenset[str] = frozenset(FINISHES) - {"stop"}

_OPENAI: dict[str, Finish] = {
    "stop": "stop",
    "tool_calls": "stop",
    "function_call": "stop",
    "eos": "stop",  # some compatible servers
    "length": "truncated",
    "content_filter": "filtered",
    "error": "error",  # OpenRouter: the upstream provider failed mid-reply
}
_ANTHROPIC: dict[str, Finish] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "stop",
    "max_tokens": "truncated",
    "model_context_window_exceeded": "truncated",
    "pause_turn": "truncated",  # a long turn paused by the server: not finished
    "refusal": "refused",
}
_GEMINI: dict[str, Finish] = {
    "STOP": "stop",
    "MAX_TOKENS": "truncated",
    "SAFETY": "filtered",
    "RECITATION": "filtered",
    "LANGUAGE": "filtered",
    "BLOCKLIST": "filtered",
    "PROHIBITED_CONTENT": "filtered",
    "SPII": "filtered",
    "IMAGE_SAFETY": "filtered",
    "OTHER": "error",
    "MALFORMED_FUNCTION_CALL": "error",
    "FINISH_REASON_UNSPECIFIED": "error",
}


def openai_finish(value: object, *, refusal: bool = False) -> Finish:
    """OpenAI-compatible ``finish_reason`` (``refusal``: ``message.refusal`` was set)."""
    if refusal:
        return "refused"
    # No finish_reason at all: servers that omit it finished normally.
    return _OPENAI.get(str(value), "stop") if value is not None else "stop"


def anthropic_finish(value: object) -> Finish:
    """Anthropic ``stop_reason``; an unknown value is taken as ``stop``."""
    return _ANTHROPIC.get(str(value), "stop") if value is not None else "stop"


def gemini_finish(value: object) -> Finish:
    """Gemini ``finishReason``; an unknown value is ``error`` (Gemini lists them all)."""
    return _GEMINI.get(str(value), "error") if value is not None else "stop"
