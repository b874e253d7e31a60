"""Adopting native forum posts: a thread a member creates directly in the Q&A forum is a question.

Its starter message is the question (``bot.forum.questions.adopt_native_post``: the post's first
tag that is a category names its category). Its status line lives in the bot's first reply, since
the starter is the member's. The starter's MESSAGE_CREATE may arrive before or after
THREAD_CREATE: both events try to adopt, one lock per thread makes the second a no-op, and
threads the bot created itself are never adopted (they are the /ask posts, already stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import discord

from bot import guilds
from bot.forum import questions
from bot.forum.results import PostSnapshot
from bot.threads import add_vote_reactions
from bot.transactions import run_write
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import status_reply_text

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


class _ThreadLocks:
    """One lock per thread id, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, thread_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(thread_id, (asyncio.Lock(), 0))
        self._locks[thread_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[thread_id]
            if users <= 1:
                del self._locks[thread_id]
            else:
                self._locks[thread_id] = (lock, users - 1)


class NativePosts:
    """Adopts the threads members create in the Q&A forum, one thread at a time."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._adopting = _ThreadLocks()

    async def adopt(self, thread: discord.Thread, starter: discord.Message) -> None:
        me = self.bot.user
        if (
            starter.author.bot
            or starter.webhook_id is not None
            or (me is not None and thread.owner_id == me.id)
            or not isinstance(thread.parent, discord.ForumChannel)
        ):
            return
        async with self._adopting.hold(thread.id):
            config = await guilds.guild_config(self.bot, thread.guild.id)
            if config.forum_channel_id != thread.parent_id:
                return
            change = await run_write(
                self.bot,
                lambda s: questions.adopt_native_post(
                    s,
                    guild_id=thread.guild.id,
                    author_id=starter.author.id,
                    thread_id=thread.id,
                    message_id=starter.id,
                    title=thread.name,
                    details=starter.content,
                    tag_ids=[t.id for t in thread.applied_tags],
                    forum_id=thread.parent_id,
                ),
            )
            question = change.question
            if question.via_bot or question.deleted or question.status_message_id is not None:
                return
            if change.created:
                log.info(
                    "native post %s adopted as question %s in guild %s",
                    thread.id,
                    question.id,
                    thread.guild.id,
                )
                await add_vote_reactions(starter, config)
            await self._post_status_reply(thread, question)

    async def _post_status_reply(self, thread: discord.Thread, question: PostSnapshot) -> None:
        try:
            reply = await thread.send(status_reply_text(question), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning(
                "could not post the status line of question %s (status %s, code %s)",
                question.id,
                exc.status,
                exc.code,
            )
            return
        await run_write(
            self.bot,
            lambda s: questions.set_status_message(s, question_id=question.id, message_id=reply.id),
        )
