"""Opening the forum post of a claimed imported question (``bot.forum.continuation``), for the
"Continue in Discord" button (``cogs.continuing``) and ``qa-bot import-q2a --publish``: the
post, the thread and starter written to the row, the vote reactions.
"""

from __future__ import annotations

import logging

import discord

from bot.forum import categories, continuation
from bot.forum.continuation import Claimed
from bot.forum.settings import GuildConfig
from bot.threads import add_vote_reactions
from bot.transactions import HasTransactionRunner, run_transaction
from bot.ui.imported import continued_embeds
from bot.ui.mentions import NO_PINGS
from bot.ui.text import THREAD_NAME, truncate

log = logging.getLogger(__name__)


def _tags(forum: discord.ForumChannel, category: str | None) -> list[discord.ForumTag]:
    """The forum tag of the question's category, when the forum has one of that name."""
    if category is None:
        return []
    tag_id = categories.find_tag([(t.id, t.name) for t in forum.available_tags], category)
    tag = forum.get_tag(tag_id) if tag_id is not None else None
    return [tag] if tag is not None else []


async def open_thread(
    bot: HasTransactionRunner, forum: discord.ForumChannel, config: GuildConfig, claim: Claimed
) -> int:
    """Create the forum post of a claimed imported question and write it to the row; the
    thread's id. A refusal of Discord's releases the claim (a 5xx keeps it until it expires:
    Discord may have made the post)."""
    question = claim.question
    try:
        created = await forum.create_thread(
            name=truncate(question.title or "", THREAD_NAME),
            embeds=continued_embeds(question, claim.answers),
            applied_tags=_tags(forum, question.category),
            allowed_mentions=NO_PINGS,
        )
    except discord.HTTPException as exc:
        if exc.status < 500:
            await run_transaction(
                bot, lambda s: continuation.release_continuation(s, question_id=question.id)
            )
        raise
    thread, starter = created.thread, created.message
    await run_transaction(
        bot,
        lambda s: continuation.finish_continuation(
            s,
            question_id=question.id,
            thread_id=thread.id,
            message_id=starter.id,
            forum_id=forum.id,
        ),
    )
    log.info(
        "imported question %s continued as thread %s in guild %s",
        question.id,
        thread.id,
        forum.guild.id,
    )
    await add_vote_reactions(starter, config)
    return thread.id
