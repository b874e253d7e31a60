"""Helpers for the forum core tests: a driver running one operation per transaction (as a cog
does), and checks that every cache equals a recomputation from posts and votes."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.models import Base, Member, Notification, Post
from bot.db.reads import ReadRunner, SyncRead
from bot.forum import acceptance, deletion, lookups, posts, questions, votes
from bot.forum.ledger import load_guild_facts
from bot.forum.point_rules import (
    PostCache,
    Totals,
    compute_points,
    compute_post_caches,
)
from bot.forum.points import get_member_points
from bot.forum.results import AcceptResult, MemberPoints, PostChange, PostSnapshot, VoteResult
from bot.forum.rights import Actor
from bot.forum.settings import load_config
from bot.forum.uow import run_in_transaction
from bot.forum.visibility import VisibleForums

T = TypeVar("T")

GUILD = 1
ASKER = 10
ANSWERER = 20
OTHER = 30
VOTER = 40
MODERATOR = 50
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LONG = "Try a fixed wind-down routine an hour before bed."
#: The forum ``Forum.ask`` asks in (unless told another), and the reads that can see it.
FORUM = 7
SEEN = VisibleForums.of([FORUM])


class Forum:
    """Drives the domain for one guild, one transaction per call."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        guild_id: int = GUILD,
        *,
        first_id: int = 10_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.guild_id = guild_id
        self.now = NOW
        self._ids = itertools.count(first_id)

    def next_id(self) -> int:
        return next(self._ids)

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        return await run_in_transaction(self.sessionmaker, work)

    async def read(self, work: SyncRead[T]) -> T:
        """A read written as a function of a connection, as the bot runs it (``bot.db.reads``)."""
        bind = self.sessionmaker.kw["bind"]
        assert isinstance(bind, AsyncEngine)
        reads = ReadRunner(bind)
        try:
            return await reads.read(work)
        finally:
            await reads.close()

    async def ask(
        self,
        author: int = ASKER,
        title: str = "How do I sleep before an exam?",
        details: str = "I lie awake for hours.",
        *,
        category: str | None = None,
        anonymous: bool = False,
        display_name: str | None = None,
        **kwargs: Any,
    ) -> PostSnapshot:
        message_id = self.next_id()
        kwargs.setdefault("forum_id", FORUM)
        asked = questions.AskedQuestion(title, details, category, anonymous, display_name)
        change = await self.run(
            lambda s: questions.create_question(
                s,
                guild_id=self.guild_id,
                author_id=author,
                asked=asked,
                thread_id=message_id,
                message_id=message_id,
                now=self.now,
                **kwargs,
            )
        )
        return change.post

    async def message(
        self,
        question: PostSnapshot,
        author: int,
        body: str = LONG,
        *,
        reply_to: int | None = None,
        bot: bool = False,
        message_id: int | None = None,
    ) -> PostChange | None:
        assert question.thread_id is not None
        thread_id = question.thread_id
        mid = message_id if message_id is not None else self.next_id()
        return await self.run(
            lambda s: posts.record_thread_message(
                s,
                guild_id=self.guild_id,
                thread_id=thread_id,
                message_id=mid,
                author_id=author,
                body=body,
                reply_to_message_id=reply_to,
                author_is_bot=bot,
                now=self.now,
            )
        )

    async def post_of(
        self, question: PostSnapshot, author: int, body: str = LONG, **kw: Any
    ) -> PostSnapshot:
        change = await self.message(question, author, body, **kw)
        assert change is not None
        return change.post

    async def answer(
        self,
        question: PostSnapshot,
        author: int = ANSWERER,
        body: str = LONG,
        anonymous: bool = False,
        **kwargs: Any,
    ) -> PostSnapshot:
        message_id = self.next_id()
        post = posts.MemberPost(
            self.guild_id, author, body, question_id=question.id, anonymous=anonymous
        )
        change = await self.run(
            lambda s: posts.post_answer(
                s, post=post, message_id=message_id, state="live", now=self.now, **kwargs
            )
        )
        return change.post

    async def vote(
        self, post: PostSnapshot, user: int, flag: str = "up", on: bool = True, **kw: Any
    ) -> VoteResult | None:
        return await self.run(
            lambda s: votes.set_vote(
                s, post_id=post.id, user_id=user, flag=flag, on=on, now=self.now, **kw
            )
        )

    async def accept(
        self, answer: PostSnapshot, actor: int = ASKER, is_moderator: bool = False
    ) -> AcceptResult:
        return await self.run(
            lambda s: acceptance.accept_answer(
                s,
                answer_ref=acceptance.PostRef(answer.id),
                actor=Actor(actor, is_moderator=is_moderator),
                now=self.now,
            )
        )

    async def close(
        self,
        question: PostSnapshot,
        actor: int = ASKER,
        is_moderator: bool = False,
        guild_id: int | None = None,
        **kw: Any,
    ) -> PostChange:
        closer = Actor(actor, is_moderator=is_moderator, guild_id=guild_id)
        closing = questions.Closing(question.id, visible=SEEN, **kw)
        return await self.run(
            lambda s: questions.close_question(s, closing=closing, actor=closer, now=self.now)
        )

    async def reopen(
        self,
        question: PostSnapshot,
        actor: int = ASKER,
        is_moderator: bool = False,
        guild_id: int | None = None,
    ) -> PostChange:
        opener = Actor(actor, is_moderator=is_moderator, guild_id=guild_id)
        return await self.run(
            lambda s: questions.reopen_question(
                s, question_id=question.id, actor=opener, now=self.now
            )
        )

    async def delete(self, post: PostSnapshot) -> PostChange | None:
        assert post.message_id is not None
        mid = post.message_id
        return await self.run(lambda s: deletion.delete_message(s, message_id=mid, now=self.now))

    async def get(self, post_id: int) -> PostSnapshot:
        return await self.run(lambda s: lookups.get_post(s, post_id))

    async def member(self, user: int) -> MemberPoints:
        return await self.run(lambda s: get_member_points(s, guild_id=self.guild_id, user_id=user))

    async def points(self, user: int) -> int:
        return (await self.member(user)).points

    async def check(self) -> None:
        await assert_consistent(self.sessionmaker, self.guild_id)


