"""Precomputed top lists of very common search terms (``bot.forum.common_terms``), on both
backends: asked for by a search past the threshold, equal to the full ranking when refreshed,
read by later one-term searches within the reader's scope, stale only until the next refresh."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import common_terms, deletion, questions
from bot.forum.common_terms import CommonTerms
from bot.forum.rights import Actor
from bot.forum.uow import run_in_transaction
from bot.forum.visibility import VisibleForums
from tests.bot.forum.core_support import FORUM, GUILD, MODERATOR, SEEN
from tests.bot.forum.search_support import Board, unrelated

OTHER_FORUM = FORUM + 1
BOTH = VisibleForums.of([FORUM, OTHER_FORUM])


@pytest.fixture
def board(sessionmaker: async_sessionmaker[AsyncSession]) -> Board:
    return Board(sessionmaker)


async def refresh(board: Board, common: CommonTerms) -> int:
    """What ``bot.workers.search_tops`` does in a pass; how many lists it kept."""
    kept = 0
    for key in common.due():
        top = await board.run(
            functools.partial(
                common_terms.rank_term, guild_id=key[0], term=key[1], per_forum=common.per_forum
            )
        )
        kept += common.record(key, top)
    return kept


async def test_a_common_term_gets_a_list_equal_to_the_full_ranking(board: Board) -> None:
    for n in range(4):
        question = await board.ask(f"Journaling idea {n}", "Journaling " * (n + 1))
        await board.answer(question, "I keep a journal too.")
    await unrelated(board)
    full = await board.hits("journaling")
    common = CommonTerms(threshold=4, per_forum=3)
    # Below the threshold, or two terms: no list is asked for.
    await board.hits("grandmother", common=common)
    await board.hits("journaling idea", common=common)
    assert common.due() == []
    assert await board.hits("journaling", common=common) == full
    assert common.due() == [(GUILD, "journaling")]
    assert await refresh(board, common) == 1
    # The list keeps the three best (per forum): the search reads them, in the same order.
    assert await board.hits("journaling", common=common, limit=3) == full[:3]
    assert await board.hits("journaling", common=common, limit=2) == full[:2]
    # More asked for than the list holds: the full ranking.
    assert await board.hits("journaling", common=common) == full


async def test_a_list_shows_only_the_readers_forums(board: Board) -> None:
    seen = [await board.ask(f"Insomnia note {n}", "Insomnia again.") for n in range(2)]
    hidden = [
        await board.ask(f"Insomnia elsewhere {n}", "Insomnia.", forum_id=OTHER_FORUM)
        for n in range(2)
    ]
    common = CommonTerms(threshold=2, per_forum=3)
    await board.hits("insomnia", common=common, visible=BOTH)
    await refresh(board, common)
    hits = await board.hits("insomnia", common=common)
    assert {hit.question_id for hit in hits} == {q.id for q in seen}
    both = await board.hits("insomnia", common=common, visible=BOTH)
    assert {hit.question_id for hit in both} == {q.id for q in seen + hidden}
    assert await board.hits("insomnia", common=common, visible=VisibleForums.of([])) == []


async def test_deleted_and_closed_questions_leave_a_list_at_once(board: Board) -> None:
    gone, closed, kept = [await board.ask(f"Meditation {n}", "Meditation daily") for n in range(3)]
    common = CommonTerms(threshold=3)
    await board.hits("meditation", common=common)
    await refresh(board, common)
    await board.run(
        lambda s: deletion.delete_question(
            s, actor=Actor(MODERATOR, is_moderator=True), question_id=gone.id
        )
    )
    await board.run(
        lambda s: questions.close_question(
            s, closing=questions.Closing(closed.id), actor=Actor(MODERATOR, is_moderator=True)
        )
    )
    listed = await board.hits("meditation", common=common)
    assert {hit.question_id for hit in listed} == {closed.id, kept.id}
    still_open = await board.hits("meditation", common=common, include_closed=False)
    assert [hit.question_id for hit in still_open] == [kept.id]


async def test_new_posts_count_from_the_next_refresh(board: Board) -> None:
    for n in range(3):
        await board.ask(f"Running {n}", "Running helps")
    common = CommonTerms(threshold=3)
    await board.hits("running", common=common)
    await refresh(board, common)
    newest = await board.ask("Running Running Running", "Running, always running")
    listed = await board.hits("running", common=common)
    assert newest.id not in {hit.question_id for hit in listed}  # freshness is given up
    assert await refresh(board, common) == 1
    assert (await board.hits("running", common=common))[0].question_id == newest.id


async def test_a_term_no_longer_common_loses_its_list(board: Board) -> None:
    first, second = [await board.ask(f"Yoga {n}", "Yoga") for n in range(2)]
    common = CommonTerms(threshold=2)
    await board.hits("yoga", common=common)
    assert await refresh(board, common) == 1
    await board.run(
        lambda s: deletion.delete_question(
            s, actor=Actor(MODERATOR, is_moderator=True), question_id=first.id
        )
    )
    assert await refresh(board, common) == 0
    assert common.top(GUILD, "yoga") is None
    assert [hit.question_id for hit in await board.hits("yoga", common=common)] == [second.id]


async def test_a_list_is_computed_in_a_read_only_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], board: Board
) -> None:
    for n in range(2):
        await board.ask(f"Gratitude {n}", "Gratitude list")
    top = await run_in_transaction(
        sessionmaker,
        functools.partial(common_terms.rank_term, guild_id=GUILD, term="gratitude"),
        read_only=True,
    )
    assert top.matched == 2
    assert [r.forum_id for r in top.questions] == [FORUM, FORUM]
    assert top.candidates(SEEN) == list(top.questions)
    assert top.candidates(VisibleForums.of([OTHER_FORUM])) == []


async def test_a_list_cut_short_gives_way_to_the_full_ranking_when_too_few_are_left(
    board: Board,
) -> None:
    asked = [await board.ask(f"Hiking {'hiking ' * n}", "Hiking trails") for n in range(4)]
    common = CommonTerms(threshold=4, per_forum=3)
    await board.hits("hiking", common=common)
    await refresh(board, common)
    listed = common.top(GUILD, "hiking")
    assert listed is not None and len(listed.questions) == 3 and listed.cut_short(SEEN)
    unlisted = asked[0]  # the lowest-ranked, not in the list
    for gone in asked[2:]:
        await board.run(
            lambda s, gone=gone: deletion.delete_question(
                s, actor=Actor(MODERATOR, is_moderator=True), question_id=gone.id
            )
        )
    hits = await board.hits("hiking", common=common)
    assert [hit.question_id for hit in hits] == [asked[1].id, unlisted.id]
