"""Reasoning kept apart from the reply: the judged text never holds the model's thinking.

Servers return thinking in several shapes: separate fields (``reasoning_content`` from
DeepSeek, vLLM and llama.cpp, ``reasoning`` from OpenRouter and newer vLLM), Anthropic
``thinking`` blocks, Gemini ``thought`` parts, and inline ``<think>…</think>`` blocks
in the content itself (vLLM and llama.cpp without a reasoning parser, DeepSeek-style
chat templates). The adapters take the separate shapes; :func:`split_thinking` the
inline one.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)
_TAG = re.compile(r"<(/?)(think|thinking|reasoning)>", re.IGNORECASE)


def _closed_blocks(text: str) -> tuple[str, list[str]]:
    """``text`` without its closed blocks, and their contents, in one pass over the tags.

    A block opens at a tag and closes at the next closing tag of its name (tags inside it
    are its text). One scan, not a lazy ``<think>(.*?)</think>`` regex, which rescans to
    the end for every unclosed tag: quadratic in a 4 MB reply full of them.
    """
    pieces: list[str] = []
    thoughts: list[str] = []
    pos = 0
    opened: re.Match[str] | None = None
    for tag in _TAG.finditer(text):
        if opened is None:
            if not tag[1]:
                opened = tag
        elif tag[1] and tag[2].lower() == opened[2].lower():
            pieces.append(text[pos : opened.start()])
            thoughts.append(text[opened.end() : tag.start()].strip())
            pos, opened = tag.end(), None
    pieces.append(text[pos:])
    return "".join(pieces), thoughts


def split_thinking(text: str) -> tuple[str, str | None]:
    """``text`` as (the visible reply, the thinking it held inline or None).

    Closed blocks anywhere are taken out. A block left open (the reply was cut while
    thinking) takes everything after its tag. A lone closing tag with no opening one
    (chat templates that put ``<think>`` in the prompt) makes everything before it
    thinking. Linear in the text's length.
    """
    if "<" not in text:
        return text, None
    rest, thoughts = _closed_blocks(text)
    opened = _OPEN.search(rest)
    if opened:
        thoughts.append(rest[opened.end() :].strip())
        rest = rest[: opened.start()]
    else:
        closed = _CLOSE.search(rest)
        if closed:
            thoughts.insert(0, rest[: closed.start()].strip())
            rest = rest[closed.end() :]
    if not thoughts:
        return text, None
    return rest.strip(), "\n\n".join(t for t in thoughts if t) or ""


def join_thinking(*parts: str | None) -> str | None:
    """The thinking pieces that are there, in order, or None when there are none."""
    kept = [p for p in parts if p]
    return "\n\n".join(kept) if kept else None
