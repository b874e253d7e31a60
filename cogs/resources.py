"""Safety resources: ``/resources`` and the private reply after a matching question.

- **/resources [public] [dm]**: the server's resources text (``/qa settings`` key
  ``resources_text``; not set: a default naming the rules channel and the moderators), only to
  the member unless ``public:true``; public posts ping no one. In a DM with the bot: the general
  default. ``dm:on|off`` is the member's own choice to get the keyword reply by DM (off by
  default); it is answered only to them.
- **The keyword reply**: the asking cog dispatches ``qa_question_posted`` once a question from
  ``/ask`` is in the forum. With the server's ``resources_keyword_reply`` on and a keyword in the
  title or details, the asker gets the resources privately: by DM only if they opted in (and DMs
  reach them), otherwise as an ephemeral follow-up of their ``/ask``; a refused DM falls back to
  the follow-up. Nothing is sent to anyone who did not opt in to DMs, and the reply is private,
  so it leaks nothing about an anonymous asker. Logs carry ids only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import guilds
from bot.feature_cog import Interaction
from bot.forum import prefs, resources
from bot.forum.results import PostSnapshot
from bot.transactions import run_transaction
from bot.ui import embeds
from bot.ui.mentions import NO_PINGS
from bot.ui.resources import (
    DM_OFF,
    DM_ON,
    DM_ON_BUT_DMS_OFF,
    default_text,
    keyword_reply_embed,
    resources_embed,
)

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


class Resources(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    async def _text(self, guild: discord.Guild | None) -> str:
        """The resources text of ``guild`` (its own, else the default), or the general default."""
        if guild is None:
            return default_text(in_server=False)
        config = await guilds.guild_config(self.bot, guild.id)
        if config.resources_text is not None:
            return config.resources_text
        rules = guild.rules_channel
        return default_text(
            in_server=True,
            rules_channel_id=rules.id if rules is not None else None,
            moderator_role_id=config.moderator_role_id,
        )

    # ------------------------------------------------------------------ /resources

    @app_commands.command(name="resources", description="Where to find support: safety resources")
    @app_commands.describe(
        public="Show them to the channel (default: only you)",
        dm="After a question of yours that mentions a support keyword: on = resources by DM",
    )
    @app_commands.choices(
        dm=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def resources(
        self,
        interaction: Interaction,
        public: bool = False,
        dm: app_commands.Choice[str] | None = None,
    ) -> None:
        if dm is not None:
            await self._set_dm(interaction, dm.value == "on")
            return
        text = await self._text(interaction.guild)
        await interaction.response.send_message(
            embed=resources_embed(text), ephemeral=not public, allowed_mentions=NO_PINGS
        )
        log.info("resources shown (interaction %s, public %s)", interaction.id, public)

    async def _set_dm(self, interaction: Interaction, on: bool) -> None:
        user_id = interaction.user.id
        now = await run_transaction(self.bot, lambda s: prefs.set_resources_dm(s, user_id, on))
        text = DM_OFF if not on else (DM_ON if now.notifications else DM_ON_BUT_DMS_OFF)
        await interaction.response.send_message(
            embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
        )
        log.info("resources by DM %s (interaction %s)", "on" if on else "off", interaction.id)

    # ------------------------------------------------------------------ the keyword reply

    @commands.Cog.listener()
    async def on_qa_question_posted(
        self, interaction: discord.Interaction[Any], question: PostSnapshot
    ) -> None:
        """A question from /ask is in the forum: offer its asker the resources, privately, when
        the server's keyword reply is on and the question mentions a keyword."""
        guild = interaction.guild
        if guild is None:
            return
        user_id, title, details = interaction.user.id, question.title or "", question.body
        reply = await run_transaction(
            self.bot,
            lambda s: resources.keyword_reply(
                s, guild_id=guild.id, user_id=user_id, title=title, details=details
            ),
        )
        if reply is None:
            return
        text = reply.text if reply.text is not None else await self._text(guild)
        if reply.delivery is resources.Delivery.DM and await self._dm(
            interaction, keyword_reply_embed(text, server_name=guild.name), question.id
        ):
            return
        await interaction.followup.send(
            embed=keyword_reply_embed(text), ephemeral=True, allowed_mentions=NO_PINGS
        )
        log.info("resources shown after question %s (interaction %s)", question.id, interaction.id)

    async def _dm(
        self, interaction: discord.Interaction[Any], embed: discord.Embed, qid: int
    ) -> bool:
        """DM the asker who opted in; False when Discord refuses (they get the follow-up)."""
        try:
            await interaction.user.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.info(
                "resources DM after question %s refused (status %s, code %s)",
                qid,
                exc.status,
                exc.code,
            )
            return False
        log.info("resources sent by DM after question %s", qid)
        return True


async def setup(bot: QABot) -> None:
    await bot.add_cog(Resources(bot))
