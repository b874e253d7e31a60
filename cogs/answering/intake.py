"""Thread messages: each member message in a thread handed to the domain, which decides whether
it is an answer, a comment or nothing.

At most ``INTAKE_CONNECTIONS`` messages are stored at once; the others wait their turn on the
cog's semaphore, not in the connection pool. A flood of messages (thousands within seconds
across servers) otherwise queued one transaction per message for a pooled connection: those
waiting longer than the pool's timeout were lost with an error, and the vote writer and the
commands queued behind them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

import discord

from bot.blocking import drop_blocked_message
from bot.forum import posts
from bot.forum.blocks import MemberBlocked
from bot.threads import MEMBER_MESSAGE_TYPES
from bot.transactions import run_transaction
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot

#: Thread messages stored at once (the pool keeps the rest for commands and the workers).
INTAKE_CONNECTIONS: Final = 4


async def record_message(
    bot: QABot, names: StoredNames, slots: asyncio.Semaphore, message: discord.Message
) -> None:
    """Store the message as the domain decides (with its author's name when new to this
    process), refresh the status line after a new answer, and dispatch ``qa_thread_message``."""
    guild = message.guild
    channel = message.channel
    if (
        guild is None
        or message.type not in MEMBER_MESSAGE_TYPES
        or not isinstance(channel, discord.Thread | discord.PartialMessageable)
        or message.id == channel.id  # a forum post's starter: the question itself
    ):
        return
    reference = message.reference
    reply_to = (
        reference.message_id
        if message.type is discord.MessageType.reply and reference is not None
        else None
    )
    author = message.author
    name = None if author.bot else names.unstored(guild.id, author)
    try:
        async with slots:
            change = await run_transaction(
                bot,
                lambda s: posts.record_thread_message(
                    s,
                    guild_id=guild.id,
                    thread_id=channel.id,
                    message_id=message.id,
                    author_id=author.id,
                    body=message.content,
                    reply_to_message_id=reply_to,
                    author_is_bot=author.bot,
                    display_name=name,
                ),
            )
    except MemberBlocked:  # counts as nothing: no post, no points, no DM
        await drop_blocked_message(message)
        bot.dispatch("qa_thread_message", message, None)
        return
    names.stored(guild.id, author.id, name, named=change is not None and change.author_named)
    if change is not None and change.created and change.post.kind == "answer":
        bot.status_lines.request(change.question.id)
    bot.dispatch("qa_thread_message", message, change)
