"""``/mikan``: the bot owner's commands (checked at run time, not only hinted)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import owner_only
from cogs.replies import respond


class Admin(commands.Cog):
    """The owner's ``/mikan`` commands."""

    group = app_commands.Group(
        name="mikan",
        description="ボットの管理 (bot owner only)",
        default_permissions=discord.Permissions(administrator=True),
        guild_only=True,
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @group.command(name="sync", description="スラッシュコマンドを登録し直す (re-register commands)")
    @app_commands.describe(here="このサーバーだけにすぐ反映 (this server only, immediately)")
    @owner_only
    async def sync(self, interaction: discord.Interaction, here: bool = False) -> None:
        """Re-register the commands, globally or in this server only (owner only)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild if here else None
        if guild is not None:
            self.bot.tree.copy_global_to(guild=guild)
        synced = await self.bot.tree.sync(guild=guild)
        where = "このサーバー (this server)" if guild else "全体 (global)"
        await respond(interaction, f"{len(synced)} commands synced: {where}")


async def setup(bot: commands.Bot) -> None:
    """discord.py's extension entry point."""
    await bot.add_cog(Admin(bot))
