"""Imported history continued in Discord: the "Continue in Discord" button.

``/search`` (``cogs.discovery``) and the similar-questions gate (``cogs.asking``) show the button
under an imported question that has no thread yet (``bot.ui.imported``); this cog answers its
presses, restart-proof (the question's id is in the ``custom_id``). A press claims the question
in the database before creating its forum post (``bot.forum.continuation``): two presses at once
make one thread, and the second presser is given its link. The post is the question as /ask
posts one, followed by a summary of the imported answers; the row gets the thread and from then
on is a question like any other (the same row: its votes and answers stay).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bot import guilds
from bot.blocking import refuse_if_blocked
from bot.client import bot_of
from bot.clock import utc_now
from bot.continuing import open_thread
from bot.feature_cog import FeatureCog
from bot.forum import continuation
from bot.forum.continuation import Claimed
from bot.posting_rights import check_can_ask
from bot.transactions import run_transaction
from bot.ui.imported import continue_button, continued_text
from bot.ui.mentions import NO_PINGS
from bot.ui.views import IdButton
from bot.visibility import visible_forums

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.forum.settings import GuildConfig
    from bot.forum.visibility import VisibleForums

log = logging.getLogger(__name__)

#: A second press waits this many polls of this many seconds for the first press's thread.
WAIT_POLLS: Final = 20
WAIT_POLL_SECONDS: Final = 0.25


async def _continue(
    bot: QABot,
    forum: discord.ForumChannel,
    config: GuildConfig,
    visible: VisibleForums,
    question_id: int,
) -> str:
    """Claim the question and open its thread, or wait for another press's thread (a few
    short polls of the database: the other press may be in another process); what the presser
    is told."""
    guild_id = forum.guild.id
    for _ in range(WAIT_POLLS):
        claim = await run_transaction(
            bot,
            lambda s: continuation.claim_continuation(
                s, guild_id=guild_id, visible=visible, question_id=question_id, now=utc_now()
            ),
        )
        if isinstance(claim, Claimed):
            thread_id = await open_thread(bot, forum, config, claim)
            return continued_text(guild_id, thread_id, mine=True)
        if claim.thread_id is not None:
            return continued_text(guild_id, claim.thread_id, mine=False)
        await asyncio.sleep(WAIT_POLL_SECONDS)
    return continued_text(guild_id, None, mine=False)


class ContinueInDiscord(IdButton, template=r"qa:imported:continue:(?P<id>[0-9]{1,20})"):
    """Open the forum post of an imported question (one per question, however many press)."""

    def button(self, target_id: int) -> discord.ui.Button[discord.ui.View]:
        return continue_button(target_id)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        guild = guilds.guild_of(interaction)
        config = await guilds.guild_config(bot, guild.id)
        forum = guilds.qa_forum(guild, config)
        # The bot posts only where the member could: the forum's permissions, a timeout,
        # slowmode and a moderator's block hold as for /ask.
        await check_can_ask(bot, interaction, forum)
        await refuse_if_blocked(bot, interaction, anonymous=False)
        visible = visible_forums(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await _continue(bot, forum, config, visible, self.target_id)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


class Continuing(FeatureCog):
    dynamic_items = (ContinueInDiscord,)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Continuing(bot))
