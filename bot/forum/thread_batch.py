"""Thread messages recorded in batches: ``posts.record_thread_message`` for many at once.

A flood of messages in question threads (thousands within seconds) costs about 25 statements
per message one by one. ``record_thread_messages`` takes a batch in arrival order and gives
each message exactly the outcome ``record_thread_message`` would have given it, called once per
message in that order in one transaction:

- The common case, a plain answer (a new message, not a reply, by a member other than the
  asker, long enough, in a live open question's thread, by a member neither blocked nor over
  the hourly answer limit), is decided from a few reads for the whole batch (stored message
  ids, the threads' questions locked in id order, the guilds' settings, blocks, answers in the
  rate window) and written set-based: one insert of the posts, one ledger settlement per guild
  (points, answer counts, statuses), one update of the questions' activity, the outbox rows
  (``notifications.notify_new_answers``), the authors' names, one read of the snapshots.
- Any other message (a repeat, a reply, the asker's, a short one, one over the limit or by a
  blocked member, in no live question's thread) first writes the answers gathered before it,
  then takes ``record_thread_message`` itself, so the order between them is kept (the answers
  counted against the limit included). A bot's message (the bot's own status lines and posts)
  takes it at once: it only moves the thread's newest seen message id, a maximum, which the
  answers' order does not change.

A message by a blocked member comes back as its ``MemberBlocked`` (nothing written for it).

The thread intake runs a batch in two steps (``plan_thread_messages``, ``write_thread_messages``:
``bot.forum.uow.Planned``). On SQLite a batch of plain answers and bots' messages (not stored:
no repeat of a post the bot made) is planned whole apart from its writes
(``bot.forum.answer_writes``), so the write lock is held for its packed writes only; any other
batch, and every batch on PostgreSQL (whose plan would take the row locks in the same
transaction anyway), is recorded by ``record_thread_messages`` in the writing step.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, cast

from sqlalchemy import BigInteger, Table, bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name, insert
from bot.db.models import Post
from bot.db.packed import fetch_packed, pack, pack_values, packed_select
from bot.forum import notifications, posts
from bot.forum.answer_writes import (
    AnswersPlan,
    PlainAnswer,
    plain_answer_insert,
    plan_answers,
    write_answers,
)
from bot.forum.blocks import MemberBlocked, blocked_among
from bot.forum.leaderboard import remember_display_names
from bot.forum.ledger import Ledger
from bot.forum.lookups import repeat_of
from bot.forum.post_rows import gone
from bot.forum.ratelimits import limit_for, posts_in_window
from bot.forum.results import PostChange, post_snapshot
from bot.forum.settings import GuildConfig, load_config

log = logging.getLogger(__name__)

#: What a message became: a post (new or repeated), nothing, or refused (a blocked member).
Recorded = PostChange | MemberBlocked | None


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A member's (or a bot's) message in a thread, as ``record_thread_message`` takes it."""

    guild_id: int
    thread_id: int
    message_id: int
    author_id: int = field(repr=False)
    body: str = field(repr=False)
    reply_to_message_id: int | None = None
    author_is_bot: bool = False
    display_name: str | None = field(default=None, repr=False)


async def record_thread_messages(
    session: AsyncSession, messages: Sequence[ThreadMessage], now: datetime | None = None
) -> list[Recorded]:
    """What each of ``messages`` became, in their order (see the module's docstring)."""
    batch = _Batch(session, now or utc_now())
    await batch.read(messages)
    results: list[Recorded] = [None] * len(messages)
    for index, message in enumerate(messages):
        if batch.plain_answer(index, message):
            continue
        if not message.author_is_bot:  # a bot's message only advances the thread's mark
            await batch.write(results)
        results[index] = await batch.one_by_one(message)
    await batch.write(results)
    return results


