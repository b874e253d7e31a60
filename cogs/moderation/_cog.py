"""The moderation cog: the ``/mod`` group, declared here once with every subcommand, wired to
the modules beside it in ``cogs.moderation``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts.renderer import ChartRenderer
from bot.clock import utc_now
from bot.feature_cog import FeatureCog, Interaction
from bot.forum.errors import ValidationError
from bot.forum.health_stats import PERIODS
from cogs.moderation import actions, reports
from cogs.moderation.blocks import UnblockButton, show_blocks
from cogs.moderation.imported import link_handle
from cogs.moderation.moderators import NOT_A_MODERATOR, moderator
from cogs.moderation.pages import AuditPages, QueuePages
from cogs.moderation.premod import PREMOD_BUTTONS
from cogs.moderation.stats import show_stats

if TYPE_CHECKING:
    from bot.client import QABot


__all__ = ["NOT_A_MODERATOR", "Moderation", "moderator"]

#: The restart-proof buttons of /mod log and /mod queue pages, report cards, the moderator's
#: actions on a post, /mod blocks and the cards of posts held for review.
DYNAMIC_ITEMS = (
    AuditPages,
    QueuePages,
    *reports.CARD_BUTTONS,
    *actions.ACTION_BUTTONS,
    UnblockButton,
    *PREMOD_BUTTONS,
)


class Moderation(FeatureCog):
    mod = app_commands.Group(
        name="mod",
        description="Moderate the Q&A forum without unmasking anyone (moderators)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_threads=True),
    )

    dynamic_items = DYNAMIC_ITEMS

    def __init__(self, bot: QABot) -> None:
        super().__init__(bot)
        #: /mod stats' chart helper process, started with the first chart.
        self.charts = ChartRenderer()
        #: The time /mod stats' period ends at (tests set it).
        self.clock: Callable[[], datetime] = utc_now
        self.report_menu = self.add_menu(
            app_commands.guild_only(app_commands.ContextMenu(name="Report", callback=self.report))
        )
        self.moderate_menu = self.add_menu(
            app_commands.guild_only(
                app_commands.default_permissions(manage_threads=True)(
                    app_commands.ContextMenu(name="Moderate post", callback=self.moderate_post)
                )
            )
        )

    async def cog_unload(self) -> None:
        await super().cog_unload()
        await self.charts.close()

    @commands.Cog.listener()
    async def on_qa_post_deleted(self, guild_id: int, post_id: int) -> None:
        await reports.show_cards_without_text(self.bot, guild_id, post_id)

    async def report(self, interaction: Interaction, message: discord.Message) -> None:
        await reports.open_report_form(self.bot, interaction, message)

    async def moderate_post(self, interaction: Interaction, message: discord.Message) -> None:
        await actions.moderate_post(self.bot, interaction, message)

    @commands.Cog.listener()
    async def on_qa_post_moderated(self, guild_id: int, post_id: int) -> None:
        """A moderator removed or restored a post: its report card shows it."""
        await reports.show_card(self.bot, guild_id, post_id, existing_only=True)

    @mod.command(name="log", description="The latest moderator actions, newest first")
    async def log(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await AuditPages.start(interaction, guild_id=actor.guild.id)

    @mod.command(name="queue", description="Posts with open reports, most recently reported first")
    async def queue(self, interaction: Interaction) -> None:
        actor = await moderator(self.bot, interaction)
        await QueuePages.start(interaction, guild_id=actor.guild.id)

    @mod.command(
        name="blocks", description="Blocks in force, each with the post it was made through"
    )
    async def blocks(self, interaction: Interaction) -> None:
        await show_blocks(self.bot, interaction, await moderator(self.bot, interaction))

    @mod.command(
        name="link-imported",
        description="Make an imported Q2A author's posts, votes and points a member's",
    )
    @app_commands.describe(
        handle="The author's Q2A handle, as the import kept it", member="The member they are"
    )
    async def link_imported(
        self,
        interaction: Interaction,
        handle: app_commands.Range[str, 1, 100],
        member: discord.Member,
    ) -> None:
        actor = await moderator(self.bot, interaction)
        await link_handle(self.bot, interaction, actor, handle, member)

    @mod.command(name="stats", description="Community health: answered, how fast, by how many")
    @app_commands.describe(period="How many weeks to look back over (default 12)")
    @app_commands.choices(period=[app_commands.Choice(name=f"{n} weeks", value=n) for n in PERIODS])
    async def stats(self, interaction: Interaction, period: int = 12) -> None:
        actor = await moderator(self.bot, interaction)
        if period not in PERIODS:
            raise ValidationError("The period is 4, 12 or 52 weeks.")
        await show_stats(
            self.bot, interaction, actor, weeks=period, charts=self.charts, now=self.clock()
        )
