"""Questions: asking (validated /ask, adopted native posts, pending rows), editing, deleting,
closing and reopening, with each refusal's sentence."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Category, Post
from bot.forum import posts, questions
from bot.forum.errors import (
    InvalidState,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from bot.forum.questions import validate_title
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


@pytest.fixture
def forum(sessionmaker: async_sessionmaker[AsyncSession]) -> Forum:
    return Forum(sessionmaker)


# --------------------------------------------------------------------------- title rules (pure)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  How do I sleep?  ", "How do I sleep?"),
        ("\u200b\ufeffHow?\u200b", "How?"),
        ("Line one\nline two", "Line one line two"),
        ("x" * 100, "x" * 100),
        # 100 emoji outside the BMP: 100 code points (as Discord counts), 200 UTF-16 units.
        ("😀" * 100, "😀" * 100),
        (
            "Flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            "Flag 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        ),
    ],
)
def test_titles_are_trimmed_and_counted_in_code_points(raw: str, clean: str) -> None:
    assert validate_title(raw) == clean


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        ("", "Please give your question a title."),
        ("   \t ", "Please give your question a title."),
        ("\x00\x07\x1b", "Please give your question a title."),
        ("\u2028\u3000", "Please give your question a title."),
        ("\u200d\u200c\u2063", "The title needs at least one visible character."),
        ("\u3164\u3164", "The title needs at least one visible character."),
        ("\u0301\u0302", "The title needs at least one visible character."),
        ("\u2800", "The title needs at least one visible character."),
        ("x" * 101, "The title can be at most 100 characters; yours has 101."),
        ("😀" * 101, "The title can be at most 100 characters; yours has 101."),
    ],
)
def test_bad_titles_are_refused_with_a_sentence(raw: str, sentence: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_title(raw)
    assert str(err.value) == sentence


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
            title="\u200b\u200b",
            details="my question",
            category="Anything",
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


async def test_pending_question_counts_only_once_posted(forum: Forum) -> None:
    pending = await forum.run(
        lambda s: questions.create_question(
            s, guild_id=GUILD, author_id=ASKER, title="Why?", state="pending", now=NOW
        )
    )
    assert pending.post.state == "pending" and pending.post.thread_id is None
    assert (await forum.member(ASKER)).points == 0
    await forum.check()

    live = await forum.run(
        lambda s: posts.confirm_post(
            s, post_id=pending.post.id, message_id=900, thread_id=900, now=NOW
        )
    )
    assert (live.post.state, live.post.thread_id, live.post.message_id) == ("live", 900, 900)
    assert (await forum.member(ASKER)).points == 20
    repeat = await forum.run(
        lambda s: posts.confirm_post(
            s, post_id=pending.post.id, message_id=900, thread_id=900, now=NOW
        )
    )
    assert not repeat.changed
    assert (await forum.member(ASKER)).points == 20
    await forum.check()


async def test_pending_question_can_be_discarded(forum: Forum) -> None:
    pending = await forum.run(
        lambda s: questions.create_question(
            s, guild_id=GUILD, author_id=ASKER, title="Why?", state="pending", now=NOW
        )
    )
    assert await forum.run(lambda s: posts.discard_pending_post(s, post_id=pending.post.id))
    assert not await forum.run(lambda s: posts.discard_pending_post(s, post_id=pending.post.id))
    with pytest.raises(NotFound):
        await forum.get(pending.post.id)


# --------------------------------------------------------------------------- editing


async def test_edit_by_asker_or_moderator_and_refusals(forum: Forum) -> None:
    q = await forum.ask()
    edited = await forum.run(
        lambda s: questions.edit_question(
            s, question_id=q.id, actor_id=ASKER, title=" New title ", details="More", now=NOW
        )
    )
    assert (edited.post.title, edited.post.body, edited.changed) == ("New title", "More", True)
    same = await forum.run(
        lambda s: questions.edit_question(s, question_id=q.id, actor_id=ASKER, title="New title")
    )
    assert not same.changed
    by_mod = await forum.run(
        lambda s: questions.edit_question(
            s, question_id=q.id, actor_id=MODERATOR, is_moderator=True, title="Fixed"
        )
    )
    assert by_mod.post.title == "Fixed"
    with pytest.raises(PermissionDenied) as err:
        await forum.run(
            lambda s: questions.edit_question(s, question_id=q.id, actor_id=OTHER, title="Mine")
        )
    assert str(err.value) == "Only the asker or a moderator can edit this question."
    with pytest.raises(ValidationError):
        await forum.run(
            lambda s: questions.edit_question(s, question_id=q.id, actor_id=ASKER, title=" ")
        )
    assert (await forum.get(q.id)).title == "Fixed"


# --------------------------------------------------------------------------- deleting


async def test_deleting_a_question_undoes_everything_in_its_thread(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    await forum.vote(q, VOTER)
    await forum.vote(a, VOTER)
    await forum.accept(a)
    assert (await forum.points(ANSWERER)) == 40 + 20 + 300
    result = await forum.run(
        lambda s: questions.delete_question(s, question_id=q.id, actor_id=ASKER, now=NOW)
    )
    assert result.changed and result.post.deleted
    assert result.post.answer_count == 0
    assert (await forum.get(a.id)).deleted
    for user in (ASKER, ANSWERER, VOTER):
        assert await forum.member(user) == type(await forum.member(user))(GUILD, user)
    again = await forum.run(
        lambda s: questions.delete_question(s, question_id=q.id, actor_id=ASKER, now=NOW)
    )
    assert not again.changed
    await forum.check()


async def test_only_the_asker_or_a_moderator_deletes_a_question(forum: Forum) -> None:
    q = await forum.ask()
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: questions.delete_question(s, question_id=q.id, actor_id=OTHER))
    assert str(err.value) == "Only the asker or a moderator can delete this question."
    removed = await forum.run(
        lambda s: questions.delete_question(
            s, question_id=q.id, actor_id=MODERATOR, is_moderator=True
        )
    )
    assert removed.post.deleted
    with pytest.raises(NotFound) as gone:
        await forum.run(lambda s: questions.get_question(s, question_id=q.id))
    assert str(gone.value) == "That question no longer exists."


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
            s, guild_id=GUILD, author_id=ASKER, title="Why?", state="pending", now=NOW
        )
    )
    with pytest.raises(InvalidState) as err:
        await forum.close(pending.post)
    assert str(err.value) == "That question is still being posted; try again in a moment."
    q = await forum.ask()
    await forum.delete(q)
    with pytest.raises(NotFound):
        await forum.close(q)


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


# --------------------------------------------------------------------------- Discord's own changes


async def test_a_thread_renamed_in_discord_renames_its_question(forum: Forum) -> None:
    q = await forum.ask(title="Old title")
    assert q.thread_id is not None
    thread_id = q.thread_id

    async def rename(name: str) -> Any:
        return await forum.run(
            lambda s: questions.rename_question_by_thread(
                s, thread_id=thread_id, name=name, guild_id=GUILD, now=NOW
            )
        )

    renamed = await rename("  A better\ntitle  ")
    assert renamed.changed and renamed.post.title == "A better title"
    # The same name again (the bot's own rename coming back from Discord) changes nothing.
    assert not (await rename("A better title")).changed
    with pytest.raises(ValidationError):
        await rename("\u200b\u3164")
    assert (await forum.get(q.id)).title == "A better title"
    # Nobody's rights are checked (Discord allowed the rename); a closed question is renamed too.
    await forum.close(q, actor=MODERATOR, is_moderator=True)
    assert (await rename("Closed, renamed")).post.title == "Closed, renamed"
    # Another guild's thread id, an unknown thread or a deleted question: nothing to rename.
    assert (
        await forum.run(
            lambda s: questions.rename_question_by_thread(
                s, thread_id=thread_id, name="x", guild_id=GUILD + 1
            )
        )
        is None
    )
    assert (
        await forum.run(
            lambda s: questions.rename_question_by_thread(s, thread_id=123_456, name="x")
        )
        is None
    )
    await forum.delete(q)
    assert await rename("After delete") is None
    await forum.check()


async def test_close_and_reopen_refuse_a_question_of_another_guild(forum: Forum) -> None:
    q = await forum.ask()
    with pytest.raises(NotFound) as err:
        await forum.close(q, guild_id=GUILD + 1)
    assert str(err.value) == questions.QUESTION_GONE
    assert not (await forum.get(q.id)).closed
    closed = await forum.close(q, guild_id=GUILD)
    assert closed.post.closed
    with pytest.raises(NotFound):
        await forum.reopen(q, guild_id=GUILD + 1)
    assert (await forum.reopen(q, guild_id=GUILD)).post.status == "open"
