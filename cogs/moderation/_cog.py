"""The moderation cog: the ``/mod`` group, declared here once with every subcommand, wired to
the modules beside it in ``cogs.moderation``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.moderation import reports
from cogs.moderation.checks import moderator
from cogs.moderation.log import AuditPages

if TYPE_CHECKING:
    from bot.client import QABot

Interaction = discord.Interaction["QABot"]


class Moderation(commands.Cog):
    mod = app_commands.Group(
        name="mod",
        description="Moderate the Q&A forum without unmasking anyone (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_threads=True),
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.card_locks = reports.CardLocks()
        self.report_menu: app_commands.ContextMenu = app_commands.guild_only(
            app_commands.ContextMenu(name="Report", callback=self.report)
        )

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(AuditPages, reports.QueuePages, *reports.CARD_BUTTONS)
        self.bot.tree.add_command(self.report_menu)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AuditPages, reports.QueuePages, *reports.CARD_BUTTONS)
        self.bot.tree.remove_command(self.report_menu.name, type=self.report_menu.type)

    @commands.Cog.listener()
    async def on_qa_post_deleted(self, guild_id: int, post_id: int) -> None:
        await reports.show_cards_without_text(self.bot, self.card_locks, guild_id, post_id)

    async def report(self, interaction: Interaction, message: discord.Message) -> None:
        await reports.open_report_form(self.bot, self.card_locks, interaction, message)

    @mod.command(name="log", description="The latest moderator actions, newest first")
    async def log(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await AuditPages.start(interaction, guild_id=actor.guild.id)

    @mod.command(name="queue", description="Posts with open reports, most recently reported first")
    async def queue(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await reports.QueuePages.start(interaction, guild_id=actor.guild.id)
