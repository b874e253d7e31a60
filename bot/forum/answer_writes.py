"""A batch of plain answers planned apart from its writes, on SQLite.

The thread intake's batch (``bot.forum.thread_batch``) of plain answers only is an operation in
two steps (``bot.forum.uow.Planned``), as the vote batch is. ``plan_answers`` reads and decides
everything, writing nothing: the new posts' ids (SQLite gives a new row the largest id plus one,
and the writing transaction runs on the snapshot the plan read, ``uow.run_planned``), what each
answer contributes (``point_rules.contribution``: the ledger's rule for a post inserted in the
transaction), the questions' answer counts, statuses and marks, the members' totals, the DM
outbox rows (``notifications.plan_new_answers``), the authors' names, and the outcomes with
their snapshots. ``write_answers`` then runs only packed statements (``bot.db.packed``: one
statement step each, fed one JSON value, without ``RETURNING``), back to back: the posts, their
counters, the questions, the members, the outbox rows and the names, so the write lock is held
for a number of steps that does not grow with the batch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, cast

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Post
from bot.db.packed import field as json_field
from bot.db.packed import pack
from bot.forum import notifications, prefs
from bot.forum.leaderboard import remember_display_names
from bot.forum.ledger import (
    CounterMove,
    add_member_moves,
    add_to_post_counters,
    counter_move,
    row_facts,
    upsert_member_deltas,
)
from bot.forum.point_rules import NOTHING, PostFacts, Totals, contribution, question_status
from bot.forum.results import PostChange, PostSnapshot, post_snapshot
from bot.forum.settings import GuildConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlainAnswer:
    """A message taken as a plain answer (``thread_batch``), and its question as read."""

    message_id: int
    author_id: int
    body: str
    display_name: str | None
    question: Post


@dataclass(frozen=True, slots=True)
class AnswersPlan:
    """What a batch of plain answers writes (``plan_answers``), and what it returns."""

    #: The posts' rows: (id, guild, question, thread, forum, message, author, body), packed.
    posts: str
    counters: Mapping[int, CounterMove]
    #: The questions' rows: (id, answers added, status or None, newest message seen), packed.
    questions: str
    members: Mapping[tuple[int, int], Totals]
    #: Per guild, the names its answers' authors were seen with, and who erased their data.
    names: Mapping[int, Mapping[int, str]]
    erased: frozenset[int]
    outbox: Sequence[dict[str, object]]
    #: One per answer, in order.
    changes: Sequence[PostChange]
    #: The threads' marks: (thread, newest message seen), packed.
    marks: str
    #: Per guild, (answer id, question id) of its answers, for the log line.
    logged: Mapping[int, Sequence[tuple[int, int]]]
    now: datetime


async def plan_answers(
    session: AsyncSession,
    answers: Sequence[PlainAnswer],
    configs: Mapping[int, GuildConfig],
    marks: Mapping[int, int],
    now: datetime,
) -> AnswersPlan:
    """Read and decide what ``answers`` (plain answers none of which is stored; ``configs`` by
    guild) write, and the newest message seen in threads (``marks``: thread -> a bot's message
    that is no post, ``reconcile.advance_thread_mark``); nothing is written."""
    first = int((await session.execute(_NEXT_ID)).scalar_one())
    made = [(first + n, answer) for n, answer in enumerate(answers)]
    counters: dict[int, CounterMove] = {}
    moves: defaultdict[int, defaultdict[int, Totals]] = defaultdict(lambda: defaultdict(Totals))
    added: defaultdict[int, int] = defaultdict(int)
    seen: dict[int, int] = {}
    for post_id, answer in made:
        question = answer.question
        after = contribution(
            configs[question.guild_id], _facts(post_id, answer), row_facts(question), ()
        )
        counters[post_id] = counter_move(NOTHING, after)
        add_member_moves(moves[question.guild_id], NOTHING, after)
        added[question.id] += after.answer
        seen[question.id] = max(seen.get(question.id, answer.message_id), answer.message_id)
    asked = {a.question.id: a.question for a in answers}
    questions = {question_id: post_snapshot(q) for question_id, q in asked.items()}
    for question_id, count in added.items():
        before = questions[question_id]
        if count:
            status = question_status(
                closed=before.closed,
                accepted=before.solved,
                answer_count=before.answer_count + count,
            )
            questions[question_id] = replace(
                before, answer_count=before.answer_count + count, status=status
            )
    posts = {
        post_id: _snapshot(post_id, answer, counters[post_id], now) for post_id, answer in made
    }
    by_guild: defaultdict[int, list[tuple[PostSnapshot, PostSnapshot]]] = defaultdict(list)
    names: defaultdict[int, dict[int, str]] = defaultdict(dict)
    for post_id, answer in made:
        guild_id = answer.question.guild_id
        by_guild[guild_id].append((questions[answer.question.id], posts[post_id]))
        if answer.display_name:
            names[guild_id][answer.author_id] = answer.display_name
    outbox = [
        row
        for guild_id, pairs in sorted(by_guild.items())
        for row in await notifications.plan_new_answers(session, pairs, now, configs[guild_id])
    ]
    named = {user_id for seen_names in names.values() for user_id in seen_names}
    return AnswersPlan(
        posts=pack(
            (post_id, q.guild_id, q.id, q.thread_id, q.forum_id, a.message_id, a.author_id, a.body)
            for post_id, a in made
            for q in [a.question]
        ),
        counters=counters,
        questions=pack(
            (
                question_id,
                added.get(question_id, 0),
                questions[question_id].status if added.get(question_id) else None,
                newest,
            )
            for question_id, newest in sorted(seen.items())
        ),
        members={
            (guild_id, user_id): delta
            for guild_id, guild_moves in sorted(moves.items())
            for user_id, delta in guild_moves.items()
            if delta
        },
        names=names,
        erased=frozenset(await prefs.erased_among(session, named)),
        outbox=outbox,
        changes=[
            PostChange(
                post=posts[post_id],
                question=questions[answer.question.id],
                created=True,
                author_named=answer.display_name is not None,
            )
            for post_id, answer in made
        ],
        marks=pack(sorted(marks.items())),
        logged={
            guild_id: [(answer.id, question.id) for question, answer in pairs]
            for guild_id, pairs in by_guild.items()
        },
        now=now,
    )


async def write_answers(session: AsyncSession, plan: AnswersPlan) -> list[PostChange]:
    """Write what ``plan_answers`` decided, back to back (no reading or deciding between the
    statements); the answers' outcomes, in order."""
    now = plan.now
    if plan.changes:
        await session.execute(_INSERT_ANSWERS, {"rows": plan.posts, "now": now})
        await add_to_post_counters(session, plan.counters, now)
        await session.execute(_UPDATE_QUESTIONS, {"rows": plan.questions, "now": now})
    await upsert_member_deltas(session, plan.members, now)
    await notifications.queue_rows(session, plan.outbox)
    if plan.marks != "[]":
        await session.execute(_ADVANCE_MARKS, {"rows": plan.marks})
    for guild_id, names in sorted(plan.names.items()):
        await remember_display_names(
            session, guild_id=guild_id, names=names, now=now, erased=plan.erased
        )
    for guild_id, logged in sorted(plan.logged.items()):
        # One line for the guild's answers, not one each: a log line written with the write
        # lock held waits for the GIL once more (``bot.db.packed``).
        log.info(
            "%d answers stored in guild %s (answer:question %s)",
            len(logged),
            guild_id,
            " ".join(f"{answer}:{question}" for answer, question in logged),
        )
    return list(plan.changes)


