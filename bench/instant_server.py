"""An instant OpenAI-compatible chat-completions server for benchmarks (not for tests).

    python bench/instant_server.py PORT_FILE [--shiritori] [--delay-ms N] [--jitter-ms J]
        [--slow-rate P --slow-ms N] [--violation-rate P] [--probe-reply TEXT] [--seed S]
        [--log PATH]

Raw asyncio HTTP/1.1 with keep-alive: it answers every POST at once, so what a benchmark
measures is the client's own cost. By default the answer is a fixed completion; with
--shiritori it plays: a lexicon word starting with the mora the last message asks for,
not yet in the conversation (so rounds run long). Writes its port to PORT_FILE.

Options for slow players (bench/sigterm.py), all off by default:

- ``--delay-ms N`` / ``--jitter-ms J``: every answer waits N ms plus a uniform 0..J ms.
- ``--slow-rate P`` / ``--slow-ms N``: that fraction of answers waits N ms instead (a
  slow tail: a call outlasting a shutdown deadline).
- ``--violation-rate P`` (with --shiritori): that fraction of turn answers breaks a rule,
  half a fitting word ending in ん, half a word already played (a repeat).
- ``--probe-reply TEXT``: a request whose last message is not a turn prompt (a probe)
  is answered TEXT instead of a word.
- ``--seed S``: seeds the random choices (words, violations, jitter).
- ``--log PATH``: one line per request as it arrives and as it is answered,
  ``arrive|answer MONOTONIC_S N opening|turn|probe`` (``opening``: a seat's first turn,
  the conversation holding only the system prompt and one turn prompt; ``time.monotonic``
  is system-wide, so another process can line its own clock up with it).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

TEMPLATE = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "model": "bench-model-1",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "「りんご」"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
}
BODY = json.dumps(TEMPLATE, ensure_ascii=False).encode()
HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req_bench\r\n"
    b"content-length: "
)
RESPONSE = HEAD + str(len(BODY)).encode() + b"\r\n\r\n" + BODY


_ASK = re.compile(r"「([^」]{1,3})」(?:・「[^」]{1,3}」)*から始まる")
_TURN = re.compile(r"から始まる|好きな言葉から|Say a word starting|Say any word")
_BY_MORA: dict[str, list[tuple[str, str]]] = {}


@dataclass
class Options:
    """How answers are made and timed (the defaults answer at once, as always)."""

    shiritori: bool = False
    delay_s: float = 0.0
    jitter_s: float = 0.0
    slow_rate: float = 0.0
    slow_s: float = 0.0
    violation_rate: float = 0.0
    probe_reply: str | None = None
    log: IO[str] | None = None


OPTS = Options()
RNG = random.Random()


def _load_lexicon() -> None:
    from bot.players.lexicon import load

    for e in load():
        for n in (1, 2):
            _BY_MORA.setdefault(e.reading[:n], []).append((e.reading, e.surface))


def _kind(body: bytes) -> str:
    """``probe`` when the last message is not a turn prompt (a silent probe's question),
    ``opening`` for a seat's first turn (system prompt and one message), else ``turn``."""
    try:
        messages = json.loads(body)["messages"]
        content = messages[-1]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "turn"
    if not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False)
    if not _TURN.search(content):
        return "probe"
    return "opening" if len(messages) <= 2 else "turn"


def _answer(content: str) -> bytes:
    payload = dict(TEMPLATE)
    payload["choices"] = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }
    ]
    data = json.dumps(payload, ensure_ascii=False).encode()
    return HEAD + str(len(data)).encode() + b"\r\n\r\n" + data


def _play(body: bytes) -> bytes:
    text = body.decode("utf-8", "replace")
    asks = list(_ASK.finditer(text))
    match = asks[-1] if asks else None
    word = "みかん"
    if match:
        candidates = _BY_MORA.get(match[1], [])
        fresh = [r for r, s in candidates if r not in text and s not in text]
        safe = [r for r in fresh if not r.endswith("ん")]
        if OPTS.violation_rate > 0 and RNG.random() < OPTS.violation_rate:
            if RNG.random() < 0.5:  # a fitting word that ends in ん
                word = RNG.choice([r for r in fresh if r.endswith("ん")] or ["みかん"])
            else:  # a repeat: a word of this conversation (or the start word)
                word = RNG.choice([r for r, _ in candidates if r in text] or ["しりとり"])
        else:
            word = RNG.choice(safe or fresh or ["みかん"])
    return _answer(f"「{word}」")


