"""Reads show only questions in forums the reader can see, filtered in SQL, on both backends:
search, title autocomplete, similar questions, /unanswered, lookups by id or thread, and a
duplicate named when closing. Answers and comments take their question's forum."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Post
from bot.forum import leaderboard, listing, lookups, questions, settings
from bot.forum.errors import NotFound
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.visibility import VisibleForums
from tests.bot.forum.core_support import FORUM, GUILD, MODERATOR, SEEN
from tests.bot.forum.search_support import Board

PRIVATE = 8
BOTH = VisibleForums.of([FORUM, PRIVATE])
ONLY_PRIVATE = VisibleForums.of([PRIVATE])
NONE = VisibleForums.of([])


@pytest.fixture
def board(sessionmaker: async_sessionmaker[AsyncSession]) -> Board:
    return Board(sessionmaker)


async def _two_forums(board: Board) -> tuple[PostSnapshot, PostSnapshot]:
    """A question in the open forum and a closer match in the private one."""
    public = await board.ask("Sleep trouble", "I wake up early.")
    private = await board.ask("Sleep trouble at night", "Sleep trouble, sleep trouble every night.")
    await board.run(lambda s: _move(s, private.id, PRIVATE))
    return public, private


async def _move(session: AsyncSession, post_id: int, forum_id: int | None) -> None:
    row = await session.get(Post, post_id)
    assert row is not None
    row.forum_id = forum_id


async def _unanswered(board: Board, visible: VisibleForums) -> listing.QuestionPage:
    return await board.run(  # type: ignore[no-any-return]
        lambda s: listing.unanswered_questions(s, guild_id=GUILD, visible=visible, page_size=1)
    )


async def test_every_read_keeps_to_the_visible_forums_before_its_limit(board: Board) -> None:
    public, private = await _two_forums(board)
    # The private question ranks first for everyone who can see it...
    assert [h.question_id for h in await board.hits("sleep trouble", visible=BOTH)] == [
        private.id,
        public.id,
    ]
    # ...and a limit of one still finds the public one for a reader who cannot: the forum is
    # filtered in the statement, not after it.
    assert [h.question_id for h in await board.hits("sleep trouble", limit=1)] == [public.id]
    assert await board.hits("sleep trouble", visible=NONE) == []
    assert [h.question_id for h in await board.hits("night", visible=ONLY_PRIVATE)] == [private.id]
    assert await board.hits("night") == []
    assert [m.question_id for m in await board.complete("sleep", limit=1)] == [public.id]
    assert await board.complete(str(private.id)) == []
    assert await board.complete("", visible=NONE) == []
    assert [m.question_id for m in await board.complete(str(private.id), visible=BOTH)] == [
        private.id
    ]
    assert await board.similar("Sleep trouble at night", "night sleep", limit=1) == [
        "Sleep trouble"
    ]
    assert await board.similar("Night sleep trouble", visible=ONLY_PRIVATE) == [
        "Sleep trouble at night"
    ]
    # /unanswered counts (and pages) only what the reader sees.
    shown = await _unanswered(board, SEEN)
    assert (shown.total, [q.id for q in shown.questions]) == (1, [public.id])
    assert (await _unanswered(board, BOTH)).total == 2
    assert (await _unanswered(board, NONE)).total == 0


async def test_a_post_without_a_forum_is_in_the_guild_s_configured_forum(board: Board) -> None:
    legacy = await board.ask("Grief after a loss", "It has been a year.")
    await board.run(lambda s: _move(s, legacy.id, None))
    # No forum configured: it is in no forum anyone can see.
    assert await board.titles("grief", visible=BOTH) == []
    await board.run(lambda s: settings.set_setting(s, GUILD, "forum_channel_id", PRIVATE))
    assert await board.titles("grief", visible=ONLY_PRIVATE) == ["Grief after a loss"]
    assert await board.titles("grief") == []
    assert (await _unanswered(board, ONLY_PRIVATE)).total == 1
    assert (await _unanswered(board, SEEN)).total == 0


async def _readable(
    board: Board, visible: VisibleForums, *, question_id: int = 0, thread_id: int = 0
) -> PostSnapshot | None:
    """The question named by id (``question_id``) or by its thread (``thread_id``)."""
    if thread_id:
        return await board.run(  # type: ignore[no-any-return]
            lambda s: lookups.readable_thread_question(
                s, guild_id=GUILD, visible=visible, thread_id=thread_id
            )
        )
    return await board.run(  # type: ignore[no-any-return]
        lambda s: lookups.readable_question(
            s, guild_id=GUILD, visible=visible, question_id=question_id
        )
    )


async def test_a_question_named_by_id_or_thread_is_found_only_where_visible(board: Board) -> None:
    public, private = await _two_forums(board)
    assert private.thread_id is not None
    assert await _readable(board, SEEN, question_id=private.id) is None
    assert await _readable(board, SEEN, thread_id=private.thread_id) is None
    assert await _readable(board, SEEN, question_id=999_999) is None
    found = await _readable(board, ONLY_PRIVATE, question_id=private.id)
    assert found is not None and found.id == private.id
    found = await _readable(board, SEEN, thread_id=public.thread_id or 0)
    assert found is not None and found.id == public.id


async def test_closing_as_a_duplicate_of_an_unseen_question_is_refused_as_a_missing_one(
    board: Board,
) -> None:
    public, private = await _two_forums(board)
    with pytest.raises(NotFound) as unseen:
        await board.forum.close(
            public, actor=MODERATOR, is_moderator=True, duplicate_of_id=private.id
        )
    with pytest.raises(NotFound) as missing:
        await board.forum.close(public, actor=MODERATOR, is_moderator=True, duplicate_of_id=999_999)
    assert str(unseen.value) == str(missing.value)
    closed = await board.run(
        lambda s: questions.close_question(
            s,
            closing=questions.Closing(public.id, duplicate_of_id=private.id, visible=BOTH),
            actor=Actor(MODERATOR, is_moderator=True),
        )
    )
    assert closed.question.duplicate_of_id == private.id


async def test_answers_and_comments_take_their_question_s_forum(board: Board) -> None:
    _, private = await _two_forums(board)
    fresh = await board.forum.get(private.id)
    answer = await board.answer(fresh, "A warm bath an hour before bed helps me.")
    comment = await board.forum.post_of(fresh, private.author_id, "Thanks")
    async with board.forum.sessionmaker() as session:
        forums = (
            await session.execute(select(Post.forum_id).where(Post.id.in_([answer.id, comment.id])))
        ).scalars()
        assert set(forums) == {PRIVATE}


async def test_a_profile_links_only_named_questions_the_reader_can_see(board: Board) -> None:
    asker = board.member()
    seen = await board.forum.ask(asker, title="Seen by all")
    hidden = await board.forum.ask(asker, title="In the private forum")
    await board.run(lambda s: _move(s, hidden.id, PRIVATE))
    await board.forum.ask(asker, title="Asked anonymously", anonymous=True)

    async def recent(visible: VisibleForums) -> list[int]:
        shown = await board.run(
            lambda s: leaderboard.profile(s, guild_id=GUILD, user_id=asker, visible=visible)
        )
        return [q.id for q in shown.recent]

    assert await recent(SEEN) == [seen.id]
    assert await recent(BOTH) == [hidden.id, seen.id]
    assert await recent(NONE) == []
