"""Member blocks at the intake (``bot.forum.blocks``): a command refuses a blocked member
before any form opens, and a typed thread message of a member blocked from posting through the
bot counts as nothing and is deleted when the bot may (Manage Messages)."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.forum import blocks
from bot.transactions import HasTransactionRunner, run_transaction

log = logging.getLogger(__name__)


async def refuse_if_blocked(
    bot: HasTransactionRunner, interaction: discord.Interaction[Any], *, anonymous: bool
) -> None:
    """Refuse (``blocks.MemberBlocked``: "You can't post … here until …") a member blocked
    from this kind of post in the interaction's guild."""
    guild_id, user_id = interaction.guild_id, interaction.user.id
    if guild_id is None:
        return
    await run_transaction(
        bot,
        lambda s: blocks.check_not_blocked(
            s, guild_id=guild_id, user_id=user_id, anonymous=anonymous
        ),
    )


async def drop_blocked_message(message: discord.Message) -> None:
    """Delete a blocked member's typed message; without Manage Messages it stays (counted as
    nothing all the same), logged with ids."""
    try:
        await message.delete()
    except discord.NotFound:
        return
    except discord.HTTPException as exc:
        log.info(
            "could not delete message %s of a blocked member in channel %s (status %s)",
            message.id,
            message.channel.id,
            exc.status,
        )
        return
    log.info("deleted message %s of a blocked member in channel %s", message.id, message.channel.id)
