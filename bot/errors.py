"""The one place an error raised by a command, modal or button becomes a reply.

Order: domain refusals (their own sentence) -> Discord check failures (a sentence) -> the
database gone or full (``bot.db.health``: "try again in a moment", logged as a warning with ids)
-> anything else (logged with ids, answered with a short apology). Replies are always ephemeral
and ping nobody; the log line carries ids only, never user text or who wrote an anonymous post.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.db import health
from bot.forum.errors import ForumError
from bot.ui.mentions import NO_PINGS

log = logging.getLogger("bot.errors")

APOLOGY = "Sorry, something went wrong on our side. The moderators can find it in the logs."


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        # A TransformerError raised by the transformer itself has no cause: it is the error.
        inner = error.original if hasattr(error, "original") else error.__cause__
        if inner is None or inner is error:
            break
        error = inner
        if not isinstance(error, app_commands.AppCommandError):
            break
    return error


# Where Discord's client names a permission differently from its API flag.
_PERMISSION_NAMES = {"manage_guild": "Manage Server"}


def _permission_name(flag: str) -> str:
    return _PERMISSION_NAMES.get(flag) or flag.replace("_", " ").title()


def sentence_for(error: BaseException) -> str | None:
    """The user-facing sentence for an expected error, or None for a bug."""
    error = _unwrap(error)
    if isinstance(error, ForumError):
        return error.message
    if isinstance(error, app_commands.MissingPermissions):
        return (
            "You need the "
            + ", ".join(_permission_name(p) for p in error.missing_permissions)
            + " permission to do that."
        )
    if isinstance(error, app_commands.TransformerError):
        return "The bot could not use the value of one option: pick it from the list and try again."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only in a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, discord.Forbidden):
        return (
            "Discord refused: the bot is missing a permission here. A server manager can run "
            "/qa setup to see which."
        )
    return health.sentence_for(error)


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Answer or follow up ephemerally, whichever the interaction still allows."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(
                content, ephemeral=True, allowed_mentions=NO_PINGS
            )
    except discord.HTTPException as exc:
        log.warning(
            "could not deliver an error reply (interaction %s, status %s)",
            interaction.id,
            exc.status,
        )


async def handle_interaction_error(interaction: discord.Interaction, error: BaseException) -> None:
    sentence = sentence_for(error)
    original = _unwrap(error)
    command = interaction.command.qualified_name if interaction.command else None
    where = (
        command or interaction.type.name,
        interaction.guild_id,
        interaction.channel_id,
        interaction.id,
    )
    context = "in %s (guild %s, channel %s, interaction %s)"
    if sentence is None:
        log.error(
            "unexpected %s " + context,
            type(original).__name__,
            *where,
            exc_info=(type(original), original, original.__traceback__),
        )
        sentence = APOLOGY
    elif (what := health.outage(original)) is not None:
        # An outage is not a bug: one line, no traceback.
        log.warning("%s (%s) " + context, what, type(original).__name__, *where)
    await send_ephemeral(interaction, sentence)
