"""``mikan judge``: the referee over JSON Lines, streamed (constant memory).

Every input line gets exactly one output line, in order: a verdict, or
``{"error": "..."}`` when the line is not a valid request. No input ends the stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import IO, Any

from bot.referee.judge import Referee, Verdict
from bot.referee.rules import Rules, RulesError

MAX_LINE_BYTES = 1 << 20
"""The longest line judged (1 MiB, its line end not counted); a longer one is an error."""

MAX_INT_DIGITS = 4300
"""The most digits a JSON integer may have (Python's own default limit, fixed here)."""

_MAX_ERROR_CHARS = 200
# The referee's LRU caches key on whole prev/used strings: longer ones are read uncached,
# so a stream of huge words cannot grow the caches without bound.
_CACHED_WORD_CHARS = 256
_BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 16


class InputError(ValueError):
    """A JSON line that is not a valid request; the message says which part is wrong."""


def _int(digits: str) -> int:
    # Checked before int(): the interpreter's limit may be off, and then int() is slow.
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise InputError(f"number too large (over {MAX_INT_DIGITS} digits)")
    return int(digits)


def _constant(name: str) -> float:
    raise InputError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_int=_int, parse_constant=_constant)

_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _unicode(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f'"{name}" contains a lone surrogate (not valid Unicode)') from None


def _request(obj: Any) -> tuple[str, str | None, list[str], Rules]:
    if not isinstance(obj, dict):
        raise InputError(f"each line must be a JSON object, not {_KINDS.get(type(obj), 'that')}")
    if "text" not in obj:
        raise InputError('"text" is missing')
    text = obj["text"]
    if not isinstance(text, str):
        raise InputError('"text" must be a string')
    prev = obj.get("prev")
    if prev is not None and not isinstance(prev, str):
        raise InputError('"prev" must be a string or null')
    used = obj.get("used", [])
    if used is None:
        used = []
    # map() keeps these checks in C: a request often lists every word of the round.
    if not isinstance(used, list) or not all(map(isinstance, used, repeat(str))):
        raise InputError('"used" must be a list of strings')
    try:  # one encode for the whole request (the common case); the culprit named after
        "\n".join((text, prev or "", *used)).encode("utf-8")
    except UnicodeEncodeError:
        _unicode("text", text)
        if prev is not None:
            _unicode("prev", prev)
        for word in used:
            _unicode("used", word)
    try:
        rules = Rules.from_mapping(obj.get("rules"))
    except RulesError as exc:
        raise InputError(f"rules: {exc}") from exc
    return text, prev, used, rules


def _judge(referee: Referee, text: str, prev: str | None, used: list[str], rules: Rules) -> Verdict:
    if (prev is None or len(prev) <= _CACHED_WORD_CHARS) and max(
        map(len, used), default=0
    ) <= _CACHED_WORD_CHARS:
        return referee.judge(text, prev=prev, used=used, rules=rules)

    # The same readings the referee would look up itself, the long words uncached.
    def reading(word: str) -> str | None:
        if len(word) <= _CACHED_WORD_CHARS:
            return referee.reading_of(word)
        return referee.reading_of.__wrapped__(word)

    return referee.judge(
        text,
        prev_reading=reading(prev) if prev is not None else None,
        used_readings=[r for r in map(reading, used) if r],
        rules=rules,
    )


def _error(message: str) -> dict[str, Any]:
    if len(message) > _MAX_ERROR_CHARS:  # rule errors quote the value given, however long
        message = message[: _MAX_ERROR_CHARS - 3] + "..."
    return {"error": message}


def _body(raw: bytes) -> bytes:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def judge_line(referee: Referee, raw: bytes) -> dict[str, Any]:
    """One output object for one input line; problems become an ``error`` field.

    ``raw`` is one line, with or without its ``\\n`` or ``\\r\\n``; a UTF-8 BOM at its
    start is ignored. Returns the verdict's :meth:`~bot.referee.judge.Verdict.to_json`,
    or ``{"error": ...}`` (a short English message) when the line is empty or blank,
    longer than :data:`MAX_LINE_BYTES`, has a NUL byte, is not UTF-8, is not JSON (NaN
    and Infinity are not; nor are integers over :data:`MAX_INT_DIGITS` digits or nesting
    too deep for the parser), or is not a valid request; unknown keys are ignored.
    Errors from the referee itself are not caught (:func:`run` catches them).
    """
    body = _body(raw)
    if body.startswith(_BOM):  # RFC 8259 lets a parser ignore it; files may be concatenated
        body = body[len(_BOM) :]
    if len(body) > MAX_LINE_BYTES:
        return _error(f"line too long (over {MAX_LINE_BYTES} bytes)")
    if not body.strip():
        return _error("empty line")
    if b"\0" in body:  # never valid JSON, and worth naming plainly
        return _error("line contains a NUL byte")
    try:
        line = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(f"line is not valid UTF-8 (at byte {exc.start + 1})")
    try:
        request = _request(_DECODER.decode(line))
    except json.JSONDecodeError as exc:
        return _error(f"malformed JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return _error("JSON nested too deeply")
    except InputError as exc:
        return _error(str(exc))
    except ValueError:  # e.g. an integer under MAX_INT_DIGITS but over a lower set limit
        return _error("number too large")
    return _judge(referee, *request).to_json()


def _dumps(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate quoted in an error: escape it, stay UTF-8
        text = json.dumps(obj)
    return text


def read_lines(stream: IO[bytes], *, limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of a binary stream, each with its line end; none much over ``limit`` bytes.

    A line longer than ``limit`` (its BOM and line end not counted) is cut a few bytes
    past it, so that :func:`judge_line` still calls it too long, and the rest of it is
    read and dropped in chunks: memory stays bounded whatever comes in. A last line
    without ``\\n`` is yielded too.
    """
    cut = limit + len(_BOM) + 3  # room for a BOM, "\r\n" and one byte too many
    while line := stream.readline(cut):
        if len(line) == cut and not line.endswith(b"\n"):
            while (rest := stream.readline(_READ_CHUNK)) and not rest.endswith(b"\n"):
                pass
        yield line


def run(lines: Iterable[bytes], out: IO[str], *, line_buffered: bool = False) -> int:
    """Judge every line of ``lines`` into ``out``; returns the line count.

    Exactly one JSON object per input line, in input order, blank lines included (they
    get ``{"error": "empty line"}``); the count includes lines answered with an
    ``error``. An unexpected exception while judging a line is answered
    ``{"error": "internal error: ..."}`` and the run goes on. Output is always valid UTF-8
    JSON (a lone surrogate quoted in an error is written escaped).
    ``line_buffered`` flushes after each line; ``out`` is flushed at the end either way.
    Builds one :class:`~bot.referee.judge.Referee` (the default analyser).
    """
    referee = Referee()
    count = 0
    for raw in lines:
        try:
            result = judge_line(referee, raw)
        except Exception as exc:  # a referee bug must not end the stream or shift lines
            result = _error(f"internal error: {type(exc).__name__}: {exc}")
        out.write(_dumps(result) + "\n")
        if line_buffered:
            out.flush()
        count += 1
    out.flush()
    return count
