"""``mikan console``: the terminal as a channel, through the real process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.e2e.test_arena_process import env, rows


async def console(tmp: Path, stdin: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        *args,
        cwd=tmp,
        env=env(tmp),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_play_a_word_then_leave(tmp_path: Path) -> None:
    code, out, err = await console(
        tmp_path, "// やあ\nりんご\n", "--players", "kinkan", "--seed", "1"
    )
    assert code == 0, err
    assert "あなたの番です" in out and "あなた: りんご ✅" in out
    assert "きんかんボット:" in out and "おしまい" in out
    db = tmp_path / "mikan.sqlite3"
    assert rows(db, "SELECT surface, status, end_reason FROM rounds") == [
        ("console", "stopped", "input closed")
    ]
    words = [r[0] for r in rows(db, "SELECT word FROM turns ORDER BY idx")]
    assert words[0] == "りんご" and len(words) == 2  # you, then the model; chat not judged


async def test_a_violation_is_announced_and_probes_stay_silent(tmp_path: Path) -> None:
    # mikan_pull 1: the offline player reaches for a ん-word whenever one fits
    (tmp_path / "mikan.toml").write_text(
        '[players.greedy]\nprovider = "offline"\nmikan_pull = 1.0\ndisplay_name = "G"\n'
    )
    code, out, err = await console(tmp_path, "みみず\n", "--players", "greedy", "--start", "うみ")
    assert code == 0, err
    db = tmp_path / "mikan.sqlite3"
    (probe_reply,) = rows(db, "SELECT reply FROM probes")[0]
    assert "❌" in out and "「ん」で終わる" in out
    assert probe_reply not in out and "わざと" not in out


async def test_an_abandoned_console_round_is_closed_at_next_start(tmp_path: Path) -> None:
    code, _, _ = await console(tmp_path, "りんご\n", "--players", "kinkan")
    assert code == 0
    db = tmp_path / "mikan.sqlite3"
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("UPDATE rounds SET status = 'running'")  # as if the process had been killed
    con.commit()
    con.close()
    code, _, _ = await console(tmp_path, "", "--players", "kinkan")
    assert code == 0
    assert rows(db, "SELECT status, end_reason FROM rounds ORDER BY id")[0] == (
        "interrupted",
        "terminal session ended",
    )


async def test_ctrl_c_on_your_turn_interrupts_the_round(tmp_path: Path) -> None:
    import signal

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        "--players",
        "kinkan",
        cwd=tmp_path,
        env=env(tmp_path),
        stdin=asyncio.subprocess.PIPE,  # kept open: you are thinking
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    seen = b""
    while "あなたの番です".encode() not in seen:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert line, "the console ended before your turn"
        seen += line
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in (seen + out).decode()
    assert "Traceback" not in err.decode()
    db = tmp_path / "mikan.sqlite3"
    assert rows(db, "SELECT status, end_reason FROM rounds") == [("interrupted", "cancelled")]
    assert rows(db, "SELECT COUNT(*) FROM turns") == [(0,)]  # no timeout charged to you
