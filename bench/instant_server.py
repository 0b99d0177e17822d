"""An instant OpenAI-compatible chat-completions server for benchmarks (not for tests).

    python bench/instant_server.py PORT_FILE [--shiritori]

Raw asyncio HTTP/1.1 with keep-alive: it answers every POST at once, so what a benchmark
measures is the client's own cost. By default the answer is a fixed completion; with
--shiritori it plays: a lexicon word starting with the mora the last message asks for,
not yet in the conversation (so rounds run long). Writes its port to PORT_FILE.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
from pathlib import Path

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
_BY_MORA: dict[str, list[tuple[str, str]]] = {}


def _load_lexicon() -> None:
    from bot.players.lexicon import load

    for e in load():
        for n in (1, 2):
            _BY_MORA.setdefault(e.reading[:n], []).append((e.reading, e.surface))


def _play(body: bytes) -> bytes:
    text = body.decode("utf-8", "replace")
    asks = list(_ASK.finditer(text))
    match = asks[-1] if asks else None
    word = "みかん"
    if match:
        candidates = _BY_MORA.get(match[1], [])
        fresh = [r for r, s in candidates if r not in text and s not in text]
        safe = [r for r in fresh if not r.endswith("ん")]
        word = random.choice(safe or fresh or ["みかん"])
    payload = dict(TEMPLATE)
    payload["choices"] = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": f"「{word}」"},
            "finish_reason": "stop",
        }
    ]
    data = json.dumps(payload, ensure_ascii=False).encode()
    return HEAD + str(len(data)).encode() + b"\r\n\r\n" + data


class Http(asyncio.Protocol):
    shiritori = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""

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
            reply = _play(body) if self.shiritori else RESPONSE
            self.transport.write(reply)  # type: ignore[attr-defined]


async def main(port_file: str) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Http, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    await asyncio.to_thread(Path(port_file).write_text, str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if "--shiritori" in sys.argv:
        Http.shiritori = True
        _load_lexicon()
    asyncio.run(main(sys.argv[1]))
