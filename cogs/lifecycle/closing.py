"""``/close`` and ``/reopen``: the domain's decision shown in the thread - the closing or
reopening message, the status line, the duplicate's link, the thread archived (and locked by a
moderator) or unarchived."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import discord

from bot.forum import lookups, questions
from bot.forum.results import PostSnapshot
from bot.guilds import Acting, acting
from bot.threads import discord_step, fetch_thread_or_none, with_trouble
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.closing import closing_text, duplicate_link_text, reopening_text
from bot.ui.mentions import NO_PINGS
from bot.ui.text import jump_url
from bot.visibility import visible_forums
from cogs.lifecycle.targets import original_id, target_question

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


async def _request(
    bot: QABot, interaction: discord.Interaction[QABot], question: str | None
) -> tuple[Acting, int]:
    """Who acts (the domain decides what they may) and on which question."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    request = await acting(bot, interaction)
    return request, await target_question(bot, interaction, question)


async def _reply(interaction: discord.Interaction[QABot], text: str, *, done: bool = True) -> None:
    await interaction.followup.send(
        with_trouble(text, done), ephemeral=True, allowed_mentions=NO_PINGS
    )


def _step(what: str, step: Awaitable[object], *, question_id: int) -> Awaitable[bool]:
    return discord_step(what, step, post_id=question_id, post_kind="question")


def _send(bot: QABot, guild_id: int, thread_id: int, content: str) -> Awaitable[discord.Message]:
    channel = bot.get_partial_messageable(thread_id, guild_id=guild_id)
    return channel.send(content, allowed_mentions=NO_PINGS)


async def archive(thread: discord.Thread | None, question: PostSnapshot, *, lock: bool) -> bool:
    """Archive a closed question's thread (and lock it); nothing to do when it already is."""
    if thread is None:
        return True
    if thread.archived and (thread.locked or not lock):
        return True
    edit = thread.edit(archived=True, locked=True) if lock else thread.edit(archived=True)
    return await _step("archive the thread", edit, question_id=question.id)


async def close(
    bot: QABot,
    interaction: discord.Interaction[QABot],
    question: str | None,
    reason: str | None,
    duplicate_of: str | None,
) -> None:
    request, question_id = await _request(bot, interaction, question)
    guild = request.guild
    duplicate_of_id = original_id(duplicate_of)
    closing = questions.Closing(question_id, reason, duplicate_of_id, visible_forums(interaction))
    change = await run_transaction(
        bot, lambda s: questions.close_question(s, closing=closing, actor=request.actor)
    )
    closed = change.question
    assert closed.thread_id is not None  # a live question has its thread
    link = jump_url(guild.id, closed.thread_id)
    if not change.changed:
        # Already closed: make sure the thread shows it (a repair after a failed step).
        thread = await fetch_thread_or_none(guild, closed.thread_id)
        done = await archive(thread, closed, lock=closed.closed_by_moderator)
        await _reply(interaction, f"That question is already closed: {link}", done=done)
        return
    log.info("question %s closed in guild %s (interaction %s)", closed.id, guild.id, interaction.id)
    done = await _show_closed(bot, guild, closed)
    await _reply(interaction, f"{emoji.SUCCESS} The question is closed: {link}", done=done)


async def _show_closed(bot: QABot, guild: discord.Guild, closed: PostSnapshot) -> bool:
    """The closing message, the status line, the duplicate's link, then the archive."""
    assert closed.thread_id is not None
    original: PostSnapshot | None = None
    duplicated_id = closed.duplicate_of_id
    if duplicated_id is not None:
        original = await run_transaction(bot, lambda s: lookups.get_post(s, duplicated_id))
    done = await _step(
        "post the closing message",
        _send(bot, guild.id, closed.thread_id, closing_text(closed, original)),
        question_id=closed.id,
    )
    # The status line shown before the thread is archived (no edits wasted on it later).
    await bot.status_lines.refresh_now(closed.id)
    if original is not None and original.live and not original.closed:
        assert original.thread_id is not None
        done &= await _step(
            "link the duplicate from the original",
            _send(bot, guild.id, original.thread_id, duplicate_link_text(closed)),
            question_id=original.id,
        )
    thread = await fetch_thread_or_none(guild, closed.thread_id)
    done &= await archive(thread, closed, lock=closed.closed_by_moderator)
    return done


async def reopen(bot: QABot, interaction: discord.Interaction[QABot], question: str | None) -> None:
    request, question_id = await _request(bot, interaction, question)
    guild = request.guild
    change = await run_transaction(
        bot,
        lambda s: questions.reopen_question(s, question_id=question_id, actor=request.actor),
    )
    reopened = change.question
    assert reopened.thread_id is not None
    link = jump_url(guild.id, reopened.thread_id)
    if not change.changed:
        await _reply(interaction, f"That question is not closed: {link}")
        return
    log.info(
        "question %s reopened in guild %s (interaction %s)", reopened.id, guild.id, interaction.id
    )
    done = True
    thread = await fetch_thread_or_none(guild, reopened.thread_id)
    if thread is not None and (thread.archived or thread.locked):
        done &= await _step(
            "unarchive the thread",
            thread.edit(archived=False, locked=False),
            question_id=reopened.id,
        )
    done &= await _step(
        "post the reopening message",
        _send(bot, guild.id, reopened.thread_id, reopening_text(request.actor.is_moderator)),
        question_id=reopened.id,
    )
    bot.status_lines.request(reopened.id)
    await _reply(interaction, f"{emoji.SUCCESS} The question is open again: {link}", done=done)
