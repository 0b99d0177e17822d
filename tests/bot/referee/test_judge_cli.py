"""``mikan judge``: JSON Lines in, verdicts out, through the real console entry point."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.referee.stream import run


def _judge(lines: list[bytes]) -> list[dict]:
    out = io.StringIO()
    run(iter(lines), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_verdict_per_line_in_order() -> None:
    lines = [
        json.dumps({"text": "みかん", "prev": "うみ"}).encode(),
        json.dumps({"text": "ゴリラ", "prev": "しりとり", "used": ["りんご"]}).encode(),
        json.dumps(
            {"text": "ごま", "prev": "りんご", "used": ["りんご"], "rules": {"dakuten": "lenient"}}
        ).encode(),
    ]
    out = _judge(lines)
    assert [o["word"] for o in out] == ["みかん", "ゴリラ", "ごま"]
    assert out[0]["violations"] == ["ends_with_n"]
    assert out[1]["violations"] == ["wrong_start"]
    assert out[2]["ok"] is True
    assert set(out[0]) == {
        "word",
        "reading",
        "first",
        "next",
        "violations",
        "ok",
        "self_flag",
        "corrected_to",
    }


def test_malformed_lines_get_an_error_and_the_run_goes_on() -> None:
    lines = [
        b"not json",
        b'["a list"]',
        b'{"text": 5}',
        b'{"text": "a", "prev": 3}',
        b'{"text": "a", "used": "x"}',
        b'{"text": "a", "rules": {"small_kana": "huge"}}',
        b"\xff\xfe broken utf-8",
        b"",  # blank lines are answered too, so outputs stay aligned with inputs
        json.dumps({"text": "すずめ"}).encode(),
    ]
    out = _judge(lines)
    assert len(out) == 9
    assert all("error" in o for o in out[:8])
    assert "small_kana" in out[5]["error"]
    assert out[7] == {"error": "empty line"}
    assert out[8]["word"] == "すずめ" and out[8]["ok"] is True


def test_missing_keys_take_defaults() -> None:
    (out,) = _judge([b'{"text": "\xe3\x81\x8d"}'])  # き: one mora, default min_mora 2
    assert out["violations"] == ["too_short"]


def test_console_script_streams(tmp_path) -> None:
    inp = "\n".join(
        [
            json.dumps({"text": "しりとり"}),
            "{bad",
            json.dumps({"text": "りんご", "prev": "しりとり"}),
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "judge"],
        input=inp.encode(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o.get("word") for o in out] == ["しりとり", None, "りんご"]
    assert "error" in out[1]


def test_streams_many_lines_without_holding_them(tmp_path) -> None:
    """A generator of 5,000 lines is consumed lazily: output appears as input is read."""
    produced = 0

    def lines():
        nonlocal produced
        for i in range(5000):
            produced += 1
            yield json.dumps({"text": ["みかん", "ゴリラ", "蜜柑", "xyz"][i % 4]}).encode()

    class Probe(io.StringIO):
        max_gap = 0

        def write(self, s: str) -> int:
            if s == "\n":
                Probe.max_gap = max(Probe.max_gap, produced - self.getvalue().count("\n") - 1)
            return super().write(s)

    out = Probe()
    assert run(lines(), out) == 5000
    assert Probe.max_gap == 0  # each verdict is written before the next line is read