@dataclass(frozen=True, slots=True)
class ThreadBatchPlan:
    """A batch of thread messages as ``plan_thread_messages`` planned it."""

    messages: Sequence[ThreadMessage]
    now: datetime
    #: Its writes, planned (SQLite, a batch of plain answers and bots' messages only); None:
    #: the batch is recorded by ``record_thread_messages`` in the writing step.
    answers: AnswersPlan | None = None
    #: The place in the batch of each planned answer (a bot's message becomes nothing).
    places: Sequence[int] = ()


async def plan_thread_messages(
    session: AsyncSession, messages: Sequence[ThreadMessage], now: datetime | None = None
) -> ThreadBatchPlan:
    """The reads and decisions of ``record_thread_messages`` for a batch of plain answers and
    bots' messages not stored on SQLite (see the module's docstring); nothing is written."""
    now = now or utc_now()
    if not messages or dialect_name(session) != "sqlite":
        return ThreadBatchPlan(messages, now)
    batch = _Batch(session, now)
    await batch.read(messages)
    marks: dict[int, int] = {}  # a bot's message only advances its thread's mark
    for index, message in enumerate(messages):
        if message.author_is_bot:
            marks[message.thread_id] = max(marks.get(message.thread_id, 0), message.message_id)
        elif not batch.plain_answer(index, message):
            return ThreadBatchPlan(messages, now)
    if marks and await _stored_among(session, [m.message_id for m in messages if m.author_is_bot]):
        return ThreadBatchPlan(messages, now)  # a repeat of a bot's post: recorded in one step
    answers = [
        PlainAnswer(m.message_id, m.author_id, m.body, m.display_name, question)
        for _, m, question in batch.pending
    ]
    planned = await plan_answers(session, answers, batch.configs, marks, now)
    return ThreadBatchPlan(messages, now, planned, [index for index, _, _ in batch.pending])


async def write_thread_messages(session: AsyncSession, plan: ThreadBatchPlan) -> list[Recorded]:
    """What each message of the batch ``plan`` planned became, written."""
    if plan.answers is None:
        return await record_thread_messages(session, plan.messages, plan.now)
    results: list[Recorded] = [None] * len(plan.messages)
    for index, change in zip(plan.places, await write_answers(session, plan.answers), strict=True):
        results[index] = change
    return results


async def _stored_among(session: AsyncSession, message_ids: Sequence[int]) -> bool:
    """Whether a post is stored for any of ``message_ids``."""
    stmt = select(Post.id).where(Post.message_id.in_(message_ids)).limit(1)
    return (await session.execute(stmt)).first() is not None


def _takes_answers(question: Post | None) -> bool:
    """A live question open for answers (``record_thread_message``'s conditions)."""
    return (
        question is not None
        and not gone(question)
        and question.state == "live"
        and question.closed_at is None
    )


