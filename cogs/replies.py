"""Answering interactions: one helper whatever the response state, and every failure
turned into an ephemeral message that says what to do."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

log = logging.getLogger(__name__)

ADMIN_HELP = (
    "この操作には「サーバーの管理」権限か、`/shiritori rules admin_role:` で設定された役職が"
    "必要です。\n(Needs the Manage Server permission or the channel's admin role.)"
)


class UserError(app_commands.AppCommandError):
    """A failure the user can fix; the message (Japanese, then English) says how."""


class NotRoundAdmin(app_commands.CheckFailure):
    """The member has neither Manage Server nor the channel's admin role."""

    pass


class NotOwner(app_commands.CheckFailure):
    """The member is not the bot's owner."""

    pass


async def respond(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    **kwargs: Any,
) -> None:
    """Send, whether the interaction was answered, deferred or not yet touched."""
    kwargs.setdefault("allowed_mentions", discord.AllowedMentions.none())
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)


def error_text(error: app_commands.AppCommandError) -> str | None:
    """The message for a failure, or None for an unexpected one (logged, generic text)."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, NotRoundAdmin):
        return ADMIN_HELP
    if isinstance(error, NotOwner):
        return "ボットの所有者だけが使えます。(Only the bot's owner may do this.)"
    if isinstance(error, app_commands.NoPrivateMessage):
        return "サーバーのチャンネルで使ってください。(Use this in a server channel.)"
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"少し待ってからもう一度 ({error.retry_after:.0f}s)。(Try again shortly.)"
    if isinstance(error, app_commands.CheckFailure):
        return "この操作はここでは使えません。(Not allowed here.)"
    if isinstance(error, app_commands.TransformerError):
        return f"オプションの値が正しくありません: {error.value!r} (invalid option value)"
    return None


async def answer_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """Tell the user what went wrong and what to do; log what is not theirs to fix."""
    text = error_text(error)
    if text is None:
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error(
            "command %s failed",
            interaction.command and interaction.command.qualified_name,
            exc_info=cause,
        )
        text = "内部エラーが発生しました。記録は失われていません。(Internal error; it was logged.)"
    try:
        await respond(interaction, text)
    except discord.HTTPException:
        log.warning("could not tell the user about a failed command", exc_info=True)
