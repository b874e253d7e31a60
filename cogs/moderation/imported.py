"""``/mod link-imported handle member``: an imported Q2A author's posts, votes and points
become a member's, in one transaction (``bot.forum.imported.link_imported``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.forum.errors import ValidationError
from bot.forum.imported import link_imported
from bot.transactions import run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.mod_actions import linked_text

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.guilds import Acting

log = logging.getLogger(__name__)


async def link_handle(
    bot: QABot,
    interaction: discord.Interaction[Any],
    actor: Acting,
    handle: str,
    member: discord.Member | discord.User,
) -> None:
    """Link for a moderator (already checked); a bot is refused."""
    if member.bot:
        raise ValidationError("Link the handle to a member, not to a bot.")
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild_id, user_id = actor.guild.id, member.id
    result = await run_transaction(
        bot, lambda s: link_imported(s, guild_id=guild_id, handle=handle, user_id=user_id)
    )
    log.info(
        "imported handle linked in guild %s: %d posts, %d votes (interaction %s)",
        guild_id,
        result.posts,
        result.votes,
        interaction.id,
    )
    await interaction.followup.send(
        linked_text(result, member.mention), ephemeral=True, allowed_mentions=NO_PINGS
    )
