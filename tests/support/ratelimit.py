"""A rate limit enforced the way OpenAI documents it, for the loopback stand-ins.

Requests and tokens each have a bucket holding a minute's worth, refilled continuously;
a request costs 1 and its estimated tokens (prompt characters plus ``max_tokens``, the
estimate OpenAI describes). A request that does not fit is answered 429 with
``retry-after``; every answer carries ``x-ratelimit-limit-*``, ``-remaining-*`` and
``-reset-*`` (the time until the bucket is full again).
"""

from __future__ import annotations

import json
import time
from typing import Any


class RateLimit:
    """Requests and tokens per minute, as buckets that start full."""

    def __init__(self, requests_per_minute: float, tokens_per_minute: float) -> None:
        self.limits = {"requests": requests_per_minute, "tokens": tokens_per_minute}
        self.left = dict(self.limits)
        self.at = time.monotonic()
        self.answered = 0
        self.refused = 0

    @staticmethod
    def cost(body: Any) -> float:
        if not isinstance(body, dict):
            return 0.0
        text = json.dumps(
            [body.get("messages"), body.get("contents"), body.get("system")], ensure_ascii=False
        )
        return float(
            len(text) + int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)
        )

    def _refill(self) -> None:
        now = time.monotonic()
        for name, limit in self.limits.items():
            self.left[name] = min(limit, self.left[name] + limit / 60 * (now - self.at))
        self.at = now

    def take(self, body: Any) -> tuple[bool, dict[str, str]]:
        """Whether the request fits (and is counted), and the headers to answer with."""
        self._refill()
        cost = {"requests": 1.0, "tokens": self.cost(body)}
        fits = all(self.left[n] >= cost[n] for n in cost)
        headers: dict[str, str] = {}
        if fits:
            for n in cost:
                self.left[n] -= cost[n]
            self.answered += 1
        else:
            self.refused += 1
            short = max(
                (cost[n] - self.left[n]) / (self.limits[n] / 60)
                for n in cost
                if self.left[n] < cost[n]
            )
            headers["retry-after-ms"] = str(int(short * 1000) + 1)
        for n, limit in self.limits.items():
            headers[f"x-ratelimit-limit-{n}"] = str(int(limit))
            headers[f"x-ratelimit-remaining-{n}"] = str(int(self.left[n]))
            headers[f"x-ratelimit-reset-{n}"] = f"{(limit - self.left[n]) / (limit / 60):.3f}s"
        return fits, headers
