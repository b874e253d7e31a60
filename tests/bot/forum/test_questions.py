"""Questions: asking (validated /ask, adopted native posts), closing and reopening, with each
refusal's sentence."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Category, Post
from bot.forum import post_rows, questions
from bot.forum.errors import (
    InvalidState,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
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
)

# --------------------------------------------------------------------------- asking


async def test_ask_stores_an_open_question_and_earns_ask_points(forum: Forum) -> None:
    q = await forum.ask(title="  How do I sleep before an exam?  ", details="  I lie awake. ")
    assert q.kind == "question"
    assert q.title == "How do I sleep before an exam?"
    assert q.body == "I lie awake."
    assert (q.status, q.state, q.answer_count, q.score) == ("open", "live", 0, 0)
    assert q.status_message_id == q.message_id
    member = await forum.member(ASKER)
    assert (member.points, member.questions) == (20, 1)
    await forum.check()


async def test_details_are_limited_to_4000_characters(forum: Forum) -> None:
    q = await forum.ask(details="d" * 4000)
    assert len(q.body) == 4000
    with pytest.raises(ValidationError) as err:
        await forum.ask(details="d" * 4001)
    assert str(err.value) == "The details can be at most 4000 characters; yours have 4001."


async def test_a_refused_question_stores_nothing(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    with pytest.raises(ValidationError):
        await forum.ask(title="\u200b")
    async with sessionmaker() as s:
        assert (await s.execute(select(Post))).first() is None
    assert (await forum.member(ASKER)).points == 0


async def test_anonymous_question_keeps_points_apart_and_checks_the_display_name(
    forum: Forum,
) -> None:
    q = await forum.ask(anonymous=True, display_name="  Sleepless  ")
    assert q.anonymous and q.display_name == "Sleepless"
    member = await forum.member(ASKER)
    assert (member.points, member.anon_points, member.questions) == (0, 20, 0)
    blank = await forum.ask(anonymous=True, display_name="\u3164 ")
    assert blank.display_name is None
    with pytest.raises(ValidationError) as err:
        await forum.ask(anonymous=True, display_name="n" * 33)
    assert str(err.value) == "The display name can be at most 32 characters; yours has 33."
    await forum.check()


async def test_category_must_be_one_of_the_guilds(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        s.add(Category(guild_id=GUILD, name="Sleep"))
    q = await forum.ask(category="sleep")
    assert q.category == "Sleep"
    with pytest.raises(ValidationError) as err:
        await forum.ask(category="Cooking")
    assert str(err.value) == "That category does not exist here; pick one from the list."


async def test_category_names_match_in_any_script_and_case(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """SQLite's lower() folds ASCII only; the domain folds every script."""
    async with sessionmaker() as s, s.begin():
        s.add(Category(guild_id=GUILD, name="Ängste"))
        s.add(Category(guild_id=GUILD, name="Тревога"))
    assert (await forum.ask(category="ängste")).category == "Ängste"
    assert (await forum.ask(category="ТРЕВОГА")).category == "Тревога"


async def test_the_eleventh_question_in_an_hour_is_rate_limited(forum: Forum) -> None:
    for _ in range(10):
        await forum.ask()
    with pytest.raises(RateLimited) as err:
        await forum.ask()
    assert str(err.value) == "You can ask 10 questions per hour; try again in 60 minutes."
    forum.now = NOW + timedelta(hours=1, seconds=1)
    await forum.ask()
    assert (await forum.member(ASKER)).questions == 11


async def test_native_forum_post_is_adopted_without_refusal_and_idempotently(
    forum: Forum,
) -> None:
    async def adopt(s: AsyncSession) -> object:
        return await questions.create_question(
            s,
            guild_id=GUILD,
            author_id=ASKER,
            asked=questions.AskedQuestion(
                title="\u200b\u200b", details="my question", category="Anything"
            ),
            via_bot=False,
            thread_id=555,
            message_id=555,
            now=NOW,
        )

    first = await forum.run(adopt)
    again = await forum.run(adopt)
    assert first.created and not again.created and not again.changed
    assert again.post.id == first.post.id
    assert first.post.title == "Untitled question"
    assert first.post.status_message_id is None
    assert (await forum.member(ASKER)).points == 20
    changed = await forum.run(
        lambda s: questions.set_status_message(s, question_id=first.post.id, message_id=556)
    )
    assert changed.post.status_message_id == 556
    await forum.check()


# --------------------------------------------------------------------------- closing


async def test_closing_freezes_votes_and_answers_and_reopening_restores_them(
    forum: Forum,
) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    await forum.vote(q, VOTER)
    await forum.vote(a, VOTER)
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (30, 60)

    closed = await forum.close(q, reason="  Answered elsewhere ")
    assert closed.post.status == "closed" and closed.post.closed
    assert closed.post.closed_reason == "Answered elsewhere"
    assert (await forum.get(q.id)).score == 0 and (await forum.get(a.id)).score == 0
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (20, 40)
    await forum.check()

    # A vote while closed is stored, counts nothing now, and counts after reopening.
    await forum.vote(a, OTHER)
    assert (await forum.get(a.id)).score == 0
    with pytest.raises(InvalidState) as err:
        await forum.answer(q, OTHER)
    assert str(err.value) == "This question is closed, so it takes no new answers."
    native = await forum.post_of(q, OTHER, LONG)
    assert native.kind == "comment"
    assert not (await forum.close(q)).changed

    reopened = await forum.reopen(q)
    assert reopened.post.status == "answered" and not reopened.post.closed
    assert reopened.post.closed_reason is None
    assert (await forum.get(a.id)).score == 2
    assert (await forum.points(ASKER), await forum.points(ANSWERER)) == (30, 80)
    assert not (await forum.reopen(q)).changed
    await forum.check()