def _facts(post_id: int, answer: PlainAnswer) -> PostFacts:
    """The facts of the answer as ``_INSERT_ANSWERS`` stores it (live, named)."""
    return PostFacts(
        id=post_id,
        kind="answer",
        author_id=answer.author_id,
        anonymous=False,
        live=True,
        question_id=answer.question.id,
    )


def _snapshot(post_id: int, answer: PlainAnswer, moved: CounterMove, now: datetime) -> PostSnapshot:
    """The answer as ``_INSERT_ANSWERS`` and its counters' move store it (every other column
    at its default)."""
    question = answer.question
    return PostSnapshot(
        id=post_id,
        guild_id=question.guild_id,
        kind="answer",
        question_id=question.id,
        parent_id=question.id,
        thread_id=question.thread_id,
        message_id=answer.message_id,
        status_message_id=None,
        author_id=answer.author_id,
        anonymous=False,
        via_bot=False,
        display_name=None,
        title=None,
        body=answer.body,
        category=None,
        status="open",
        state="live",
        closed_reason=None,
        closed_by_moderator=False,
        duplicate_of_id=None,
        accepted_answer_id=None,
        score=moved[0],
        upvotes=moved[1],
        downvotes=moved[2],
        answer_count=0,
        created_at=now,
        closed_at=None,
        deleted_at=None,
    )


