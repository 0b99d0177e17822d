"""A real HTTP server on 127.0.0.1 that speaks the providers' wire formats.

Tests script its answers (``server.script(path, Reply(...), ...)``); when a path has no
script left it answers with a plausible success for that provider. Every request is
recorded (path, headers, parsed JSON) for assertions.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> raw text
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # never answer (until the client gives up)
    gate: asyncio.Event | None = None  # answer once this is set
    # A chunked body of this many bytes (None: forever) instead of ``body``, sent in
    # 64 KiB pieces of JSON-looking filler; for the size limit.
    chunked: int | None = None
    endless: bool = False


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    json: Any
    raw: str


def openai_ok(text: str = "「りんご」", model: str = "gpt-test-2026-01-01", **extra: Any) -> dict:
    body = {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 42,
            "completion_tokens": 7,
            "total_tokens": 49,
            "completion_tokens_details": {"reasoning_tokens": 3},
        },
    }
    body.update(extra)
    return body


def anthropic_ok(*texts: str, model: str = "claude-test-20260101") -> dict:
    return {
        "id": "msg_01ABC",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": t} for t in (texts or ("「りんご」",))],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 30, "output_tokens": 5},
    }


def gemini_ok(*texts: str, model: str = "gemini-test-001") -> dict:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": t} for t in (texts or ("「りんご」",))],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 20,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 11,
            "totalTokenCount": 35,
        },
        "modelVersion": model,
        "responseId": "resp-xyz",
    }


class ProviderServer:
    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._never = asyncio.Event()
        self.request_arrived = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.bytes_sent = 0
        # Set to count default replies' usage as the provider's cache would
        # (tests/support/caching.py).
        self.openai_cache: Any = None
        self.rate_limit: Any = None  # a tests.support.ratelimit.RateLimit to enforce
        self.anthropic_cache: Any = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, path_suffix: str, *replies: Reply) -> None:
        self._scripts.setdefault(path_suffix, []).extend(replies)

    def _default(self, path: str, sent: Any = None) -> Reply:
        if path.endswith("/chat/completions"):
            body = openai_ok()
            if self.openai_cache is not None and isinstance(sent, dict):
                body["usage"] = self.openai_cache.usage(sent)
            return Reply(body=body, headers={"x-request-id": "req_openai_1"})
        if path.endswith("/v1/messages"):
            body = anthropic_ok()
            if self.anthropic_cache is not None and isinstance(sent, dict):
                body["usage"] = self.anthropic_cache.usage(sent)
            return Reply(body=body, headers={"request-id": "req_anthropic_1"})
        if path.endswith(":generateContent"):
            return Reply(body=gemini_ok())
        return Reply(status=404, body={"error": {"message": "no such route"}})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        self.seen.append(Seen(request.path, dict(request.headers), parsed, raw))
        self.request_arrived.set()
        async with self._changed:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._changed.notify_all()
        try:
            return await self._answer(request, parsed)
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    async def wait_in_flight(self, n: int) -> None:
        """Wait (on the event, not the clock) until ``n`` requests are being held."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight >= n)

    async def _answer(self, request: web.Request, sent: Any = None) -> web.StreamResponse:
        reply = None
        for suffix, queue in self._scripts.items():
            if request.path.endswith(suffix) and queue:
                reply = queue.pop(0)
                break
        reply = reply or self._default(request.path, sent)
        if self.rate_limit is not None:
            fits, limit_headers = self.rate_limit.take(sent)
            if not fits:
                reply = Reply(
                    429,
                    {"error": {"message": "Rate limit reached", "type": "requests"}},
                )
            reply = Reply(
                reply.status, reply.body, {**reply.headers, **limit_headers}, reply.hang, reply.gate
            )
        if reply.hang:
            await self._never.wait()
        if reply.gate is not None:
            await reply.gate.wait()
        if reply.chunked is not None or reply.endless:
            return await self._chunked(request, reply)
        if isinstance(reply.body, str):
            return web.Response(
                status=reply.status,
                text=reply.body,
                headers=reply.headers,
                content_type="application/json",
            )
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    async def _chunked(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        response = web.StreamResponse(status=reply.status, headers=reply.headers)
        response.content_type = "application/json"
        response.enable_chunked_encoding()
        await response.prepare(request)
        piece = b'{"pad": "' + b"x" * (64 * 1024 - 20) + b'"},'
        sent = 0
        try:
            while reply.endless or sent < (reply.chunked or 0):
                await response.write(piece)
                sent += len(piece)
                self.bytes_sent = sent
        except (ConnectionResetError, RuntimeError):
            pass  # the client stopped reading: what the limit is for
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._never.set()
        if self._runner:
            await self._runner.cleanup()
