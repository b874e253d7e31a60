"""The answering cog: its listeners and commands, each handed to the module of its subject."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum.errors import InvalidState
from bot.forum.results import PostChange
from cogs.answering import acceptance, deleting, editing, intake, own_posts
from cogs.answering.answers import ANONYMOUS_NOT_YET, AnswerModal, question_here
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot


class Answering(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.names = StoredNames()
        self.accept_menu: app_commands.ContextMenu = app_commands.guild_only(
            app_commands.ContextMenu(name="Accept answer", callback=self.accept_answer)
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.accept_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.accept_menu.name, type=self.accept_menu.type)

    # ------------------------------------------------------------------ thread messages

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await intake.record_message(self.bot, self.names, message)

    # ------------------------------------------------------------------ /answer

    @app_commands.command(name="answer", description="Answer this thread's question")
    @app_commands.guild_only()
    @app_commands.describe(anonymous="Answer without your name showing")
    async def answer(
        self, interaction: discord.Interaction[QABot], anonymous: bool = False
    ) -> None:
        if anonymous:
            raise InvalidState(ANONYMOUS_NOT_YET)
        question = await question_here(self.bot, interaction)
        await interaction.response.send_modal(
            AnswerModal(self.bot, self.names, question_id=question.id)
        )

    # ------------------------------------------------------------------ /edit and /delete

    @app_commands.command(
        name="edit", description="Edit your question or answer that the bot posted in this thread"
    )
    @app_commands.guild_only()
    @app_commands.describe(post="Which of your posts here (default: your latest one)")
    async def edit(self, interaction: discord.Interaction[QABot], post: str | None = None) -> None:
        target = await own_posts.own_post(self.bot, interaction, post)
        await interaction.response.send_modal(editing.edit_modal(self.bot, target))

    @edit.autocomplete("post")
    async def edit_post_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await own_posts.own_post_choices(self.bot, interaction, current)

    @app_commands.command(
        name="delete",
        description="Delete your question or answer that the bot posted in this thread",
    )
    @app_commands.guild_only()
    @app_commands.describe(post="Which of your posts here (default: your latest one)")
    async def delete(
        self, interaction: discord.Interaction[QABot], post: str | None = None
    ) -> None:
        target = await own_posts.own_post(self.bot, interaction, post)
        await deleting.delete_own_post(self.bot, interaction, target)

    @delete.autocomplete("post")
    async def delete_post_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await own_posts.own_post_choices(self.bot, interaction, current)

    # ------------------------------------------------------------------ Accept answer

    async def accept_answer(
        self, interaction: discord.Interaction[QABot], message: discord.Message
    ) -> None:
        await acceptance.accept_answer(self.bot, interaction, message)

    @commands.Cog.listener()
    async def on_qa_synced(self, kind: str, event: object, changes: list[PostChange]) -> None:
        """Answers deleted in Discord: the acceptance marks follow (``acceptance``)."""
        await acceptance.after_synced_deletes(self.bot, kind, changes)
