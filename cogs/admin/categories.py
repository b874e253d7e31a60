"""``/qa settings set key:categories value:add|remove <name>``: a category and its forum tag.

Adding a category uses the forum's tag of that name, or creates one; removing it deletes its
tag from the forum. Both edit the tags under the guild's tag lock (``forum_tags``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord

from bot.forum import categories
from bot.guilds import guild_config, qa_forum
from bot.transactions import run_transaction
from bot.ui import embeds
from bot.ui.mentions import NO_PINGS
from bot.ui.text import escape
from cogs.admin.forum_tags import audit_reason, fetch_forum, tags_of

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


async def change_category(
    bot: QABot,
    interaction: discord.Interaction[Any],
    guild: discord.Guild,
    raw: str,
    tag_lock: asyncio.Lock,
) -> None:
    change = categories.parse_category_change(raw)
    await interaction.response.defer(ephemeral=True, thinking=True)
    forum = qa_forum(guild, await guild_config(bot, guild.id))
    async with tag_lock:
        fresh = await fetch_forum(guild, forum.id)
        if change.action == "add":
            message = await _add_category(bot, interaction, fresh, change.name)
        else:
            message = await _remove_category(bot, interaction, fresh, change.name)
    await interaction.followup.send(
        embed=embeds.success(message), ephemeral=True, allowed_mentions=NO_PINGS
    )


async def _add_category(
    bot: QABot, interaction: discord.Interaction[Any], forum: discord.ForumChannel, raw: str
) -> str:
    guild = forum.guild
    name = await run_transaction(bot, lambda s: categories.check_new_category(s, guild.id, raw))
    tags = tags_of(forum)
    tag_id = categories.find_tag(tags, name)
    if tag_id is None:
        categories.check_room_for_tag(len(tags), adding=f"`{name}`")
        categories.check_can_edit_tags(
            can_manage_channels=forum.permissions_for(guild.me).manage_channels
        )
        tag = await forum.create_tag(name=name, reason=audit_reason(interaction))
        tag_id = tag.id
        how = "with a new forum tag"
    else:
        how = "using the forum's existing tag"
    found = tag_id
    view = await run_transaction(bot, lambda s: categories.add_category(s, guild.id, name, found))
    log.info("guild %s added category %s (tag %s)", guild.id, view.id, view.tag_id)
    return f"Added the category **{escape(view.name)}** {how}."


async def _remove_category(
    bot: QABot, interaction: discord.Interaction[Any], forum: discord.ForumChannel, raw: str
) -> str:
    guild = forum.guild
    view = await run_transaction(bot, lambda s: categories.find_category(s, guild.id, raw))
    keep = [tag for tag in forum.available_tags if tag.id != view.tag_id]
    if len(keep) < len(forum.available_tags):
        categories.check_can_edit_tags(
            can_manage_channels=forum.permissions_for(guild.me).manage_channels
        )
        await forum.edit(available_tags=keep, reason=audit_reason(interaction))
    removed = await run_transaction(
        bot, lambda s: categories.remove_category(s, guild.id, view.name)
    )
    log.info("guild %s removed category %s (tag %s)", guild.id, removed.id, removed.tag_id)
    return f"Removed the category **{escape(removed.name)}** and its forum tag."
