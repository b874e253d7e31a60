"""What the cogs do on Discord to a question's thread after the domain has changed: find the
thread, and run each Discord step so that a refusal is logged with ids and reported, not raised.

A step whose message or thread is already gone counts as done. When a step is refused the cog
tells the member ``DISCORD_TROUBLE`` beside its answer: the database already holds the change.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Final

import discord

from bot.forum.settings import GuildConfig

log = logging.getLogger(__name__)

#: Messages members write; system messages (pins, joins, thread starters) are no posts.
MEMBER_MESSAGE_TYPES: Final = (discord.MessageType.default, discord.MessageType.reply)

DISCORD_TROUBLE: Final = (
    "The thread could not be fully updated (the bot may be missing a permission there); "
    "a server manager can run /qa setup to check."
)


async def fetch_thread(guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    """The thread, from the cache or Discord (archived threads are not cached); None when it
    is gone or no thread. Other refusals of Discord propagate."""
    thread = guild.get_thread(thread_id)
    if thread is not None:
        return thread
    try:
        channel = await guild.fetch_channel(thread_id)
    except discord.NotFound:
        return None
    return channel if isinstance(channel, discord.Thread) else None


async def fetch_thread_or_none(guild: discord.Guild, thread_id: int) -> discord.Thread | None:
    """As ``fetch_thread``, and None (logged) when Discord refuses or fails too."""
    try:
        return await fetch_thread(guild, thread_id)
    except discord.HTTPException as exc:
        log.warning("could not fetch thread %s (status %s)", thread_id, exc.status)
        return None


async def discord_step(
    what: str, step: Awaitable[object], *, post_id: int, post_kind: str = "post"
) -> bool:
    """Run one Discord step of a change the domain already made; False if Discord refused
    (logged as "could not <what> for <post_kind> <post_id>" with status and code). A message or
    thread that is already gone counts as done."""
    try:
        await step
    except discord.NotFound:
        return True
    except discord.HTTPException as exc:
        log.warning(
            "could not %s for %s %s (status %s, code %s)",
            what,
            post_kind,
            post_id,
            exc.status,
            exc.code,
        )
        return False
    return True


def with_trouble(text: str, done: bool) -> str:
    """``text``, with ``DISCORD_TROUBLE`` on a new line when a Discord step was refused."""
    return text if done else f"{text}\n{DISCORD_TROUBLE}"


def partial_message(
    bot: discord.Client, guild_id: int, channel_id: int, message_id: int
) -> discord.PartialMessage:
    """A message by its ids, without a request."""
    channel = bot.get_partial_messageable(channel_id, guild_id=guild_id)
    return channel.get_partial_message(message_id)


async def add_vote_reactions(message: discord.Message, config: GuildConfig) -> None:
    """The guild's vote emoji under a question, so members see how to vote (best effort)."""
    if not config.question_voting:
        return
    for raw in (config.vote_up_emoji, config.vote_down_emoji):
        try:
            await message.add_reaction(discord.PartialEmoji.from_str(raw))
        except discord.HTTPException as exc:
            log.warning(
                "could not add a vote reaction to message %s (status %s, code %s)",
                message.id,
                exc.status,
                exc.code,
            )
