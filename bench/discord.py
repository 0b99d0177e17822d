"""The time the bot adds between a provider's reply and its Discord message.

    python bench/discord.py [--turns 200]

The real ``mikan run`` process, pacing off, against the loopback Discord of the tests
(tests/support/discord_standin.py, which answers at once) and a loopback OpenAI-compatible
provider in this process that plays fitting lexicon words. For each model turn: the
moment the provider handed its reply to the socket -> the moment the bot's
``POST /channels/{id}/messages`` for that word arrived (both ``time.monotonic()``, one
clock for both processes on Linux). That covers the HTTP client reading the reply, the
adapter, judging, the SQLite commit, the surface and discord.py's request — and none of
Discord's own latency. Rounds are played until ``--turns`` model turns are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402

from bot.players.lexicon import load  # noqa: E402
from bot.referee.kana import is_kana_reading, to_hiragana  # noqa: E402
from bot.referee.readings import Analyser  # noqa: E402
from tests.support.discord_standin import ADMIN_ID, CHANNEL_ID, TOKEN, DiscordStandIn  # noqa: E402
from tests.support.scenarios import roster_toml  # noqa: E402

ASK = re.compile(r"「([^」]{1,3})」(?:・「[^」]{1,3}」)*から始まる")
LINE = re.compile(r"^\*\*Model [AB]\*\* 「([^」]+)」")


class Provider:
    """Plays a noun for the mora asked, not yet in the conversation: the built-in lexicon
    plus the common-noun readings the referee knows (so one round runs 200 turns)."""

    def __init__(self) -> None:
        self.by_mora: dict[str, list[str]] = {}
        words = {e.reading for e in load()}
        # The referee's own noun-reading index (private, but this is a benchmark).
        words |= {
            h
            for h in map(to_hiragana, Analyser()._noun_index())
            if 3 <= len(h) <= 5 and is_kana_reading(h) and not h.endswith(("ー", "っ"))
        }
        for w in sorted(words):
            self.by_mora.setdefault(w[:1], []).append(w)
            self.by_mora.setdefault(w[:2], []).append(w)
        self.replied: list[tuple[str, float]] = []  # (word, monotonic time of the reply)
        self.rng = random.Random(7)
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        text = await request.text()
        asks = list(ASK.finditer(text))
        word = "みかん"
        if asks:
            fresh = [w for w in self.by_mora.get(asks[-1][1], []) if w not in text]
            safe = [w for w in fresh if not w.endswith("ん")]
            word = self.rng.choice(safe or fresh or ["みかん"])
        body = {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "model": "bench-model-1",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"「{word}」"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
        }
        response = web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(), content_type="application/json"
        )
        self.replied.append((word, time.monotonic()))
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def main(turns_wanted: int) -> None:
    standin, provider = DiscordStandIn(), Provider()
    await standin.start()
    await provider.start()
    tmp = Path(tempfile.mkdtemp(prefix="mikan-bench-discord-"))
    (tmp / "mikan.toml").write_text(roster_toml(provider), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_DISCORD")}
    env.update(DISCORD_TOKEN=TOKEN, MIKAN_DISCORD_API=standin.base)
    log = (tmp / "bot.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--pacing",
        "0",
        "--log-level",
        "WARNING",
        "--config",
        str(tmp / "mikan.toml"),
        "--db",
        str(tmp / "mikan.sqlite3"),
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=log,
    )
    deltas: list[float] = []
    rounds = 0
    try:
        await standin.wait_for(lambda: standin.ready.is_set(), 120)
        while len(deltas) < turns_wanted:
            rounds += 1
            seen_calls = len(standin.calls)
            provider.replied.clear()
            token = await standin.command(ADMIN_ID, "shiritori start", {"players": "a,b"})
            await standin.reply(token)

            def ended(seen: int = seen_calls) -> bool:
                return any(
                    c.json and c.json.get("embeds") and "おしまい" in c.json["embeds"][0]["title"]
                    for c in standin.calls[seen:]
                    if c.method == "POST" and c.path.endswith("/messages")
                )

            await standin.wait_for(ended, 600)
            reply_at = {}
            for word, at in provider.replied:
                reply_at.setdefault(word, at)  # a probe's later reply never replaces a turn's
            for c in standin.calls[seen_calls:]:
                if c.method != "POST" or c.path != f"/channels/{CHANNEL_ID}/messages":
                    continue
                m = LINE.match((c.json or {}).get("content") or "")
                if m and m[1] in reply_at and c.status == 200:
                    deltas.append((c.at - reply_at[m[1]]) * 1000)
    finally:
        proc.terminate()
        await proc.wait()
        await standin.stop()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    deltas.sort()
    p95 = deltas[min(len(deltas) - 1, int(0.95 * len(deltas)))]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")
    print(f"model turns measured: {len(deltas)} over {rounds} round(s), pacing 0")
    print(
        f"provider reply -> Discord message request: median {statistics.median(deltas):.2f} ms, "
        f"p95 {p95:.2f} ms, min {deltas[0]:.2f} ms, max {deltas[-1]:.2f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.turns))
