"""Pacing to the rate limits providers announce (headers as OpenAI and Anthropic send)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.players import make_adapter
from bot.players.pacing import Pacer, parse_reset
from tests.bot.players.test_players import KEY, Sleeps, cfg, conv
from tests.support.providers import ProviderServer, Reply, openai_ok
from tests.support.ratelimit import RateLimit


class FakeTime:
    """A clock that only the fake sleep moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIKAN_TEST_KEY", KEY)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("7", 7.0), (None, None)],
)
def test_reset_durations(value: str | None, seconds: float | None) -> None:
    assert parse_reset(value) == seconds


def test_reset_as_an_rfc_3339_time() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    later = (now + timedelta(seconds=30)).isoformat().replace("+00:00", "Z")
    assert parse_reset(later, now) == 30.0


async def test_no_room_left_waits_for_the_refill_the_reset_implies() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    _, ticket = await pacer.acquire(100)
    assert t.sleeps == []  # nothing announced yet: no wait
    pacer.observe(
        {
            "x-ratelimit-limit-requests": "600",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6s",  # 600 refill in 6 s: 100 a second
        },
        ticket,
    )
    waited, _ = await pacer.acquire(100)
    assert waited == pytest.approx(0.01)
    # The next one finds the room the first took: another 10 ms.
    waited, _ = await pacer.acquire(100)
    assert waited == pytest.approx(0.01)


async def test_calls_in_flight_count_against_the_room_announced() -> None:
    """A response says what the provider had counted when that call was sent: calls
    sent after it are still to be counted."""
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    _, first = await pacer.acquire(0)
    for _ in range(3):
        await pacer.acquire(0)  # three more in flight
    pacer.observe(
        {
            "anthropic-ratelimit-requests-limit": "60",
            "anthropic-ratelimit-requests-remaining": "3",
            "anthropic-ratelimit-requests-reset": (
                datetime.now(UTC) + timedelta(seconds=57)
            ).isoformat(),
        },
        first,
    )
    waited, _ = await pacer.acquire(0)  # 3 left less 3 in flight: wait for one
    assert waited == pytest.approx(1.0, rel=0.05)


async def test_token_limits_count_the_request_estimate() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    _, ticket = await pacer.acquire(0)
    pacer.observe(
        {
            "x-ratelimit-limit-tokens": "60000",
            "x-ratelimit-remaining-tokens": "500",
            "x-ratelimit-reset-tokens": "59.5s",  # 1,000 tokens a second
        },
        ticket,
    )
    assert (await pacer.acquire(400))[0] == 0.0
    assert (await pacer.acquire(600))[0] == pytest.approx(0.5)


async def test_a_retry_after_holds_every_call_back() -> None:
    t = FakeTime()
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    _, ticket = await pacer.acquire(0)
    pacer.observe({}, ticket, retry_after=5.0)
    assert (await pacer.acquire(0))[0] == pytest.approx(5.0)


async def test_known_limits_where_the_provider_announces_none() -> None:
    t = FakeTime()
    pacer = Pacer(requests_per_minute=60, clock=t.clock, sleep=t.sleep)
    waits = [(await pacer.acquire(0))[0] for _ in range(4)]
    assert waits == [0.0, pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0)]


async def test_the_adapter_paces_to_the_headers_and_records_the_wait(
    provider_server: ProviderServer,
) -> None:
    headers = {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "60s",
    }
    provider_server.script("/chat/completions", Reply(body=openai_ok(), headers=headers))
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        adapter = make_adapter(cfg(provider_server, "openai"), client, sleep=sleeps)
        first = await adapter.call(conv().request())
        second = await adapter.call(conv().request())
        off = make_adapter(cfg(provider_server, "openai", pace=False), client, sleep=Sleeps())
        await off.call(conv().request())
    assert first.attempts[0].paced_s == 0.0
    assert second.attempts[0].paced_s == pytest.approx(1.0, rel=0.05)
    assert sleeps.calls == [second.attempts[0].paced_s]


async def test_against_an_enforced_limit_nothing_is_refused(
    provider_server: ProviderServer,
) -> None:
    """The stand-in enforces 60 requests a minute; the adapter, told by its headers,
    waits (on the injected sleep) instead of being refused."""
    provider_server.rate_limit = RateLimit(requests_per_minute=60, tokens_per_minute=10**9)
    provider_server.rate_limit.left["requests"] = 2.0  # nearly spent already
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        adapter = make_adapter(cfg(provider_server, "openai"), client, sleep=sleeps)
        records = [await adapter.call(conv().request()) for _ in range(2)]
    assert all(r.ok and len(r.attempts) == 1 for r in records)
    assert provider_server.rate_limit.refused == 0


async def test_a_gemini_retry_delay_pauses_every_call_of_the_player(
    provider_server: ProviderServer,
) -> None:
    """RetryInfo.retryDelay is in the body, not a header: it still pauses the pacer, so
    the player's other calls wait it out instead of meeting the same 429."""
    from tests.bot.players.test_fidelity import gemini_429

    provider_server.script(
        ":generateContent", gemini_429("GenerateRequestsPerMinutePerProjectPerModel", "30s")
    )
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        adapter = make_adapter(cfg(provider_server, "gemini"), client, sleep=sleeps)
        before = adapter.pacer.clock()
        first = await adapter.call(conv().request())
    assert first.ok
    assert adapter.pacer.paused_until >= before + 30
    # The retry itself was not held twice: tenacity's 30 s wait moved the pacing clock.
    assert first.attempts[1].paced_s == 0.0
