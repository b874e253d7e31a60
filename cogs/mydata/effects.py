"""The Discord side of an erase: what ``erase_member``'s plan asks, best effort, counted."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.forum.mydata import ErasePlan, MessageRef
from bot.ui.mydata import removed_question_embed

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)


async def _message(
    bot: QABot, ref: MessageRef, user: discord.User | discord.Member
) -> discord.PartialMessage | None:
    if ref.channel_id is not None:
        channel = bot.get_partial_messageable(ref.channel_id, guild_id=ref.guild_id)
        return channel.get_partial_message(ref.message_id)
    try:
        dm = await user.create_dm()
    except discord.HTTPException:
        return None
    return dm.get_partial_message(ref.message_id)


async def _apply(
    bot: QABot, ref: MessageRef, user: discord.User | discord.Member, *, replace: bool
) -> bool:
    """Replace or delete one of the bot's messages; True when done (or already gone)."""
    message = await _message(bot, ref, user)
    if message is None:
        return False
    try:
        if replace:
            await message.edit(
                content=None, embed=removed_question_embed(), view=None, attachments=[]
            )
        else:
            await message.delete()
    except discord.NotFound:
        return True
    except discord.HTTPException as exc:
        log.warning(
            "could not %s message %s after an erase (status %s)",
            "replace" if replace else "delete",
            ref.message_id,
            exc.status,
        )
        return False
    return True


async def carry_out(bot: QABot, plan: ErasePlan, user: discord.User | discord.Member) -> int:
    """Do the plan's Discord work; returns how many messages could not be handled."""
    failed = 0
    for ref in plan.replace:
        failed += not await _apply(bot, ref, user, replace=True)
    for ref in (*plan.delete, *plan.dms):
        failed += not await _apply(bot, ref, user, replace=False)
    for question_id, thread_id in plan.rename_threads:
        await bot.thread_renames.rename(question_id, thread_id)
    for guild_id, post_id in plan.report_cards:
        # The moderation cog shows the card again (the post's text, the open reports' count).
        bot.dispatch("qa_post_moderated", guild_id, post_id)
    log.info(
        "erase carried out: %d replaced, %d deleted, %d DMs, %d threads, %d failed",
        len(plan.replace),
        len(plan.delete),
        len(plan.dms),
        len(plan.rename_threads),
        failed,
    )
    return failed
