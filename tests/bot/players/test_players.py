"""Model adapters against a real HTTP server on 127.0.0.1 speaking each wire format."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging

import httpx
import pytest

from bot.players import make_adapter, make_client
from bot.players.base import CallRecord
from bot.players.roster import PlayerConfig
from bot.rounds.conversation import Conversation
from tests.support.providers import (
    ProviderServer,
    Reply,
    anthropic_ok,
    gemini_ok,
    openai_ok,
)

KEY = "sk-test-SECRET-0123456789abcdef"


class Sleeps:
    """Stands in for asyncio.sleep: records the waits asked for, waits for nothing."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIKAN_TEST_KEY", KEY)


@pytest.fixture(params=["shared", "httpx"])
async def client(request):
    """The product's shared client (httpx over aiohttp) and plain httpx: both must work."""
    c = make_client() if request.param == "shared" else httpx.AsyncClient()
    async with c:
        yield c


def conv() -> Conversation:
    c = Conversation("しりとりのルール")
    c.user("最初の言葉は「しりとり」です。あなたの番です。「り」から始まる言葉を答えてください。")
    c.assistant("「りんご」")
    c.user("B：「ごりら」\nあなたの番です。「ら」から始まる言葉を答えてください。")
    return c


def cfg(server: ProviderServer, provider: str, **kw: object) -> PlayerConfig:
    base = {"openai": f"{server.base}/v1", "anthropic": server.base, "gemini": server.base}
    values: dict = {
        "model": f"{provider}-model",
        "base_url": base[provider],
        "api_key_env": "MIKAN_TEST_KEY",
        "timeout_s": 5.0,
    }
    values.update(kw)
    return PlayerConfig(key=f"{provider}-player", provider=provider, **values)


def dump(record: CallRecord) -> str:
    return json.dumps(dataclasses.asdict(record), ensure_ascii=False, default=str)


# -- OpenAI-compatible ------------------------------------------------------------------


async def test_openai_request_and_record(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(body=openai_ok("「らっこ」", logprobs=None), headers={"x-request-id": "req_42"}),
    )
    adapter = make_adapter(
        cfg(
            provider_server,
            "openai",
            temperature=0.7,
            seed=5,
            max_tokens=64,
            logprobs=True,
            top_logprobs=3,
        ),
        client,
    )
    record = await adapter.call(conv().request())
    (seen,) = provider_server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert [m["role"] for m in seen.json["messages"]] == ["system", "user", "assistant", "user"]
    assert seen.json["messages"][2]["content"] == "「りんご」"
    assert seen.json["temperature"] == 0.7 and seen.json["seed"] == 5
    assert seen.json["max_tokens"] == 64  # a compatible server: max_tokens
    assert seen.json["logprobs"] is True and seen.json["top_logprobs"] == 3
    assert record.ok and record.text == "「らっこ」"
    assert record.model_reported == "gpt-test-2026-01-01"
    # normalised: completion_tokens 7 holds the 3 reasoning ones
    assert (record.input_tokens, record.output_tokens, record.reasoning_tokens) == (42, 4, 3)
    assert record.request_id == "req_42" and record.finish_reason == "stop"
    assert record.params == {
        "temperature": 0.7,
        "seed": 5,
        "max_tokens": 64,
        "logprobs": True,
        "top_logprobs": 3,
    }
    assert json.loads(record.request_body) == seen.json
    assert json.loads(record.response_body)["id"] == "chatcmpl-123"
    assert record.retries == 0 and len(record.attempts) == 1
    assert KEY not in dump(record)


async def test_openai_keeps_logprobs(provider_server: ProviderServer, client) -> None:
    lp = {"content": [{"token": "「", "logprob": -0.01, "top_logprobs": []}]}
    body = openai_ok()
    body["choices"][0]["logprobs"] = lp
    provider_server.script("/chat/completions", Reply(body=body))
    record = await make_adapter(cfg(provider_server, "openai", logprobs=True), client).call(
        conv().request()
    )
    assert record.logprobs == lp


async def test_openai_content_parts_are_joined(provider_server: ProviderServer, client) -> None:
    body = openai_ok()
    body["choices"][0]["message"]["content"] = [
        {"type": "text", "text": "では"},
        {"type": "text", "text": "「らっぱ」"},
    ]
    provider_server.script("/chat/completions", Reply(body=body))
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.ok and record.text == "では「らっぱ」"


