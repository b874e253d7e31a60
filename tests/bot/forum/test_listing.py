"""/unanswered's list on both backends: which questions, their order, categories, pages, and
the partial index it reads."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import categories, listing
from bot.forum.errors import NotFound
from bot.forum.results import PostSnapshot
from tests.bot.forum.core_support import GUILD, NOW, SEEN, Forum

OTHER_GUILD = 2
TAGS = [(501, "Sleep"), (502, "Anxiety")]


class Board:
    """One guild driven through the domain; every question by another member, asked an hour
    after the previous one unless told when."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], guild_id: int = GUILD):
        self.forum = Forum(sessionmaker, guild_id, first_id=10_000 + guild_id * 1_000_000)
        self.guild_id = guild_id
        self._members = itertools.count(100 + guild_id * 1_000_000)
        self._hours = itertools.count(0)

    async def ask(self, title: str, *, at: timedelta | None = None, **kwargs: Any) -> PostSnapshot:
        self.forum.now = NOW + (at if at is not None else timedelta(hours=next(self._hours)))
        return await self.forum.ask(next(self._members), title=title, **kwargs)

    async def categories(self) -> None:
        gid = self.guild_id
        await self.forum.run(lambda s: categories.sync_categories(s, gid, TAGS, None))

    async def page(self, page: int = 1, **kwargs: Any) -> listing.QuestionPage:
        gid = self.guild_id
        kwargs.setdefault("visible", SEEN)
        return await self.forum.run(  # type: ignore[no-any-return]
            lambda s: listing.unanswered_questions(s, guild_id=gid, page=page, **kwargs)
        )

    async def titles(self, page: int = 1, **kwargs: Any) -> list[str]:
        return [q.title for q in (await self.page(page, **kwargs)).questions]


@pytest.fixture
def board(sessionmaker: async_sessionmaker[AsyncSession]) -> Board:
    return Board(sessionmaker)


