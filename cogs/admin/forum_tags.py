"""Editing the Q&A forum's tags (the Solved tag, the categories' tags) safely.

Tags are edited under a per-guild lock (``TagLocks``), always on a freshly fetched copy of the
forum, so two quick changes never overwrite each other's tag list; every edit carries an audit
log reason naming the command and the member.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Final

import discord

from bot.forum.categories import Tag
from bot.forum.errors import NotConfigured
from bot.guilds import FORUM_GONE

AUDIT_REASON: Final = "qa-bot: {command} by {user_id}"


class TagLocks(defaultdict[int, asyncio.Lock]):
    """One lock per guild id, held while its forum's tags are edited."""

    def __init__(self) -> None:
        super().__init__(asyncio.Lock)


def tags_of(forum: discord.ForumChannel) -> list[Tag]:
    return [(tag.id, tag.name) for tag in forum.available_tags]


def audit_reason(interaction: discord.Interaction[Any]) -> str:
    name = interaction.command.qualified_name if interaction.command else "qa"
    return AUDIT_REASON.format(command=f"/{name}", user_id=interaction.user.id)


async def fetch_forum(guild: discord.Guild, channel_id: int) -> discord.ForumChannel:
    """The forum as Discord holds it now (its tags may have changed since the cache saw it)."""
    try:
        channel = await guild.fetch_channel(channel_id)
    except discord.NotFound:
        raise NotConfigured(FORUM_GONE) from None
    if not isinstance(channel, discord.ForumChannel):
        raise NotConfigured(FORUM_GONE)
    return channel
