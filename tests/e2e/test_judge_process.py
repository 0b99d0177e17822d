"""The real ``mikan judge`` process: hostile input, one line out per line in, exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 120  # the first analysis may build the noun index


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_")}
    if "MIKAN_CACHE_DIR" in os.environ:
        out["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
    out.pop("PYTHONUNBUFFERED", None)  # flushing per line must not depend on it
    out["PYTHONIOENCODING"] = "ascii"  # nor must UTF-8 output depend on the locale
    return out


async def judge(tmp: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "judge",
        cwd=tmp,
        env=env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def request(text: str, **fields: object) -> bytes:
    return json.dumps({"text": text, **fields}, ensure_ascii=False).encode()


# (input line, the word judged or None for an error, the exact error or None)
HOSTILE: list[tuple[bytes, str | None, str | None]] = [
    (b"\xef\xbb\xbf" + request("しりとり"), "しりとり", None),
    (b"", None, "empty line"),
    (request("りんご", prev="しりとり") + b"\r", "りんご", None),  # CRLF
    (b"   ", None, "empty line"),
    (b"[" * 100_000, None, "JSON nested too deeply"),
    (b'{"text": ' + b"7" * 5_000 + b"}", None, "number too large (over 4300 digits)"),
    (b'{"text": "a", "x": NaN}', None, "NaN is not valid JSON"),
    (b"\xff\xfe\xfd", None, "line is not valid UTF-8 (at byte 1)"),
    (b'{"text": "\x00"}', None, "line contains a NUL byte"),
    (b'{"text": "\\ud800"}', None, '"text" contains a lone surrogate (not valid Unicode)'),
    (b'{"text": "a", "rules": {"\\udfff": 1}}', None, "rules: unknown rule option(s): \udfff"),
    (b"[1, 2, 3]", None, "each line must be a JSON object, not an array"),
    (b'{"text": 12}', None, '"text" must be a string'),
    (b"{}", None, '"text" is missing'),
    (b"{" * (5 * 1024 * 1024), None, "line too long (over 1048576 bytes)"),
    (request("ごま", prev="りんご", used=["りんご"], extra=1), "ごま", None),
    (request("すずめ"), "すずめ", None),  # the last line, without a newline
]


async def test_hostile_input_gets_one_line_each_in_order(tmp_path: Path) -> None:
    data = b"\n".join(line for line, _, _ in HOSTILE)  # no final newline
    proc = await judge(tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(data), TIMEOUT_S)
    stderr = err.decode("utf-8", "replace")
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    text = out.decode("utf-8")  # valid UTF-8, though the locale said ASCII
    assert text.endswith("\n")
    rows = [json.loads(row) for row in text.splitlines()]
    assert len(rows) == len(HOSTILE)
    for (line, word, error), got in zip(HOSTILE, rows, strict=True):
        if error is None:
            assert got.get("word") == word, (line[:40], got)
        else:
            assert got == {"error": error}, (line[:40], got)
    assert "しりとり" in text  # kana written as UTF-8, not escaped


async def test_each_verdict_comes_out_before_the_next_line_goes_in(tmp_path: Path) -> None:
    """A co-process over pipes: no --line-buffered, no PYTHONUNBUFFERED, no tty."""
    proc = await judge(tmp_path)
    assert proc.stdin is not None and proc.stdout is not None
    for line, expected in [
        (request("しりとり"), {"word": "しりとり"}),
        (b"", {"error": "empty line"}),
        (b"[" * 5_000, {"error": "JSON nested too deeply"}),
        (request("りんご", prev="しりとり"), {"word": "りんご"}),
    ]:
        proc.stdin.write(line + b"\n")
        await proc.stdin.drain()
        got = json.loads(await asyncio.wait_for(proc.stdout.readline(), TIMEOUT_S))
        assert {k: got.get(k) for k in expected} == expected
    proc.stdin.close()
    _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    assert proc.returncode == 0, err.decode()


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """``mikan judge | head -1``: exit 0, nothing on stderr."""
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "judge"],
        cwd=tmp_path,
        env=env(),
        stdin=subprocess.PIPE,
        stdout=write_end,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        assert proc.stdin is not None
        proc.stdin.write(request("しりとり") + b"\n")
        proc.stdin.flush()
        ready, _, _ = select.select([read_end], [], [], TIMEOUT_S)
        assert ready, "no verdict came out"
        assert b"\n" in os.read(read_end, 1 << 16)
    finally:
        os.close(read_end)  # the reader is gone
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(b"".join(request("みかん") + b"\n" for _ in range(1000)))
        proc.stdin.close()
    proc.wait(timeout=TIMEOUT_S)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 0, err.decode()
    assert err == b"", err.decode()
