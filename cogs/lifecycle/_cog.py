"""The lifecycle cog: its listeners and commands, each handed to the module of its subject."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum import text_rules
from bot.forum.results import PostChange
from bot.question_option import question_option
from cogs.lifecycle import closing, discord_sync, targets
from cogs.lifecycle.closed_threads import ClosedThreads
from cogs.lifecycle.discord_sync import Renamed

if TYPE_CHECKING:
    from bot.client import QABot


class Lifecycle(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.closed_threads = ClosedThreads(bot)

    # ------------------------------------------------------------------ /close

    @app_commands.command(name="close", description="Close a question: it takes no new answers")
    @app_commands.guild_only()
    @app_commands.describe(
        reason="Why it is closed (shown in the thread)",
        duplicate_of="The question this one duplicates",
    )
    @question_option("The question to close (default: this thread's)", include_closed=False)
    async def close(
        self,
        interaction: discord.Interaction[QABot],
        question: str | None = None,
        reason: app_commands.Range[str, 1, text_rules.CLOSE_REASON_MAX] | None = None,
        duplicate_of: str | None = None,
    ) -> None:
        await closing.close(self.bot, interaction, question, reason, duplicate_of)

    @close.autocomplete("duplicate_of")
    async def duplicate_of_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        closing_id = await targets.question_being_closed(self.bot, interaction)
        return await targets.question_choices(self.bot, interaction, current, exclude_id=closing_id)

    # ------------------------------------------------------------------ /reopen

    @app_commands.command(name="reopen", description="Reopen a closed question")
    @app_commands.guild_only()
    @question_option("The closed question to reopen (default: this thread's)", closed_only=True)
    async def reopen(
        self, interaction: discord.Interaction[QABot], question: str | None = None
    ) -> None:
        await closing.reopen(self.bot, interaction, question)

    # ------------------------------------------------------------------ closed threads

    @commands.Cog.listener()
    async def on_qa_thread_message(
        self, message: discord.Message, change: PostChange | None
    ) -> None:
        await self.closed_threads.written_in(message, change)

    # ------------------------------------------------------------------ Discord's own changes
    # Kept in order with the thread messages and applied later when the database is gone
    # (``bot.workers.message_retry``): a message is recorded before its edit and its delete.

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.bot.message_retry.apply(
            "message edit",
            payload.message_id,
            payload.guild_id,
            lambda: discord_sync.message_edited(self.bot, payload),
        )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.bot.message_retry.apply(
            "message delete",
            payload.message_id,
            payload.guild_id,
            lambda: discord_sync.message_deleted(self.bot, payload),
        )

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.bot.message_retry.apply(
            "bulk delete",
            payload.channel_id,
            payload.guild_id,
            lambda: discord_sync.messages_deleted(self.bot, payload),
        )

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        await self.bot.message_retry.apply(
            "thread delete",
            payload.thread_id,
            payload.guild_id,
            lambda: discord_sync.thread_deleted(self.bot, payload),
        )

    @commands.Cog.listener()
    async def on_qa_found_gone(self, guild_id: int, thread_id: int, message_id: int | None) -> None:
        await discord_sync.found_gone(self.bot, guild_id, thread_id, message_id)

    @commands.Cog.listener()
    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        # A cached thread: discord.py hands a copy of it as it was.
        if before.name != after.name:
            await discord_sync.thread_renamed(
                self.bot, Renamed(after.guild.id, after.id, after.name)
            )

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        # An uncached thread (an archived one): no ``on_thread_update``, and no earlier name to
        # compare with, so the domain compares with the stored title. (A cached thread's
        # ``payload.thread`` is updated in place before listeners run: not a "before".)
        name = payload.data.get("name")
        if payload.thread is None and isinstance(name, str):
            renamed = Renamed(payload.guild_id, payload.thread_id, name)
            await discord_sync.thread_renamed(self.bot, renamed)