async def test_openai_429_retry_after_then_success(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(
            429,
            {"error": {"message": "Rate limit reached", "type": "requests"}},
            headers={"retry-after": "2"},
        ),
    )
    sleeps = Sleeps()
    adapter = make_adapter(cfg(provider_server, "openai"), client, sleep=sleeps)
    record = await adapter.call(conv().request())
    assert record.ok and record.retries == 1
    first = record.attempts[0]
    assert (first.status, first.cause, first.server_asked_s) == (429, "http_429", 2.0)
    assert len(sleeps.calls) == 1 and sleeps.calls[0] >= 2.0  # at least what it asked
    assert first.wait_s == sleeps.calls[0]


async def test_retry_after_ms_is_honoured_for_real(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(429, {"error": {"message": "slow down"}}, headers={"retry-after-ms": "30"}),
    )
    adapter = make_adapter(cfg(provider_server, "openai"), client)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    record = await adapter.call(conv().request())
    assert record.ok and record.attempts[0].server_asked_s == pytest.approx(0.03)
    assert loop.time() - t0 >= 0.03


async def test_5xx_then_success(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(500, {"error": {"message": "boom"}}),
        Reply(503, "<html>unavailable</html>"),
    )
    sleeps = Sleeps()
    record = await make_adapter(cfg(provider_server, "openai"), client, sleep=sleeps).call(
        conv().request()
    )
    assert record.ok
    assert [a.cause for a in record.attempts] == ["http_500", "http_503", "ok"]
    assert len(sleeps.calls) == 2 and all(s >= 0 for s in sleeps.calls)


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(
    provider_server: ProviderServer, client, status: int
) -> None:
    provider_server.script(
        "/chat/completions", Reply(status, {"error": {"message": f"nope {status}"}})
    )
    sleeps = Sleeps()
    record = await make_adapter(cfg(provider_server, "openai"), client, sleep=sleeps).call(
        conv().request()
    )
    assert not record.ok and len(record.attempts) == 1 and sleeps.calls == []
    assert record.error.startswith(f"http_{status}") and f"nope {status}" in record.error


