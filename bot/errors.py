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
from bot.rest import ALREADY_ACKNOWLEDGED, THREAD_ARCHIVED, THREAD_LOCKED, UNKNOWN_INTERACTION
from bot.ui.mentions import NO_PINGS

log = logging.getLogger("bot.errors")

APOLOGY = "Sorry, something went wrong on our side. The moderators can find it in the logs."
#: When Discord says the interaction was answered already (40060) while the bot was answering.
ANSWERED_ALREADY = (
    "Discord had already taken an answer to this; if nothing changed, please try again."
)


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


#: Discord failed (5xx after discord.py's retries, no answer in time: ``bot.rest``, or a
#: rate limit discord.py did not wait out).
DISCORD_FAILED = "Discord had trouble with that just now; please try again in a moment."
#: Discord's refusals the bot words itself, by error code.
_REFUSALS = {
    THREAD_LOCKED: "This thread is locked, so nothing can be posted in it.",
    THREAD_ARCHIVED: "This thread is archived: a moderator can reopen it first.",
}

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
    if isinstance(error, discord.HTTPException) and error.code in _REFUSALS:
        return _REFUSALS[error.code]
    if isinstance(error, discord.DiscordServerError | discord.RateLimited) or (
        isinstance(error, discord.HTTPException) and error.status == 429
    ):
        return DISCORD_FAILED  # a 429 discord.py did not wait out (Cloudflare's, or too long)
    if isinstance(error, discord.Forbidden):
        return (
            "Discord refused: the bot is missing a permission here. A server manager can run "
            "/qa setup to see which."
        )
    return health.sentence_for(error)


def _discord_code(error: BaseException) -> int | None:
    return error.code if isinstance(error, discord.HTTPException) else None


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Answer or follow up ephemerally, whichever the interaction still allows (a followup
    when Discord says it was answered already, 40060)."""
    try:
        if not interaction.response.is_done():
            try:
                await interaction.response.send_message(
                    content, ephemeral=True, allowed_mentions=NO_PINGS
                )
                return
            except discord.HTTPException as exc:
                if exc.code != ALREADY_ACKNOWLEDGED:
                    raise
        await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.warning(
            "could not deliver an error reply (interaction %s, status %s)",
            interaction.id,
            exc.status,
        )


async def handle_interaction_error(interaction: discord.Interaction, error: BaseException) -> None:
    original = _unwrap(error)
    code = _discord_code(original)
    if code == UNKNOWN_INTERACTION:
        # Too late (or the member's client went away): nothing can answer it any more.
        log.warning("interaction %s expired before it was answered (10062)", interaction.id)
        return
    sentence = ANSWERED_ALREADY if code == ALREADY_ACKNOWLEDGED else sentence_for(original)
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
    elif isinstance(original, discord.HTTPException):
        log.warning(
            "Discord answered %s (code %s) to interaction %s",
            original.status,
            original.code,
            interaction.id,
        )
    await send_ephemeral(interaction, sentence)
