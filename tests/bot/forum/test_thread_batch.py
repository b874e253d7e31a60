"""Thread messages recorded in a batch (``thread_batch.record_thread_messages``) end exactly as
the same messages recorded one by one (``posts.record_thread_message``) in their order: the
outcomes, the posts, the counters, the points, the names and the outbox rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Member, MemberBlock, Notification, Post
from bot.forum import posts, prefs, settings
from bot.forum.blocks import MemberBlocked
from bot.forum.results import PostChange, PostSnapshot
from bot.forum.thread_batch import Recorded, ThreadMessage, record_thread_messages
from tests.bot.forum.core_support import ANSWERER, ASKER, LONG, NOW, OTHER, Forum
from tests.db_support import statements_run

FOLLOWER = 60
BLOCKED = 70
BOT = 99
#: The second guild's ids are the first's plus this.
SHIFT = 1_000_000


async def _scene(forum: Forum) -> list[ThreadMessage]:
    """Three questions (one closed, one followed), a blocked member, a low answer limit; the
    messages of the scene, one of each kind of outcome, in their order."""
    g = forum.guild_id
    await forum.run(lambda s: settings.set_setting(s, g, "answers_per_hour", 2))
    q1, closed, q3 = await forum.ask(), await forum.ask(), await forum.ask(author=OTHER + 1)
    await forum.close(closed)
    await forum.run(lambda s: prefs.follow(s, guild_id=g, question_id=q1.id, user_id=FOLLOWER))

    async def block(s: AsyncSession) -> None:
        s.add(MemberBlock(guild_id=g, user_id=BLOCKED, scope="all", created_by=ASKER))

    await forum.run(block)
    ids = [forum.next_id() for _ in range(13)]

    def msg(n: int, q: Any, author: int, body: str = LONG, **kw: Any) -> ThreadMessage:
        return ThreadMessage(g, q.thread_id, ids[n], author, body, **kw)

    return [
        msg(0, q1, ANSWERER, display_name="Helper"),  # an answer
        msg(0, q1, ANSWERER, display_name="Helper"),  # its repeat
        msg(1, q1, ASKER),  # the asker's comment
        msg(2, q1, OTHER, "ok"),  # too short: a comment
        msg(3, q3, ANSWERER, display_name="Helper again"),  # a second answer
        msg(4, q1, ANSWERER),  # over the limit of 2: a comment
        msg(5, q1, OTHER, reply_to_message_id=ids[0]),  # a comment on the first answer
        msg(6, q1, BLOCKED),  # refused
        msg(7, q1, BOT, author_is_bot=True),  # nothing
        msg(8, closed, OTHER),  # closed: a comment
        ThreadMessage(g, 424242 + g, ids[9], OTHER, LONG),  # no question's thread
        msg(10, q1, FOLLOWER, display_name="Fan"),  # an answer: the asker is told
        msg(11, q1, OTHER, display_name="Other"),  # coalesced DMs to the asker and the follower
        msg(12, q3, ANSWERER),  # over the limit again
    ]


def _outcome(result: Recorded, message_of: dict[int, int], shift: int) -> tuple[Any, ...]:
    if isinstance(result, MemberBlocked) or result is None:
        return (type(result).__name__,)
    post = result.post
    parent = message_of[post.parent_id] if post.parent_id is not None else None
    return (
        post.kind,
        (post.message_id or 0) - shift,
        None if parent is None else parent - shift,
        result.created,
        result.changed,
        result.author_named,
        result.question.id in message_of,
    )


async def _state(
    sessionmaker: async_sessionmaker[AsyncSession], guild_id: int, shift: int
) -> tuple[Any, ...]:
    async with sessionmaker() as s:
        rows = list(await s.scalars(select(Post).where(Post.guild_id == guild_id)))
        message_of = {p.id: p.message_id or 0 for p in rows}
        post_rows = sorted(
            (
                p.kind,
                (p.message_id or 0) - shift,
                message_of.get(p.parent_id or 0, shift) - shift,
                p.answer_count,
                p.status,
                p.state,
                None if p.last_seen_message_id is None else p.last_seen_message_id - shift,
                p.last_activity_at,
                p.body,
            )
            for p in rows
        )
        members = sorted(
            (m.user_id, m.points, m.answers, m.display_name)
            for m in await s.scalars(select(Member).where(Member.guild_id == guild_id))
        )
        outbox = sorted(
            (n.recipient_id, n.kind, message_of[n.post_id or 0] - shift, n.next_attempt_at)
            for n in await s.scalars(select(Notification).where(Notification.guild_id == guild_id))
        )
    return post_rows, members, outbox


async def _message_ids(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[int, int]:
    async with sessionmaker() as s:
        return {p.id: p.message_id or 0 for p in await s.scalars(select(Post))}


async def recorded_one_by_one(forum: Forum, messages: list[ThreadMessage]) -> list[Recorded]:
    """``messages`` recorded each in its own transaction, as without the intake (a refusal is
    the outcome of its message)."""
    outcomes: list[Recorded] = []
    for m in messages:
        try:
            outcomes.append(
                await forum.run(
                    lambda s, m=m: posts.record_thread_message(
                        s,
                        guild_id=m.guild_id,
                        thread_id=m.thread_id,
                        message_id=m.message_id,
                        author_id=m.author_id,
                        body=m.body,
                        reply_to_message_id=m.reply_to_message_id,
                        author_is_bot=m.author_is_bot,
                        display_name=m.display_name,
                        now=NOW,
                    )
                )
            )
        except MemberBlocked as refused:
            outcomes.append(refused)
    return outcomes


async def test_a_batch_ends_as_the_same_messages_one_by_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    one = Forum(sessionmaker, guild_id=1, first_id=10_000)
    many = Forum(sessionmaker, guild_id=2, first_id=10_000 + SHIFT)
    singles = await _scene(one)
    batch = await _scene(many)

    one_by_one = await recorded_one_by_one(one, singles)
    together = await many.run(lambda s: record_thread_messages(s, batch, NOW))

    message_of = await _message_ids(sessionmaker)
    expected = [_outcome(r, message_of, 0) for r in one_by_one]
    assert [_outcome(r, message_of, SHIFT) for r in together] == expected
    assert [e[0] for e in expected] == [
        "answer",
        "answer",
        "comment",
        "comment",
        "answer",
        "comment",
        "comment",
        "MemberBlocked",
        "NoneType",
        "comment",
        "NoneType",
        "answer",
        "answer",
        "comment",
    ]
    assert await _state(sessionmaker, 2, SHIFT) == await _state(sessionmaker, 1, 0)
    _, members, outbox = await _state(sessionmaker, 1, 0)
    # The asker and the follower hear of the answers, the later ones gathered a window on.
    later = NOW + timedelta(seconds=60)
    assert [(r, due) for r, kind, _, due in outbox if kind == "new_answer"] == [
        (ASKER, NOW),
        (ASKER, later),
        (ASKER, later),
        (OTHER + 1, NOW),
        (FOLLOWER, NOW),
        (FOLLOWER, later),
    ]
    assert (ANSWERER, 80, 2, "Helper again") in members
    await one.check()
    await many.check()


async def _answers_in_three_threads(
    forum: Forum, count: int
) -> tuple[list[PostSnapshot], list[ThreadMessage]]:
    """Three questions, and ``count`` plain answers by different members spread over them."""
    asked = [await forum.ask() for _ in range(3)]
    batch = [
        ThreadMessage(forum.guild_id, q.thread_id or 0, forum.next_id(), 100 + i, LONG)
        for i in range(count)
        for q in [asked[i % 3]]
    ]
    return asked, batch


async def test_answers_of_one_batch_in_many_threads_count_once_each(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)
    asked, batch = await _answers_in_three_threads(forum, 12)
    results = await forum.run(lambda s: record_thread_messages(s, batch, NOW))
    assert all(r is not None and not isinstance(r, MemberBlocked) for r in results)
    assert {r.post.kind for r in results if isinstance(r, PostChange)} == {"answer"}
    for q in asked:
        fresh = await forum.get(q.id)
        assert (fresh.answer_count, fresh.status) == (4, "answered")
    async with sessionmaker() as s:
        seen = {
            row.id: row.last_seen_message_id
            for row in await s.execute(
                select(Post.id, Post.last_seen_message_id).where(Post.kind == "question")
            )
        }
    assert seen == {q.id: batch[i + 9].message_id for i, q in enumerate(asked)}
    await forum.check()


async def test_a_batch_inserts_its_answers_in_one_statement(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """One insert for all the plain answers; on SQLite fed one JSON value and without
    ``RETURNING`` (``bot.db.packed``: no statement step per answer with the write lock held)."""
    forum = Forum(sessionmaker)
    _, batch = await _answers_in_three_threads(forum, 30)
    with statements_run(sessionmaker) as seen:
        results = await forum.run(lambda s: record_thread_messages(s, batch, NOW))
    assert [r.created for r in results if isinstance(r, PostChange)] == [True] * 30
    inserts = [sql for sql, _ in seen if sql.lstrip().upper().startswith("INSERT INTO POSTS")]
    assert len(inserts) == 1
    if sessionmaker.kw["bind"].dialect.name == "sqlite":
        assert "RETURNING" not in inserts[0].upper()
        assert not any(many for sql, many in seen if sql in inserts)
    await forum.check()
