"""The answering cog: its listeners and commands, each handed to the module of its subject."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.blocking import refuse_if_blocked
from bot.feature_cog import FeatureCog
from bot.forum.premod import HeldKind, HeldPostSnapshot
from bot.forum.results import PostChange
from bot.posting_rights import check_can_post_in
from bot.question_option import question_option
from cogs.answering import (
    acceptance,
    answers,
    deleting,
    editing,
    held,
    intake,
    own_posts,
    replies,
)
from cogs.answering.names import StoredNames

if TYPE_CHECKING:
    from bot.client import QABot

#: The kinds of held posts this cog publishes once approved.
HELD_KINDS: Final[tuple[HeldKind, ...]] = ("answer", "comment")


class Answering(FeatureCog):
    def __init__(self, bot: QABot) -> None:
        super().__init__(bot)
        self.names = StoredNames()
        #: The live path of a thread message.
        self._record = partial(intake.record_message, bot, self.names)
        self.add_menu(
            app_commands.guild_only(
                app_commands.ContextMenu(name="Accept answer", callback=self.accept_answer)
            )
        )

    async def cog_load(self) -> None:
        await super().cog_load()
        for kind in HELD_KINDS:
            self.bot.held_publishers.register(kind, self._publish_held)
        # Messages posted while the bot was away take the live path.
        self.bot.reconciler.ingest = self._record

    async def cog_unload(self) -> None:
        await super().cog_unload()
        for kind in HELD_KINDS:
            self.bot.held_publishers.unregister(kind)
        self.bot.reconciler.ingest = None

    async def _publish_held(self, post: HeldPostSnapshot) -> int:
        """An answer or reply held for review and approved (``bot.premod``)."""
        return await held.publish_held(self.bot, self.names, post)

    # ------------------------------------------------------------------ thread messages

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        # Kept and recorded later when the database is gone (``bot.workers.message_retry``).
        await self.bot.message_retry.record(message, self._record)

    # ------------------------------------------------------------------ /answer

    @app_commands.command(name="answer", description="Answer a question")
    @app_commands.guild_only()
    @app_commands.describe(anonymous="Answer without your name showing")
    @question_option("The question to answer (default: this thread's)", include_closed=False)
    async def answer(
        self,
        interaction: discord.Interaction[QABot],
        anonymous: bool = False,
        question: str | None = None,
    ) -> None:
        await answers.open_answer_form(
            self.bot, self.names, interaction, anonymous=anonymous, question=question
        )

    # ------------------------------------------------------------------ /reply

    @app_commands.command(name="reply", description="Reply in a question's thread")
    @app_commands.guild_only()
    @app_commands.describe(text="Your reply", anonymous="Reply without your name showing")
    @question_option("The question to reply to (default: this thread's)")
    async def reply(
        self,
        interaction: discord.Interaction[QABot],
        text: str,
        anonymous: bool = False,
        question: str | None = None,
    ) -> None:
        await replies.reply(
            self.bot, self.names, interaction, text, anonymous=anonymous, question=question
        )

    # ------------------------------------------------------------------ /edit and /delete

    @app_commands.command(
        name="edit", description="Edit your question or answer that the bot posted in this thread"
    )
    @app_commands.guild_only()
    @app_commands.describe(post="Which of your posts here (default: your latest one)")
    async def edit(self, interaction: discord.Interaction[QABot], post: str | None = None) -> None:
        target = await own_posts.own_post(self.bot, interaction, post)
        await refuse_if_blocked(self.bot, interaction, anonymous=target.anonymous)
        await check_can_post_in(self.bot, interaction, target.question_id or target.id, paced=False)
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
