"""Who may do what, checked when the command runs (not only by default permissions)."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.rounds import settings as channel_settings
from cogs.replies import NotOwner, NotRoundAdmin


async def is_round_admin(interaction: discord.Interaction) -> bool:
    """Manage Server (or Administrator) in this channel, or the channel's admin role."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    perms = interaction.permissions  # resolved by Discord for this member and channel
    if perms.manage_guild or perms.administrator:
        return True
    role_id = None
    if interaction.channel_id is not None:
        db = interaction.client.db  # type: ignore[attr-defined]
        role_id = (await channel_settings.load(db, str(interaction.channel_id))).admin_role_id
    user = interaction.user
    if (
        role_id
        and isinstance(user, discord.Member)
        and any(str(r.id) == role_id for r in user.roles)
    ):
        return True
    raise NotRoundAdmin()


async def is_owner(interaction: discord.Interaction) -> bool:
    """The application's owner; anyone else raises ``NotOwner``."""
    if await interaction.client.is_owner(interaction.user):  # type: ignore[attr-defined]
        return True
    raise NotOwner()


round_admin = app_commands.check(is_round_admin)
owner_only = app_commands.check(is_owner)
