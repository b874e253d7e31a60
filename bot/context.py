"""What every cog needs between an interaction and the domain: one way to run a domain
operation, the guild's settings, its Q&A forum, and whether the actor moderates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Final, TypeVar

import discord
from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum.errors import NotConfigured
from bot.forum.points import POINTS_MOVED
from bot.forum.settings import GuildConfig, load_config
from bot.forum.uow import run_in_transaction
from bot.permissions import is_moderator

if TYPE_CHECKING:
    from bot.client import QABot

T = TypeVar("T")

NOT_SET_UP = "This server has no Q&A forum yet: a server manager can set one up with /qa setup."
FORUM_GONE = (
    "This server's Q&A forum no longer exists: a server manager can choose another with /qa setup."
)


# Dispatched (``on_qa_points_changed(guild_id, user_ids)``) after a commit that moved members'
# public points; the point roles listen. Anonymous points never move public points.
POINTS_CHANGED: Final = "qa_points_changed"


async def domain(bot: QABot, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one domain operation in its own transaction (retried on serialization failures);
    after the commit, announce whose public points moved."""
    moved: set[tuple[int, int]] = set()

    async def attempt(session: AsyncSession) -> T:
        moved.clear()  # a retried attempt starts over
        result = await work(session)
        moved.update(session.info.get(POINTS_MOVED, ()))
        return result

    result = await run_in_transaction(bot.sessionmaker, attempt)
    announce_points_moved(bot, moved)
    return result


def announce_points_moved(bot: discord.Client, moved: Iterable[tuple[int, int]]) -> None:
    by_guild: dict[int, set[int]] = {}
    for guild_id, user_id in moved:
        by_guild.setdefault(guild_id, set()).add(user_id)
    for guild_id, user_ids in by_guild.items():
        bot.dispatch(POINTS_CHANGED, guild_id, frozenset(user_ids))


async def guild_config(bot: QABot, guild_id: int) -> GuildConfig:
    return await domain(bot, lambda s: load_config(s, guild_id))


def qa_forum(guild: discord.Guild, config: GuildConfig) -> discord.ForumChannel:
    """The guild's Q&A forum; refuses with a sentence when none is set or it was deleted."""
    if config.forum_channel_id is None:
        raise NotConfigured(NOT_SET_UP)
    channel = guild.get_channel(config.forum_channel_id)
    if not isinstance(channel, discord.ForumChannel):
        raise NotConfigured(FORUM_GONE)
    return channel


def actor_is_moderator(
    member: discord.Member | discord.User, guild: discord.Guild | None, config: GuildConfig
) -> bool:
    if guild is None:
        return False
    forum = guild.get_channel(config.forum_channel_id) if config.forum_channel_id else None
    return is_moderator(member, forum, config)
