"""Members' points: the full rebuild of a guild's caches (``recompute_points``) and reads.

``recompute_points`` applies the rules of ``bot.forum.point_rules`` to every post and vote of a
guild and fixes the cached columns that differ from the result; every event keeps them right on
its own through ``bot.forum.ledger``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name
from bot.db.models import Member, Post
from bot.forum.ledger import apply_member_deltas, load_guild_facts, note_points_moved
from bot.forum.point_rules import (
    TOTAL_FIELDS,
    ZERO,
    PostCache,
    Totals,
    compute_points,
    compute_post_caches,
)
from bot.forum.results import MemberPoints, PointsAudit, RecomputeResult
from bot.forum.settings import load_config

log = logging.getLogger(__name__)


async def recompute_points(
    session: AsyncSession, guild_id: int, *, now: datetime | None = None
) -> RecomputeResult:
    """Rebuild every member's points and counters, and every post's cached score, answer count
    and status, of one guild from ``posts`` and ``votes`` alone; fix what differs.

    Call it after changing a point setting (cached points follow the rules in force) or to
    repair. On PostgreSQL it locks ``posts``, ``votes`` and ``members`` against writers (readers
    go on) for the duration, so no event lands between reading and fixing.
    """
    now = now or utc_now()
    if dialect_name(session) == "postgresql":
        await session.execute(text("LOCK TABLE posts, votes, members IN EXCLUSIVE MODE"))
    expected_members, expected_posts = await _recomputed(session, guild_id)

    posts_fixed = 0
    for post_id, (kind, have) in (await _cached_posts(session, guild_id)).items():
        want = expected_posts[post_id]
        if have != want:
            posts_fixed += 1
            values: dict[str, object] = {
                "score": want.score,
                "upvotes": want.upvotes,
                "downvotes": want.downvotes,
                "answer_count": want.answer_count,
                "updated_at": now,
            }
            if kind == "question":
                values["status"] = want.status
            await session.execute(
                update(Post)
                .where(Post.id == post_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    members_fixed = 0
    have_members = await _cached_members(session, guild_id)
    for user_id in sorted(have_members.keys() | expected_members.keys()):
        want_totals = expected_members.get(user_id, ZERO)
        if have_members.get(user_id, ZERO) == want_totals:
            continue
        members_fixed += 1
        if have_members.get(user_id, ZERO).points != want_totals.points:
            note_points_moved(session, guild_id, [user_id])
        if user_id in have_members:
            await session.execute(
                update(Member)
                .where(and_(Member.guild_id == guild_id, Member.user_id == user_id))
                .values(updated_at=now, **want_totals.as_dict())
                .execution_options(synchronize_session=False)
            )
        else:
            await apply_member_deltas(session, guild_id, {user_id: want_totals}, now)
    if members_fixed or posts_fixed:
        log.warning(
            "recomputed guild %s: fixed %d members and %d posts",
            guild_id,
            members_fixed,
            posts_fixed,
        )
    return RecomputeResult(guild_id=guild_id, members_fixed=members_fixed, posts_fixed=posts_fixed)


async def _recomputed(
    session: AsyncSession, guild_id: int
) -> tuple[dict[int, Totals], dict[int, PostCache]]:
    """What every member's totals and every post's caches of a guild should be, from ``posts``
    and ``votes`` alone under the guild's rules."""
    config = await load_config(session, guild_id)
    posts, votes = await load_guild_facts(session, guild_id)
    return compute_points(config, posts, votes), compute_post_caches(config, posts, votes)


async def _cached_posts(session: AsyncSession, guild_id: int) -> dict[int, tuple[str, PostCache]]:
    """Every post's kind and cached columns, by id (an answer's or comment's status is "open":
    only a question's is kept)."""
    rows = await session.execute(
        select(
            Post.id,
            Post.score,
            Post.upvotes,
            Post.downvotes,
            Post.answer_count,
            Post.status,
            Post.kind,
        ).where(Post.guild_id == guild_id)
    )
    return {
        row.id: (
            row.kind,
            PostCache(
                score=row.score,
                upvotes=row.upvotes,
                downvotes=row.downvotes,
                answer_count=row.answer_count,
                status=row.status if row.kind == "question" else "open",
            ),
        )
        for row in rows.all()
    }


async def _cached_members(session: AsyncSession, guild_id: int) -> dict[int, Totals]:
    """Every member's cached totals in a guild, by user id."""
    rows = await session.execute(
        select(Member.user_id, *(getattr(Member, n) for n in TOTAL_FIELDS)).where(
            Member.guild_id == guild_id
        )
    )
    return {row.user_id: Totals.of(row) for row in rows}


async def point_guilds(session: AsyncSession) -> list[int]:
    """Every guild with a member's totals or a post, sorted (what ``audit_points`` checks)."""
    guild_ids = set(await session.scalars(select(Member.guild_id).distinct()))
    guild_ids |= set(await session.scalars(select(Post.guild_id).distinct()))
    return sorted(guild_ids)


async def audit_points(session: AsyncSession) -> PointsAudit:
    """Every guild's cached points and counters, and its posts' cached scores, compared with a
    recomputation from ``posts`` and ``votes`` (read only: nothing is fixed). ``qa-bot
    migrate-data`` checks a moved community with it."""
    guild_ids = await point_guilds(session)
    members = members_off = posts_off = 0
    for guild_id in guild_ids:
        want_members, want_posts = await _recomputed(session, guild_id)
        have_members = await _cached_members(session, guild_id)
        users = have_members.keys() | want_members.keys()
        members += len(users)
        members_off += sum(have_members.get(u, ZERO) != want_members.get(u, ZERO) for u in users)
        posts = await _cached_posts(session, guild_id)
        posts_off += sum(have != want_posts[pid] for pid, (_, have) in posts.items())
    return PointsAudit(
        guilds=len(guild_ids), members=members, members_off=members_off, posts_off=posts_off
    )


async def get_member_points(session: AsyncSession, *, guild_id: int, user_id: int) -> MemberPoints:
    """A member's cached points and counters (zeros for someone who never took part)."""
    row = (
        await session.execute(
            select(*(getattr(Member, n) for n in TOTAL_FIELDS)).where(
                Member.guild_id == guild_id, Member.user_id == user_id
            )
        )
    ).one_or_none()
    if row is None:
        return MemberPoints(guild_id=guild_id, user_id=user_id)
    return MemberPoints(
        guild_id=guild_id, user_id=user_id, **{n: getattr(row, n) for n in TOTAL_FIELDS}
    )
