"""Posting rights: the bot posts, edits or acts for a member only where the member could do it
themselves, so it never becomes a way around the server's own moderation.

Judged from discord.py's cache with the interaction's ``discord.Member`` (its roles and its
``communication_disabled_until`` come with every interaction; a thread inherits its forum's
overwrites), at the time Discord stamped the interaction:

* no active timeout, for everything below;
* ``/ask``: View Channel and Send Messages (shown as "Create Posts") in the Q&A forum, and the
  forum's slowmode since the member's last question;
* ``/answer``, ``/reply`` (``paced``) and ``/edit``: View Channel and Send Messages in Threads in
  the question's thread, the thread not locked unless the member moderates (Manage Threads in
  the forum, or the guild's moderator rule: ``bot.guilds``), and for new posts the thread's
  slowmode since the member's last post there (their question included);
* accepting an answer (a gesture the bot performs): no timeout, the thread not locked unless the
  member moderates.

Slowmode counts from the posts table (``bot.forum.ratelimits.last_post_at``: the member's /ask,
/answer, /reply and typed thread messages, timed by their Discord message ids, the clock
interactions carry too), so a restart forgets nothing; members with Manage Messages or Manage
Channels there are exempt, as on Discord. Deleting one's own post is always allowed. Each
refusal is one sentence (``PermissionDenied`` / ``RateLimited``) and the callers check before
anything is written or posted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.forum import lookups, ratelimits
from bot.forum.errors import NotFound, PermissionDenied, RateLimited
from bot.guilds import actor_is_moderator, guild_config, guild_id_of, guild_of
from bot.question_option import PICK_A_QUESTION
from bot.threads import fetch_thread
from bot.transactions import HasTransactionRunner, run_read
from bot.ui.text import format_datetime, format_relative

CANNOT_ASK: Final = "You can't post in this forum."
CANNOT_POST_THERE: Final = "You can't post in that question's thread."
LOCKED: Final = "This thread is locked."


def timed_out_sentence(until: datetime) -> str:
    return f"You're timed out on this server until {format_datetime(until)}."


def slowmode_sentence(again: datetime) -> str:
    return f"Slowmode: you can post here again {format_relative(again)}."


def _permissions(
    channel: discord.ForumChannel | discord.Thread, interaction: discord.Interaction[Any]
) -> discord.Permissions:
    member = interaction.user
    if not isinstance(member, discord.Member):
        return discord.Permissions.none()
    return channel.permissions_for(member)


def check_not_timed_out(interaction: discord.Interaction[Any]) -> None:
    """Refuse a member whose timeout has not ended when Discord stamped the interaction."""
    member = interaction.user
    until = member.timed_out_until if isinstance(member, discord.Member) else None
    if until is not None and until > interaction.created_at:
        raise PermissionDenied(timed_out_sentence(until))


async def _check_slowmode(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    *,
    delay: int,
    can: discord.Permissions,
    thread_id: int | None,
) -> None:
    if delay <= 0 or can.manage_messages or can.manage_channels:
        return
    guild_id = guild_id_of(interaction)
    author_id = interaction.user.id
    last = await run_read(
        bot,
        lambda s: ratelimits.last_post_at(
            s, guild_id=guild_id, author_id=author_id, thread_id=thread_id
        ),
    )
    if last is None:
        return
    again = last + timedelta(seconds=delay)
    now = interaction.created_at
    if again > now:
        raise RateLimited(slowmode_sentence(again), retry_after=(again - now).total_seconds())


async def _check_not_locked(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    thread: discord.Thread,
    can: discord.Permissions,
) -> None:
    if not thread.locked or can.manage_threads:
        return
    config = await guild_config(bot, thread.guild.id)
    if not actor_is_moderator(interaction.user, thread.guild, config):
        raise PermissionDenied(LOCKED)


async def check_can_ask(
    bot: HasTransactionRunner, interaction: discord.Interaction[Any], forum: discord.ForumChannel
) -> None:
    """``/ask``: the member may create a post in the Q&A forum now."""
    check_not_timed_out(interaction)
    can = _permissions(forum, interaction)
    if not (can.view_channel and can.send_messages):
        raise PermissionDenied(CANNOT_ASK)
    await _check_slowmode(bot, interaction, delay=forum.slowmode_delay, can=can, thread_id=None)


async def check_can_post(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    thread: discord.Thread,
    *,
    paced: bool = True,
) -> None:
    """The member may post in ``thread`` now (``paced``: a new message, held to the thread's
    slowmode; an edit is not)."""
    check_not_timed_out(interaction)
    can = _permissions(thread, interaction)
    if not (can.view_channel and can.send_messages_in_threads):
        raise PermissionDenied(CANNOT_POST_THERE)
    await _check_not_locked(bot, interaction, thread, can)
    if paced:
        await _check_slowmode(
            bot, interaction, delay=thread.slowmode_delay, can=can, thread_id=thread.id
        )


async def check_can_act(
    bot: HasTransactionRunner, interaction: discord.Interaction[Any], thread_id: int
) -> None:
    """A gesture the bot performs for the member in a thread (accepting an answer)."""
    check_not_timed_out(interaction)
    guild = guild_of(interaction)
    thread = await fetch_thread(guild, thread_id)
    if thread is not None:  # else not a question's thread: the domain refuses
        await _check_not_locked(bot, interaction, thread, _permissions(thread, interaction))


async def question_thread(
    bot: HasTransactionRunner, interaction: discord.Interaction[Any], question_id: int
) -> discord.Thread | None:
    """The thread of a question (None while it is not posted yet: the domain refuses that)."""
    guild = guild_of(interaction)
    question = await run_read(bot, lambda s: lookups.get_post(s, question_id))
    if question.thread_id is None:
        return None
    thread = await fetch_thread(guild, question.thread_id)
    if thread is None:
        raise NotFound(PICK_A_QUESTION)
    return thread


async def check_can_post_in(
    bot: HasTransactionRunner,
    interaction: discord.Interaction[Any],
    question_id: int,
    *,
    paced: bool = True,
) -> None:
    """``check_can_post`` in the thread of the question ``question_id``."""
    thread = await question_thread(bot, interaction, question_id)
    if thread is not None:
        await check_can_post(bot, interaction, thread, paced=paced)