async def expected_state(
    session: AsyncSession, guild_id: int
) -> tuple[dict[int, Totals], dict[int, PostCache]]:
    config = await load_config(session, guild_id)
    facts, vote_facts = await load_guild_facts(session, guild_id)
    return (
        compute_points(config, facts, vote_facts),
        compute_post_caches(config, facts, vote_facts),
    )


async def cached_state(
    session: AsyncSession, guild_id: int
) -> tuple[dict[int, Totals], dict[int, PostCache]]:
    rows = await session.execute(
        select(Member).where(Member.guild_id == guild_id).execution_options(populate_existing=True)
    )
    members = {member.user_id: Totals.of(member) for member in rows.scalars()}
    caches = {}
    for (post,) in await session.execute(
        select(Post).where(Post.guild_id == guild_id).execution_options(populate_existing=True)
    ):
        caches[post.id] = PostCache(
            score=post.score,
            upvotes=post.upvotes,
            downvotes=post.downvotes,
            answer_count=post.answer_count,
            status=post.status if post.kind == "question" else "open",
        )
    return {u: t for u, t in members.items() if t}, caches


async def assert_consistent(sessionmaker: async_sessionmaker[AsyncSession], guild_id: int) -> None:
    """Cached points, counters, scores, answer counts and statuses equal a recomputation."""
    async with sessionmaker() as session:
        want_members, want_posts = await expected_state(session, guild_id)
        have_members, have_posts = await cached_state(session, guild_id)
    assert have_members == want_members
    assert have_posts == want_posts


async def snapshot(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, for "this changed nothing" checks."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table))
            result[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return result


async def queued_notifications(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> list[tuple[str, int]]:
    """The outbox's rows as (kind, recipient), oldest first."""
    async with sessionmaker() as s:
        rows = await s.execute(
            select(Notification.kind, Notification.recipient_id).order_by(Notification.id)
        )
        return [(kind, recipient) for kind, recipient in rows]
