"""``/privacy`` and **Publish / unpublish**: wiring (see the package's docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.feature_cog import FeatureCog, Interaction
from bot.forum import consent
from bot.guilds import guild_of
from bot.transactions import run_read, run_transaction
from bot.ui.archive import choice_text, components, privacy_embed, withdraw_button
from bot.ui.mentions import NO_PINGS
from cogs.archive.buttons import DYNAMIC_ITEMS

if TYPE_CHECKING:
    from bot.client import QABot


PUBLISH_MENU = "Publish / unpublish"


class Archive(FeatureCog):
    dynamic_items = DYNAMIC_ITEMS

    def __init__(self, bot: QABot) -> None:
        super().__init__(bot)
        self.add_menu(
            app_commands.guild_only(
                app_commands.ContextMenu(name=PUBLISH_MENU, callback=self.publish_or_not)
            )
        )

    @app_commands.command(
        name="privacy",
        description="The public archive: your choices and what of yours is published",
    )
    @app_commands.describe(
        allow_by_default="Publish your posts that have no choice of their own (default: no)",
        be_named="Show your name on what is published (default: no, you are 'A member')",
    )
    @app_commands.guild_only()
    async def privacy(
        self,
        interaction: Interaction,
        allow_by_default: bool | None = None,
        be_named: bool | None = None,
    ) -> None:
        guild_id, user_id = guild_of(interaction).id, interaction.user.id
        if allow_by_default is not None or be_named is not None:
            await run_transaction(
                self.bot,
                lambda s: consent.set_prefs(
                    s, guild_id, user_id, by_default=allow_by_default, named=be_named
                ),
            )
        mine = await run_read(self.bot, lambda s: consent.my_published(s, guild_id, user_id))
        await interaction.response.send_message(
            embed=privacy_embed(mine, guild_id),
            view=components(withdraw_button(guild_id)),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def publish_or_not(self, interaction: Interaction, message: discord.Message) -> None:
        message_id, user_id = message.id, interaction.user.id
        choice = await run_transaction(
            self.bot, lambda s: consent.toggle_post(s, message_id=message_id, user_id=user_id)
        )
        await interaction.response.send_message(
            choice_text(choice), ephemeral=True, allowed_mentions=NO_PINGS
        )
