"""Provider fidelity: each reply read as the provider meant it, against loopback stand-ins.

Each scenario is a body (or error) in the provider's documented wire format: finish
reasons, refusals, thinking, per-minute and per-day quotas, unsupported parameters,
usage with cached and reasoning tokens, oversized bodies.
"""

from __future__ import annotations

import json

import httpx
import pytest

from bot.players import capabilities, make_adapter, make_client
from bot.players.reasoning import split_thinking
from bot.players.roster import PlayerConfig, Roster, RosterError
from tests.bot.players.test_players import KEY, Sleeps, cfg, conv
from tests.support.providers import ProviderServer, Reply, anthropic_ok, gemini_ok, openai_ok


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIKAN_TEST_KEY", KEY)


@pytest.fixture(params=["shared", "httpx"])
async def client(request):
    c = make_client() if request.param == "shared" else httpx.AsyncClient()
    async with c:
        yield c


def openai_choice(message: dict, finish: str | None, **usage: object) -> dict:
    body = openai_ok()
    body["choices"][0]["message"] = {"role": "assistant", **message}
    body["choices"][0]["finish_reason"] = finish
    if usage:
        body["usage"] = usage
    return body


# -- 1. the finish taxonomy --------------------------------------------------------------

NO_TEXT = [
    # a reasoning model spent its whole budget thinking
    (
        "openai",
        openai_choice(
            {"content": ""},
            "length",
            prompt_tokens=50,
            completion_tokens=256,
            completion_tokens_details={"reasoning_tokens": 256},
        ),
        "truncated",
        "length",
    ),
    ("openai", openai_choice({"content": None}, "content_filter"), "filtered", "content_filter"),
    (
        "openai",
        openai_choice({"content": None, "refusal": "I can't help with that."}, "stop"),
        "refused",
        "stop",
    ),
    ("openai", openai_choice({"content": ""}, "error"), "error", "error"),  # OpenRouter
    (
        "anthropic",
        {**anthropic_ok(), "content": [], "stop_reason": "refusal"},
        "refused",
        "refusal",
    ),
    (
        "anthropic",
        {
            **anthropic_ok(),
            "content": [{"type": "thinking", "thinking": "「りんご」かな…", "signature": "s"}],
            "stop_reason": "max_tokens",
        },
        "truncated",
        "max_tokens",
    ),
    (
        "gemini",
        {
            "candidates": [{"content": {"role": "model"}, "finishReason": "MAX_TOKENS"}],
            "usageMetadata": {"promptTokenCount": 20, "thoughtsTokenCount": 64},
            "modelVersion": "gemini-test-001",
        },
        "truncated",
        "MAX_TOKENS",
    ),
    ("gemini", {"candidates": [{"finishReason": "SAFETY"}]}, "filtered", "SAFETY"),
    ("gemini", {"candidates": [{"finishReason": "RECITATION"}]}, "filtered", "RECITATION"),
    (
        "gemini",
        {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}},
        "filtered",
        "blockReason:PROHIBITED_CONTENT",
    ),
]

PATHS = {"openai": "/chat/completions", "anthropic": "/v1/messages", "gemini": ":generateContent"}


