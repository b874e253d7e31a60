"""Answers, replies and pre-moderation: ``held_for_review`` is the one call before /answer or
/reply publishes, ``publish_held`` publishes an approved one exactly as they would have
(``on_behalf.publish_member_post``: the same embed, pseudonym, points and DMs), its author
absent."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

import discord

from bot.forum import posts
from bot.forum.premod import HeldPostSnapshot
from bot.premod import hold_for_review
from bot.transactions import Operation
from cogs.answering.names import StoredNames
from cogs.answering.on_behalf import publish_member_post

if TYPE_CHECKING:
    from bot.client import QABot
    from bot.forum.results import PostChange


async def held_for_review(
    bot: QABot,
    interaction: discord.Interaction[QABot],
    kind: Literal["answer", "comment"],
    post: posts.MemberPost,
) -> bool:
    """Hold the answer or reply for a moderator's review when the guild says so (True)."""
    joined = post.joined_at
    payload = {"body": post.body, "joined_at": joined.isoformat() if joined else None}
    return await hold_for_review(
        bot,
        interaction,
        kind,
        payload,
        anonymous=post.anonymous,
        question_id=post.question_id,
    )


def _store(held: HeldPostSnapshot) -> Operation[PostChange]:
    """The domain operation that stores the approved post ``pending``, as /answer or /reply
    would have (its hourly limit was checked when it was held)."""
    post = held.member_post()
    store: Callable[..., Awaitable[PostChange]] = (
        functools.partial(posts.post_answer, check_limit=False)
        if held.kind == "answer"
        else posts.post_reply
    )
    return lambda s: store(s, post=post)


async def publish_held(bot: QABot, names: StoredNames, held: HeldPostSnapshot) -> int:
    """An approved answer or reply, posted as /answer or /reply would have; the post's id."""
    name = held.payload.get("author_name")
    done = await publish_member_post(
        bot,
        names,
        guild_id=held.guild_id,
        author_id=held.author_id,
        author_name=str(name) if name else None,
        store_pending=_store(held),
    )
    return done.change.post.id
