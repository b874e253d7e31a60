"""``recompute_points`` rebuilding the caches, and reading a member's points."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Member, Post
from bot.forum import settings
from bot.forum.points import audit_points, recompute_points
from bot.forum.results import PointsAudit
from bot.forum.uow import run_in_transaction
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, OTHER, VOTER, Forum

# --------------------------------------------------------------------------- recompute


async def test_recompute_changes_nothing_when_caches_are_right(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    await forum.accept(a)
    result = await forum.run(lambda s: recompute_points(s, GUILD))
    assert (result.members_fixed, result.posts_fixed) == (0, 0)


async def test_recompute_repairs_corrupted_members_and_posts(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    await forum.vote(q, VOTER)
    async with sessionmaker() as s, s.begin():
        await s.execute(update(Member).where(Member.user_id == ANSWERER).values(points=7))
        await s.execute(update(Member).where(Member.user_id == ASKER).values(questions=5))
        await s.execute(
            update(Post).where(Post.id == q.id).values(score=9, answer_count=0, status="open")
        )
        s.add(Member(guild_id=GUILD, user_id=OTHER, points=123))
    result = await forum.run(lambda s: recompute_points(s, GUILD))
    assert (result.members_fixed, result.posts_fixed) == (3, 1)
    assert await forum.points(ANSWERER) == 60
    assert (await forum.member(ASKER)).questions == 1
    assert await forum.points(OTHER) == 0
    fixed = await forum.get(q.id)
    assert (fixed.score, fixed.answer_count, fixed.status) == (1, 1, "answered")
    await forum.check()


async def test_recompute_applies_changed_point_settings(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    await forum.answer(q)
    async with sessionmaker() as s, s.begin():
        await settings.set_setting(s, GUILD, "points_answer", 15)
    result = await forum.run(lambda s: recompute_points(s, GUILD))
    assert result.members_fixed == 1
    assert await forum.points(ANSWERER) == 15
    await forum.check()


async def test_member_points_of_a_stranger_are_zero(forum: Forum) -> None:
    member = await forum.member(424242)
    assert (member.points, member.anon_points, member.questions) == (0, 0, 0)


async def test_guilds_are_kept_apart(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    one = Forum(sessionmaker, guild_id=1)
    two = Forum(sessionmaker, guild_id=2, first_id=90_000)
    q1 = await one.ask()
    q2 = await two.ask()
    await one.answer(q1)
    await two.vote(q2, VOTER)
    assert await one.points(ASKER) == 20 and await two.points(ASKER) == 30
    assert await one.points(ANSWERER) == 40 and await two.points(ANSWERER) == 0
    await one.check()
    await two.check()


# --------------------------------------------------------------------------- audit (read only)


async def test_audit_finds_what_recompute_would_fix_and_fixes_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    await forum.vote(a, VOTER)
    await forum.accept(a)
    await Forum(sessionmaker, 2, first_id=50_000).ask(OTHER)
    clean = await run_in_transaction(sessionmaker, audit_points, read_only=True)
    assert clean == PointsAudit(guilds=2, members=3, members_off=0, posts_off=0)
    async with sessionmaker() as s, s.begin():
        await s.execute(update(Member).where(Member.user_id == ANSWERER).values(points=7))
        await s.execute(update(Post).where(Post.id == q.id).values(score=9))
    off = await run_in_transaction(sessionmaker, audit_points, read_only=True)
    assert off == PointsAudit(guilds=2, members=3, members_off=1, posts_off=1)
    assert await forum.points(ANSWERER) == 7  # the audit fixed nothing
    await forum.run(lambda s: recompute_points(s, GUILD))
    assert await run_in_transaction(sessionmaker, audit_points, read_only=True) == clean