async def test_close_as_duplicate_and_its_refusals(forum: Forum) -> None:
    original = await forum.ask()
    q = await forum.ask(author=OTHER)
    with pytest.raises(ValidationError) as err:
        await forum.close(q, actor=OTHER, duplicate_of_id=q.id)
    assert str(err.value) == "A question cannot be a duplicate of itself."
    with pytest.raises(NotFound) as missing:
        await forum.close(q, actor=OTHER, duplicate_of_id=999_999)
    assert str(missing.value) == "The question it duplicates does not exist."
    with pytest.raises(PermissionDenied) as denied:
        await forum.close(q, actor=ANSWERER)
    assert str(denied.value) == "Only the asker or a moderator can close this question."
    closed = await forum.close(q, actor=OTHER, duplicate_of_id=original.id)
    assert closed.post.duplicate_of_id == original.id
    assert not closed.post.closed_by_moderator


async def test_only_a_moderator_reopens_what_a_moderator_closed(forum: Forum) -> None:
    q = await forum.ask()
    await forum.close(q, actor=MODERATOR, is_moderator=True, reason="Off topic")
    with pytest.raises(PermissionDenied) as err:
        await forum.reopen(q, actor=ASKER)
    assert str(err.value) == "A moderator closed this question, so only a moderator can reopen it."
    with pytest.raises(PermissionDenied) as other:
        await forum.reopen(q, actor=OTHER)
    assert str(other.value) == "Only the asker or a moderator can reopen this question."
    assert (await forum.reopen(q, actor=MODERATOR, is_moderator=True)).post.status == "open"


async def test_closing_a_pending_or_deleted_question_is_refused(forum: Forum) -> None:
    pending = await forum.run(
        lambda s: questions.create_question(
            s,
            guild_id=GUILD,
            author_id=ASKER,
            asked=questions.AskedQuestion(title="Why?"),
            state="pending",
            now=NOW,
        )
    )
    with pytest.raises(InvalidState) as err:
        await forum.close(pending.post)
    assert str(err.value) == "That question is still being posted; try again in a moment."
    q = await forum.ask()
    await forum.delete(q)
    with pytest.raises(NotFound):
        await forum.close(q)


async def test_close_and_reopen_refuse_a_question_of_another_guild(forum: Forum) -> None:
    q = await forum.ask()
    with pytest.raises(NotFound) as err:
        await forum.close(q, guild_id=GUILD + 1)
    assert str(err.value) == post_rows.QUESTION_GONE
    assert not (await forum.get(q.id)).closed
    closed = await forum.close(q, guild_id=GUILD)
    assert closed.post.closed
    with pytest.raises(NotFound):
        await forum.reopen(q, guild_id=GUILD + 1)
    assert (await forum.reopen(q, guild_id=GUILD)).post.status == "open"


# --------------------------------------------------------------------------- anonymity


async def test_anonymous_author_id_appears_in_no_log_line_error_or_repr(
    forum: Forum, caplog: pytest.LogCaptureFixture
) -> None:
    secret = 987_654_321_012
    caplog.set_level(logging.DEBUG, logger="bot")
    q = await forum.ask(author=secret, anonymous=True)
    a = await forum.answer(q, ANSWERER)
    await forum.vote(q, secret)
    await forum.vote(a, secret)
    await forum.accept(a, actor=secret)
    with pytest.raises(PermissionDenied) as err:
        await forum.close(q, actor=OTHER)
    await forum.close(q, actor=secret)
    await forum.reopen(q, actor=secret)
    await forum.delete(a)
    assert caplog.records, "the operations log their events"
    assert str(secret) not in caplog.text
    assert str(secret) not in str(err.value)
    assert str(secret) not in repr(await forum.get(q.id))
    assert (await forum.get(q.id)).author_id == secret


async def test_check_can_ask_refuses_a_member_at_the_limit_before_anything_is_stored(
    forum: Forum,
) -> None:
    async def check(s: AsyncSession) -> None:
        await questions.check_can_ask(s, guild_id=GUILD, user_id=ASKER, now=forum.now)

    await forum.run(check)
    for _ in range(10):
        await forum.ask()
    with pytest.raises(RateLimited) as err:
        await forum.run(check)
    assert str(err.value) == "You can ask 10 questions per hour; try again in 60 minutes."
    await forum.run(  # someone else may still ask
        lambda s: questions.check_can_ask(s, guild_id=GUILD, user_id=OTHER, now=forum.now)
    )
    assert (await forum.member(ASKER)).questions == 10


async def test_adopt_native_post_takes_the_category_of_its_first_category_tag(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        s.add(Category(guild_id=GUILD, name="Sleep", tag_id=71, created_at=NOW))
        s.add(Category(guild_id=GUILD, name="Work", tag_id=72, created_at=NOW))

    async def adopt(s: AsyncSession, thread_id: int, tag_ids: list[int]) -> object:
        return await questions.adopt_native_post(
            s,
            guild_id=GUILD,
            author_id=ASKER,
            thread_id=thread_id,
            message_id=thread_id,
            title="\u200b",
            details="my question",
            tag_ids=tag_ids,
            now=NOW,
        )

    first = await forum.run(lambda s: adopt(s, 601, [99, 72, 71]))
    assert first.created and first.post.category == "Work"
    assert first.post.title == "Untitled question" and first.post.state == "live"
    assert not first.post.via_bot
    untagged = await forum.run(lambda s: adopt(s, 602, [99]))
    assert untagged.post.category is None
    again = await forum.run(lambda s: adopt(s, 601, [71]))
    assert not again.created and again.post.id == first.post.id
    assert again.post.category == "Work"
    await forum.check()
