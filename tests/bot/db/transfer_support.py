"""A populated community for the ``migrate-data`` tests, made through the domain (never raw SQL),
and readers that compare two databases table by table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.transfer import TABLES
from bot.forum import blocks, categories, moderation, prefs, premod, reports
from bot.forum.point_rules import PostCache, Totals
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.settings import set_setting
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    MODERATOR,
    OTHER,
    VOTER,
    Forum,
    expected_state,
)

SECOND_GUILD = 2
#: Words only the moved community's posts hold (the search test looks for them).
QUESTION_WORD = "insomnia"
ANSWER_WORD = "chamomile"


@asynccontextmanager
async def sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Community:
    question: PostSnapshot
    anonymous_question: PostSnapshot
    answer: PostSnapshot


async def populate(url: str) -> Community:
    """Two servers: named and anonymous questions, answers, replies, votes, accepts, a
    duplicate closed forward, reports, a removal, a block, a held post, follows, preferences,
    categories and a changed point rule."""
    async with sessions(url) as sm:
        forum = Forum(sm)
        await forum.run(lambda s: set_setting(s, GUILD, "points_answer", 55))
        await forum.run(lambda s: set_setting(s, GUILD, "mod_channel_id", 5))
        await forum.run(lambda s: set_setting(s, GUILD, "premod_anonymous", True))
        await forum.run(lambda s: categories.add_category(s, GUILD, "Sleep", 901))
        question = await forum.ask(
            title=f"How do I beat {QUESTION_WORD} before exams?", category="Sleep"
        )
        answer = await forum.answer(question, body=f"A warm {ANSWER_WORD} tea an hour before.")
        second = await forum.answer(question, author=OTHER, body="Keep one wake-up time daily.")
        await forum.post_of(question, ASKER, "Thanks, trying it.", reply_to=second.message_id)
        for voter in (VOTER, OTHER, MODERATOR):
            await forum.vote(answer, voter)
        await forum.vote(second, VOTER, "down")
        await forum.vote(question, ANSWERER)
        await forum.accept(answer)
        anonymous = await forum.ask(OTHER, title="Is dreading therapy normal?", anonymous=True)
        reply = await forum.answer(anonymous, author=ANSWERER, body="Very normal, say so there.")
        await forum.vote(reply, VOTER)
        await forum.accept(reply, actor=OTHER)
        await forum.answer(
            anonymous, author=VOTER, body="An anonymous second view.", anonymous=True
        )
        # An older question closed as a duplicate of a newer one: a reference forward.
        early = await forum.ask(MODERATOR, title="Cannot sleep before an exam")
        later = await forum.ask(VOTER, title="Sleeping badly before tests")
        await forum.close(early, actor=MODERATOR, is_moderator=True, duplicate_of_id=later.id)
        await _moderate(forum, second, reply)
        await forum.run(
            lambda s: prefs.follow(s, guild_id=GUILD, question_id=question.id, user_id=VOTER)
        )
        await forum.run(lambda s: prefs.set_notifications(s, VOTER, False))
        other = Forum(sm, SECOND_GUILD, first_id=50_000)
        elsewhere = await other.ask(ANSWERER, title="Another server's question")
        await other.vote(await other.answer(elsewhere, author=ASKER), ANSWERER)
        return Community(question=question, anonymous_question=anonymous, answer=answer)


async def _moderate(forum: Forum, reported: PostSnapshot, blocked: PostSnapshot) -> None:
    assert reported.message_id is not None
    mid = reported.message_id
    await forum.run(
        lambda s: reports.file_report(
            s,
            report=reports.Report(GUILD, message_id=mid, reporter_id=VOTER, reason="off topic"),
            now=forum.now,
        )
    )
    await forum.run(
        lambda s: reports.record_card(
            s, guild_id=GUILD, post_id=reported.id, channel_id=5, message_id=77
        )
    )
    await forum.run(
        lambda s: moderation.remove_post(
            s,
            removal=moderation.Removal(reported.id, reason="spam"),
            moderator=Actor(MODERATOR, is_moderator=True),
            now=forum.now,
        )
    )
    await forum.run(
        lambda s: blocks.block_member_through_post(
            s, post_id=blocked.id, moderator_id=MODERATOR, scope="anonymous", days=7, now=forum.now
        )
    )
    held = await forum.run(
        lambda s: premod.hold_if_due(
            s,
            guild_id=GUILD,
            author_id=OTHER,
            kind="question",
            payload={"title": "Held back", "body": "Waits for a moderator."},
            anonymous=True,
            joined_at=None,
            now=forum.now,
        )
    )
    assert held is not None


async def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    async with sessions(url) as sm, sm() as session:
        return {
            t.name: [
                tuple(r) for r in await session.execute(select(t).order_by(*t.primary_key.columns))
            ]
            for t in TABLES
        }


async def table_counts(url: str) -> dict[str, int]:
    async with sessions(url) as sm, sm() as session:
        return {
            t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
            for t in TABLES
        }


async def recomputed(url: str, guild_id: int) -> tuple[dict[int, Totals], dict[int, PostCache]]:
    """The points and post caches a recomputation gives (what a moved community must keep)."""
    async with sessions(url) as sm, sm() as session:
        return await expected_state(session, guild_id)
