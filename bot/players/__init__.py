"""Model players: one adapter per wire protocol, the offline player, the roster.

Holds the adapter contract and HTTP plumbing (``base``), the OpenAI-compatible,
Anthropic and Gemini adapters, the built-in offline player and its lexicon
(``offline``, ``lexicon``), the TOML roster (``roster``) and the set of adapters a
process plays with over one shared HTTP client (``pool``).

May import: ``bot.referee`` (the offline player knows which words end in ん).
Nothing of ``bot.rounds``, ``bot.research``, ``bot.surfaces``, ``storage``, ``cogs``
or ``discord``: an adapter turns a request into a recorded call, nothing more.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import HttpxAiohttpClient

from bot.players.anthropic import AnthropicAdapter
from bot.players.base import Adapter, CallRecord, ChatRequest, Message, Sleep, TurnHint
from bot.players.gemini import GeminiAdapter
from bot.players.offline import OfflineAdapter
from bot.players.openai import OpenAIAdapter
from bot.players.roster import PlayerConfig

__all__ = ["Adapter", "CallRecord", "ChatRequest", "Message", "TurnHint", "make_adapter"]

_HTTP = {"openai": OpenAIAdapter, "anthropic": AnthropicAdapter, "gemini": GeminiAdapter}


def make_adapter(
    config: PlayerConfig, client: httpx.AsyncClient | None, *, sleep: Sleep | None = None
) -> Adapter:
    """The adapter for a roster entry; HTTP adapters share ``client``."""
    if config.provider == "offline":
        return OfflineAdapter(config)
    if client is None:
        raise ValueError(f"player {config.key!r} needs an HTTP client")
    return _HTTP[config.provider](config, client, sleep=sleep)


class _StatelessCookies(httpx.Cookies):
    """No cookie jar: each model call stands alone (and parsing Set-Cookie costs time)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class SharedClient(HttpxAiohttpClient):
    _stateless_cookies = _StatelessCookies()

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._stateless_cookies

    @cookies.setter
    def cookies(self, value: object) -> None:
        return None  # never keep cookies


def make_client() -> httpx.AsyncClient:
    """The one shared client: httpx's API over aiohttp's connection pool, no cookie jar.

    httpx's own pool slows down sharply with many concurrent requests
    (encode/httpx#3215: ~330 requests/s with 64 callers here, see docs/BENCHMARKS.md);
    the aiohttp transport keeps the same API and records. No global timeout: each
    player sets its own.
    """
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    return SharedClient(
        limits=limits,
        timeout=httpx.Timeout(60.0),
        follow_redirects=False,
        headers={"user-agent": "mikan-shiritori"},
    )
