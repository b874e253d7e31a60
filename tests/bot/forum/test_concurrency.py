"""Concurrent events on the same posts end exact, and no deadlock reaches the caller.

Eight tasks start together on one question with three answers: five members voting and
unvoting on all four posts, one posting and deleting answers in the thread, the asker moving the
acceptance around, and a moderator closing and reopening. Each runs its operations through
``run_in_transaction`` (one transaction per event, as the cogs do). Afterwards every score is
exactly what the voters' last gestures say and every cache equals a recomputation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import acceptance, deletion, posts, questions, votes
from bot.forum.errors import InvalidState
from bot.forum.results import PostSnapshot
from bot.forum.rights import Actor
from bot.forum.uow import is_retryable, run_in_transaction, sqlstate
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, LONG, MODERATOR, NOW, OTHER, Forum

VOTERS = range(100, 105)
ROUNDS = 6


def _gesture(voter: int, round_: int, index: int) -> tuple[str, bool]:
    flag = "down" if (voter + round_ + index) % 3 == 0 else "up"
    return flag, (voter * 7 + round_ * 3 + index) % 4 != 0


async def test_eight_concurrent_tasks_end_with_exact_scores_and_points(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)
    q = await forum.ask()
    answers = [await forum.answer(q, author) for author in (ANSWERER, OTHER, 31)]
    targets: list[PostSnapshot] = [q, *answers]
    start = asyncio.Event()

    async def run(work: Callable[[AsyncSession], Awaitable[object]]) -> object:
        return await run_in_transaction(sessionmaker, work)

    async def voter(user: int) -> dict[int, tuple[bool, bool]]:
        state = {p.id: (False, False) for p in targets}
        await start.wait()
        for round_ in range(ROUNDS):
            for index, post in enumerate(targets):
                flag, on = _gesture(user, round_, index)
                await run(
                    lambda s, post=post, flag=flag, on=on: votes.set_vote(
                        s, post_id=post.id, user_id=user, flag=flag, on=on, now=NOW
                    )
                )
                up, down = state[post.id]
                state[post.id] = (on, down) if flag == "up" else (up, on)
        return state

    async def poster() -> list[PostSnapshot]:
        created = []
        await start.wait()
        for round_ in range(ROUNDS):
            change = await run(
                lambda s, r=round_: posts.record_thread_message(
                    s,
                    guild_id=GUILD,
                    thread_id=q.thread_id,
                    message_id=50_000 + r,
                    author_id=60 + r,
                    body=LONG,
                    now=NOW,
                )
            )
            created.append(change.post)  # type: ignore[attr-defined]
        await run(lambda s: deletion.delete_message(s, message_id=50_001, now=NOW))
        return created

    async def accepter() -> None:
        await start.wait()
        for round_ in range(ROUNDS * 2):
            answer = answers[round_ % len(answers)]
            try:
                if round_ % 4 == 3:
                    await run(
                        lambda s: acceptance.unaccept_answer(
                            s, question_ref=acceptance.PostRef(q.id), actor=Actor(ASKER), now=NOW
                        )
                    )
                else:
                    await run(
                        lambda s, a=answer: acceptance.accept_answer(
                            s, answer_ref=acceptance.PostRef(a.id), actor=Actor(ASKER), now=NOW
                        )
                    )
            except InvalidState:
                pass  # the question was closed at that moment: a refusal, not a failure

    async def closer() -> None:
        moderator = Actor(MODERATOR, is_moderator=True)
        await start.wait()
        for _ in range(ROUNDS):
            await run(
                lambda s: questions.close_question(
                    s, closing=questions.Closing(q.id), actor=moderator, now=NOW
                )
            )
            await run(
                lambda s: questions.reopen_question(s, question_id=q.id, actor=moderator, now=NOW)
            )

    tasks = [asyncio.create_task(voter(user)) for user in VOTERS]
    tasks += [asyncio.create_task(poster()), asyncio.create_task(accepter())]
    tasks.append(asyncio.create_task(closer()))
    assert len(tasks) == 8
    start.set()
    results = await asyncio.gather(*tasks)

    final_states: list[dict[int, tuple[bool, bool]]] = results[: len(VOTERS)]
    for post in targets:
        expected = sum(int(s[post.id][0]) - int(s[post.id][1]) for s in final_states)
        ups = sum(1 for s in final_states if s[post.id] == (True, False))
        downs = sum(1 for s in final_states if s[post.id] == (False, True))
        stored = await forum.get(post.id)
        assert (stored.score, stored.upvotes, stored.downvotes) == (expected, ups, downs)
    # A message posted while the question was closed became a comment (and one is deleted).
    posted: list[PostSnapshot] = results[len(VOTERS)]
    live_answers = [p for p in posted if p.kind == "answer" and p.message_id != 50_001]
    final_q = await forum.get(q.id)
    assert not final_q.closed
    assert final_q.answer_count == len(answers) + len(live_answers)
    await forum.check()


# --------------------------------------------------------------------------- the retry helper


class _PgError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"sqlstate {code}")
        self.sqlstate = code


def test_retryable_errors_are_recognised() -> None:
    deadlock = DBAPIError("UPDATE", {}, _PgError("40P01"))
    serialization = DBAPIError("UPDATE", {}, _PgError("40001"))
    unique = IntegrityError("INSERT", {}, _PgError("23505"))
    assert sqlstate(deadlock) == "40P01"
    assert is_retryable(deadlock) and is_retryable(serialization)
    assert not is_retryable(unique)
    assert not is_retryable(ValueError("x"))


async def test_run_in_transaction_retries_a_deadlock_and_rolls_back_each_attempt(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    forum = Forum(sessionmaker)
    attempts = 0

    async def work(session: AsyncSession) -> PostSnapshot:
        nonlocal attempts
        attempts += 1
        change = await questions.create_question(
            session,
            guild_id=GUILD,
            author_id=ASKER,
            asked=questions.AskedQuestion(title="Why?"),
            thread_id=7,
            message_id=7,
            now=NOW,
        )
        if attempts < 3:
            raise DBAPIError("UPDATE", {}, _PgError("40P01"))
        return change.post

    post = await run_in_transaction(sessionmaker, work)
    assert attempts == 3
    assert post.id == (await forum.get(post.id)).id
    assert (await forum.member(ASKER)).questions == 1  # the failed attempts left nothing


async def test_run_in_transaction_does_not_retry_other_errors(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    attempts = 0

    async def work(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        raise IntegrityError("INSERT", {}, _PgError("23505"))

    with pytest.raises(IntegrityError):
        await run_in_transaction(sessionmaker, work)
    assert attempts == 1
