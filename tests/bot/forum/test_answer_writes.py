"""A batch of plain answers in two steps (``thread_batch.plan_thread_messages`` and
``write_thread_messages``; on SQLite ``bot.forum.answer_writes``): it ends exactly as the same
answers recorded one by one, its write step runs as many statements (packed, no ``RETURNING``,
no read) for 40 answers as for 4, and through the transaction runner on an SQLite file it plans
without the write lock and plans again when another connection committed meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.db.engine import create_sessionmaker, is_sqlite
from bot.forum import prefs
from bot.forum.blocks import MemberBlocked
from bot.forum.results import PostChange, PostSnapshot
from bot.forum.thread_batch import (
    Recorded,
    ThreadBatchPlan,
    ThreadMessage,
    plan_thread_messages,
    write_thread_messages,
)
from bot.forum.uow import Planned
from bot.transactions import TransactionRunner
from tests.bot.forum.core_support import ANSWERER, ASKER, LONG, NOW, OTHER, Forum
from tests.bot.forum.test_thread_batch import SHIFT, _message_ids, _state, recorded_one_by_one
from tests.db_support import commit_elsewhere, statements_run

FOLLOWER = 60
BOT = 99


def _sqlite(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    return bool(sessionmaker.kw["bind"].dialect.name == "sqlite")


def _planned(
    messages: list[ThreadMessage], plans: list[ThreadBatchPlan], meanwhile: Callable[[], None]
) -> Planned[ThreadBatchPlan, list[Recorded]]:
    """The batch as the thread intake runs it; its first plan runs ``meanwhile`` afterwards."""

    async def plan(session: AsyncSession) -> ThreadBatchPlan:
        plans.append(await plan_thread_messages(session, messages, NOW))
        if len(plans) == 1:
            meanwhile()
        return plans[-1]

    return Planned("answers", plan, write_thread_messages)


async def _scene(forum: Forum) -> list[ThreadMessage]:
    """A followed question, a solved one and a plain one; plain answers and bots' messages,
    in their order."""
    g = forum.guild_id
    followed, solved, plain = await forum.ask(), await forum.ask(), await forum.ask(author=OTHER)
    await forum.run(
        lambda s: prefs.follow(s, guild_id=g, question_id=followed.id, user_id=FOLLOWER)
    )
    await forum.accept(await forum.answer(solved, author=ANSWERER + 1))

    def msg(
        q: PostSnapshot, author: int, name: str | None = None, *, bot: bool = False
    ) -> ThreadMessage:
        return ThreadMessage(
            g, q.thread_id or 0, forum.next_id(), author, LONG, display_name=name, author_is_bot=bot
        )

    return [
        msg(followed, ANSWERER, "Helper"),
        msg(plain, BOT, bot=True),  # nothing, but seen
        msg(solved, ANSWERER, "Helper again"),
        msg(followed, FOLLOWER, "Fan"),  # the asker told
        msg(plain, ASKER),  # the other asker told
        msg(followed, OTHER + 1, "Other"),  # DMs gathered a window on
        msg(plain, ANSWERER + 2),
        msg(solved, BOT, bot=True),  # the newest message seen in its thread
    ]


def _outcome(result: Recorded, message_of: dict[int, int], shift: int) -> tuple[Any, ...]:
    """A post change with every id a message id less ``shift``, the times and texts kept."""
    if result is None:
        return (None, None, None, None)
    assert isinstance(result, PostChange)

    def plain(snapshot: PostSnapshot) -> tuple[Any, ...]:
        def ref(post_id: int | None) -> int | None:
            return None if post_id is None else message_of[post_id] - shift

        return (
            ref(snapshot.id),
            ref(snapshot.question_id),
            ref(snapshot.parent_id),
            ref(snapshot.accepted_answer_id),
            (snapshot.message_id or 0) - shift,
            (snapshot.thread_id or 0) - shift,
            snapshot.author_id,
            *(
                getattr(snapshot, name)
                for name in (
                    "kind",
                    "status",
                    "state",
                    "anonymous",
                    "via_bot",
                    "display_name",
                    "title",
                    "body",
                    "category",
                    "score",
                    "upvotes",
                    "downvotes",
                    "answer_count",
                    "created_at",
                    "closed_at",
                    "deleted_at",
                    "removed_at",
                )
            ),
        )

    return (plain(result.post), plain(result.question), result.created, result.author_named)


async def test_a_planned_batch_of_answers_ends_as_the_same_answers_one_by_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    one = Forum(sessionmaker, guild_id=1, first_id=10_000)
    many = Forum(sessionmaker, guild_id=2, first_id=10_000 + SHIFT)
    singles, batch = await _scene(one), await _scene(many)
    one_by_one = await recorded_one_by_one(one, singles)
    plans: list[ThreadBatchPlan] = []
    together = await many.run(_planned(batch, plans, lambda: None))

    # On SQLite the batch took the planned writes; on PostgreSQL ``record_thread_messages``.
    assert (plans[0].answers is not None) is _sqlite(sessionmaker)
    message_of = await _message_ids(sessionmaker)
    by_one = [_outcome(r, message_of, 0) for r in one_by_one]
    # A snapshot one by one shows its question after its own answer, the batch's after all.
    assert [o[0] for o in by_one] == [_outcome(r, message_of, SHIFT)[0] for r in together]
    assert [(o[2], o[3]) for o in by_one] == [_outcome(r, message_of, SHIFT)[2:] for r in together]
    assert [r is None for r in together] == [m.author_is_bot for m in batch]
    for result in together:  # each snapshot as stored after the batch
        if result is None:
            continue
        assert result.post == await many.get(result.post.id)
        assert result.question == await many.get(result.question.id)
    assert await _state(sessionmaker, 2, SHIFT) == await _state(sessionmaker, 1, 0)
    await one.check()
    await many.check()


async def test_the_write_step_runs_as_many_statements_for_40_answers_as_for_4(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite the write step runs packed statements only: no ``executemany``, no
    ``RETURNING``, no read, and as many for 40 answers as for 4."""
    forum = Forum(sessionmaker)

    async def write(count: int, first_author: int) -> list[tuple[str, bool]]:
        asked = [await forum.ask() for _ in range(3)]
        for q in asked:
            await forum.run(
                lambda s, q=q: prefs.follow(
                    s, guild_id=forum.guild_id, question_id=q.id, user_id=FOLLOWER
                )
            )
        batch = [
            ThreadMessage(
                forum.guild_id,
                asked[i % 3].thread_id or 0,
                forum.next_id(),
                first_author + i,
                LONG,
                display_name=f"member {i}",
            )
            for i in range(count)
        ]
        plan = await forum.run(lambda s: plan_thread_messages(s, batch, NOW))
        with statements_run(forum.sessionmaker) as seen:
            results = await forum.run(lambda s: write_thread_messages(s, plan))
        assert [r.created for r in results if isinstance(r, PostChange)] == [True] * count
        return seen

    small = await write(4, 100)
    large = await write(40, 200)
    await forum.check()
    if not _sqlite(sessionmaker):
        return
    written = [sql.lstrip().split()[0].upper() for sql, _ in large]
    assert not any(many for _, many in large)
    assert not any("RETURNING" in sql.upper() for sql, _ in large)
    assert "SELECT" not in written
    assert written.count("INSERT") >= 4  # posts, members, outbox rows, names
    assert len(large) == len(small)