@pytest.mark.parametrize(("provider", "body", "finish", "raw"), NO_TEXT)
async def test_a_reply_with_no_text_that_did_not_stop_is_no_answer_with_its_code(
    provider_server: ProviderServer, client, provider: str, body: dict, finish: str, raw: str
) -> None:
    provider_server.script(PATHS[provider], Reply(body=body))
    record = await make_adapter(cfg(provider_server, provider), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert not record.ok
    assert record.finish == finish and record.finish_reason == raw
    assert record.no_answer_reason == finish
    assert record.text == ""
    assert len(record.attempts) == 1 and record.attempts[0].decision == "final"


async def test_a_refusal_keeps_what_the_model_said(provider_server, client) -> None:
    provider_server.script(
        PATHS["openai"],
        Reply(body=openai_choice({"content": None, "refusal": "I can't help."}, "stop")),
    )
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.error == "refused: the reply ended stop with no text: I can't help."


async def test_a_truncated_reply_with_text_is_kept_for_the_round_to_judge(
    provider_server, client
) -> None:
    provider_server.script(
        PATHS["anthropic"],
        Reply(body={**anthropic_ok("「りんご」です。次は「ご」"), "stop_reason": "max_tokens"}),
    )
    record = await make_adapter(cfg(provider_server, "anthropic"), client).call(conv().request())
    assert record.ok and record.finish == "truncated" and record.text.startswith("「りんご」")


# -- 2. reasoning kept apart -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "visible", "thinking"),
    [
        (
            "<think>「ごりら」はだめ…「らっこ」</think>\n\n「らくだ」",
            "「らくだ」",
            "「ごりら」はだめ…「らっこ」",
        ),
        ("「らくだ」", "「らくだ」", None),
        ("<think>まだ考え中「らっこ", "", "まだ考え中「らっこ"),  # cut while thinking
        (
            "考えた「らっこ」\n</think>\n「らくだ」",
            "「らくだ」",
            "考えた「らっこ」",
        ),  # open tag in the template
        ("<THINK>a</THINK>b<think>c</think>", "b", "a\n\nc"),
        # A block closes at the next closing tag of its own name; tags inside are text.
        ("<think>a<think>b</think>「らくだ」", "「らくだ」", "a<think>b"),
        ("<reasoning>a</think>b</reasoning>「らくだ」", "「らくだ」", "a</think>b"),
    ],
)
def test_split_thinking(text: str, visible: str, thinking: str | None) -> None:
    assert split_thinking(text) == (visible, thinking)


def test_split_thinking_reads_a_reply_of_unclosed_tags_in_one_pass() -> None:
    # 200,000 unclosed tags (1.4 MB): a lazy block regex rescans to the end for each one
    # (hours); one pass over the tags takes milliseconds. The answer is what matters here.
    text = "「らくだ」" + "<think>" * 200_000
    assert split_thinking(text) == ("「らくだ」", "<think>" * 199_999)


async def test_inline_think_block_is_not_the_reply(provider_server, client) -> None:
    provider_server.script(
        PATHS["openai"],
        Reply(body=openai_ok("<think>「らっこ」にしようかな、いや</think>「らくだ」")),
    )
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.ok and record.text == "「らくだ」"
    assert record.reasoning == "「らっこ」にしようかな、いや"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields_are_kept_apart(provider_server, client, field: str) -> None:
    provider_server.script(
        PATHS["openai"],
        Reply(body=openai_choice({"content": "「らくだ」", field: "「らっこ」…"}, "stop")),
    )
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.text == "「らくだ」" and record.reasoning == "「らっこ」…"


async def test_anthropic_thinking_blocks_and_gemini_thought_parts(provider_server, client) -> None:
    provider_server.script(
        PATHS["anthropic"],
        Reply(
            body={
                **anthropic_ok(),
                "content": [
                    {"type": "thinking", "thinking": "「らっこ」?", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "「らくだ」"},
                ],
            }
        ),
    )
    body = gemini_ok("「らくだ」")
    body["candidates"][0]["content"]["parts"].insert(0, {"text": "「らっこ」?", "thought": True})
    provider_server.script(PATHS["gemini"], Reply(body=body))
    claude = await make_adapter(cfg(provider_server, "anthropic"), client).call(conv().request())
    gemini = await make_adapter(cfg(provider_server, "gemini"), client).call(conv().request())
    assert claude.text == "「らくだ」"
    assert claude.reasoning == "「らっこ」?\n\n[1 redacted thinking block(s)]"
    assert gemini.text == "「らくだ」" and gemini.reasoning == "「らっこ」?"
    assert gemini.reasoning_tokens == 11


# -- 3. retry rules ----------------------------------------------------------------------


