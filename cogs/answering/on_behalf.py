"""What the bot posts for a member in a question's thread (``/answer``, ``/reply``): the post
stored ``pending``, the bot's own message sent, then the row confirmed with its id.

The public post is always a separate bot message, never an interaction response or followup
(those show everyone who used the command), and it mentions nobody: an anonymous author is
named nowhere, never pinged and never added to the thread. Every reply to the member is
ephemeral. If Discord refuses the message, the pending row is discarded; if the outcome is
unknown (a 5xx), the row is left ``pending`` (it counts nothing until reconciliation completes
or discards it) and the error goes to ``bot.errors``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.forum import lookups, pending_posts
from bot.forum.posts import MemberPost
from bot.forum.results import PostChange
from bot.guilds import guild_id_of
from bot.transactions import Operation, run_transaction
from bot.ui import emoji
from bot.ui.authors import author_label
from bot.ui.embeds import member_name
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import posted_embed
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: The domain operation that stores the post ``pending`` (``posts.post_answer``, ``post_reply``).
StorePending = Operation[PostChange]


def joined_at(interaction: discord.Interaction[QABot]) -> datetime | None:
    """When the member joined the server (for the anonymity rules), None when unknown."""
    user = interaction.user
    return user.joined_at if isinstance(user, discord.Member) else None


def member_post(
    interaction: discord.Interaction[QABot], question_id: int, text: str, *, anonymous: bool
) -> MemberPost:
    """What ``posts.post_answer`` and ``posts.post_reply`` are told of a post the member asked
    the bot to make (stored ``pending`` until the bot's message exists)."""
    return MemberPost(
        guild_id=guild_id_of(interaction),
        author_id=interaction.user.id,
        body=text,
        question_id=question_id,
        anonymous=anonymous,
        joined_at=joined_at(interaction),
    )


async def check_automod(
    bot: QABot, interaction: discord.Interaction[QABot], post: MemberPost
) -> None:
    """Refuse text the server's AutoMod would block in the question's thread."""
    question_id = post.question_id
    assert question_id is not None  # the cogs name the question by id
    question = await run_transaction(
        bot, lambda s: lookups.get_question(s, question_id=question_id)
    )
    await bot.automod.check(interaction, question.thread_id, post.body)


@dataclass(frozen=True, slots=True)
class MemberPublished:
    """A post the bot published for a member: the confirmed change, the bot's message and the
    author line it shows."""

    change: PostChange
    message: discord.Message
    shown_as: str


async def publish_member_post(
    bot: QABot,
    names: StoredNames,
    *,
    guild_id: int,
    author_id: int,
    author_name: str | None,
    store_pending: StorePending,
) -> MemberPublished:
    """Store, post and confirm; the member need not be here (``author_name``: a named author's
    name as it shows; an approved held post is published this way)."""
    pending = (await run_transaction(bot, store_pending)).post
    assert pending.thread_id is not None
    channel = bot.get_partial_messageable(pending.thread_id, guild_id=guild_id)
    shown_as = author_label(pending, author_name)
    try:
        message = await channel.send(
            embed=posted_embed(pending, shown_as), allowed_mentions=NO_PINGS
        )
    except discord.HTTPException as exc:
        if exc.status < 500:  # refused: nothing was posted
            await run_transaction(
                bot, lambda s: pending_posts.discard_pending_post(s, post_id=pending.id)
            )
        else:  # unknown: the row stays pending (counting nothing) for reconciliation
            log.warning("%s %s may not be posted (status %s)", pending.kind, pending.id, exc.status)
        raise
    # An anonymous post's author is never tied to a name (the domain refuses it anyway).
    name = None if pending.anonymous else names.unstored_name(guild_id, author_id, author_name)
    change = await run_transaction(
        bot,
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.id, message_id=message.id, display_name=name
        ),
    )
    names.stored(guild_id, author_id, name, named=change.author_named)
    if change.post.kind == "answer":
        bot.status_lines.request(change.question.id)
    bot.notifier.wake()  # the post's DMs are queued: send them now
    return MemberPublished(change, message, shown_as)


async def post_for_member(
    bot: QABot,
    names: StoredNames,
    interaction: discord.Interaction[QABot],
    store_pending: StorePending,
) -> None:
    """Store, post and confirm; the member is told ephemerally where it went (the interaction
    is already deferred, ephemerally)."""
    guild_id = guild_id_of(interaction)
    author = interaction.user
    done = await publish_member_post(
        bot,
        names,
        guild_id=guild_id,
        author_id=author.id,
        author_name=author.display_name,
        store_pending=store_pending,
    )
    what = "answer" if done.change.post.kind == "answer" else "reply"
    text = (
        f"{emoji.SUCCESS} Your anonymous {what} is posted as **{member_name(done.shown_as)}**: "
        if done.change.post.anonymous
        else f"{emoji.SUCCESS} Your {what} is posted: "
    )
    await interaction.followup.send(
        text + done.message.jump_url, ephemeral=True, allowed_mentions=NO_PINGS
    )