class _Batch:
    """The batch's reads, and the plain answers waiting to be written."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self.session = session
        self.now = now
        #: Message ids stored (before the batch, or by it).
        self.stored: set[int] = set()
        #: The question of each (thread, guild), locked.
        self.questions: dict[tuple[int, int], Post] = {}
        self.configs: dict[int, GuildConfig] = {}
        #: (guild, member) blocked from posting under their name.
        self.blocked: set[tuple[int, int]] = set()
        #: (guild, member) -> answers in the rate window, the batch's own included.
        self.answered: dict[tuple[int, int], int] = defaultdict(int)
        #: Plain answers not written yet: (index in the batch, message, question).
        self.pending: list[tuple[int, ThreadMessage, Post]] = []

    async def read(self, messages: Sequence[ThreadMessage]) -> None:
        """What deciding the plain answers needs, for the whole batch."""
        members = [m for m in messages if not m.author_is_bot and m.reply_to_message_id is None]
        if not members:
            return
        ids = [m.message_id for m in members]
        self.stored = set(
            await self.session.scalars(select(Post.message_id).where(Post.message_id.in_(ids)))
        )
        locked = await self.session.scalars(
            select(Post)
            .where(Post.thread_id.in_({m.thread_id for m in members}), Post.kind == "question")
            .order_by(Post.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        for question in locked:
            if question.thread_id is not None:
                self.questions.setdefault((question.thread_id, question.guild_id), question)
        authors: dict[int, set[int]] = defaultdict(set)
        for m in members:
            if _takes_answers(self.questions.get((m.thread_id, m.guild_id))):
                authors[m.guild_id].add(m.author_id)
        for guild_id, users in sorted(authors.items()):
            self.configs[guild_id] = await load_config(self.session, guild_id)
            blocked = await blocked_among(self.session, guild_id, users, now=self.now)
            self.blocked.update((guild_id, user_id) for user_id in blocked)
            counts = await posts_in_window(
                self.session, guild_id=guild_id, user_ids=users, kind="answer", now=self.now
            )
            self.answered.update(((guild_id, u), n) for u, n in counts.items())

    def plain_answer(self, index: int, message: ThreadMessage) -> bool:
        """Take ``message`` as a plain answer (written by the next ``write``) when it is one."""
        key = (message.guild_id, message.author_id)
        question = self.questions.get((message.thread_id, message.guild_id))
        config = self.configs.get(message.guild_id)
        if (
            message.author_is_bot
            or message.reply_to_message_id is not None
            or message.message_id in self.stored
            or question is None
            or config is None
            or not _takes_answers(question)
            or message.author_id == question.author_id
            or key in self.blocked
            or len(message.body.strip()) < config.min_answer_length
            or self.answered[key] >= limit_for(config, "answer")
        ):
            return False
        self.answered[key] += 1
        self.stored.add(message.message_id)
        self.pending.append((index, message, question))
        return True

    async def one_by_one(self, message: ThreadMessage) -> Recorded:
        """Any other message: ``record_thread_message`` itself."""
        try:
            recorded = await posts.record_thread_message(
                self.session,
                guild_id=message.guild_id,
                thread_id=message.thread_id,
                message_id=message.message_id,
                author_id=message.author_id,
                body=message.body,
                reply_to_message_id=message.reply_to_message_id,
                author_is_bot=message.author_is_bot,
                display_name=message.display_name,
                now=self.now,
            )
        except MemberBlocked as refused:
            return refused
        if recorded is not None and recorded.created and recorded.post.kind == "answer":
            self.answered[message.guild_id, message.author_id] += 1
        self.stored.add(message.message_id)
        return recorded

    async def write(self, results: list[Recorded]) -> None:
        """Write the pending plain answers set-based; their outcomes go to ``results``."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        session, now = self.session, self.now
        inserted = await _insert_answers(session, [(m, q) for _, m, q in pending], now)
        new = [(m, q, inserted[m.message_id]) for _, m, q in pending if m.message_id in inserted]
        by_guild: dict[int, list[tuple[ThreadMessage, Post, int]]] = defaultdict(list)
        seen: dict[int, int] = {}
        for m, q, post_id in new:
            by_guild[q.guild_id].append((m, q, post_id))
            seen[q.id] = max(seen.get(q.id, m.message_id), m.message_id)
        for guild_id, answers in sorted(by_guild.items()):
            ledger = Ledger(session, self.configs[guild_id], guild_id)
            for _, _, post_id in answers:
                ledger.track_new(post_id)
            await ledger.settle(now)
        if seen:
            await session.execute(
                _TOUCH, [{"question": q, "now": now, "seen": s} for q, s in sorted(seen.items())]
            )
        fresh = {
            row.id: row
            for row in await session.scalars(
                select(Post)
                .where(Post.id.in_({p for *_, p in new} | seen.keys()))
                .execution_options(populate_existing=True)
            )
        }
        for guild_id, answers in sorted(by_guild.items()):
            await notifications.notify_new_answers(
                session, [(fresh[q.id], fresh[post_id]) for _, q, post_id in answers], now
            )
            names = {m.author_id: m.display_name for m, _, _ in answers if m.display_name}
            if names:
                await remember_display_names(session, guild_id=guild_id, names=names, now=now)
            # One line for the guild's answers, not one each: a log line written with the write
            # lock held waits for the GIL once more (``bot.db.packed``).
            log.info(
                "%d answers stored in guild %s (answer:question %s)",
                len(answers),
                guild_id,
                " ".join(f"{post_id}:{q.id}" for _, q, post_id in answers),
            )
        # Each question's snapshot taken once for all its answers (a snapshot reads ~40 fields).
        questions = {q.id: post_snapshot(fresh[q.id]) for _, _, q in pending if q.id in fresh}
        for index, m, q in pending:
            made = inserted.get(m.message_id)
            results[index] = (
                await repeat_of(session, m.message_id)  # stored meanwhile by another transaction
                if made is None
                else PostChange(
                    post=post_snapshot(fresh[made]),
                    question=questions[q.id],
                    created=True,
                    author_named=m.display_name is not None,
                )
            )


