"""A member wrote in a closed question's thread (the answering cog stored it as a comment): tell
them once, and archive the thread again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.bounded import BoundedMap
from bot.forum import lookups
from bot.forum.errors import NotFound
from bot.forum.results import PostChange
from bot.guilds import actor_is_moderator, guild_config
from bot.threads import discord_step, fetch_thread_or_none
from bot.transactions import run_transaction
from bot.ui.closing import closed_notice
from bot.ui.mentions import NO_PINGS

if TYPE_CHECKING:
    from bot.client import QABot

#: How many (question, member) pairs already told that a question is closed are remembered.
TOLD_MAX: Final = 10_000


class ClosedThreads:
    """Answers members who write in closed threads; remembers whom it told (while it runs)."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._told: BoundedMap[tuple[int, int], None] = BoundedMap(TOLD_MAX)

    async def written_in(self, message: discord.Message, change: PostChange | None) -> None:
        guild = message.guild
        if guild is None or change is None or not change.created or message.author.bot:
            return
        question = change.question
        if not question.closed or question.thread_id is None:
            return
        author = message.author
        config = await guild_config(self.bot, guild.id)
        if not actor_is_moderator(author, guild, config) and self._told.add(
            (question.id, author.id), None
        ):
            await discord_step(
                "tell a member the question is closed",
                message.reply(
                    closed_notice(question), mention_author=False, allowed_mentions=NO_PINGS
                ),
                post_id=question.id,
                post_kind="question",
            )
        if not await self._still_closed(question.id):
            return
        channel = message.channel
        thread = (
            channel
            if isinstance(channel, discord.Thread)
            else await fetch_thread_or_none(guild, question.thread_id)
        )
        if thread is not None:
            # Whatever Discord's cache says, the member's message unarchived it.
            await discord_step(
                "archive the thread again",
                thread.edit(archived=True),
                post_id=question.id,
                post_kind="question",
            )

    async def _still_closed(self, question_id: int) -> bool:
        try:
            question = await run_transaction(
                self.bot, lambda s: lookups.get_question(s, question_id=question_id)
            )
        except NotFound:
            return False
        return question.closed