async def test_open_questions_without_answers_oldest_first(
    board: Board, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    later = await board.ask("Asked later", at=timedelta(hours=5))
    earlier = await board.ask("Asked earlier", at=timedelta(hours=1))
    answered = await board.ask("Has an answer", at=timedelta(hours=2))
    await board.forum.answer(answered, author=7)
    closed = await board.ask("Closed unanswered", at=timedelta(hours=3))
    await board.forum.close(closed, actor=closed.author_id)
    gone = await board.ask("Deleted", at=timedelta(hours=4))
    await board.forum.delete(gone)
    await board.ask("Still pending", at=timedelta(hours=0), state="pending")
    await Board(sessionmaker, OTHER_GUILD).ask("Another guild's", at=timedelta(hours=0))

    shown = await board.page()
    assert [q.title for q in shown.questions] == ["Asked earlier", "Asked later"]
    assert (shown.number, shown.pages, shown.total, shown.category) == (1, 1, 2, None)
    first = shown.questions[0]
    assert (first.id, first.thread_id, first.message_id) == (
        earlier.id,
        earlier.thread_id,
        earlier.message_id,
    )
    assert (first.score, first.answer_count, first.status, first.solved, first.closed) == (
        0,
        0,
        "open",
        False,
        False,
    )
    assert first.created_at == NOW + timedelta(hours=1)
    assert first.created_at.utcoffset() == timedelta(0)
    assert later.id != earlier.id


async def test_a_question_leaves_when_answered_and_returns_when_the_answer_goes(
    board: Board,
) -> None:
    question = await board.ask("Waiting for help")
    assert await board.titles() == ["Waiting for help"]
    answer = await board.forum.answer(question, author=7)
    assert await board.titles() == []
    await board.forum.delete(answer)
    assert await board.titles() == ["Waiting for help"]
    await board.forum.close(question, actor=question.author_id)
    assert await board.titles() == []
    await board.forum.reopen(question, actor=question.author_id)
    assert await board.titles() == ["Waiting for help"]


async def test_a_comment_is_no_answer(board: Board) -> None:
    question = await board.ask("Only comments so far")
    await board.forum.message(question, question.author_id, "Any ideas, anyone? I am still here.")
    assert await board.titles() == ["Only comments so far"]


async def test_ten_a_page_and_a_page_past_the_end_shows_the_last(board: Board) -> None:
    for n in range(23):
        await board.ask(f"Question number {n:02d}")
    first = await board.page(1)
    assert [q.title for q in first.questions] == [f"Question number {n:02d}" for n in range(10)]
    assert (first.number, first.pages, first.total) == (1, 3, 23)
    third = await board.page(3)
    assert [q.title for q in third.questions] == [f"Question number {n:02d}" for n in (20, 21, 22)]
    assert (await board.page(99)).number == 3
    assert (await board.page(0)).number == 1
    assert (await board.page(-5)).questions == first.questions
    small = await board.page(2, page_size=4)
    assert (small.number, small.pages, len(small.questions)) == (2, 6, 4)


async def test_nothing_unanswered_is_one_empty_page(board: Board) -> None:
    shown = await board.page(4)
    assert (shown.questions, shown.number, shown.pages, shown.total) == ([], 1, 1, 0)


async def test_one_category_by_name_in_any_case_or_by_id(board: Board) -> None:
    await board.categories()
    await board.ask("Cannot fall asleep", category="Sleep")
    await board.ask("Racing thoughts", category="Anxiety")
    await board.ask("Waking at four", category="sleep")
    await board.ask("No category at all")

    by_name = await board.page(category="SLEEP")
    assert [q.title for q in by_name.questions] == ["Cannot fall asleep", "Waking at four"]
    assert by_name.category is not None and by_name.category.name == "Sleep"
    assert {q.category for q in by_name.questions} == {"Sleep"}
    by_id = await board.page(category_id=by_name.category.id)
    assert by_id.questions == by_name.questions and by_id.category == by_name.category
    assert await board.titles(category="  ") == [
        "Cannot fall asleep",
        "Racing thoughts",
        "Waking at four",
        "No category at all",
    ]


async def test_an_unknown_or_removed_category_is_refused_with_a_sentence(board: Board) -> None:
    await board.categories()
    with pytest.raises(NotFound) as unknown:
        await board.page(category="Grief")
    assert "`Grief`" in str(unknown.value) and "`Anxiety`, `Sleep`" in str(unknown.value)
    sleep = (await board.page(category="Sleep")).category
    assert sleep is not None
    gid = board.guild_id
    await board.forum.run(lambda s: categories.remove_category(s, gid, "Sleep"))
    with pytest.raises(NotFound) as removed:
        await board.page(category_id=sleep.id)
    assert str(removed.value) == listing.CATEGORY_GONE


async def test_another_guilds_category_id_is_refused(
    board: Board, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    other = Board(sessionmaker, OTHER_GUILD)
    await other.categories()
    theirs = (await other.page(category="Sleep")).category
    assert theirs is not None
    with pytest.raises(NotFound):
        await board.page(category_id=theirs.id)


async def _plan(session: AsyncSession, category: str | None) -> str:
    sql, params = listing.unanswered_statement(
        guild_id=GUILD, visible=SEEN, category=category, limit=10, offset=0
    )
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.execute(text("EXPLAIN " + sql), params)
        return "\n".join(str(row[0]) for row in rows)
    rows = await session.execute(text("EXPLAIN QUERY PLAN " + sql), params)
    return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("category", [None, "Sleep"])
async def test_the_list_reads_the_partial_index(
    sessionmaker: async_sessionmaker[AsyncSession], category: str | None
) -> None:
    async with sessionmaker() as session, session.begin():
        postgres = session.get_bind().dialect.name == "postgresql"
        # Many questions, most of them answered: the index holds only the few open ones.
        await session.execute(
            text(
                "INSERT INTO posts (guild_id, kind, author_id, title, body, status, state,"
                " answer_count, created_at, updated_at, last_activity_at, thread_id, message_id)"
                " VALUES (:guild, 'question', :n, 'Filler', '', :status, 'live', :answers,"
                " :at, :at, :at, :n, :n)"
            ),
            [
                {
                    "guild": GUILD,
                    "n": n,
                    "status": "open" if n % 50 == 0 else "answered",
                    "answers": 0 if n % 50 == 0 else 1,
                    "at": (NOW + timedelta(seconds=n)).replace(tzinfo=None),
                }
                for n in range(1, 2001)
            ],
        )
        await session.execute(text("ANALYZE posts" if postgres else "ANALYZE"))
        if postgres:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await _plan(session, category)
    assert "ix_posts_unanswered" in plan, plan
