"""The asking cog: ``/ask`` with its category autocomplete, and the forum events that adopt
native posts. The work is beside it in ``cogs.asking``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import category_choices
from bot.blocking import refuse_if_blocked
from bot.feature_cog import FeatureCog
from bot.forum import questions
from bot.forum.premod import HeldPostSnapshot
from bot.guilds import guild_of
from bot.posting_rights import check_can_ask
from bot.transactions import run_read
from bot.ui.text import AUTOCOMPLETE_CHOICES
from cogs.asking.adoption import NativePosts
from cogs.asking.anonymity import check_anonymous
from cogs.asking.form import AskModal
from cogs.asking.gate import GATE_BUTTONS
from cogs.asking.held import publish_held_question
from cogs.asking.publishing import find_target

if TYPE_CHECKING:
    from bot.client import QABot


class Asking(FeatureCog):
    dynamic_items = GATE_BUTTONS

    def __init__(self, bot: QABot) -> None:
        super().__init__(bot)
        self._native_posts = NativePosts(bot)

    async def cog_load(self) -> None:
        await super().cog_load()
        self.bot.held_publishers.register("question", self._publish_held)
        self.bot.reconciler.adopt = self._native_posts.adopt  # posts made while the bot was away

    async def cog_unload(self) -> None:
        await super().cog_unload()
        self.bot.held_publishers.unregister("question")
        self.bot.reconciler.adopt = None

    async def _publish_held(self, held: HeldPostSnapshot) -> int:
        """A question held for review and approved (``bot.premod``)."""
        return await publish_held_question(self.bot, held)

    # ------------------------------------------------------------------ /ask

    @app_commands.command(name="ask", description="Ask the community a question")
    @app_commands.guild_only()
    @app_commands.describe(
        category="The question's category (a tag of the Q&A forum)",
        anonymous="Ask without your name showing",
    )
    async def ask(
        self,
        interaction: discord.Interaction[QABot],
        category: str | None = None,
        anonymous: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        wanted = (category or "").strip() or None
        user_id = interaction.user.id
        # Refuse before the member types anything: no forum, no permission, no tag, too many.
        target = await find_target(self.bot, guild, wanted)
        await check_can_ask(self.bot, interaction, target.forum)
        await run_read(
            self.bot,
            lambda s: questions.check_can_ask(s, guild_id=guild.id, user_id=user_id),
        )
        await refuse_if_blocked(self.bot, interaction, anonymous=anonymous)
        if anonymous:  # the server's switch and minimum days, by the member's join date
            await check_anonymous(self.bot, interaction)
        await interaction.response.send_modal(AskModal(category=wanted, anonymous=anonymous))

    @ask.autocomplete("category")
    async def category_autocomplete(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        choices = await category_choices(self.bot, interaction.guild_id, current)
        return choices[:AUTOCOMPLETE_CHOICES]

    # ------------------------------------------------------------------ native forum posts

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        starter = thread.starter_message
        if starter is not None:  # else its MESSAGE_CREATE is still to come: on_message adopts
            await self._native_posts.adopt(thread, starter)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        channel = message.channel
        # A thread not known yet (its THREAD_CREATE comes later) is adopted by on_thread_create.
        if isinstance(channel, discord.Thread) and message.id == channel.id:
            await self._native_posts.adopt(channel, message)
