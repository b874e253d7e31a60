"""Thread messages become answers or comments by the issue's rules; explicit answers and
replies; the outbox row written with its event."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Notification, Post
from bot.forum import leaderboard, lookups, posts, settings
from bot.forum.errors import (
    NotFound,
    RateLimited,
    ValidationError,
)
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    NOW,
    OTHER,
    VOTER,
    Forum,
    queued_notifications,
    snapshot,
)

# --------------------------------------------------------------------------- classification


async def test_a_long_message_by_someone_else_is_an_answer(forum: Forum) -> None:
    q = await forum.ask()
    change = await forum.message(q, ANSWERER, "Twelve chars")  # exactly the minimum
    assert change is not None and change.created
    a = change.post
    assert (a.kind, a.question_id, a.parent_id, a.thread_id) == ("answer", q.id, q.id, q.thread_id)
    assert (change.question.answer_count, change.question.status) == (1, "answered")
    member = await forum.member(ANSWERER)
    assert (member.points, member.answers) == (40, 1)
    await forum.check()


async def test_a_short_message_by_someone_else_is_a_comment(forum: Forum) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, ANSWERER, "  Eleven chr  ")
    assert (c.kind, c.parent_id) == ("comment", q.id)
    assert (await forum.get(q.id)).answer_count == 0
    assert await forum.points(ANSWERER) == 0


async def test_the_askers_plain_message_is_a_comment_on_the_question(forum: Forum) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, ASKER, LONG)
    assert (c.kind, c.parent_id) == ("comment", q.id)


async def test_a_reply_to_an_answer_is_a_comment_on_it(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    c = await forum.post_of(q, OTHER, LONG, reply_to=a.message_id)
    assert (c.kind, c.parent_id, c.question_id) == ("comment", a.id, q.id)
    by_asker = await forum.post_of(q, ASKER, LONG, reply_to=a.message_id)
    assert (by_asker.kind, by_asker.parent_id) == ("comment", a.id)


async def test_a_reply_to_a_comment_is_a_comment_on_the_same_post(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    on_answer = await forum.post_of(q, OTHER, "ok", reply_to=a.message_id)
    reply = await forum.post_of(q, VOTER, LONG, reply_to=on_answer.message_id)
    assert (reply.kind, reply.parent_id) == ("comment", a.id)
    on_question = await forum.post_of(q, ASKER, "thanks")
    reply2 = await forum.post_of(q, VOTER, LONG, reply_to=on_question.message_id)
    assert (reply2.kind, reply2.parent_id) == ("comment", q.id)


async def test_a_reply_to_the_starter_or_status_message_comments_on_the_question(
    forum: Forum,
) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, ANSWERER, LONG, reply_to=q.message_id)
    assert (c.kind, c.parent_id) == ("comment", q.id)
    # A reply to some message we do not map falls through to the plain rules.
    a = await forum.post_of(q, ANSWERER, LONG, reply_to=123_456_789)
    assert a.kind == "answer"


async def test_the_guilds_minimum_answer_length_applies(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        await settings.set_setting(s, GUILD, "min_answer_length", 3)
    q = await forum.ask()
    assert (await forum.post_of(q, ANSWERER, "Yes")).kind == "answer"
    assert (await forum.post_of(q, ANSWERER, "No")).kind == "comment"


async def test_bot_messages_and_unknown_threads_are_no_posts(forum: Forum) -> None:
    q = await forum.ask()
    assert await forum.message(q, 777, LONG, bot=True) is None
    change = await forum.run(
        lambda s: posts.record_thread_message(
            s, guild_id=GUILD, thread_id=424242, message_id=1, author_id=ANSWERER, body=LONG
        )
    )
    assert change is None
    assert (await forum.get(q.id)).answer_count == 0


async def test_a_repeated_message_event_is_a_no_op(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    first = await forum.message(q, ANSWERER, LONG, message_id=5000)
    before = await snapshot(sessionmaker)
    again = await forum.message(q, ANSWERER, "different text now", message_id=5000)
    assert first is not None and again is not None
    assert again.post.id == first.post.id and not again.created and not again.changed
    assert await snapshot(sessionmaker) == before


async def test_explicit_answer_is_an_answer_whoever_writes_it(forum: Forum) -> None:
    q = await forum.ask()
    own = await forum.answer(q, ASKER, "Short")
    assert own.kind == "answer" and own.via_bot
    assert (await forum.member(ASKER)).answers == 1
    assert (await forum.get(q.id)).answer_count == 1
    await forum.check()


async def test_explicit_answer_refusals(forum: Forum) -> None:
    q = await forum.ask()
    with pytest.raises(ValidationError) as empty:
        await forum.answer(q, ANSWERER, " \u200b ")
    assert str(empty.value) == "The answer cannot be empty."
    with pytest.raises(ValidationError) as long:
        await forum.answer(q, ANSWERER, "a" * 4001)
    assert str(long.value) == "The answer can be at most 4000 characters; yours has 4001."
    with pytest.raises(NotFound) as thread:
        await forum.run(
            lambda s: posts.post_answer(
                s, post=posts.MemberPost(GUILD, author_id=ANSWERER, body=LONG, thread_id=31337)
            )
        )
    assert str(thread.value) == "This is not a question's thread."


async def test_answer_rate_limit_refuses_commands_and_demotes_native_messages(
    forum: Forum,
) -> None:
    q = await forum.ask()
    for _ in range(25):
        await forum.answer(q, ANSWERER)
    with pytest.raises(RateLimited) as err:
        await forum.answer(q, ANSWERER)
    assert str(err.value).startswith("You can post 25 answers per hour; try again in")
    native = await forum.post_of(q, ANSWERER, LONG)
    assert native.kind == "comment"
    assert (await forum.member(ANSWERER)).answers == 25
    await forum.check()


# --------------------------------------------------------------------------- replies


async def test_reply_is_the_askers_comment_anonymous_like_the_question(forum: Forum) -> None:
    q = await forum.ask(anonymous=True, display_name="Sleepless")
    a = await forum.answer(q, ANSWERER)
    reply = await forum.run(
        lambda s: posts.post_reply(
            s,
            post=posts.MemberPost(GUILD, author_id=ASKER, body="Thank you!", question_id=q.id),
            parent_id=a.id,
            message_id=7000,
            state="live",
            now=NOW,
        )
    )
    assert (reply.post.kind, reply.post.parent_id) == ("comment", a.id)
    assert reply.post.anonymous and reply.post.display_name == "Sleepless"


async def test_anyone_replies_named_or_under_a_pseudonym(forum: Forum) -> None:
    q = await forum.ask(anonymous=True)

    async def reply(author: int, *, anonymous: bool) -> Any:
        return (
            await forum.run(
                lambda s: posts.post_reply(
                    s,
                    post=posts.MemberPost(
                        GUILD,
                        author_id=author,
                        body="Me too.",
                        question_id=q.id,
                        anonymous=anonymous,
                    ),
                    state="pending",
                )
            )
        ).post

    named = await reply(OTHER, anonymous=False)
    assert not named.anonymous and named.display_name is None and named.parent_id == q.id
    first = await reply(ANSWERER, anonymous=True)
    second = await reply(OTHER, anonymous=True)
    again = await reply(ANSWERER, anonymous=True)
    assert [p.display_name for p in (first, second, again)] == ["Member 2", "Member 3", "Member 2"]
    assert all(p.anonymous for p in (first, second, again))
    # The anonymous asker replies as their question shows them, even when asking for a name.
    asker = await reply(ASKER, anonymous=False)
    assert asker.anonymous and asker.display_name is None


# --------------------------------------------------------------------------- outbox


async def test_new_answer_and_comment_on_answer_queuequeued_notifications(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.post_of(q, OTHER, "nice", reply_to=a.message_id)
    await forum.post_of(q, ASKER, "Thanks")  # a comment on the question notifies nobody
    assert await queued_notifications(sessionmaker) == [
        ("new_answer", ASKER),
        ("comment", ANSWERER),
    ]


async def test_an_outbox_row_rolls_back_with_its_event(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    assert q.thread_id is not None
    thread = q.thread_id
    before = await snapshot(sessionmaker)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with sessionmaker() as s, s.begin():
            change = await posts.record_thread_message(
                s, guild_id=GUILD, thread_id=thread, message_id=8000, author_id=ANSWERER, body=LONG
            )
            assert change is not None and change.post.kind == "answer"
            count = await s.execute(select(func.count()).select_from(Notification))
            assert count.scalar_one() == 1
            raise Boom
    assert await snapshot(sessionmaker) == before
    async with sessionmaker() as s:
        assert (await s.execute(select(Post).where(Post.message_id == 8000))).first() is None


# --------------------------------------------------------------------------- authors' names


async def names_stored(forum: Forum) -> dict[int, str]:
    return await forum.run(
        lambda s: leaderboard.display_names(
            s, guild_id=GUILD, user_ids=[ASKER, ANSWERER, OTHER, VOTER]
        )
    )


async def test_a_new_thread_message_stores_its_authors_name_once(forum: Forum) -> None:
    q = await forum.ask()
    assert q.thread_id is not None
    thread_id = q.thread_id

    def record(message_id: int, author: int, name: str | None, *, bot: bool = False) -> Any:
        return forum.run(
            lambda s: posts.record_thread_message(
                s,
                guild_id=GUILD,
                thread_id=thread_id,
                message_id=message_id,
                author_id=author,
                body=LONG,
                author_is_bot=bot,
                display_name=name,
                now=NOW,
            )
        )

    first = await record(5001, ANSWERER, "Ana")
    assert first is not None and first.created and first.author_named
    assert await names_stored(forum) == {ANSWERER: "Ana"}
    # A repeated event is no new post: the name it carries is not stored.
    repeat = await record(5001, ANSWERER, "Ana Renamed")
    assert repeat is not None and not repeat.created and not repeat.author_named
    # No name given: nothing stored; a bot's message is no post and names nobody.
    unnamed = await record(5002, OTHER, None)
    assert unnamed is not None and unnamed.created and not unnamed.author_named
    assert await record(5003, VOTER, "Botty", bot=True) is None
    assert await names_stored(forum) == {ANSWERER: "Ana"}


async def test_name_author_never_names_an_anonymous_post(forum: Forum) -> None:
    q = await forum.ask()
    answer = await forum.answer(q, OTHER, anonymous=True, display_name="Someone")
    change = await forum.run(lambda s: lookups.change(s, answer.id))
    named = await forum.run(lambda s: posts.name_author(s, change, "Os"))
    assert named is change and not named.author_named
    assert OTHER not in await names_stored(forum)
