"""``mikan judge``: the referee over JSON Lines, streamed (constant memory)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from bot.referee.judge import Referee
from bot.referee.rules import Rules, RulesError


class InputError(ValueError):
    """A JSON line that is not a valid request; the message says which part is wrong."""


def _request(obj: Any) -> tuple[str, str | None, list[str], Rules]:
    if not isinstance(obj, dict):
        raise InputError("each line must be a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string')
    prev = obj.get("prev")
    if prev is not None and not isinstance(prev, str):
        raise InputError('"prev" must be a string or null')
    used = obj.get("used", [])
    if used is None:
        used = []
    if not isinstance(used, list) or not all(isinstance(u, str) for u in used):
        raise InputError('"used" must be a list of strings')
    try:
        rules = Rules.from_mapping(obj.get("rules"))
    except RulesError as exc:
        raise InputError(f"rules: {exc}") from exc
    return text, prev, used, rules


def judge_line(referee: Referee, raw: bytes) -> dict[str, Any]:
    """One output object for one input line; problems become an ``error`` field.

    The verdict's :meth:`~bot.referee.judge.Verdict.to_json`, or ``{"error": ...}`` when
    the line is not UTF-8, not JSON, or not a valid request. Errors from the referee
    itself are not caught.
    """
    try:
        line = raw.decode("utf-8")
        text, prev, used, rules = _request(json.loads(line))
    except UnicodeDecodeError:
        return {"error": "line is not valid UTF-8"}
    except json.JSONDecodeError as exc:
        return {"error": f"malformed JSON: {exc.msg} at column {exc.colno}"}
    except InputError as exc:
        return {"error": str(exc)}
    return referee.judge(text, prev=prev, used=used, rules=rules).to_json()


def run(lines: Iterable[bytes], out: IO[str], *, line_buffered: bool = False) -> int:
    """Judge every non-blank line of ``lines`` into ``out``; returns the line count.

    One JSON object per line, in input order; the count includes lines answered with an
    ``error``. ``line_buffered`` flushes after each line; ``out`` is flushed at the end
    either way. Builds one :class:`~bot.referee.judge.Referee` (the default analyser).
    """
    referee = Referee()
    count = 0
    for raw in lines:
        if not raw.strip():
            continue
        out.write(json.dumps(judge_line(referee, raw), ensure_ascii=False))
        out.write("\n")
        if line_buffered:
            out.flush()
        count += 1
    out.flush()
    return count