def gemini_429(quota_id: str, delay: str = "7s") -> Reply:
    return Reply(
        429,
        {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and "
                "billing details. For more information on this error, head to: "
                "https://ai.google.dev/gemini-api/docs/rate-limits.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/"
                                "generate_content_free_tier_requests",
                                "quotaId": quota_id,
                                "quotaValue": "10",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
                ],
            }
        },
    )


async def test_gemini_per_minute_quota_is_retried_after_its_retry_delay(
    provider_server, client
) -> None:
    provider_server.script(
        PATHS["gemini"], gemini_429("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    )
    sleeps = Sleeps()
    record = await make_adapter(cfg(provider_server, "gemini"), client, sleep=sleeps).call(
        conv().request()
    )
    assert record.ok and record.text == "「りんご」"
    first, second = record.attempts
    assert (first.cause, first.decision, first.server_asked_s) == ("http_429", "retry", 7.0)
    assert "PerMinute" in (first.note or "")
    assert sleeps.calls and sleeps.calls[0] >= 7.0
    assert second.decision == "ok"


async def test_gemini_per_day_quota_is_final(provider_server, client) -> None:
    provider_server.script(
        PATHS["gemini"], gemini_429("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "36s")
    )
    sleeps = Sleeps()
    record = await make_adapter(cfg(provider_server, "gemini"), client, sleep=sleeps).call(
        conv().request()
    )
    assert not record.ok and record.error.startswith("quota_exhausted")
    (only,) = record.attempts
    assert only.decision == "final" and "PerDay" in (only.note or "")
    assert sleeps.calls == []


# -- 4. capability-aware requests --------------------------------------------------------


def openai_unsupported(param: str) -> Reply:
    return Reply(
        400,
        {
            "error": {
                "message": f"Unsupported parameter: '{param}' is not supported with this model.",
                "type": "invalid_request_error",
                "param": param,
                "code": "unsupported_parameter",
            }
        },
    )


async def test_an_unsupported_temperature_is_dropped_once_and_remembered(
    provider_server, client
) -> None:
    provider_server.script(PATHS["openai"], openai_unsupported("temperature"))
    player = cfg(provider_server, "openai", temperature=0.7, seed=3)
    adapter = make_adapter(player, client, sleep=Sleeps())
    first = await adapter.call(conv().request())
    assert first.ok and first.params_dropped == ["temperature"]
    assert "temperature" not in first.params and first.params["seed"] == 3
    assert [a.cause for a in first.attempts] == ["param_dropped", "ok"]
    assert first.attempts[0].decision == "retry"
    # Later calls, even from another adapter for the same model, go without it.
    again = await make_adapter(player, client).call(conv().request())
    assert again.ok and again.params_dropped == ["temperature"] and len(again.attempts) == 1
    sent = [s.json for s in provider_server.seen]
    assert "temperature" in sent[0] and all("temperature" not in b for b in sent[1:])
    assert capabilities.dropped(("openai", player.url_base, player.model)) == {"temperature"}


async def test_anthropic_and_gemini_rejections_drop_the_named_parameter(
    provider_server, client
) -> None:
    provider_server.script(
        PATHS["anthropic"],
        Reply(
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "`temperature` is deprecated for this model.",
                },
            },
        ),
    )
    provider_server.script(
        PATHS["gemini"],
        Reply(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "Logprobs is not enabled for models/gemini-model",
                    "status": "INVALID_ARGUMENT",
                }
            },
        ),
    )
    claude = await make_adapter(
        cfg(provider_server, "anthropic", temperature=0.5), client, sleep=Sleeps()
    ).call(conv().request())
    gemini = await make_adapter(
        cfg(provider_server, "gemini", logprobs=True, top_logprobs=2, temperature=0.5),
        client,
        sleep=Sleeps(),
    ).call(conv().request())
    assert claude.ok and claude.params_dropped == ["temperature"]
    assert gemini.ok and gemini.params_dropped == ["logprobs", "responseLogprobs"]
    assert gemini.params == {"temperature": 0.5}


