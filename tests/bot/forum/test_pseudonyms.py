"""Per-thread pseudonyms: stable within a thread (stored), in order of first post, unrelated
across threads, never from the author's id."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import ThreadPseudonym
from bot.forum import pseudonyms
from bot.forum.errors import NotFound
from tests.bot.forum.core_support import ANSWERER, ASKER, OTHER, VOTER, Forum


async def _assign(forum: Forum, question_id: int, author_id: int) -> str:
    return await forum.run(
        lambda s: pseudonyms.assign_pseudonym(s, question_id=question_id, author_id=author_id)
    )


async def test_numbers_follow_first_posts_and_stay_put_within_a_thread(forum: Forum) -> None:
    q = await forum.ask()
    assert (
        await forum.run(lambda s: pseudonyms.pseudonym_of(s, question_id=q.id, author_id=OTHER))
        is None
    )
    assert await _assign(forum, q.id, OTHER) == "Member 2"
    assert await _assign(forum, q.id, ANSWERER) == "Member 3"
    assert await _assign(forum, q.id, OTHER) == "Member 2"
    assert await _assign(forum, q.id, ASKER) == "Member 4"
    assert (
        await forum.run(lambda s: pseudonyms.pseudonym_of(s, question_id=q.id, author_id=ANSWERER))
        == "Member 3"
    )
    assert await forum.run(lambda s: pseudonyms.thread_pseudonyms(s, question_id=q.id)) == {
        OTHER: "Member 2",
        ANSWERER: "Member 3",
        ASKER: "Member 4",
    }


async def test_a_restart_keeps_them(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    forum = Forum(sessionmaker)
    q = await forum.ask()
    await _assign(forum, q.id, VOTER)
    await _assign(forum, q.id, OTHER)
    fresh_engine = create_engine(db_url)
    try:
        again = Forum(create_sessionmaker(fresh_engine))
        assert await _assign(again, q.id, OTHER) == "Member 3"
        assert await _assign(again, q.id, VOTER) == "Member 2"
    finally:
        await fresh_engine.dispose()


async def test_threads_are_unrelated_and_ids_play_no_part(forum: Forum) -> None:
    first, second = await forum.ask(), await forum.ask(title="How do I stop worrying?")
    assert await _assign(forum, first.id, OTHER) == "Member 2"
    assert await _assign(forum, first.id, ANSWERER) == "Member 3"
    # In the other thread the order alone decides: the same members, the other way round.
    assert await _assign(forum, second.id, ANSWERER) == "Member 2"
    assert await _assign(forum, second.id, OTHER) == "Member 3"


async def test_no_pseudonym_outside_a_question(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    q = await forum.ask()
    a = await forum.answer(q)
    with pytest.raises(NotFound):
        await _assign(forum, a.id, OTHER)
    with pytest.raises(NotFound):
        await _assign(forum, 987_654, OTHER)
    async with sessionmaker() as s:
        assert (await s.execute(select(ThreadPseudonym))).all() == []
