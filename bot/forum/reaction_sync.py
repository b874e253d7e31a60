"""Votes re-read from Discord's reactions after the bot was away (reconciliation's vote part).

While the bot is down (or after a fresh IDENTIFY, when Discord replays nothing), reaction
gestures are lost, and live ones may arrive out of order (a remove before its add). The adapter
(``bot.reaction_sync``) reads what Discord shows now; this module says what it means:

- ``vote_tallies``: for the messages to look at, the post each one is, its guild's vote emoji
  and how many stored votes set each flag. A message whose normal reaction counts (the bot's own
  reaction left out) equal these is skipped: nothing to re-read. Imported votes
  (``imported_votes``: facts from the old site, no reaction) are not counted, so a thread opened
  for an imported question is not re-read on every reconciliation.
- ``sync_reactions``: the members Discord shows under the up and down emoji (normal reactions
  only: super reactions count nothing, as on the live path; bots left out by the caller) become
  the post's stored votes, through ``votes.reconcile_votes``, the rules and ledger of the live
  path, so points stay exact. Erased members are left out there, as live.

A swap while away (one member removes a vote, another adds one) keeps the counts equal and is
not caught; neither are posts the caller does not ask about (reconciliation looks at the posts
active in its window only).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.imported import ImportedVote
from bot.db.models import Post, Vote
from bot.forum.post_rows import gone
from bot.forum.results import ReconcileResult
from bot.forum.settings import load_config
from bot.forum.votes import reconcile_votes


@dataclass(frozen=True, slots=True)
class VoteTally:
    """A post's stored votes as counts, and the emoji that vote in its guild."""

    post_id: int
    question_id: int
    message_id: int
    up_emoji: str
    down_emoji: str
    ups: int
    downs: int


@dataclass(frozen=True, slots=True)
class VotedMessage:
    """A live post's message, where members vote."""

    guild_id: int
    thread_id: int
    message_id: int


async def recent_voted_messages(
    session: AsyncSession, *, guild_ids: Collection[int], since: datetime, limit: int
) -> list[VotedMessage]:
    """The messages of the live posts (questions, answers, comments) of questions active since
    ``since`` in these guilds: the most recently active questions first, at most ``limit``."""
    if not guild_ids:
        return []
    question = aliased(Post)
    rows = await session.execute(
        select(Post.guild_id, question.thread_id, Post.message_id)
        .join(question, or_(question.id == Post.question_id, question.id == Post.id))
        .where(
            question.guild_id.in_(list(guild_ids)),
            question.kind == "question",
            question.last_activity_at >= since,
            question.deleted_at.is_(None),
            question.removed_at.is_(None),
            question.thread_id.is_not(None),
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.removed_at.is_(None),
            Post.message_id.is_not(None),
        )
        .order_by(question.last_activity_at.desc(), question.id, Post.id)
        .limit(limit)
    )
    return [VotedMessage(row.guild_id, row.thread_id, row.message_id) for row in rows]


async def vote_tallies(
    session: AsyncSession, *, message_ids: Sequence[int]
) -> dict[int, VoteTally]:
    """The stored vote counts of the live posts among ``message_ids``, by message id (messages
    that are no post, and deleted or removed posts, are left out)."""
    if not message_ids:
        return {}
    posts = (
        (await session.execute(select(Post).where(Post.message_id.in_(list(message_ids)))))
        .scalars()
        .all()
    )
    posts = [p for p in posts if not gone(p) and p.message_id is not None]
    if not posts:
        return {}
    counts = await session.execute(
        select(
            Vote.post_id,
            func.count().filter(Vote.up),
            func.count().filter(Vote.down),
        )
        .outerjoin(
            ImportedVote,
            and_(ImportedVote.post_id == Vote.post_id, ImportedVote.user_id == Vote.user_id),
        )
        .where(Vote.post_id.in_([p.id for p in posts]), ImportedVote.post_id.is_(None))
        .group_by(Vote.post_id)
    )
    stored = {post_id: (ups, downs) for post_id, ups, downs in counts}
    configs = {gid: await load_config(session, gid) for gid in sorted({p.guild_id for p in posts})}
    tallies: dict[int, VoteTally] = {}
    for post in posts:
        assert post.message_id is not None
        config = configs[post.guild_id]
        ups, downs = stored.get(post.id, (0, 0))
        tallies[post.message_id] = VoteTally(
            post_id=post.id,
            question_id=post.question_id if post.question_id is not None else post.id,
            message_id=post.message_id,
            up_emoji=config.vote_up_emoji,
            down_emoji=config.vote_down_emoji,
            ups=ups,
            downs=downs,
        )
    return tallies


async def sync_reactions(
    session: AsyncSession,
    *,
    post_id: int,
    up_user_ids: Collection[int],
    down_user_ids: Collection[int],
    keep_user_ids: Collection[int] = (),
) -> ReconcileResult | None:
    """Make a post's stored votes exactly the members reacting with each vote emoji now (bots
    left out by the caller), but for ``keep_user_ids`` (members who reacted live meanwhile),
    whose votes stay as stored. None when the post is gone."""
    return await reconcile_votes(
        session,
        post_id=post_id,
        up_user_ids=up_user_ids,
        down_user_ids=down_user_ids,
        keep_user_ids=keep_user_ids,
    )
