"""Property: whatever happens, the caches equal a recomputation and repeats change nothing.

Hypothesis draws sequences of events - asks (named or anonymous), thread messages (long, short,
replies), explicit answers, reaction gestures (duplicated and in any order), reconciliations,
deletes, accepts and re-accepts, unaccepts, close and reopen - among a handful of members so
that self-votes, the asker's own messages and moderators' actions all occur. After every step:

* every member's points and counters and every post's score, vote counts, answer count and
  status equal a recomputation from posts and votes alone;
* applying the same event again changes no row of any table (a duplicated gateway event),
  and re-applying an older message or delete event changes nothing either;
* an event the domain refuses changes nothing.

Each example runs in a fresh event loop (``asyncio.run``) against a fresh database: a copy of
the migrated SQLite template, or the PostgreSQL test database truncated first.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Base
from bot.forum import acceptance, deletion, posts, questions, votes
from bot.forum.errors import ForumError
from bot.forum.points import recompute_points
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from tests.bot.forum.core_support import GUILD, NOW, assert_consistent, snapshot
from tests.db_support import BACKENDS, postgres_url

USERS = st.integers(min_value=1, max_value=4)
MODERATOR = 9
INDEX = st.integers(min_value=0, max_value=30)

ask = st.tuples(st.just("ask"), USERS, st.booleans())
message = st.tuples(st.just("message"), INDEX, USERS, st.booleans(), st.one_of(st.none(), INDEX))
answer = st.tuples(st.just("answer"), INDEX, USERS, st.booleans())
vote = st.tuples(st.just("vote"), INDEX, USERS, st.sampled_from(["up", "down"]), st.booleans())
reconcile = st.tuples(
    st.just("reconcile"),
    INDEX,
    st.one_of(st.none(), st.frozensets(USERS, max_size=3)),
    st.one_of(st.none(), st.frozensets(USERS, max_size=3)),
)
delete = st.tuples(st.just("delete"), INDEX)
accept = st.tuples(st.just("accept"), INDEX, USERS, st.booleans())
unaccept = st.tuples(st.just("unaccept"), INDEX, USERS, st.booleans())
close = st.tuples(st.just("close"), INDEX, st.booleans())
reopen = st.tuples(st.just("reopen"), INDEX, st.booleans())
replay_old = st.tuples(st.just("replay_old"), INDEX)

EVENTS = st.one_of(
    ask,
    message,
    message,
    answer,
    vote,
    vote,
    vote,
    reconcile,
    delete,
    accept,
    accept,
    unaccept,
    close,
    reopen,
    replay_old,
)
# Every example starts with a question or two, so that the other events have targets.
OPS = st.tuples(st.lists(ask, min_size=1, max_size=2), st.lists(EVENTS, min_size=6, max_size=30))


Work = Callable[[AsyncSession], Awaitable[Any]]


@dataclass
class World:
    """What the example created so far, to pick targets from."""

    questions: list[PostSnapshot] = field(default_factory=list)
    posts: list[PostSnapshot] = field(default_factory=list)
    # Events that are idempotent by Discord id whatever happened since (creates, deletes).
    keyed: list[Work] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_000))

    def question(self, index: int) -> PostSnapshot | None:
        return self.questions[index % len(self.questions)] if self.questions else None

    def post(self, index: int) -> PostSnapshot | None:
        return self.posts[index % len(self.posts)] if self.posts else None

    def remember(self, result: Any) -> None:
        post = getattr(result, "post", None)
        if isinstance(post, PostSnapshot) and all(p.id != post.id for p in self.posts):
            self.posts.append(post)
            if post.kind == "question":
                self.questions.append(post)


def _event(world: World, op: tuple[Any, ...]) -> tuple[Work | None, bool]:
    """The event for a drawn op (None when it has no target yet), and whether it is keyed."""
    name = op[0]
    if name == "ask":
        _, author, anonymous = op
        mid = next(world.ids)
        return (
            lambda s: questions.create_question(
                s,
                guild_id=GUILD,
                author_id=author,
                asked=questions.AskedQuestion(title=f"Question {mid}", anonymous=anonymous),
                thread_id=mid,
                message_id=mid,
                now=NOW,
            ),
            True,
        )
    if name == "message":
        _, qi, author, long, reply = op
        q = world.question(qi)
        replied = world.post(reply) if reply is not None else None
        if q is None or q.thread_id is None:
            return None, False
        mid, thread = next(world.ids), q.thread_id
        reply_to = replied.message_id if replied is not None else None
        return (
            lambda s: posts.record_thread_message(
                s,
                guild_id=GUILD,
                thread_id=thread,
                message_id=mid,
                author_id=author,
                body="A long enough answer." if long else "short",
                reply_to_message_id=reply_to,
                now=NOW,
            ),
            True,
        )
    if name == "answer":
        _, qi, author, anonymous = op
        q = world.question(qi)
        if q is None:
            return None, False
        mid, qid = next(world.ids), q.id
        return (
            lambda s: posts.post_answer(
                s,
                post=posts.MemberPost(
                    GUILD,
                    author_id=author,
                    body="An explicit answer.",
                    question_id=qid,
                    anonymous=anonymous,
                ),
                message_id=mid,
                state="live",
                now=NOW,
            ),
            True,
        )
    if name == "vote":
        _, pi, user, flag, on = op
        p = world.post(pi)
        if p is None:
            return None, False
        pid = p.id
        return (
            lambda s: votes.set_vote(s, post_id=pid, user_id=user, flag=flag, on=on, now=NOW),
            False,
        )
    if name == "reconcile":
        _, pi, ups, downs = op
        p = world.post(pi)
        if p is None:
            return None, False
        pid = p.id
        return (
            lambda s: votes.reconcile_votes(
                s, post_id=pid, up_user_ids=ups, down_user_ids=downs, now=NOW
            ),
            False,
        )
    if name == "delete":
        p = world.post(op[1])
        if p is None or p.message_id is None:
            return None, False
        mid = p.message_id
        return lambda s: deletion.delete_message(s, message_id=mid, now=NOW), True
    if name in ("accept", "unaccept"):
        _, index, user, as_moderator = op
        actor = MODERATOR if as_moderator else user
        if name == "accept":
            p = world.post(index)
            if p is None:
                return None, False
            pid = p.id
            return (
                lambda s: acceptance.accept_answer(
                    s,
                    answer_ref=acceptance.PostRef(pid),
                    actor=Actor(actor, is_moderator=as_moderator),
                    now=NOW,
                ),
                False,
            )
        q = world.question(index)
        if q is None:
            return None, False
        qid = q.id
        return (
            lambda s: acceptance.unaccept_answer(
                s,
                question_ref=acceptance.PostRef(qid),
                actor=Actor(actor, is_moderator=as_moderator),
                now=NOW,
            ),
            False,
        )
    if name in ("close", "reopen"):
        _, qi, as_moderator = op
        q = world.question(qi)
        if q is None:
            return None, False
        qid, asker = q.id, q.author_id
        closer = Actor(MODERATOR if as_moderator else asker, is_moderator=as_moderator)
        if name == "close":
            closing = questions.Closing(qid)
            return (
                lambda s: questions.close_question(s, closing=closing, actor=closer, now=NOW),
                False,
            )
        return (
            lambda s: questions.reopen_question(s, question_id=qid, actor=closer, now=NOW),
            False,
        )
    if name == "replay_old":
        if not world.keyed:
            return None, False
        return world.keyed[op[1] % len(world.keyed)], False
    raise AssertionError(name)


async def _apply(sessionmaker: async_sessionmaker[AsyncSession], work: Work) -> Any:
    """Run one event in its own transaction; a refusal returns None and must change nothing."""
    before = await snapshot(sessionmaker)
    try:
        async with sessionmaker() as session, session.begin():
            return await work(session)
    except ForumError:
        assert await snapshot(sessionmaker) == before, "a refused event changed something"
        return None


async def _reset(sessionmaker: async_sessionmaker[AsyncSession], backend: str) -> None:
    if backend != "postgresql":
        return
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with sessionmaker() as session, session.begin():
        await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


async def _run_example(url: str, backend: str, ops: list[tuple[Any, ...]]) -> None:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        await _reset(sessionmaker, backend)
        world = World()
        for op in ops:
            work, keyed = _event(world, op)
            if work is None:
                continue
            result = await _apply(sessionmaker, work)
            world.remember(result)
            if keyed:
                world.keyed.append(work)
            await assert_consistent(sessionmaker, GUILD)
            # The same event again (a duplicated gateway event) changes nothing at all.
            after = await snapshot(sessionmaker)
            await _apply(sessionmaker, work)
            assert await snapshot(sessionmaker) == after, f"replaying {op[0]} changed something"
        async with sessionmaker() as session, session.begin():
            fixed = await recompute_points(session, GUILD)
        assert (fixed.members_fixed, fixed.posts_fixed) == (0, 0)
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def fresh_url(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[tuple[str, Callable[[], str]]]:
    """(backend, a function giving a fresh empty migrated database URL per example)."""
    if request.param == "sqlite":

        def copy() -> str:
            path = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
            shutil.copyfile(sqlite_template, path)
            return f"sqlite+aiosqlite:///{path}"

        yield "sqlite", copy
        return
    postgres_url()
    url: str = request.getfixturevalue("postgres_migrated")
    yield "postgresql", lambda: url
    # Leave the shared database empty for the next test.
    engine_url = url

    async def truncate() -> None:
        engine = create_engine(engine_url)
        try:
            await _reset(create_sessionmaker(engine), "postgresql")
        finally:
            await engine.dispose()

    asyncio.run(truncate())


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_caches_equal_a_recomputation_and_repeats_change_nothing(
    fresh_url: tuple[str, Callable[[], str]],
    ops: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]],
) -> None:
    backend, make_url = fresh_url
    asks, events = ops
    asyncio.run(_run_example(make_url(), backend, [*asks, *events]))
