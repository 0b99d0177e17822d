"""Pacing a player's calls to the rate limits its provider announces.

Providers say how much of their limits is left in every response: OpenAI (and xAI,
OpenRouter) ``x-ratelimit-limit-requests``, ``x-ratelimit-remaining-requests``,
``x-ratelimit-reset-requests`` (a duration such as ``6m0s`` or ``20ms``: until the
bucket is full again) and the same for ``-tokens``; Anthropic
``anthropic-ratelimit-requests-limit``/``-remaining``/``-reset`` (an RFC 3339 time)
and the same for ``-tokens``, ``-input-tokens`` and ``-output-tokens``; and
``retry-after`` with a 429. Their buckets refill continuously, so a :class:`Pacer` keeps
one estimate per limit: what was left when last told, plus what has refilled since (at
the rate the reset time implies), less what was sent since. A call waits until every
limit has room for it, so a long arena runs near the allowed rate instead of bouncing
off 429s. A roster's ``requests_per_minute``/``tokens_per_minute`` set limits a provider
does not announce (or lower ones).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None, now_utc: datetime | None = None) -> float | None:
    """Seconds until a bucket is full: ``1s``, ``6m0s``, ``20ms`` or an RFC 3339 time."""
    if not value:
        return None
    value = value.strip()
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        return sum(float(n) * _UNIT[u] for n, u in parts)
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now_utc or datetime.now(UTC))).total_seconds())


@dataclass(slots=True)
class Bucket:
    """One limit as last announced: capacity, what was left, how fast it refills.

    ``counted`` is how much this process had sent, in the limit's unit, when the call
    whose response announced it was sent: that much the provider had already counted.
    """

    limit: float
    left: float
    rate: float  # units per second
    seen_at: float
    counted: float = 0.0

    def room(self, now: float, sent: float) -> float:
        """What the provider has left now, by this estimate, with ``sent`` sent so far."""
        refilled = min(self.limit, self.left + self.rate * (now - self.seen_at))
        return refilled - (sent - self.counted)

    def wait_for(self, cost: float, now: float, sent: float) -> float:
        """Seconds until there is room for ``cost`` (0: there is now)."""
        short = min(cost, self.limit) - self.room(now, sent)
        if short <= 0:
            return 0.0
        return short / self.rate if self.rate > 0 else 1.0


# (header pattern, limit name) per provider family; the name says what a call costs.
_HEADERS = (
    ("x-ratelimit-{}-requests", "requests"),
    ("x-ratelimit-{}-tokens", "tokens"),
    ("anthropic-ratelimit-requests-{}", "requests"),
    ("anthropic-ratelimit-tokens-{}", "tokens"),
    ("anthropic-ratelimit-input-tokens-{}", "tokens"),
)

Ticket = dict[str, float]  # what had been sent, per unit, once a call was let through


class Pacer:
    """Waits before each call until the announced limits have room for it.

    ``requests_per_minute``/``tokens_per_minute``: known limits (None: only what the
    provider announces), kept as a bucket holding a second's worth. ``clock`` and
    ``sleep`` are replaceable (tests).
    """

    def __init__(
        self,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.announced: dict[str, Bucket] = {}
        self.known: dict[str, Bucket] = {}
        self.sent: Ticket = {"requests": 0.0, "tokens": 0.0}
        self._latest: float = -1.0  # the newest call whose response was taken in
        now = clock()
        for name, per_minute in (("requests", requests_per_minute), ("tokens", tokens_per_minute)):
            if per_minute:
                burst = max(1.0, per_minute / 60)  # no burst the provider might refuse
                self.known[name] = Bucket(burst, burst, per_minute / 60, now)
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self, tokens: float) -> tuple[float, Ticket]:
        """Wait until a call of ``tokens`` estimated tokens fits.

        Returns the seconds waited and the call's ticket (for :meth:`observe`). Calls
        are let through one at a time, in order, each counted as sent at once.
        """
        waited = 0.0
        cost = {"requests": 1.0, "tokens": float(tokens)}
        async with self._lock:
            now = self.clock()
            wait = max(0.0, self.paused_until - now)
            for name, bucket in [*self.announced.items(), *self.known.items()]:
                wait = max(wait, bucket.wait_for(cost[name], now, self.sent[name]))
            if wait > 0:
                # One wait: by then the estimate has the room (nothing else is sent).
                await self.sleep(wait)
                waited = wait
            now = self.clock()
            for name, bucket in self.known.items():
                # Our own buckets are settled as calls go: no response will tell.
                bucket.left = bucket.room(now, self.sent[name]) - cost[name]
                bucket.seen_at, bucket.counted = now, self.sent[name] + cost[name]
            for name in self.sent:
                self.sent[name] += cost[name]
        return waited, dict(self.sent)

    def observe(
        self, headers: Mapping[str, str], ticket: Ticket, retry_after: float | None = None
    ) -> None:
        """Take in what the response to the call holding ``ticket`` said of the limits.

        A 429's ``retry-after`` holds every call back until it has passed. A response to
        an older call than one already taken in says nothing newer, and is left out.
        """
        now = self.clock()
        if retry_after:
            self.paused_until = max(self.paused_until, now + retry_after)
        if ticket["requests"] < self._latest:
            return
        self._latest = ticket["requests"]
        for pattern, name in _HEADERS:
            limit = _number(headers.get(pattern.format("limit")))
            left = _number(headers.get(pattern.format("remaining")))
            if limit is None or left is None or limit <= 0:
                continue
            reset = parse_reset(headers.get(pattern.format("reset")))
            # Continuous refill: the bucket is full again after ``reset``.
            rate = (limit - left) / reset if reset and left < limit else limit / 60.0
            self.announced[name] = Bucket(limit, left, rate, now, ticket[name])


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