async def test_a_400_for_something_else_is_not_retried(provider_server, client) -> None:
    provider_server.script(
        PATHS["openai"],
        Reply(400, {"error": {"message": "messages: too long", "type": "invalid_request_error"}}),
    )
    record = await make_adapter(
        cfg(provider_server, "openai", temperature=0.5), client, sleep=Sleeps()
    ).call(conv().request())
    assert not record.ok and len(record.attempts) == 1 and record.params_dropped == []


@pytest.mark.parametrize(
    ("provider", "temperature", "ok"),
    [
        ("anthropic", 1.0, True),
        ("anthropic", 1.2, False),
        ("openai", 2.0, True),
        ("gemini", 2.5, False),
    ],
)
def test_temperature_ranges_per_provider(provider: str, temperature: float, ok: bool) -> None:
    toml = f'[players.p]\nprovider = "{provider}"\nmodel = "m"\ntemperature = {temperature}'
    if ok:
        assert Roster.parse(toml)["p"].temperature == temperature
    else:
        with pytest.raises(RosterError, match="player 'p': field 'temperature' must be from 0 to"):
            Roster.parse(toml)


async def test_anthropic_version_is_configurable(provider_server, client) -> None:
    await make_adapter(cfg(provider_server, "anthropic"), client).call(conv().request())
    await make_adapter(
        cfg(provider_server, "anthropic", anthropic_version="2099-01-01"), client
    ).call(conv().request())
    assert [s.headers["anthropic-version"] for s in provider_server.seen] == [
        "2023-06-01",
        "2099-01-01",
    ]


# -- 5. normalised usage -----------------------------------------------------------------


async def test_usage_is_normalised_per_provider(provider_server, client) -> None:
    provider_server.script(
        PATHS["openai"],
        Reply(
            body=openai_ok(
                system_fingerprint="fp_44709d6fcb",
                usage={
                    "prompt_tokens": 2006,
                    "completion_tokens": 300,
                    "total_tokens": 2306,
                    "prompt_tokens_details": {"cached_tokens": 1920},
                    "completion_tokens_details": {"reasoning_tokens": 256},
                },
            )
        ),
    )
    claude_body = anthropic_ok()
    claude_body["usage"] = {
        "input_tokens": 50,
        "cache_creation_input_tokens": 200,
        "cache_read_input_tokens": 1800,
        "output_tokens": 12,
    }
    provider_server.script(PATHS["anthropic"], Reply(body=claude_body))
    gemini_body = gemini_ok()
    gemini_body["usageMetadata"] = {
        "promptTokenCount": 2000,
        "cachedContentTokenCount": 1500,
        "candidatesTokenCount": 4,
        "thoughtsTokenCount": 90,
        "totalTokenCount": 2094,
    }
    provider_server.script(PATHS["gemini"], Reply(body=gemini_body))
    gpt = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    claude = await make_adapter(cfg(provider_server, "anthropic"), client).call(conv().request())
    gemini = await make_adapter(cfg(provider_server, "gemini"), client).call(conv().request())

    def usage(r):
        return (
            r.input_tokens,
            r.cached_input_tokens,
            r.cache_write_tokens,
            r.output_tokens,
            r.reasoning_tokens,
        )

    assert usage(gpt) == (2006, 1920, None, 44, 256)
    assert gpt.system_fingerprint == "fp_44709d6fcb"
    assert gpt.usage["prompt_tokens_details"] == {"cached_tokens": 1920}  # raw kept
    assert usage(claude) == (2050, 1800, 200, 12, None)
    assert usage(gemini) == (2000, 1500, None, 4, 90)


# -- 7. limits ---------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [Reply(chunked=50 * 1024 * 1024), Reply(endless=True)])
async def test_a_body_over_the_limit_is_cut_off_as_too_large(
    provider_server, client, reply: Reply
) -> None:
    provider_server.script(PATHS["openai"], reply)
    record = await make_adapter(
        cfg(provider_server, "openai", max_response_bytes=1024 * 1024), client
    ).call(conv().request())
    assert not record.ok and record.error.startswith("too_large")
    assert record.attempts[0].cause == "too_large" and record.attempts[0].decision == "final"
    assert len(record.response_body or "") <= 2000


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    provider_server, client
) -> None:
    provider_server.script(PATHS["openai"], Reply(body=openai_ok("「" + "ら" * 5000 + "」")))
    record = await make_adapter(
        cfg(provider_server, "openai", max_response_bytes=4096), client
    ).call(conv().request())
    assert not record.ok and record.error.startswith("too_large")