async def _insert_answers(
    session: AsyncSession, answers: Sequence[tuple[ThreadMessage, Post]], now: datetime
) -> dict[int, int]:
    """Insert the answers (as ``post_rows.insert_post``); message id -> new post id, without
    the messages already stored."""
    if dialect_name(session) == "sqlite":
        return await _insert_answers_packed(session, answers, now)
    rows = [
        {
            "guild_id": question.guild_id,
            "kind": "answer",
            "question_id": question.id,
            "parent_id": question.id,
            "thread_id": question.thread_id,
            "forum_id": question.forum_id,
            "message_id": m.message_id,
            "author_id": m.author_id,
            "anonymous": False,
            "via_bot": False,
            "display_name": None,
            "body": m.body,
            "status": "open",
            "state": "live",
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
        }
        for m, question in answers
    ]
    # Run as one statement for all the rows (SQLAlchemy's "insertmanyvalues"): compiled once
    # and cached, where a multi-row ``values(rows)`` would be compiled again for every batch.
    stmt = (
        insert(session, _POSTS)
        .on_conflict_do_nothing(index_elements=[_POSTS.c.message_id])
        .returning(_POSTS.c.message_id, _POSTS.c.id)
    )
    return {
        message_id: post_id
        for message_id, post_id in await session.execute(stmt, rows)
        if message_id is not None
    }


async def _insert_answers_packed(
    session: AsyncSession, answers: Sequence[tuple[ThreadMessage, Post]], now: datetime
) -> dict[int, int]:
    """``_insert_answers`` on SQLite, in three statement steps whatever the number of answers
    (``bot.db.packed``; ``RETURNING`` is a step per row, each a wait for the GIL with the write
    lock held): the messages already stored, the insert fed one JSON value, the new ids read as
    one. The transaction holds the write lock: the rows found that were not there before are the
    insert's."""
    messages = pack_values(m.message_id for m, _ in answers)
    stored = {row[0] for row in await fetch_packed(session, _STORED, {"messages": messages})}
    rows = pack(
        (q.guild_id, q.id, q.thread_id, q.forum_id, m.message_id, m.author_id, m.body)
        for m, q in answers
        if m.message_id not in stored
    )
    await session.execute(_INSERT_ANSWERS, {"rows": rows, "now": now})
    return {
        message_id: post_id
        for message_id, post_id in await fetch_packed(session, _STORED, {"messages": messages})
        if message_id not in stored
    }


_POSTS = cast(Table, Post.__table__)
_STORED: Final = packed_select(
    ["message_id", "id"],
    "FROM posts WHERE message_id IN (SELECT value FROM json_each(:messages))",
)
_INSERT_ANSWERS: Final = plain_answer_insert(
    with_id=False, tail=" WHERE true ON CONFLICT (message_id) DO NOTHING"
)
_SEEN = bindparam("seen", type_=BigInteger)
_TOUCH = (
    update(_POSTS)
    .where(_POSTS.c.id == bindparam("question"))
    .values(
        last_activity_at=bindparam("now"),
        last_seen_message_id=case(
            (_POSTS.c.last_seen_message_id.is_(None), _SEEN),
            (_POSTS.c.last_seen_message_id < _SEEN, _SEEN),
            else_=_POSTS.c.last_seen_message_id,
        ),
    )
)
