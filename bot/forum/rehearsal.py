"""A rehearsal of the batch writers' work, run once at start-up and rolled back.

SQLAlchemy compiles a statement the first time an engine runs it, and keeps the compiled form
in that engine's cache. On SQLite the vote writer's and the thread intake's batches run on the
write runner's own engine (``bot.db.writes``), so their first batches compiled every statement
while they held the write lock: as a reaction burst began, with the main thread parsing gateway
frames and holding the GIL, the first vote batch held the lock for 450 ms and more.

``rehearse_batches`` runs the same domain code on made-up rows: a question adopted, answers
recorded by the intake's batch (in one step, and planned apart from its writes), votes set on
them, then taken back and cleared (so the batch's delete and every ledger statement run), then
the DM outbox's claim and recorded sends of the notifications the answers made, and the planned
batches' check of the snapshot. The caller rolls the transaction back
(``TransactionRunner.rehearse``): nothing is written, nothing is dispatched, and afterwards
every statement of a batch is compiled before the first real one takes the lock.

On SQLite the rehearsal runs on an empty, in-memory copy of the schema (``bot.db.writes``), so
the made-up ids meet no stored row.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name
from bot.forum import delivery, outbox, questions, votes
from bot.forum.settings import load_config
from bot.forum.thread_batch import (
    ThreadMessage,
    plan_thread_messages,
    record_thread_messages,
    write_thread_messages,
)
from bot.forum.uow import data_version

#: The made-up guild, forum, thread and members.
REHEARSAL_GUILD: Final = 1
_FORUM: Final = 2
_THREAD: Final = 3
_ASKER, _ANSWERER, _OTHER, _VOTER, _SECOND_VOTER = 11, 12, 13, 14, 15
#: The first of the members answering in the planned batches, and a bot.
_PLANNED: Final = 16
_BOT: Final = 20
_BODY: Final = "A rehearsed answer, long enough to count as one, never written."
#: The made-up DM worker, and how far ahead it claims (every rehearsed notification is due).
_WORKER: Final = "rehearsal"
_AHEAD: Final = timedelta(days=1)


async def rehearse_batches(session: AsyncSession) -> None:
    """Run answer batches and vote batches on made-up rows (the caller rolls them back).

    Each kind of batch runs with one row and with several: SQLAlchemy compiles a statement run
    with one set of parameters apart from the same statement run with many."""
    now = utc_now()
    await questions.create_question(
        session,
        guild_id=REHEARSAL_GUILD,
        author_id=_ASKER,
        asked=questions.AskedQuestion("A rehearsed question"),
        via_bot=False,
        thread_id=_THREAD,
        message_id=_THREAD,
        forum_id=_FORUM,
        now=now,
        check_limit=False,
    )
    one, two, three = (
        ThreadMessage(REHEARSAL_GUILD, _THREAD, _THREAD + n, author, _BODY, display_name="a")
        for n, author in ((1, _ANSWERER), (2, _OTHER), (3, _ANSWERER))
    )
    await record_thread_messages(session, [one], now)
    await record_thread_messages(session, [two, three], now)
    # The intake's batches of plain answers planned apart from their writes (on SQLite its
    # packed writes, ``bot.forum.answer_writes``), by members who have not answered yet, and a
    # bot's message (its thread's mark).
    for planned in ([(4, _PLANNED)], [(5, _PLANNED + 1), (6, _PLANNED + 2), (7, _BOT)]):
        answers = [
            ThreadMessage(
                REHEARSAL_GUILD,
                _THREAD,
                _THREAD + n,
                author,
                _BODY,
                author_is_bot=author == _BOT,
                display_name="a",
            )
            for n, author in planned
        ]
        await write_thread_messages(session, await plan_thread_messages(session, answers, now))
    config = await load_config(session, REHEARSAL_GUILD)
    up, down = votes.Emoji(config.vote_up_emoji), votes.Emoji(config.vote_down_emoji)

    def vote(answer: ThreadMessage, user_id: int, emoji: votes.Emoji, on: bool) -> votes.Gesture:
        return votes.Reaction(
            REHEARSAL_GUILD, _THREAD, answer.message_id, user_id, emoji, on, False, "v"
        )

    for batch in (
        # several votes on several posts, a self-vote among them
        [
            vote(one, _VOTER, up, True),
            vote(one, _SECOND_VOTER, down, True),
            vote(two, _VOTER, up, True),
            vote(one, _ANSWERER, up, True),
        ],
        [vote(three, _VOTER, up, True)],  # one vote on one post
        [vote(three, _VOTER, up, False)],  # one vote taken back
        # several taken back, and an emoji cleared
        [
            vote(one, _VOTER, up, False),
            vote(one, _SECOND_VOTER, down, False),
            votes.Clear(REHEARSAL_GUILD, _THREAD, two.message_id, None),
        ],
    ):
        await votes.apply_gestures(session, batch, now=now)
    # the DM worker's claim (its group mates too) and recorded sends
    claimed = await outbox.claim_due(
        session, worker_id=_WORKER, now=now + _AHEAD, lease=_AHEAD, limit=10
    )
    await delivery.mark_many_sent(
        session, {item.id: None for item in claimed}, worker_id=_WORKER, now=now + _AHEAD
    )
    await outbox.next_due_at(session)
    await outbox.next_due_at(session, failing_at=now)  # as the planned claim reads it
    if dialect_name(session) == "sqlite":  # the planned batches' check (``uow.run_planned``)
        await data_version(session)
