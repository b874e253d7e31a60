"""Discord's own changes kept in the database: a member's message edited, messages and threads
deleted, a thread renamed. Each is one domain operation; the status lines that can move are
refreshed, and ``qa_synced`` (kind, the event, the domain's changes) is dispatched."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.deletes import after_delete
from bot.forum import deletion, edits
from bot.forum.errors import ValidationError
from bot.forum.results import PostChange
from bot.threads import MEMBER_MESSAGE_TYPES
from bot.transactions import run_transaction

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Renamed:
    """A thread's new name as Discord announced it (what ``qa_synced`` reports for a rename)."""

    guild_id: int
    thread_id: int
    name: str


def _synced(bot: QABot, kind: str, payload: object, changes: list[PostChange | None]) -> None:
    """Tell whoever follows the stored posts (and tests) that a Discord change was applied:
    ``qa_synced`` (kind, the raw event, the domain's changes; None for no post)."""
    bot.dispatch("qa_synced", kind, payload, [c for c in changes if c is not None])


async def _after_deletes(bot: QABot, changes: list[PostChange | None]) -> None:
    """Deleted text leaves the files and the report cards (``bot.deletes``); a deleted
    question's thread that is still there is renamed ``[removed]``, since its name is the
    question's title."""
    deleted = [c for c in changes if c is not None and after_delete(bot, c)]
    for c in deleted:
        if c.post.kind == "question" and c.post.thread_id is not None:
            await bot.thread_renames.rename(c.post.id, c.post.thread_id)


def _refresh_after(bot: QABot, changes: list[PostChange | None]) -> None:
    """Status lines of the questions that changed and still exist (each once)."""
    questions_changed = {
        c.question.id for c in changes if c is not None and c.changed and c.question.live
    }
    for question_id in sorted(questions_changed):
        bot.status_lines.request(question_id)


async def message_edited(bot: QABot, payload: discord.RawMessageUpdateEvent) -> None:
    message = payload.message
    if (
        payload.guild_id is None
        or "content" not in payload.data
        or message.author.bot  # the bot's own posts change through its commands
        or message.type not in MEMBER_MESSAGE_TYPES
    ):
        return
    body = payload.data["content"]
    change = await run_transaction(
        bot, lambda s: edits.edit_message(s, message_id=payload.message_id, body=body)
    )
    # An edit moves no score, answer count or mark: the status line stays as it is.
    _synced(bot, "edit", payload, [change])


async def _delete_message(bot: QABot, message_id: int) -> PostChange | None:
    return await run_transaction(bot, lambda s: deletion.delete_message(s, message_id=message_id))


async def message_deleted(bot: QABot, payload: discord.RawMessageDeleteEvent) -> None:
    if payload.guild_id is None:
        return
    change = await _delete_message(bot, payload.message_id)
    await _after_deletes(bot, [change])
    _refresh_after(bot, [change])
    _synced(bot, "delete", payload, [change])


async def messages_deleted(bot: QABot, payload: discord.RawBulkMessageDeleteEvent) -> None:
    if payload.guild_id is None:
        return
    # Oldest first: a thread's starter (its question) before the answers in it.
    changes = [await _delete_message(bot, m) for m in sorted(payload.message_ids)]
    await _after_deletes(bot, changes)
    _refresh_after(bot, changes)
    _synced(bot, "bulk_delete", payload, changes)


async def thread_deleted(bot: QABot, payload: discord.RawThreadDeleteEvent) -> None:
    change = await run_transaction(
        bot, lambda s: deletion.delete_thread(s, thread_id=payload.thread_id)
    )
    after_delete(bot, change)  # the thread is gone: nothing to rename
    _synced(bot, "thread_delete", payload, [change])


async def found_gone(bot: QABot, guild_id: int, thread_id: int, message_id: int | None) -> None:
    """A request of the bot's was answered 404 10003 / 10008: the question's thread (or its
    starter message) was deleted behind the bot's back and its delete event never arrived. The
    question is deleted as that event would have done (``qa_synced`` kind ``gone``)."""
    if message_id is None:
        change = await run_transaction(
            bot, lambda s: deletion.delete_thread(s, thread_id=thread_id)
        )
        after_delete(bot, change)
    else:
        change = await _delete_message(bot, message_id)
        await _after_deletes(bot, [change])
    log.info(
        "thread %s in guild %s found gone (message %s): post %s deleted",
        thread_id,
        guild_id,
        message_id,
        change.post.id if change is not None else None,
    )
    _synced(bot, "gone", (guild_id, thread_id, message_id), [change])


async def thread_renamed(bot: QABot, event: Renamed) -> None:
    change: PostChange | None = None
    try:
        change = await run_transaction(
            bot,
            lambda s: edits.rename_question_by_thread(
                s, thread_id=event.thread_id, name=event.name, guild_id=event.guild_id
            ),
        )
    except ValidationError:
        log.info(
            "thread %s in guild %s renamed to no valid title; the question keeps its title",
            event.thread_id,
            event.guild_id,
        )
    _refresh_after(bot, [change])
    _synced(bot, "rename", event, [change])
