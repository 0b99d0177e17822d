"""A key planted everywhere a server can echo it is in no column, export file or stats.

Each provider's stand-in echoes the key in every field it has: headers
(``x-request-id``, ``request-id``), the body ``id``, ``model``, finish reason,
usage and error messages, the reply itself, percent-encoded and ``\\u``-escaped (whole
and in part). Then every column of every table, the database files, every export file
and ``mikan stats --json`` are searched for it in any spelling.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote

import httpx
import pytest

from bot.players import make_adapter
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.research.export import export
from bot.rounds.engine import RoundEngine
from bot.rounds.state import RoundSpec, SeatSpec
from storage.db import Database
from tests.support.providers import ProviderServer, Reply, anthropic_ok, gemini_ok, openai_ok

KEY = "sk-planted-SECRET-9f8e7d6c5b4a"
_U = re.compile(r"\\u([0-9a-fA-F]{4})")


def spellings(text: str) -> list[str]:
    """``text`` as stored and with every escape a reader might undo, undone."""
    unescaped = _U.sub(lambda m: chr(int(m[1], 16)), text)
    return [text, unescaped, unquote(text), unquote(unescaped)]


def assert_no_key(text: str, where: str) -> None:
    for form in spellings(text):
        assert KEY not in form and KEY.lower() not in form.lower(), where


def escaped(s: str, every: int = 1) -> str:
    return "".join(f"\\u{ord(c):04x}" if i % every == 0 else c for i, c in enumerate(s))


def planted(body: dict, id_field: str) -> str:
    """A JSON body with the key in its id (\\u-escaped), model and text."""
    raw = json.dumps(body, ensure_ascii=False)
    return raw.replace(f'"{body[id_field]}"', f'"{escaped(KEY)}"')


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIKAN_PLANTED_KEY", KEY)


async def play(server: ProviderServer, path: Path) -> None:
    gpt = openai_ok(f"「りんご」 {KEY}", model=f"gpt-{quote(KEY)}", system_fingerprint=KEY)
    gpt["choices"][0]["finish_reason"] = f"stop-{escaped(KEY, 2)}"
    gpt["usage"]["prompt_tokens_details"] = {"note": KEY}
    server.script(
        "/o/v1/chat/completions",
        Reply(429, {"error": {"message": f"slow down {KEY}"}}, headers={"retry-after": "0"}),
        Reply(body=planted(gpt, "id"), headers={"x-request-id": KEY}),
        Reply(400, {"error": {"message": f"bad request {quote(KEY, safe='')}"}}),
        Reply(body=openai_ok("", model=KEY) | {"id": KEY}),
    )
    claude = anthropic_ok(f"「ごりら」{KEY}", model=KEY)
    claude["content"].insert(0, {"type": "thinking", "thinking": f"the key is {KEY}"})
    server.script(
        "/a/v1/messages",
        Reply(body=planted(claude, "id"), headers={"request-id": f"req_{KEY}"}),
    )
    gem = gemini_ok(f"「らっこ」{escaped(KEY, 3)}", model=KEY)
    server.script(
        "/g/v1beta/models/g:generateContent",
        Reply(
            429,
            {
                "error": {
                    "code": 429,
                    "message": f"quota {KEY}",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0s"}
                    ],
                }
            },
        ),
        Reply(body=planted(gem, "responseId"), headers={"x-request-id": quote(KEY, safe="")}),
    )

    def player(key: str, provider: str, base: str, **kw: object) -> PlayerConfig:
        return PlayerConfig(
            key,
            provider,
            model=key,
            base_url=base,
            api_key_env="MIKAN_PLANTED_KEY",
            max_attempts=2,
            **kw,
        )

    cfgs = [
        player("o", "openai", f"{server.base}/o/v1"),
        player("a", "anthropic", f"{server.base}/a"),
        player("g", "gemini", f"{server.base}/g"),
    ]
    db = await Database.open(path)
    async with httpx.AsyncClient() as client:

        async def no_wait(_: float) -> None:
            return None

        adapters = {c.key: make_adapter(c, client, sleep=no_wait) for c in cfgs}
        spec = RoundSpec(
            seats=tuple(SeatSpec("model", c.key.upper(), c.key) for c in cfgs),
            start_word="しりとり",
            max_turns=6,
        )
        await (await RoundEngine.create(db, spec, adapters, _Null(), Referee())).run()
    await db.close()


class _Null:
    async def emit(self, event: object) -> None:
        return None


async def test_the_key_is_in_no_column_no_file_and_no_statistic(
    provider_server: ProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "k.sqlite3"
    await play(provider_server, path)
    # Every player was asked (and answered with the key), retries included.
    assert {s.path.split("/")[1] for s in provider_server.seen} == {"o", "a", "g"}

    await asyncio.to_thread(search_everywhere, path, tmp_path)


def search_everywhere(path: Path, tmp_path: Path) -> None:
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    cells = 0
    for table in tables:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        for row in con.execute(f"SELECT * FROM {table}"):
            for column, value in zip(columns, row, strict=True):
                if isinstance(value, str | bytes):
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                    assert_no_key(text, f"{table}.{column}")
                    cells += 1
    redacted = con.execute(
        "SELECT COUNT(*) FROM calls WHERE response_body LIKE '%[REDACTED]%'"
    ).fetchone()[0]
    con.close()
    assert cells > 100 and redacted >= 3  # the walk saw the echoes, scrubbed
    for file in tmp_path.glob("k.sqlite3*"):
        assert KEY.encode() not in file.read_bytes(), file

    for fmt in ("csv", "jsonl"):
        out = tmp_path / fmt
        export(path, out, fmt)
        files = list(out.iterdir())
        assert len(files) >= 2
        for f in files:
            assert_no_key(f.read_text(encoding="utf-8"), str(f))

    proc = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["groups"]
    assert_no_key(proc.stdout + proc.stderr, "mikan stats --json")