class Http(asyncio.Protocol):
    shiritori = False
    served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""
        self.due = 0.0  # when this connection's last delayed answer goes out (keeps order)

    def _log(self, what: str, n: int, kind: str) -> None:
        if OPTS.log is not None:
            OPTS.log.write(f"{what} {time.monotonic():.6f} {n} {kind}\n")
            OPTS.log.flush()

    def _send(self, reply: bytes, n: int, kind: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(reply)  # type: ignore[attr-defined]
        self._log("answer", n, kind)

    def _reply(self, body: bytes) -> None:
        if not (OPTS.delay_s or OPTS.jitter_s or OPTS.slow_rate or OPTS.probe_reply or OPTS.log):
            self.transport.write(_play(body) if self.shiritori else RESPONSE)  # type: ignore[attr-defined]
            return
        Http.served += 1
        n = Http.served
        kind = _kind(body)
        self._log("arrive", n, kind)
        if kind == "probe" and OPTS.probe_reply is not None:
            reply = _answer(OPTS.probe_reply)
        else:
            reply = _play(body) if self.shiritori else RESPONSE
        wait = OPTS.delay_s + RNG.uniform(0, OPTS.jitter_s)
        if OPTS.slow_rate > 0 and RNG.random() < OPTS.slow_rate:
            wait = OPTS.slow_s
        if wait <= 0:
            self._send(reply, n, kind)
            return
        loop = asyncio.get_running_loop()
        self.due = max(loop.time() + wait, self.due)
        loop.call_at(self.due, self._send, reply, n, kind)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buf[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = head_end + 4 + length
            if len(self.buf) < total:
                return
            body = self.buf[head_end + 4 : total]
            self.buf = self.buf[total:]
            self._reply(body)


async def main(port_file: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    await asyncio.to_thread(Path(port_file).write_text, str(port))
    async with server:
        await server.serve_forever()


def _options(argv: list[str]) -> tuple[str, Options, int | None]:
    import argparse

    ap = argparse.ArgumentParser(description="an instant (or slow) loopback chat server")
    ap.add_argument("port_file")
    ap.add_argument("--shiritori", action="store_true", help="play fitting words")
    ap.add_argument("--delay-ms", type=float, default=0.0, help="every answer waits this long")
    ap.add_argument("--jitter-ms", type=float, default=0.0, help="plus a uniform 0..this")
    ap.add_argument("--slow-rate", type=float, default=0.0, help="answers that are slow")
    ap.add_argument("--slow-ms", type=float, default=0.0, help="how slow those answers are")
    ap.add_argument("--violation-rate", type=float, default=0.0, help="turn answers that break")
    ap.add_argument("--probe-reply", help="the answer to a probe (default: played as a turn)")
    ap.add_argument("--seed", type=int, help="seeds words, violations and jitter")
    ap.add_argument("--log", help="append a line per request arriving and answered")
    a = ap.parse_args(argv)
    opts = Options(
        shiritori=a.shiritori,
        delay_s=max(0.0, a.delay_ms) / 1000,
        jitter_s=max(0.0, a.jitter_ms) / 1000,
        slow_rate=a.slow_rate,
        slow_s=max(0.0, a.slow_ms) / 1000,
        violation_rate=a.violation_rate,
        probe_reply=a.probe_reply,
        log=open(a.log, "a", encoding="utf-8") if a.log else None,  # noqa: SIM115
    )
    return a.port_file, opts, a.seed


if __name__ == "__main__":
    port_file, OPTS, seed = _options(sys.argv[1:])
    RNG.seed(seed)
    if OPTS.shiritori:
        Http.shiritori = True
        _load_lexicon()
    asyncio.run(main(port_file))
