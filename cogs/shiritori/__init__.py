"""The ``/shiritori`` extension: rounds in channels.

``cog`` holds the commands and the listener for people's words, ``session`` the channel
round driver (one lobby or round task per channel), ``surface`` a channel as a round's
surface (events in, messages out, retried), ``presentation`` how things look (text,
embeds, charts, attachments). Loaded by name (``cogs.shiritori``) by the client.
"""

from __future__ import annotations

from discord.ext import commands

from cogs.shiritori.cog import Shiritori


async def setup(bot: commands.Bot) -> None:
    """discord.py's extension entry point: add the cog (its ``cog_load`` resumes rounds)."""
    await bot.add_cog(Shiritori(bot))  # type: ignore[arg-type]  # MikanBot is a Host
