"""Thread messages become answers or comments by the issue's rules; explicit answers and
replies; pending rows; edits; soft deletes that undo everything; the outbox with its event."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Notification, Post
from bot.forum import posts, settings
from bot.forum.errors import (
    InvalidState,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from bot.forum.results import MemberPoints
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    MODERATOR,
    NOW,
    OTHER,
    VOTER,
    Forum,
    snapshot,
)


@pytest.fixture
def forum(sessionmaker: async_sessionmaker[AsyncSession]) -> Forum:
    return Forum(sessionmaker)


async def _notifications(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    async with sessionmaker() as s:
        rows = await s.execute(
            select(Notification.kind, Notification.recipient_id).order_by(Notification.id)
        )
        return [(kind, recipient) for kind, recipient in rows]


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
                s, guild_id=GUILD, thread_id=31337, author_id=ANSWERER, body=LONG
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


# --------------------------------------------------------------------------- pending and replies


async def test_pending_answer_counts_and_notifies_once_posted(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    pending = await forum.run(
        lambda s: posts.post_answer(
            s, guild_id=GUILD, question_id=q.id, author_id=ANSWERER, body=LONG, now=NOW
        )
    )
    assert pending.post.state == "pending" and pending.question.answer_count == 0
    assert await forum.points(ANSWERER) == 0
    assert await _notifications(sessionmaker) == []
    live = await forum.run(
        lambda s: posts.confirm_post(s, post_id=pending.post.id, message_id=6000, now=NOW)
    )
    assert live.post.state == "live" and live.question.answer_count == 1
    assert await forum.points(ANSWERER) == 40
    assert await _notifications(sessionmaker) == [("new_answer", ASKER)]
    with pytest.raises(InvalidState) as err:
        await forum.run(
            lambda s: posts.confirm_post(s, post_id=pending.post.id, message_id=6001, now=NOW)
        )
    assert str(err.value) == "That post is already on Discord."
    await forum.check()


async def test_reply_is_the_askers_comment_anonymous_like_the_question(forum: Forum) -> None:
    q = await forum.ask(anonymous=True, display_name="Sleepless")
    a = await forum.answer(q, ANSWERER)
    reply = await forum.run(
        lambda s: posts.post_reply(
            s,
            guild_id=GUILD,
            question_id=q.id,
            parent_id=a.id,
            author_id=ASKER,
            body="Thank you!",
            message_id=7000,
            state="live",
            now=NOW,
        )
    )
    assert (reply.post.kind, reply.post.parent_id) == ("comment", a.id)
    assert reply.post.anonymous and reply.post.display_name == "Sleepless"
    with pytest.raises(PermissionDenied) as err:
        await forum.run(
            lambda s: posts.post_reply(
                s, guild_id=GUILD, question_id=q.id, author_id=OTHER, body="hi"
            )
        )
    assert str(err.value) == "Only the asker can use /reply in this thread."


# --------------------------------------------------------------------------- edits


async def test_edits_change_the_body_never_the_kind(forum: Forum) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, ANSWERER, "short")
    assert c.message_id is not None
    mid = c.message_id
    edited = await forum.run(lambda s: posts.edit_message(s, message_id=mid, body=LONG))
    assert edited is not None and edited.post.body == LONG and edited.post.kind == "comment"
    same = await forum.run(lambda s: posts.edit_message(s, message_id=mid, body=LONG))
    assert same is not None and not same.changed
    assert await forum.run(lambda s: posts.edit_message(s, message_id=1, body="x")) is None


async def test_edit_post_is_for_the_author_of_a_bot_posted_answer(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    edited = await forum.run(
        lambda s: posts.edit_post(s, post_id=a.id, actor_id=ANSWERER, body="Better answer")
    )
    assert edited.post.body == "Better answer"
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: posts.edit_post(s, post_id=a.id, actor_id=OTHER, body="x"))
    assert str(err.value) == "Only its author can edit this."
    native = await forum.post_of(q, OTHER)
    with pytest.raises(InvalidState) as direct:
        await forum.run(lambda s: posts.edit_post(s, post_id=native.id, actor_id=OTHER, body="x"))
    assert str(direct.value) == "Edit your own message on Discord directly."


# --------------------------------------------------------------------------- deletes


async def test_deleting_an_answer_undoes_its_points_votes_and_acceptance(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.vote(a, VOTER)
    await forum.vote(a, OTHER, "down")
    await forum.accept(a)
    assert await forum.points(ANSWERER) == 40 + 20 - 20 + 300
    assert await forum.points(ASKER) == 20 + 30
    deleted = await forum.delete(a)
    assert deleted is not None and deleted.post.deleted and deleted.post.score == 0
    assert deleted.question.accepted_answer_id is None
    assert (deleted.question.status, deleted.question.answer_count) == ("open", 0)
    assert await forum.member(ANSWERER) == MemberPoints(GUILD, ANSWERER)
    assert await forum.points(ASKER) == 20
    again = await forum.delete(a)
    assert again is not None and not again.changed
    await forum.check()


async def test_votes_on_a_deleted_post_count_nothing(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.delete(a)
    result = await forum.vote(a, VOTER)
    assert result is not None and not result.counted and result.post.score == 0
    assert await forum.points(ANSWERER) == 0
    await forum.check()


async def test_delete_post_permissions(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: posts.delete_post(s, post_id=a.id, actor_id=OTHER))
    assert str(err.value) == "Only its author or a moderator can delete this."
    by_mod = await forum.run(
        lambda s: posts.delete_post(s, post_id=a.id, actor_id=MODERATOR, is_moderator=True)
    )
    assert by_mod.post.deleted
    by_author = await forum.run(lambda s: posts.delete_post(s, post_id=q.id, actor_id=ASKER))
    assert by_author.post.deleted


async def test_deleting_the_thread_deletes_the_question_and_its_posts(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    c = await forum.post_of(q, ASKER, "thanks")
    assert q.thread_id is not None
    thread = q.thread_id
    gone = await forum.run(lambda s: posts.delete_thread(s, thread_id=thread, now=NOW))
    assert gone is not None and gone.post.deleted
    assert (await forum.get(a.id)).deleted and (await forum.get(c.id)).deleted
    assert await forum.message(q, OTHER, LONG) is None
    assert await forum.run(lambda s: posts.delete_thread(s, thread_id=1)) is None
    await forum.check()


# --------------------------------------------------------------------------- outbox


async def test_new_answer_and_comment_on_answer_queue_notifications(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.post_of(q, ANSWERER)
    await forum.post_of(q, OTHER, "nice", reply_to=a.message_id)
    await forum.post_of(q, ASKER, "Thanks")  # a comment on the question notifies nobody
    assert await _notifications(sessionmaker) == [("new_answer", ASKER), ("comment", ANSWERER)]


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


# --------------------------------------------------------------------------- reads


async def test_bot_posts_of_author_lists_only_their_live_bot_posts(forum: Forum) -> None:
    q = await forum.ask()  # /ask: posted by the bot for the asker
    assert q.thread_id is not None
    thread_id = q.thread_id
    first = await forum.answer(q, ANSWERER)
    second = await forum.answer(q, ANSWERER, "A second answer, posted by the bot too.")
    await forum.post_of(q, ANSWERER)  # the answerer's own message: not the bot's
    await forum.answer(q, OTHER)  # someone else's
    gone = await forum.answer(q, ANSWERER, "An answer that will be deleted soon.")
    await forum.delete(gone)
    await forum.run(
        lambda s: posts.post_answer(
            s, guild_id=GUILD, question_id=q.id, author_id=ANSWERER, body=LONG, now=NOW
        )
    )  # still pending: not on Discord yet

    async def listed(author: int, thread: int = thread_id) -> list[int]:
        found = await forum.run(
            lambda s: posts.bot_posts_of_author(
                s, guild_id=GUILD, thread_id=thread, author_id=author
            )
        )
        return [p.id for p in found]

    assert await listed(ANSWERER) == [first.id, second.id]
    assert await listed(ASKER) == [q.id]
    assert await listed(VOTER) == []
    assert await listed(ANSWERER, thread=thread_id + 1) == []
