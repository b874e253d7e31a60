"""A removal and a restore shown on Discord, after the domain made them (``bot.forum.moderation``).

Remove: an answer's or reply's message is deleted (the bot's own; a member's typed one needs
Manage Messages); a question's thread is locked and archived (Manage Threads), and an ``/ask``
question's starter, the bot's own message, shows a notice instead of the question (a forum
post's starter cannot be deleted without orphaning its thread). The deleted message's event
changes nothing in the domain: the post stays removed, and restorable.

Restore: a question's thread is unarchived and unlocked (unless the question was closed) and
its starter rendered again; an answer or reply whose message is gone is posted again by the bot,
labelled as the post was ("Anonymous", the thread's pseudonym, or its author's name), and the
post maps to the new message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.forum import moderation
from bot.forum.moderation import Restored
from bot.forum.results import PostSnapshot
from bot.threads import discord_step, fetch_thread_or_none, partial_message
from bot.transactions import run_transaction
from bot.ui.authors import author_label, shown_author
from bot.ui.mentions import NO_PINGS
from bot.ui.mod_actions import removed_question_notice
from bot.ui.questions import posted_embed

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


async def _thread(guild: discord.Guild, question: PostSnapshot) -> discord.Thread | None:
    return (
        None
        if question.thread_id is None
        else await fetch_thread_or_none(guild, question.thread_id)
    )


async def show_removed(bot: QABot, guild: discord.Guild, post: PostSnapshot) -> bool:
    """The removal on Discord; False when Discord refused a step (logged with ids)."""
    if post.thread_id is None or post.message_id is None:
        return True
    if post.kind != "question":
        message = partial_message(bot, guild.id, post.thread_id, post.message_id)
        return await discord_step("delete the message", message.delete(), post_id=post.id)
    done = True
    if post.via_bot:
        done &= await discord_step(
            "show the removal notice", _notice(bot, guild, post), post_id=post.id
        )
    thread = await _thread(guild, post)
    if thread is not None and not (thread.archived and thread.locked):
        done &= await discord_step(
            "lock and archive the thread",
            thread.edit(archived=True, locked=True),
            post_id=post.id,
        )
    return done


async def _notice(bot: QABot, guild: discord.Guild, question: PostSnapshot) -> None:
    assert question.thread_id is not None
    assert question.message_id is not None
    starter = await partial_message(bot, guild.id, question.thread_id, question.message_id).fetch()
    await starter.edit(embed=removed_question_notice(shown_author(starter)), view=None)


async def show_restored(
    bot: QABot, guild: discord.Guild, restored: Restored
) -> tuple[PostSnapshot, bool]:
    """The restore on Discord: the post as it is now (with its new message, if it was posted
    again) and False when Discord refused a step."""
    post = restored.change.post
    if post.thread_id is None:
        return post, True
    if post.kind == "question":
        done = True
        thread = await _thread(guild, post)
        if thread is not None and not post.closed and (thread.archived or thread.locked):
            done &= await discord_step(
                "unarchive the thread", thread.edit(archived=False, locked=False), post_id=post.id
            )
        await bot.status_lines.refresh_now(post.id)  # the starter shows the question again
        return post, done
    if post.message_id is not None and await _still_there(bot, guild, post):
        return post, True
    try:
        channel = bot.get_partial_messageable(post.thread_id, guild_id=guild.id)
        label = author_label(post, restored.author_name)
        message = await channel.send(embed=posted_embed(post, label), allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.warning(
            "could not post restored %s %s again (status %s)", post.kind, post.id, exc.status
        )
        return post, False
    post_id = post.id
    change = await run_transaction(
        bot, lambda s: moderation.reposted(s, post_id=post_id, message_id=message.id)
    )
    log.info("restored %s %s posted again as message %s", post.kind, post.id, message.id)
    bot.status_lines.request(change.question.id)
    return change.post, True


async def _still_there(bot: QABot, guild: discord.Guild, post: PostSnapshot) -> bool:
    assert post.thread_id is not None
    assert post.message_id is not None
    try:
        await partial_message(bot, guild.id, post.thread_id, post.message_id).fetch()
    except discord.NotFound:
        return False
    except discord.HTTPException:
        return True  # unknown: never post a second copy
    return True
