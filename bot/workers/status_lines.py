"""Each question's status line (score, answers, solved), kept current on Discord.

The status line lives in one message per question: the starter message of a question posted by
``/ask`` (the bot's own message, whose embed carries it), or the bot's first reply in a native
forum post (the starter belongs to the member). ``StatusLines.request(question_id)`` asks for
that message to be re-rendered from the domain's current state; cogs call it after anything
that moves a score, an answer count or the solved mark.

Bursts are coalesced (``bot.workers.coalesce.Coalescer``): a question whose message was not edited
recently is edited at once; further requests within ``interval`` seconds (5 by default) are
gathered into one trailing edit made when the interval ends. Each edit reads the state at that
moment, so the final state is always what the message shows, with at most one edit per message
per interval.
``StatusLines.refresh_now`` re-renders at once and waits (a change that must show before the bot
archives the thread: closing a question).

Discord refuses edits in an archived thread (50083): a closed question's thread, or one archived
for inactivity. Such an edit is made by unarchiving the thread, editing, and archiving it again
while the question is still closed (a locked thread stays locked: the bot's Manage Threads lets
it edit there).

When Discord fails an edit (a 5xx after discord.py's own retries, or no answer in time) the
question is asked for again, at most ``RETRIES`` times in a row, so a status line is not left
stale by one bad moment of Discord's.

The question is read with ``question_page`` in a small read-only unit (``bot.db.reads``: on
SQLite in the event loop's thread, no hand-off), so a status line never takes the writers' turn.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

import discord

from bot.bounded import BoundedMap
from bot.forum.errors import NotFound
from bot.forum.prefs import ERASED_AUTHOR_ID
from bot.forum.question_page import question_page
from bot.forum.results import PostSnapshot
from bot.rest import THREAD_ARCHIVED, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE
from bot.ui.authors import author_label, shown_author
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import question_message_embed, status_reply_text
from bot.workers.coalesce import CoalescedService

if TYPE_CHECKING:
    from bot.db.reads import SyncRead
    from bot.transactions import TransactionRunner

log = logging.getLogger(__name__)

#: Seconds between two edits of one status message.
EDIT_INTERVAL: Final = 5.0
#: Edits Discord failed (5xx, timeout) retried in a row per question, and questions remembered.
RETRIES: Final = 5
RETRY_MEMORY: Final = 10_000

# --------------------------------------------------------------------------- rendering


def _question_of(question_id: int) -> SyncRead[PostSnapshot]:
    """The question as its status line shows it (``question_page`` without answers: one
    read-only statement, NotFound when it is gone)."""
    return lambda c: question_page(c, question_id=question_id, answers=0).question


def _same_embed(a: discord.Embed, b: discord.Embed) -> bool:
    return a.to_dict() == b.to_dict()


# --------------------------------------------------------------------------- the service


class StatusLines(CoalescedService[int]):
    """One per bot (``bot.status_lines``): re-renders questions' status lines, coalesced."""

    name = "status lines"
    work_name = "status line"
    default_interval = EDIT_INTERVAL

    def __init__(self, bot: discord.Client, runner: TransactionRunner) -> None:
        super().__init__(bot, runner)
        self._failures: BoundedMap[int, int] = BoundedMap(RETRY_MEMORY)

    def request(self, question_id: int) -> None:
        """Re-render this question's status line soon (at once when it was not edited lately)."""
        self._request(question_id)

    async def refresh_now(self, question_id: int) -> None:
        """Re-render this question's status line at once and return when it is done, outside
        the coalescing (for a change that must show before the thread is archived)."""
        await self._refresh(question_id)

    async def _work(self, question_id: int) -> None:
        await self._refresh(question_id)

    async def _refresh(self, question_id: int) -> None:
        try:
            question = await self.runner.read(_question_of(question_id), inline=True)
        except NotFound:
            return
        if not question.live or question.thread_id is None or question.status_message_id is None:
            return
        channel = self.bot.get_partial_messageable(question.thread_id, guild_id=question.guild_id)
        message = channel.get_partial_message(question.status_message_id)
        try:
            try:
                await self._render(question, message)
            except discord.HTTPException as exc:
                if exc.code != THREAD_ARCHIVED:
                    raise
                await self._render_archived(question, message)
        except discord.NotFound as exc:
            log.info("status message of question %s is gone (code %s)", question.id, exc.code)
            self._found_gone(question, exc.code)
        except discord.HTTPException as exc:
            log.warning(
                "could not edit the status line of question %s (status %s, code %s)",
                question.id,
                exc.status,
                exc.code,
            )
            self._retry_later(question.id, exc)
        else:
            self._failures.pop(question.id)

    def _retry_later(self, question_id: int, exc: discord.HTTPException) -> None:
        """Discord failed (not refused): ask again, within ``RETRIES`` in a row."""
        failed = (self._failures.get(question_id) or 0) + 1
        if exc.status < 500 or failed > RETRIES:
            self._failures.pop(question_id)
            return
        self._failures.put(question_id, failed)
        self.request(question_id)

    def _found_gone(self, question: PostSnapshot, code: int) -> None:
        """The thread (10003) or the starter that is the question (10008) was deleted behind
        the bot's back: the lifecycle cog deletes the question (``qa_found_gone``). A native
        post's status reply gone is only the bot's own reply."""
        assert question.thread_id is not None
        if code == UNKNOWN_CHANNEL:
            self.bot.dispatch("qa_found_gone", question.guild_id, question.thread_id, None)
        elif code == UNKNOWN_MESSAGE and question.status_message_id == question.message_id:
            self.bot.dispatch(
                "qa_found_gone", question.guild_id, question.thread_id, question.message_id
            )

    async def _render(self, question: PostSnapshot, message: discord.PartialMessage) -> None:
        if question.via_bot and question.status_message_id == question.message_id:
            await self._edit_starter(question, message)
        else:
            await message.edit(content=status_reply_text(question), allowed_mentions=NO_PINGS)

    async def _render_archived(
        self, question: PostSnapshot, message: discord.PartialMessage
    ) -> None:
        """The edit in an archived thread: unarchive, edit, archive again if still closed."""
        assert question.thread_id is not None
        thread = self.bot.get_channel(question.thread_id)
        if not isinstance(thread, discord.Thread):
            fetched = await self.bot.fetch_channel(question.thread_id)
            if not isinstance(fetched, discord.Thread):
                return
            thread = fetched
        await thread.edit(archived=False)
        try:
            await self._render(question, message)
        finally:
            if await self._still_closed(question.id):
                await thread.edit(archived=True)

    async def _still_closed(self, question_id: int) -> bool:
        try:
            now = await self.runner.read(_question_of(question_id), inline=True)
        except NotFound:
            return False
        return now.closed

    async def _edit_starter(self, question: PostSnapshot, message: discord.PartialMessage) -> None:
        if question.author_id == ERASED_AUTHOR_ID:
            return  # replaced by "Removed at the author's request": nothing to show there
        shown = discord.utils.get(self.bot.cached_messages, id=message.id)
        if shown is None:
            shown = await message.fetch()
        current = shown.embeds[0] if shown.embeds else None
        embed = question_message_embed(question, author_label(question, shown_author(shown)))
        if current is not None and _same_embed(current, embed):
            return
        await message.edit(embed=embed)
