"""The players one process plays with: an adapter per roster entry, one shared client."""

from __future__ import annotations

import httpx

from bot.players import Adapter, make_adapter, make_client
from bot.players.roster import PlayerConfig


class Players:
    """Adapters for roster entries over one shared HTTP client (opened when needed).

    Attributes:
        client: The client passed in, else one made here if any player is not offline,
            else None.
        adapters: One adapter per config, by roster key.
    """

    def __init__(
        self, configs: list[PlayerConfig], client: httpx.AsyncClient | None = None
    ) -> None:
        needs_http = any(c.provider != "offline" for c in configs)
        self._own_client = client is None and needs_http
        self.client = client if client is not None else (make_client() if needs_http else None)
        self.adapters: dict[str, Adapter] = {c.key: make_adapter(c, self.client) for c in configs}

    async def aclose(self) -> None:
        """Close the HTTP client if it was made here; a client passed in stays open."""
        if self._own_client and self.client is not None:
            await self.client.aclose()