async def test_a_planned_batch_plans_without_the_write_lock_and_again_when_the_data_moved(
    db_url: str, engine: AsyncEngine, runner: TransactionRunner
) -> None:
    """On an SQLite file the plan runs before the writing transaction: meanwhile another
    connection takes the write lock at once and commits a block of one answer's author; the
    write plans again, and that answer is refused as it would be one by one. Elsewhere both
    steps are one transaction, and the block comes after it."""
    forum = Forum(create_sessionmaker(engine))
    question = await forum.ask()
    batch = [
        ThreadMessage(forum.guild_id, question.thread_id or 0, forum.next_id(), author, LONG)
        for author in (ANSWERER, OTHER)
    ]
    block_elsewhere = commit_elsewhere(
        db_url,
        "INSERT INTO member_blocks (guild_id, user_id, scope, reason, created_by, created_at)"
        " VALUES (?, ?, 'all', '', ?, '2000-01-01 00:00:00.000000')",
        (forum.guild_id, OTHER, ASKER),
    )
    plans: list[ThreadBatchPlan] = []
    in_thread = is_sqlite(db_url)  # an SQLite file: the write runner's thread
    results = await runner.write(_planned(batch, plans, block_elsewhere if in_thread else _none))
    created = [isinstance(r, PostChange) and r.created for r in results]
    if in_thread:
        assert len(plans) == 2 and plans[0].answers is not None
        assert created[0] and isinstance(results[1], MemberBlocked)
    else:
        assert len(plans) == 1 and created == [True, True]
    assert (await forum.get(question.id)).answer_count == (1 if in_thread else 2)
    await forum.check()


def _none() -> None:
    return None