async def test_a_key_across_the_cut_of_a_too_large_body_leaves_nothing_behind(
    provider_server, client
) -> None:
    # The key starts 8 characters before the 2,000 kept: cut first, its head would stay.
    body = '{"pad": "' + "x" * (2000 - 9 - 8) + KEY + "y" * 10_000 + '"}'
    provider_server.script(PATHS["openai"], Reply(body=body))
    record = await make_adapter(
        cfg(provider_server, "openai", max_response_bytes=4096), client
    ).call(conv().request())
    assert record.error.startswith("too_large")
    assert KEY[:8] not in (record.response_body or "") and "[REDAC" in record.response_body
    assert len(record.response_body) <= 2000


def test_the_default_limit_is_4_mib() -> None:
    assert PlayerConfig("p", "openai", model="m").max_response_bytes == 4 * 1024 * 1024


# -- 9. redaction ------------------------------------------------------------------------


def key_forms() -> list[str]:
    from urllib.parse import quote

    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    half = "".join(f"\\u{ord(c):04X}" if i % 2 else c for i, c in enumerate(KEY))
    return [KEY, quote(KEY, safe=""), escaped, half]


async def test_a_key_echoed_in_every_field_in_any_spelling_is_recorded_nowhere(
    provider_server, client
) -> None:
    _plain, url, escaped, half = key_forms()
    raw = json.dumps(openai_ok("「りんご」 " + KEY, model=f"gpt-{KEY}"))
    raw = raw.replace('"chatcmpl-123"', f'"{escaped}"').replace('"stop"', f'"stop {half}"')
    provider_server.script(
        PATHS["openai"],
        Reply(500, {"error": {"message": f"bad key {url}"}}, headers={"x-request-id": KEY}),
        Reply(body=raw, headers={"x-request-id": f"req-{url}"}),
    )
    record = await make_adapter(cfg(provider_server, "openai"), client, sleep=Sleeps()).call(
        conv().request()
    )
    assert record.ok
    dumped = json.dumps(__import__("dataclasses").asdict(record), ensure_ascii=False, default=str)
    for form in key_forms():
        assert form not in dumped
    assert "SECRET" not in dumped
    assert record.model_reported == "gpt-[REDACTED]"


# -- 6. prompt caching -------------------------------------------------------------------


async def test_anthropic_cache_breakpoints_and_the_off_switch(provider_server, client) -> None:
    await make_adapter(cfg(provider_server, "anthropic"), client).call(conv().request())
    await make_adapter(cfg(provider_server, "anthropic", prompt_cache=False), client).call(
        conv().request()
    )
    on, off = (s.json for s in provider_server.seen)
    ephemeral = {"type": "ephemeral"}
    assert on["system"] == [
        {"type": "text", "text": "しりとりのルール", "cache_control": ephemeral}
    ]
    users = [m for m in on["messages"] if m["role"] == "user"]
    assert all(m["content"][0]["cache_control"] == ephemeral for m in users)
    assert on["messages"][1] == {"role": "assistant", "content": "「りんご」"}
    assert off["system"] == "しりとりのルール" and "cache_control" not in json.dumps(off)