async def test_quota_exhausted_is_not_retried(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(
            429,
            {
                "error": {
                    "message": "You exceeded your current quota, check billing.",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
        ),
    )
    record = await make_adapter(cfg(provider_server, "openai"), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert not record.ok and len(record.attempts) == 1
    assert record.error.startswith("quota_exhausted")


async def test_timeouts_are_retried_then_give_up(provider_server: ProviderServer, client) -> None:
    provider_server.script("/chat/completions", Reply(hang=True), Reply(hang=True))
    sleeps = Sleeps()
    adapter = make_adapter(
        cfg(provider_server, "openai", timeout_s=0.2, max_attempts=2), client, sleep=sleeps
    )
    record = await adapter.call(conv().request())
    assert not record.ok
    assert [a.cause for a in record.attempts] == ["timeout", "timeout"]
    assert record.error.startswith("timeout") and "gave up" in record.error


async def test_total_time_bound_stops_long_waits(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(429, {"error": {"message": "come back tomorrow"}}, headers={"retry-after": "3600"}),
    )
    sleeps = Sleeps()
    adapter = make_adapter(cfg(provider_server, "openai", retry_total_s=30), client, sleep=sleeps)
    record = await adapter.call(conv().request())
    assert not record.ok and len(record.attempts) == 1 and sleeps.calls == []


async def test_transport_error_is_a_recorded_no_answer(client) -> None:
    # Nothing listens on this port (bound and closed by the OS just now).
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    config = PlayerConfig(
        "p", "openai", model="m", base_url=f"http://127.0.0.1:{port}/v1", max_attempts=2
    )
    record = await make_adapter(config, client, sleep=Sleeps()).call(conv().request())
    assert not record.ok and record.error.startswith("transport")
    assert [a.cause.split(":")[0] for a in record.attempts] == ["transport", "transport"]


@pytest.mark.parametrize(
    ("reply", "cause"),
    [
        (Reply(200, "{not json"), "malformed_response"),
        (Reply(200, ""), "malformed_response"),
        (Reply(200, {"id": "x", "choices": []}), "empty_response"),
        (Reply(200, {"id": "x"}), "empty_response"),
        (Reply(200, {"choices": [{"message": "weird"}]}), "malformed_response"),
        (Reply(200, [1, 2, 3]), "malformed_response"),
    ],
)
async def test_malformed_bodies_never_raise(
    provider_server: ProviderServer, client, reply: Reply, cause: str
) -> None:
    provider_server.script("/chat/completions", reply)
    record = await make_adapter(cfg(provider_server, "openai"), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert not record.ok and record.error.startswith(cause)
    assert len(record.attempts) == 1


async def test_empty_content_is_an_empty_reply(provider_server: ProviderServer, client) -> None:
    provider_server.script("/chat/completions", Reply(body=openai_ok("")))
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.ok and record.text == ""


async def test_token_limit_parameter_follows_the_endpoint(
    provider_server: ProviderServer, client
) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(
            400,
            {
                "error": {
                    "message": "Unsupported parameter: 'max_tokens' is not supported "
                    "with this model. Use 'max_completion_tokens' instead.",
                    "type": "invalid_request_error",
                    "param": "max_tokens",
                }
            },
        ),
    )
    adapter = make_adapter(cfg(provider_server, "openai", max_tokens=32), client, sleep=Sleeps())
    record = await adapter.call(conv().request())
    assert record.ok
    first, second = provider_server.seen
    assert "max_tokens" in first.json and "max_completion_tokens" not in first.json
    assert second.json["max_completion_tokens"] == 32 and "max_tokens" not in second.json
    assert record.params["max_completion_tokens"] == 32
    # remembered for the next call
    await adapter.call(conv().request())
    assert provider_server.seen[2].json["max_completion_tokens"] == 32


async def test_key_echoed_by_the_server_is_redacted(
    provider_server: ProviderServer, client, caplog: pytest.LogCaptureFixture
) -> None:
    provider_server.script(
        "/chat/completions",
        Reply(401, {"error": {"message": f"Incorrect API key provided: {KEY}"}}),
    )
    caplog.set_level(logging.DEBUG)
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert not record.ok and "[REDACTED]" in record.error
    assert KEY not in dump(record)
    assert KEY not in caplog.text


async def test_key_repeated_in_a_reply_is_redacted(provider_server: ProviderServer, client) -> None:
    provider_server.script("/chat/completions", Reply(body=openai_ok(f"「りんご」 key={KEY}")))
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.ok and record.text == "「りんご」 key=[REDACTED]"
    assert KEY not in dump(record)


async def test_missing_key_is_a_clear_no_answer(
    provider_server: ProviderServer, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIKAN_TEST_KEY")
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert not record.ok and "MIKAN_TEST_KEY" in record.error
    assert provider_server.seen == []


async def test_max_concurrency_limits_requests_in_flight(
    provider_server: ProviderServer, client
) -> None:
    gate = asyncio.Event()
    provider_server.script(
        "/chat/completions", *[Reply(body=openai_ok(), gate=gate) for _ in range(5)]
    )
    adapter = make_adapter(cfg(provider_server, "openai", max_concurrency=2), client)
    tasks = [asyncio.create_task(adapter.call(conv().request())) for _ in range(5)]
    await provider_server.wait_in_flight(2)
    # The other three are parked on the player's semaphore, so they sent nothing.
    while len(adapter._limit._waiters or ()) < 3:  # noqa: ASYNC110 - yields, no clock
        await asyncio.sleep(0)
    assert provider_server.in_flight == 2
    gate.set()
    records = await asyncio.gather(*tasks)
    assert all(r.ok for r in records)
    assert provider_server.max_in_flight == 2


# -- Anthropic ----------------------------------------------------------------------------


async def test_anthropic_request_and_blocks(provider_server: ProviderServer, client) -> None:
    body = anthropic_ok("では", "「らくだ」")
    body["content"].insert(0, {"type": "thinking", "thinking": "ら… らくだ", "signature": "s"})
    provider_server.script("/v1/messages", Reply(body=body, headers={"request-id": "req_a1"}))
    # The plain shape: with prompt caching off (test_fidelity.py has the cached one).
    record = await make_adapter(
        cfg(provider_server, "anthropic", temperature=1.0, prompt_cache=False), client
    ).call(conv().request())
    (seen,) = provider_server.seen
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == KEY and seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.json["system"] == "しりとりのルール"
    assert [m["role"] for m in seen.json["messages"]] == ["user", "assistant", "user"]
    assert seen.json["max_tokens"] == 1024 and seen.json["temperature"] == 1.0
    assert record.ok and record.text == "では「らくだ」"
    assert record.model_reported == "claude-test-20260101"
    assert (record.input_tokens, record.output_tokens) == (30, 5)
    assert record.request_id == "req_a1" and record.finish_reason == "end_turn"
    assert KEY not in dump(record)


async def test_anthropic_529_overloaded_is_retried(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        "/v1/messages",
        Reply(
            529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        ),
    )
    record = await make_adapter(cfg(provider_server, "anthropic"), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert record.ok and [a.cause for a in record.attempts] == ["http_529", "ok"]


# -- Gemini -------------------------------------------------------------------------------


async def test_gemini_request_and_parts(provider_server: ProviderServer, client) -> None:
    body = gemini_ok("「らいおん」", "…あっ")
    body["candidates"][0]["content"]["parts"].insert(0, {"text": "thinking...", "thought": True})
    provider_server.script(":generateContent", Reply(body=body))
    adapter = make_adapter(
        cfg(
            provider_server,
            "gemini",
            model="gemini-test",
            temperature=0.3,
            seed=9,
            max_tokens=50,
            top_logprobs=2,
        ),
        client,
    )
    record = await adapter.call(conv().request())
    (seen,) = provider_server.seen
    assert seen.path == "/v1beta/models/gemini-test:generateContent"
    assert seen.headers["x-goog-api-key"] == KEY
    assert [c["role"] for c in seen.json["contents"]] == ["user", "model", "user"]
    assert seen.json["systemInstruction"] == {"parts": [{"text": "しりとりのルール"}]}
    assert seen.json["generationConfig"] == {
        "temperature": 0.3,
        "seed": 9,
        "maxOutputTokens": 50,
        "responseLogprobs": True,
        "logprobs": 2,
    }
    assert record.ok and record.text == "「らいおん」…あっ"
    assert record.model_reported == "gemini-test-001" and record.reasoning_tokens == 11
    assert record.request_id == "resp-xyz"
    assert KEY not in dump(record)


async def test_gemini_retry_info_delay(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        ":generateContent",
        Reply(
            429,
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "quota",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
                    ],
                }
            },
        ),
    )
    sleeps = Sleeps()
    record = await make_adapter(cfg(provider_server, "gemini"), client, sleep=sleeps).call(
        conv().request()
    )
    assert record.ok and record.attempts[0].server_asked_s == 7.0 and sleeps.calls[0] >= 7.0


async def test_gemini_daily_quota_is_not_retried(provider_server: ProviderServer, client) -> None:
    provider_server.script(
        ":generateContent",
        Reply(
            429,
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "quota",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [{"quotaId": "GenerateRequestsPerDayPerProject"}],
                        }
                    ],
                }
            },
        ),
    )
    record = await make_adapter(cfg(provider_server, "gemini"), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert not record.ok and record.error.startswith("quota_exhausted")


@pytest.mark.parametrize(
    "body",
    [
        {"promptFeedback": {"blockReason": "SAFETY"}},
        {"candidates": [{"finishReason": "SAFETY", "index": 0}]},
        {"candidates": [{"content": {"parts": []}, "finishReason": "PROHIBITED_CONTENT"}]},
    ],
)
async def test_gemini_safety_blocks_are_clear_errors(
    provider_server: ProviderServer, client, body: dict
) -> None:
    provider_server.script(":generateContent", Reply(body=body))
    record = await make_adapter(cfg(provider_server, "gemini"), client, sleep=Sleeps()).call(
        conv().request()
    )
    # Not a move: the round records no_answer with reason "filtered", never a violation.
    assert not record.ok and record.error.startswith("filtered")
    assert record.finish == "filtered" and record.no_answer_reason == "filtered"
    assert len(record.attempts) == 1 and record.attempts[0].decision == "final"


async def test_gemini_empty_candidates(provider_server: ProviderServer, client) -> None:
    provider_server.script(":generateContent", Reply(body={"candidates": []}))
    record = await make_adapter(cfg(provider_server, "gemini"), client).call(conv().request())
    assert not record.ok and record.error.startswith("empty_response")


def test_only_the_key_as_written_is_redacted_and_placeholders_are_left_alone() -> None:
    from bot.players.redaction import redact

    key = "sk-Ab/Cd0123456789"
    assert redact(f"x {key} y", key) == "x [REDACTED] y"
    assert redact("sk-\\u0041b\\/Cd0123456789", key) == "[REDACTED]"  # escapes, any hex case
    assert redact("sk-Ab%2fCd0123456789", key) == "[REDACTED]"
    # The same letters in another case are another string: the reply keeps them.
    assert redact("SK-AB/CD0123456789", key) == "SK-AB/CD0123456789"
    # A local server's placeholder "key" is no secret: the model's words stay as said.
    assert redact("none of them: 「みかん」", "none") == "none of them: 「みかん」"
    assert redact("EMPTY", "EMPTY") == "EMPTY"
