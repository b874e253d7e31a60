"""Questions and pre-moderation: ``hold_question`` is the one call before /ask publishes (from
the form, or "Post my question anyway"), ``publish_held_question`` publishes an approved one
exactly as /ask would have (``publishing.post_question``), its author absent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.client import bot_of
from bot.forum import premod, questions
from bot.forum.errors import NotConfigured
from bot.forum.premod import HeldPostSnapshot, Related
from bot.forum.questions import AskedQuestion
from bot.guilds import FORUM_GONE
from bot.premod import hold_for_review
from bot.transactions import run_transaction
from cogs.asking.publishing import Target, find_target, post_question

if TYPE_CHECKING:
    from bot.client import QABot


async def hold_question(
    interaction: discord.Interaction[Any],
    target: Target,
    asked: AskedQuestion,
    *,
    draft_id: int | None = None,
    related: Related | None = None,
) -> bool:
    """Hold the question for a moderator's review when the guild says so (True: it waits)."""
    payload = {
        "title": asked.title,
        "details": asked.details,
        "category": target.category_name,
        "display_name": asked.display_name,
    }
    return await hold_for_review(
        bot_of(interaction),
        interaction,
        "question",
        payload,
        anonymous=asked.anonymous,
        draft_id=draft_id,
        related=related,
    )


async def publish_held_question(bot: QABot, held: HeldPostSnapshot) -> int:
    """An approved question, posted as /ask would have posted it; the question's id."""
    guild = bot.get_guild(held.guild_id)
    if guild is None:
        raise NotConfigured(FORUM_GONE)
    payload = held.payload
    target = await find_target(bot, guild, payload.get("category"))
    asked = AskedQuestion(
        title=str(payload.get("title") or ""),
        details=str(payload.get("details") or ""),
        category=target.category_name,
        anonymous=held.anonymous,
        display_name=payload.get("display_name"),
    )
    change = await run_transaction(
        bot,
        lambda s: questions.ask_question(
            s, guild_id=guild.id, author_id=held.author_id, asked=asked, check_limit=False
        ),
    )
    related = await run_transaction(bot, lambda s: premod.related_questions(s, held))
    await post_question(
        bot,
        target,
        change.post,
        asker_id=held.author_id,
        asker_name=payload.get("author_name"),
        related=related,
    )
    return change.post.id
