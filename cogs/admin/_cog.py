"""The admin cog: the whole ``/qa`` group, declared here once with every subcommand, wired to
the modules beside it in ``cogs.admin``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.feature_cog import Interaction
from bot.forum import categories, consent, outbox, reconcile, roles, settings
from bot.guilds import guild_of
from bot.transactions import run_transaction
from bot.ui.admin import outbox_status
from bot.ui.mentions import NO_PINGS
from cogs.admin.archive import PUBLISHING_KEY, change_archive_category, switch_publishing
from cogs.admin.categories import change_category
from cogs.admin.forum_setup import ForumOnly, set_up_forum
from cogs.admin.forum_tags import TagLocks
from cogs.admin.guild_settings import key_autocomplete, reset_setting, set_setting, show_settings
from cogs.admin.point_roles import add_role, remove_role, show_roles

if TYPE_CHECKING:
    from bot.client import QABot


class Admin(commands.Cog):
    qa = app_commands.Group(
        name="qa",
        description="Set up and configure the Q&A forum (needs Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    qa_settings = app_commands.Group(
        name="settings", description="Show or change this server's Q&A settings", parent=qa
    )
    qa_roles = app_commands.Group(
        name="roles", description="Roles members hold while their points reach a level", parent=qa
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._tag_locks = TagLocks()

    # ------------------------------------------------------------------ /qa setup

    @qa.command(
        name="setup", description="Use a forum channel for questions; its tags become categories"
    )
    @app_commands.describe(forum="The forum channel where questions are posted")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def setup_forum(
        self,
        interaction: Interaction,
        forum: app_commands.Transform[discord.ForumChannel, ForumOnly],
    ) -> None:
        guild = guild_of(interaction)
        await set_up_forum(self.bot, interaction, guild, forum, self._tag_locks[guild.id])

    # ------------------------------------------------------------------ /qa settings

    @qa_settings.command(name="show", description="Every setting with its value, default and help")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_show(self, interaction: Interaction) -> None:
        await show_settings(self.bot, interaction, guild_of(interaction))

    @qa_settings.command(name="set", description="Change one setting")
    @app_commands.describe(
        key="The setting to change",
        value="Its new value (for categories: add <name> or remove <name>)",
    )
    @app_commands.autocomplete(key=key_autocomplete)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_set(
        self,
        interaction: Interaction,
        key: app_commands.Range[str, 1, 64],
        value: app_commands.Range[str, 1, settings.VALUE_MAX],
    ) -> None:
        guild = guild_of(interaction)
        key = key.strip().lower()
        if key == categories.SETTING_KEY:
            await change_category(self.bot, interaction, guild, value, self._tag_locks[guild.id])
        elif key == consent.ARCHIVE_KEY:
            await change_archive_category(self.bot, interaction, guild, value)
        elif key == PUBLISHING_KEY:
            await switch_publishing(self.bot, interaction, guild, value)
        else:
            await set_setting(self.bot, interaction, guild, key, value)

    @qa_settings.command(name="reset", description="Put one setting back to its default")
    @app_commands.describe(key="The setting to reset")
    @app_commands.autocomplete(key=key_autocomplete)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_reset(
        self, interaction: Interaction, key: app_commands.Range[str, 1, 64]
    ) -> None:
        key = key.strip().lower()
        if key == PUBLISHING_KEY:
            await switch_publishing(self.bot, interaction, guild_of(interaction), None)
        else:
            await reset_setting(self.bot, interaction, guild_of(interaction), key)

    # ------------------------------------------------------------------ /qa status

    @qa.command(
        name="status",
        description="The DM outbox (pending, sent, failed) and the last reconciliation run",
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def status(self, interaction: Interaction) -> None:
        guild = guild_of(interaction)
        stats = await run_transaction(self.bot, lambda s: outbox.outbox_stats(s, guild.id))
        run = await run_transaction(self.bot, lambda s: reconcile.last_run(s, guild.id))
        await interaction.response.send_message(
            embed=outbox_status(stats, run), ephemeral=True, allowed_mentions=NO_PINGS
        )

    # ------------------------------------------------------------------ /qa roles

    @qa_roles.command(name="add", description="Give a role to members reaching some points")
    @app_commands.describe(
        threshold="Points (as members see them) from which members hold the role",
        role="The role to give",
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def roles_add(
        self,
        interaction: Interaction,
        threshold: app_commands.Range[int, 0, roles.THRESHOLD_MAX],
        role: discord.Role,
    ) -> None:
        guild = guild_of(interaction)
        await add_role(self.bot, interaction, guild, int(threshold), role)

    @qa_roles.command(name="remove", description="Stop giving a role by points")
    @app_commands.describe(role="The point role to stop managing (members keep it)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def roles_remove(self, interaction: Interaction, role: discord.Role) -> None:
        await remove_role(self.bot, interaction, guild_of(interaction), role)

    @qa_roles.command(name="show", description="List the point roles")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def roles_show(self, interaction: Interaction) -> None:
        await show_roles(self.bot, interaction, guild_of(interaction))
