"""``bot.referee.stream``: one output line per input line, whatever the input line is."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.referee.judge import Referee
from bot.referee.stream import MAX_INT_DIGITS, MAX_LINE_BYTES, judge_line, read_lines, run

GOOD_A = json.dumps({"text": "みかん", "prev": "うみ"}).encode()
GOOD_B = json.dumps({"text": "すずめ"}, ensure_ascii=False).encode()
VERDICT_KEYS = {
    "word",
    "reading",
    "first",
    "next",
    "violations",
    "ok",
    "self_flag",
    "corrected_to",
}


def _outputs(lines: list[bytes]) -> tuple[list[dict], str]:
    """Runs ``lines``; checks one output line per input line; the objects and raw text."""
    out = io.StringIO()
    count = run(iter(lines), out)
    text = out.getvalue()
    rows = text.split("\n")
    assert rows[-1] == ""  # every output line ends in "\n", the last one too
    assert count == len(lines) == len(rows) - 1
    return [json.loads(row) for row in rows[:-1]], text


def _between_good_lines(bad: bytes) -> dict:
    """The output for ``bad`` judged between two good lines, whose verdicts are checked."""
    (a, got, b), _ = _outputs([GOOD_A, bad, GOOD_B])
    assert a["word"] == "みかん" and a["violations"] == ["ends_with_n"]
    assert b["word"] == "すずめ" and b["ok"] is True
    return got


def _error_between_good_lines(bad: bytes) -> str:
    got = _between_good_lines(bad)
    assert set(got) == {"error"}, got
    return got["error"]


def _verdict_between_good_lines(line: bytes) -> dict:
    got = _between_good_lines(line)
    assert set(got) == VERDICT_KEYS, got
    return got


def _pad_to(size: int) -> bytes:
    """A valid request for すずめ of exactly ``size`` bytes."""
    head, tail = b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        # blank lines are answered, so outputs stay aligned with inputs
        (b"", "empty line"),
        (b"   \t ", "empty line"),
        (b"\r\n", "empty line"),
        (b"\xef\xbb\xbf", "empty line"),
        # nesting deeper than the parser's recursion limit
        (b"[" * 100_000, "JSON nested too deeply"),
        (
            b'{"text": "a", "x": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
            "JSON nested too deeply",
        ),
        # integers over the digit limit, wherever they are
        (
            b'{"text": "a", "x": ' + b"9" * (MAX_INT_DIGITS + 1) + b"}",
            "number too large (over 4300 digits)",
        ),
        (
            b'{"text": "a", "rules": {"min_mora": -' + b"1" * 10_000 + b"}}",
            "number too large (over 4300 digits)",
        ),
        # NaN and Infinity are Python's extension, not JSON
        (b'{"text": NaN}', "NaN is not valid JSON"),
        (b'{"text": "a", "x": Infinity}', "Infinity is not valid JSON"),
        (b'{"text": "a", "rules": {"min_mora": -Infinity}}', "-Infinity is not valid JSON"),
        # 1e999 is valid JSON (a float too large: inf); where a field checks it, it fails
        (
            b'{"text": "a", "rules": {"min_mora": 1e999}}',
            "rules: min_mora must be an integer from 1 to 50, got inf",
        ),
        (
            b'{"text": "a", "rules": {"min_mora": 2.0}}',
            "rules: min_mora must be an integer from 1 to 50, got 2.0",
        ),
        # bytes that are not UTF-8
        (b"\xff\xfe broken", "line is not valid UTF-8 (at byte 1)"),
        (b'{"text": "\xe3\x81"}', "line is not valid UTF-8 (at byte 11)"),
        (b'{"text": "\xed\xa0\x80"}', "line is not valid UTF-8 (at byte 11)"),  # UTF-8 of U+D800
        # NUL bytes, inside a string or not
        (b"\x00", "line contains a NUL byte"),
        (b'{"text": "\xe3\x81\xbf\x00"}', "line contains a NUL byte"),
        # lone surrogates in the strings judged
        (b'{"text": "\\ud800"}', '"text" contains a lone surrogate (not valid Unicode)'),
        (b'{"text": "a\\udfff"}', '"text" contains a lone surrogate (not valid Unicode)'),
        (
            b'{"text": "a", "prev": "\\udc00x"}',
            '"prev" contains a lone surrogate (not valid Unicode)',
        ),
        (
            b'{"text": "a", "used": ["ok", "\\ud83d"]}',
            '"used" contains a lone surrogate (not valid Unicode)',
        ),
        # JSON values that are not objects
        (b"[1, 2]", "each line must be a JSON object, not an array"),
        (b'"text"', "each line must be a JSON object, not a string"),
        (b"42", "each line must be a JSON object, not a number"),
        (b"-0.5e3", "each line must be a JSON object, not a number"),
        (b"null", "each line must be a JSON object, not null"),
        (b"true", "each line must be a JSON object, not a boolean"),
        # objects with missing fields or wrong types
        (b"{}", '"text" is missing'),
        (b'{"prev": "\xe3\x81\x86\xe3\x81\xbf"}', '"text" is missing'),
        (b'{"text": 5}', '"text" must be a string'),
        (b'{"text": null}', '"text" must be a string'),
        (b'{"text": ["a"]}', '"text" must be a string'),
        (b'{"text": "a", "prev": 3}', '"prev" must be a string or null'),
        (b'{"text": "a", "used": "x"}', '"used" must be a list of strings'),
        (b'{"text": "a", "used": [1]}', '"used" must be a list of strings'),
        (b'{"text": "a", "rules": "x"}', "rules: rules must be an object"),
        (b'{"text": "a", "rules": {"colour": 1}}', "rules: unknown rule option(s): colour"),
        # not JSON at all
        (b"not json", "malformed JSON: Expecting value at column 1"),
        (b'{"text": "a"', "malformed JSON: Expecting ',' delimiter at column 13"),
        (b'{"text": "a"} {}', "malformed JSON: Extra data at column 15"),
        # too long (judged without reading it as JSON)
        (b"x" * (5 * 1024 * 1024), "line too long (over 1048576 bytes)"),
        (_pad_to(MAX_LINE_BYTES + 1), "line too long (over 1048576 bytes)"),
    ],
)
def test_a_bad_line_gets_an_error_and_its_neighbours_their_verdicts(
    bad: bytes, message: str
) -> None:
    assert _error_between_good_lines(bad) == message


@pytest.mark.parametrize(
    "line",
    [
        GOOD_B + b"\r\n",  # CRLF
        GOOD_B + b"\n",
        b"\xef\xbb\xbf" + GOOD_B,  # a BOM, not only on the first line
        b'  {"text": "\\u3059\\u305a\\u3081"}\t',  # escapes, surrounding JSON whitespace
        b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "x": ' + b"9" * MAX_INT_DIGITS + b"}",
        b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "x": 1e999, "y": -1e999}',
        b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "x": ' + b"[" * 200 + b"]" * 200 + b"}",
        b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "x": "\\ud800"}',  # unread: ignored
        _pad_to(MAX_LINE_BYTES),  # exactly at the limit
    ],
)
def test_lines_that_look_odd_but_are_requests_get_verdicts(line: bytes) -> None:
    got = _verdict_between_good_lines(line)
    assert got["word"] == "すずめ" and got["ok"] is True


def test_extra_fields_are_ignored() -> None:
    plain = _verdict_between_good_lines(GOOD_A)
    extra = _verdict_between_good_lines(
        b'{"text": "\xe3\x81\xbf\xe3\x81\x8b\xe3\x82\x93", "prev": "\xe3\x81\x86\xe3\x81\xbf",'
        b' "id": 7, "meta": {"a": [1, null]}, "Text": 3}'
    )
    assert extra == plain


def test_null_prev_and_used_are_the_defaults() -> None:
    got = _verdict_between_good_lines(
        b'{"text": "\xe3\x81\x99\xe3\x81\x9a\xe3\x82\x81", "prev": null, "used": null}'
    )
    assert got["ok"] is True


def test_the_first_line_may_start_with_a_bom() -> None:
    (first, second), _ = _outputs([b"\xef\xbb\xbf" + GOOD_A, GOOD_B])
    assert first["word"] == "みかん" and second["word"] == "すずめ"


def test_a_mid_line_bom_is_not_skipped() -> None:
    assert _error_between_good_lines(b" \xef\xbb\xbf{}").startswith("malformed JSON")


def test_a_lone_surrogate_quoted_in_an_error_is_written_escaped() -> None:
    (a, got, b), text = _outputs([GOOD_A, b'{"text": "a", "rules": {"\\ud800x": 1}}', GOOD_B])
    assert got == {"error": "rules: unknown rule option(s): \ud800x"}
    text.encode("utf-8")  # the output is valid UTF-8 (raises otherwise)
    assert "\\ud800x" in text.splitlines()[1]
    assert a["word"] == "みかん" and b["word"] == "すずめ"  # their kana unescaped
    assert "みかん" in text.splitlines()[0]


def test_errors_quoting_a_long_value_are_short() -> None:
    message = _error_between_good_lines(
        b'{"text": "a", "rules": {"small_kana": "' + b"z" * 100_000 + b'"}}'
    )
    assert message.startswith("rules: small_kana must be one of enlarge | whole | either, got 'zz")
    assert message.endswith("...") and len(message) == 200


def test_an_unexpected_referee_error_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Referee.judge

    def judge(self: Referee, text: str, **kwargs: object) -> object:
        if text == "ばくだん":
            raise RuntimeError("boom")
        return real(self, text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Referee, "judge", judge)
    bad = json.dumps({"text": "ばくだん"}).encode()
    assert _error_between_good_lines(bad) == "internal error: RuntimeError: boom"


def test_long_prev_and_used_words_give_the_same_verdict_uncached() -> None:
    long_prev = "「しりとり」と言いました" + "。" * 300
    long_used = "「りんご」と言いました" + "。" * 300
    referee = Referee()
    line = json.dumps({"text": "りんご", "prev": long_prev, "used": [long_used, "すずめ"]}).encode()
    got = judge_line(referee, line)
    assert got == Referee().judge("りんご", prev=long_prev, used=[long_used, "すずめ"]).to_json()
    assert got["violations"] == ["repeated"]  # prev read (no wrong_start), used read
    assert referee.reading_of.cache_info().currsize == 1  # only the short すずめ kept
    got = judge_line(referee, json.dumps({"text": "みかん", "prev": long_prev}).encode())
    assert got["violations"] == ["wrong_start", "ends_with_n"]


def test_line_buffered_flushes_after_every_line() -> None:
    class Recorder(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.at_flush: list[int] = []

        def flush(self) -> None:
            self.at_flush.append(self.getvalue().count("\n"))
            super().flush()

    out = Recorder()
    run(iter([GOOD_A, b"", b"[", GOOD_B]), out, line_buffered=True)
    assert out.at_flush[:4] == [1, 2, 3, 4]


def test_read_lines_keeps_line_ends_and_a_last_line_without_one() -> None:
    stream = io.BytesIO(b"a\r\n\nb\n\xff\x00c")
    assert list(read_lines(stream)) == [b"a\r\n", b"\n", b"b\n", b"\xff\x00c"]


def test_read_lines_bounds_a_huge_line_and_drops_the_rest_of_it() -> None:
    huge = b"[" * (5 * 1024 * 1024)
    got = list(read_lines(io.BytesIO(GOOD_A + b"\n" + huge + b"\n" + GOOD_B)))
    assert len(got) == 3
    assert got[0] == GOOD_A + b"\n" and got[2] == GOOD_B
    assert len(got[1]) <= MAX_LINE_BYTES + 6  # cut: not held whole
    assert judge_line(Referee(), got[1]) == {"error": "line too long (over 1048576 bytes)"}


@pytest.mark.parametrize(
    "line",
    [_pad_to(MAX_LINE_BYTES), b"\xef\xbb\xbf" + _pad_to(MAX_LINE_BYTES)],
)
@pytest.mark.parametrize("end", [b"", b"\n", b"\r\n"])
def test_read_lines_does_not_cut_a_line_at_the_limit(line: bytes, end: bytes) -> None:
    (got,) = read_lines(io.BytesIO(line + end))
    assert got == line + end
    assert judge_line(Referee(), got)["word"] == "すずめ"


@pytest.mark.parametrize("over", [1, 2])
def test_read_lines_cuts_a_line_just_over_the_limit(over: int) -> None:
    line = b"\xef\xbb\xbf" + _pad_to(MAX_LINE_BYTES + over) + b"\r\n"
    too_long, good = read_lines(io.BytesIO(line + GOOD_B))
    assert good == GOOD_B
    assert judge_line(Referee(), too_long) == {"error": "line too long (over 1048576 bytes)"}


# Hostile lines the property mixes in with arbitrary bytes.
_HOSTILE = [
    b"",
    b"\r",
    b"[" * 5_000,
    b"9" * 5_000,
    b'{"text": NaN}',
    b'{"text": "\\ud800"}',
    b'{"text": "a", "rules": {"\\udfff": 1}}',
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xc0\xaf",
    b"null",
]
_kana = st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x30FF), max_size=8)
_requests = st.builds(
    lambda text, prev, used, ascii_: json.dumps(
        {"text": text, "prev": prev, "used": used}, ensure_ascii=ascii_
    ).encode(),
    text=st.one_of(_kana, st.text(max_size=30)),
    prev=st.one_of(st.none(), _kana),
    used=st.lists(_kana, max_size=3),
    ascii_=st.booleans(),
)
_any_line = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b""))
_line = st.one_of(
    _requests.map(lambda b: (b, True)),
    _any_line.map(lambda b: (b, False)),
    st.sampled_from(_HOSTILE).map(lambda b: (b, False)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_line, max_size=12), final_newline=st.booleans())
def test_any_byte_lines_give_one_json_object_each_in_order(
    lines: list[tuple[bytes, bool]], final_newline: bool
) -> None:
    data = b"".join(line + b"\n" for line, _ in lines)
    if lines and lines[-1][0] and not final_newline:
        data = data[:-1]  # a last line without its newline is still a line
    out = io.StringIO()
    count = run(read_lines(io.BytesIO(data)), out)
    text = out.getvalue()
    text.encode("utf-8")  # always valid UTF-8
    rows = text.split("\n")
    assert rows[-1] == ""
    assert count == len(lines) == len(rows) - 1
    for (_, is_request), row in zip(lines, rows, strict=False):
        got = json.loads(row)
        assert isinstance(got, dict)
        if is_request:
            assert set(got) == VERDICT_KEYS  # a request is judged where it stands
        else:
            assert set(got) in ({"error"}, VERDICT_KEYS)
