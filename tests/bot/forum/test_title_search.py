"""Title autocomplete: typed words, an unfinished last word, ids, recent and closed questions."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import title_search
from bot.forum.title_search import TitleMatch
from tests.bot.forum.core_support import MODERATOR
from tests.bot.forum.search_support import Board


@pytest.fixture
def board(sessionmaker: async_sessionmaker[AsyncSession]) -> Board:
    return Board(sessionmaker)


async def test_title_matches_complete_the_last_word(board: Board) -> None:
    therapist = await board.ask("Looking for a therapist", "Details mention sleep.")
    await board.ask("Therapists who listen", "")
    await board.ask("How do I sleep before an exam?", "")
    await board.ask("Sleep schedule", "")
    assert set(await board.completed_titles("therap")) == {
        "Looking for a therapist",
        "Therapists who listen",
    }
    assert set(await board.completed_titles("Therapists")) == {
        "Looking for a therapist",
        "Therapists who listen",
    }
    assert await board.completed_titles("looking therap") == ["Looking for a therapist"]
    # Titles only: the first question's details mention sleep.
    assert set(await board.completed_titles("sle")) == {
        "How do I sleep before an exam?",
        "Sleep schedule",
    }
    assert set(await board.completed_titles("how do i sle")) == {
        "How do I sleep before an exam?",
        "Sleep schedule",
    }
    # "bef" may become "before", a stop word no index holds: not required after "sleep".
    assert set(await board.completed_titles("sleep bef")) == {
        "How do I sleep before an exam?",
        "Sleep schedule",
    }
    assert await board.completed_titles("sleep exa") == ["How do I sleep before an exam?"]
    # A stop word typed alone is the start of a word.
    assert set(await board.completed_titles("the")) == {
        "Looking for a therapist",
        "Therapists who listen",
    }
    assert await board.completed_titles("zebra") == []
    # A question id typed into /close duplicate_of comes first.
    matches = await board.complete(str(therapist.id))
    assert matches[0] == TitleMatch(therapist.id, "Looking for a therapist")
    assert await board.complete(str(therapist.id), exclude_id=therapist.id) == []


async def test_title_matches_without_text_are_the_recent_questions(board: Board) -> None:
    for i in range(30):
        await board.ask(f"Panic question {i}", "")
    matches = await board.complete("")
    assert len(matches) == title_search.AUTOCOMPLETE_MAX
    assert matches[0].title == "Panic question 29"
    assert len(await board.complete("panic")) == title_search.AUTOCOMPLETE_MAX
    assert len(await board.complete("panic", limit=5)) == 5
    assert len(await board.complete("panic", limit=500)) == title_search.AUTOCOMPLETE_MAX
    closed = await board.ask("Panic closed", "")
    await board.forum.close(closed, actor=MODERATOR, is_moderator=True)
    assert "Panic closed" not in await board.completed_titles("panic clo", include_closed=False)
    assert await board.completed_titles("panic clo") == ["Panic closed"]


async def test_title_matches_of_closed_questions_only(board: Board) -> None:
    still_open = await board.ask("Panic at night", "")
    closed = await board.ask("Panic at work", "")
    other = await board.ask("Grief after a loss", "")
    for question in (closed, other):
        await board.forum.close(question, actor=MODERATOR, is_moderator=True)
    assert await board.completed_titles("panic", closed_only=True) == ["Panic at work"]
    assert sorted(await board.completed_titles("", closed_only=True)) == [
        "Grief after a loss",
        "Panic at work",
    ]
    assert await board.complete(str(closed.id), closed_only=True) == [
        TitleMatch(closed.id, "Panic at work")
    ]
    assert await board.complete(str(still_open.id), closed_only=True) == []
    assert await board.completed_titles("panic", closed_only=True, exclude_id=closed.id) == []
