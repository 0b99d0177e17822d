"""Where discord.py is pointed at another host: the one place the loopback tests need.

Off by default. ``MIKAN_DISCORD_API`` (e.g. ``http://127.0.0.1:8080/api/v10``) moves
discord.py's REST base; at login the gateway address is then asked of that host
(``GET /gateway/bot``, as the API documents) instead of discord.py's built-in one.
"""

from __future__ import annotations

import os

import discord
import yarl
from discord.gateway import DiscordWebSocket

API_BASE_ENV = "MIKAN_DISCORD_API"
DISCORD_API = discord.http.Route.BASE


def apply_api_base(value: str | None = None) -> None:
    """Point discord.py's REST at ``value`` (else ``$MIKAN_DISCORD_API``) when one is set."""
    base = value if value is not None else os.environ.get(API_BASE_ENV)
    if base:
        discord.http.Route.BASE = base.rstrip("/")


async def follow_gateway(http: discord.http.HTTPClient) -> None:
    """After login on another API host, connect to the gateway that host names."""
    if discord.http.Route.BASE != DISCORD_API:
        _, url, _ = await http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