_POSTS = cast(Table, Post.__table__)
#: The id SQLite gives the next row of ``posts`` (an ``INTEGER PRIMARY KEY``: the largest plus one).
_NEXT_ID: Final = text("SELECT coalesce(max(id), 0) + 1 FROM posts")


def plain_answer_insert(*, with_id: bool, tail: str = "") -> TextClause:
    """The insert of plain answers (live, open, named) fed one JSON value ``:rows`` of packed
    rows (id when ``with_id``, guild, question, thread, forum, message, author, body), at
    ``:now``; ``tail`` ends the statement (a conflict clause). The planned batch gives the ids it
    planned; ``thread_batch``'s one-step insert lets SQLite give them."""
    first = 1 if with_id else 0
    guild, question, thread, forum, message, author, body = (
        json_field(first + i) for i in range(7)
    )
    columns = [("id", json_field(0))] if with_id else []
    columns += [
        ("guild_id", guild),
        ("kind", "'answer'"),
        ("question_id", question),
        ("parent_id", question),
        ("thread_id", thread),
        ("forum_id", forum),
        ("message_id", message),
        ("author_id", author),
        ("anonymous", "0"),
        ("via_bot", "0"),
        ("display_name", "NULL"),
        ("body", body),
        ("status", "'open'"),
        ("state", "'live'"),
        ("created_at", ":now"),
        ("updated_at", ":now"),
        ("last_activity_at", ":now"),
    ]
    return text(
        f"INSERT INTO posts ({', '.join(column for column, _ in columns)})"
        f" SELECT {', '.join(value for _, value in columns)} FROM json_each(:rows){tail}"
    ).bindparams(bindparam("now", type_=_POSTS.c.created_at.type))


_INSERT_ANSWERS: Final = plain_answer_insert(with_id=True)
# Each question's answers added, status re-derived (``Ledger.settle``: only where answers were
# added, ``updated_at`` only where it changed), activity and newest message seen (``_TOUCH``).
_UPDATE_QUESTIONS: Final = text(
    "UPDATE posts SET answer_count = posts.answer_count + j.added,"
    " status = coalesce(j.derived, posts.status),"
    " updated_at = CASE WHEN coalesce(j.derived, posts.status) != posts.status"
    " THEN :now ELSE posts.updated_at END,"
    " last_activity_at = :now,"
    " last_seen_message_id = CASE WHEN posts.last_seen_message_id IS NULL"
    " OR posts.last_seen_message_id < j.seen THEN j.seen ELSE posts.last_seen_message_id END"
    " FROM (SELECT "
    + ", ".join(
        f"{json_field(n)} AS {name}"
        for n, name in enumerate(("question", "added", "derived", "seen"))
    )
    + " FROM json_each(:rows)) AS j"
    " WHERE posts.id = j.question"
).bindparams(bindparam("now", type_=_POSTS.c.updated_at.type))
# A thread's question's newest message seen, raised to a bot's message (``reconcile._advance``).
_ADVANCE_MARKS: Final = text(
    "UPDATE posts SET last_seen_message_id = j.seen"
    " FROM (SELECT "
    + ", ".join(f"{json_field(n)} AS {name}" for n, name in enumerate(("thread", "seen")))
    + " FROM json_each(:rows)) AS j"
    " WHERE posts.thread_id = j.thread AND posts.kind = 'question'"
    " AND (posts.last_seen_message_id IS NULL OR posts.last_seen_message_id < j.seen)"
)
