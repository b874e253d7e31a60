"""Thread messages: each member message in a thread handed to the domain, which decides whether
it is an answer, a comment or nothing.

The messages are recorded by the bot's thread intake (``bot.workers.thread_intake``), in
batches of what arrived meanwhile, one transaction at a time: a flood of messages (thousands
within seconds across servers) holds one pooled connection, not one per message, and a plain
answer costs a share of a handful of statements. Each message's outcome comes back to its own
listener, which acts on it as before (the name remembered, the status line, the dispatch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from bot.blocking import drop_blocked_message
from bot.forum.blocks import MemberBlocked
from bot.forum.thread_batch import ThreadMessage
from bot.threads import MEMBER_MESSAGE_TYPES
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot


async def record_message(bot: QABot, names: StoredNames, message: discord.Message) -> None:
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
    change = await bot.thread_intake.record(
        ThreadMessage(
            guild_id=guild.id,
            thread_id=channel.id,
            message_id=message.id,
            author_id=author.id,
            body=message.content,
            reply_to_message_id=reply_to,
            author_is_bot=author.bot,
            display_name=name,
        )
    )
    if isinstance(change, MemberBlocked):  # counts as nothing: no post, no points, no DM
        await drop_blocked_message(message)
        bot.dispatch("qa_thread_message", message, None)
        return
    names.stored(guild.id, author.id, name, named=change is not None and change.author_named)
    if change is not None and change.created and change.post.kind == "answer":
        bot.status_lines.request(change.question.id)
    bot.dispatch("qa_thread_message", message, change)
