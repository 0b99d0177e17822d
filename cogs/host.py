"""What the cogs need from the bot, as a protocol: the cogs never import the client.

``cogs.client.MikanBot`` satisfies it; tests may pass anything that does.
"""

from __future__ import annotations

from typing import Protocol

import discord

from bot.players.pool import Players
from bot.players.roster import Roster
from bot.referee.judge import Referee
from storage.db import Database


class Host(Protocol):
    """The bot as the shiritori cog sees it: its resources and a way to reach a channel."""

    db: Database
    roster: Roster
    players: Players
    referee: Referee

    @property
    def hosting(self) -> bool:
        """True when the bot serves rounds (``mikan run``); False when it only builds its
        commands (``mikan sync``, ``mikan commands``) and has no database or players."""
        ...

    @property
    def pacing_s(self) -> float | None:
        """Seconds between model turns in every channel, overriding channel settings."""
        ...

    def get_partial_messageable(
        self, id: int, *, guild_id: int | None = None
    ) -> discord.PartialMessageable:
        """A channel to send to, without fetching it."""
        ...