async def test_openai_prompt_cache_key_is_the_requests_and_can_be_turned_off(
    provider_server, client
) -> None:
    from dataclasses import replace

    request = replace(conv().request(), cache_key="mikan-s-7-1")
    await make_adapter(cfg(provider_server, "openai"), client).call(request)
    await make_adapter(cfg(provider_server, "openai", prompt_cache=False), client).call(request)
    on, off = (s.json for s in provider_server.seen)
    assert on["prompt_cache_key"] == "mikan-s-7-1" and "prompt_cache_key" not in off


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_a_long_round_is_served_mostly_from_the_cache(
    provider_server, client, provider: str
) -> None:
    from tests.support.caching import AnthropicCache, OpenAICache, play_round

    provider_server.openai_cache = OpenAICache(machines=8)
    provider_server.anthropic_cache = AnthropicCache()
    players = [
        make_adapter(PlayerConfig(**{**vars_of(cfg(provider_server, provider)), "key": k}), client)
        for k in ("a", "b")
    ]
    records = await play_round(players, turns=100)  # a long round: 50 calls a seat
    sent = sum(r.input_tokens for r in records)
    cached = sum(r.cached_input_tokens for r in records)
    assert all(r.ok for r in records) and sent > 20_000
    assert cached / sent >= 0.6
    # The first calls are under the cacheable minimum: nothing read, nothing written.
    assert records[0].cached_input_tokens == 0


def vars_of(config: PlayerConfig) -> dict:
    from dataclasses import fields

    return {f.name: getattr(config, f.name) for f in fields(config)}


async def test_memory_stays_bounded_whatever_the_server_sends(provider_server, client) -> None:
    """An endless chunked body at the default 4 MiB limit: the call allocates about the
    limit, never what the server sends (Python's own allocations, traced)."""
    import tracemalloc

    provider_server.script(PATHS["openai"], Reply(endless=True))
    adapter = make_adapter(cfg(provider_server, "openai"), client)
    tracemalloc.start()
    try:
        record = await adapter.call(conv().request())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.error.startswith("too_large")
    assert provider_server.bytes_sent > 4 * 1024 * 1024  # it kept sending past the limit
    assert peak < 24 * 1024 * 1024


async def test_an_openrouter_error_finish_says_what_went_wrong(provider_server, client) -> None:
    body = openai_choice({"content": ""}, "error")
    body["choices"][0]["error"] = {"code": 502, "message": "upstream provider unavailable"}
    provider_server.script(PATHS["openai"], Reply(body=body))
    record = await make_adapter(cfg(provider_server, "openai"), client).call(conv().request())
    assert record.no_answer_reason == "error"
    assert record.error.endswith("upstream provider unavailable")


@pytest.mark.parametrize(
    ("error", "dropped"),
    [
        # OpenAI's reasoning models: a value other than the default, named in error.param
        (
            {
                "message": "Unsupported value: 'temperature' does not support 0.7 with this "
                "model. Only the default (1) value is supported.",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": "unsupported_value",
            },
            ["temperature"],
        ),
        # a compatible server that names it only in the message; top_logprobs goes along
        (
            {"message": "logprobs is not supported by this model", "code": 400},
            ["logprobs", "top_logprobs"],
        ),
    ],
)
async def test_the_rejected_parameter_is_found_in_param_or_message(
    provider_server, client, error: dict, dropped: list[str]
) -> None:
    provider_server.script(PATHS["openai"], Reply(400, {"error": error}))
    player = cfg(provider_server, "openai", temperature=0.7, logprobs=True, top_logprobs=2)
    record = await make_adapter(player, client, sleep=Sleeps()).call(conv().request())
    assert record.ok and record.params_dropped == dropped
    assert not set(dropped) & set(record.params)


async def test_a_wrong_value_named_in_param_is_not_dropped(provider_server, client) -> None:
    # error.param names the seed, but its value was wrong, not the parameter unsupported:
    # the call fails, and the seed stays in every request (the roster's to fix).
    error = {
        "message": "Invalid 'seed': integer above maximum value.",
        "type": "invalid_request_error",
        "param": "seed",
        "code": "integer_above_max_value",
    }
    provider_server.script(PATHS["openai"], Reply(400, {"error": error}))
    player = cfg(provider_server, "openai", seed=3)
    record = await make_adapter(player, client, sleep=Sleeps()).call(conv().request())
    assert not record.ok and not record.params_dropped
    assert capabilities.dropped(("openai", player.url_base, player.model)) == frozenset()
