"""DM notifications queued with their event: the outbox's writing side.

Called by the domain inside the event's transaction: ``notify_new_answer``, ``notify_accepted``,
``notify_comment`` and ``notify_removed`` (a moderator's removal, to the author) insert one
``notifications`` row per recipient with a unique ``dedupe_key`` (``INSERT ... ON CONFLICT DO
NOTHING``), so a repeated event never queues twice and an event that rolls back leaves no row.
Nobody is notified of their own action, and users with notifications off, DMs known to be
closed, or erased data get nothing.

The payload holds ids only (guild, question, post, thread, message, kind): the worker renders the
text at send time from ``posts`` (``bot.forum.dm_content``), so edits and deletes are honoured
and an anonymous author's identity is never copied anywhere.

Coalescing is decided when a row is queued: the first notification for a (recipient, question,
kind) is due at once; one queued within the guild's ``notify_coalesce_seconds`` after the previous
one is due when that window ends, and every row queued for the same slot shares its due time, so
the worker sends them together as one follow-up DM (``outbox.claim_due`` claims a group's due rows
together, ``outbox.group_claimed`` gathers them into one DM).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, Protocol, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name, insert
from bot.db.models import Notification, Post
from bot.db.packed import fields, pack, packed_time
from bot.forum import prefs
from bot.forum.post_rows import gone
from bot.forum.settings import GuildConfig, load_config
from bot.forum.synthetic_ids import is_synthetic

NotificationKind = Literal["new_answer", "accepted", "comment", "removed"]


class PostRef(Protocol):
    """What a DM's row names of a post (an ORM row, or a ``PostSnapshot`` of a post planned)."""

    @property
    def id(self) -> int: ...
    @property
    def guild_id(self) -> int: ...
    @property
    def thread_id(self) -> int | None: ...
    @property
    def message_id(self) -> int | None: ...
    @property
    def author_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Planned:
    recipient_id: int
    dedupe_key: str


async def notify_new_answer(
    session: AsyncSession, *, question: Post, answer: Post, now: datetime | None = None
) -> int:
    """Queue "your question got an answer" for the asker and the question's followers.

    The answer's author is never notified (also when they asked or follow). Returns rows queued.
    """
    if _gone(question) or _gone(answer):
        return 0
    recipients = await prefs.followers(session, question.id)
    planned = [
        _answer_plan(answer, user_id) for user_id in recipients if user_id != answer.author_id
    ]
    return await _queue(
        session, "new_answer", question=question, post=answer, planned=planned, now=now
    )


async def notify_new_answers(
    session: AsyncSession, answers: Sequence[tuple[Post, Post]], now: datetime
) -> int:
    """``notify_new_answer`` for many (question, answer) pairs of one guild, in their order,
    with a handful of statements: the rows and due times are those the calls one by one
    would queue. Returns rows queued."""
    answers = [(q, a) for q, a in answers if not _gone(q) and not _gone(a)]
    return await _insert_new(session, await plan_new_answers(session, answers, now))


async def plan_new_answers(
    session: AsyncSession,
    answers: Sequence[tuple[PostRef, PostRef]],
    now: datetime,
    config: GuildConfig | None = None,
) -> list[dict[str, object]]:
    """The rows ``notify_new_answers`` queues for (question, answer) pairs of one guild, both
    neither deleted nor removed: its reads and decisions, nothing written (``queue_rows``
    writes them). ``config``: the guild's settings when the caller has them read already."""
    if not answers:
        return []
    followed = await prefs.followers_of(session, {q.id: q.author_id for q, _ in answers})
    planned = [
        (q, a, [u for u in followed[q.id] if u != a.author_id and not is_synthetic(u)])
        for q, a in answers
    ]
    recipients = {u for _, _, users in planned for u in users}
    unreachable = await prefs.unreachable_among(session, recipients)
    recipients -= unreachable
    if not recipients:
        return []
    if config is None:
        config = await load_config(session, answers[0][0].guild_id)
    window = timedelta(seconds=config.notify_coalesce_seconds)
    last = await _last_due(session, "new_answer", {q.id for q, _ in answers}, recipients)
    rows = []
    for question, answer, users in planned:
        payload = _payload("new_answer", question=question, post=answer)
        for user_id in users:
            if user_id in unreachable:
                continue
            due = last[question.id, user_id] = next_due(
                last.get((question.id, user_id)), now, window
            )
            rows.append(
                _row(
                    "new_answer",
                    question=question,
                    post=answer,
                    payload=payload,
                    planned=_answer_plan(answer, user_id),
                    due=due,
                    now=now,
                )
            )
    return rows


async def queue_rows(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    """Insert rows planned by ``plan_new_answers`` whose dedupe key is new; on SQLite as one
    statement step fed one JSON value, without ``RETURNING`` (``bot.db.packed``)."""
    if not rows:
        return
    if dialect_name(session) != "sqlite":
        await _insert_new(session, rows)
        return
    time = packed_time(session, _OUTBOX.c.next_attempt_at.type)
    packed = pack(
        (
            *(row[name] for name in _PACKED_COLUMNS),
            time(cast(datetime, row["next_attempt_at"])),
            time(cast(datetime, row["created_at"])),
        )
        for row in rows
    )
    await session.execute(_INSERT_PACKED, {"rows": packed})


_OUTBOX = cast(Table, Notification.__table__)
#: The columns of a planned row packed as they are (integers and text), then its two times.
_PACKED_COLUMNS: Final = (
    "guild_id",
    "recipient_id",
    "kind",
    "question_id",
    "post_id",
    "payload",
    "dedupe_key",
    "status",
    "attempts",
)
_INSERT_PACKED: Final = text(
    f"INSERT INTO notifications ({', '.join(_PACKED_COLUMNS)}, next_attempt_at, created_at)"
    f" SELECT {fields(len(_PACKED_COLUMNS) + 2)} FROM json_each(:rows) WHERE true"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)


async def _last_due(
    session: AsyncSession, kind: NotificationKind, question_ids: set[int], recipients: set[int]
) -> dict[tuple[int, int], datetime]:
    """The latest due time of each (question, recipient)'s rows of ``kind`` that reached (or
    may yet reach) the recipient, as ``_due_times`` reads it for one question."""
    stmt = (
        select(
            Notification.question_id,
            Notification.recipient_id,
            func.max(Notification.next_attempt_at),
        )
        .where(
            Notification.question_id.in_(question_ids),
            Notification.kind == kind,
            Notification.recipient_id.in_(recipients),
            Notification.status.in_(("pending", "sending", "sent")),
        )
        .group_by(Notification.question_id, Notification.recipient_id)
    )
    return {
        (question_id, recipient_id): last
        for question_id, recipient_id, last in await session.execute(stmt)
        if question_id is not None and last is not None
    }


async def notify_accepted(
    session: AsyncSession,
    *,
    question: Post,
    answer: Post,
    actor_id: int,
    now: datetime | None = None,
) -> int:
    """Queue "your answer was accepted" for the answer's author, unless they accepted it.

    Accepting the same answer again (after moving the acceptance away and back) queues nothing.
    """
    if _gone(question) or _gone(answer) or answer.author_id == actor_id:
        return 0
    return await _queue_one(
        session, "accepted", question=question, post=answer, recipient=answer.author_id, now=now
    )


async def notify_comment(
    session: AsyncSession,
    *,
    question: Post,
    comment: Post,
    parent: Post,
    now: datetime | None = None,
) -> int:
    """Queue "someone commented on your answer" for the answer's author.

    Only comments on answers notify (issue 3); a comment by the answer's author notifies nobody.
    """
    if parent.kind != "answer" or _gone(question) or _gone(comment) or _gone(parent):
        return 0
    if comment.author_id == parent.author_id:
        return 0
    return await _queue_one(
        session, "comment", question=question, post=comment, recipient=parent.author_id, now=now
    )


async def notify_removed(
    session: AsyncSession, *, post: Post, question: Post, now: datetime | None = None
) -> int:
    """Queue "a moderator removed your post" for its author (the reason is read at send time,
    and a post restored before the DM goes out cancels it). Each removal is its own DM."""
    if post.removed_at is None:
        return 0
    return await _queue_one(
        session,
        "removed",
        question=question,
        post=post,
        recipient=post.author_id,
        now=now,
        key=f"removed:{post.id}:{int(post.removed_at.timestamp())}:{post.author_id}",
    )


def _gone(post: Post) -> bool:
    return gone(post)


def _payload(kind: NotificationKind, *, question: PostRef, post: PostRef) -> str:
    """Ids to render the DM later; never message text, never an author's identity."""
    return json.dumps(
        {
            "kind": kind,
            "guild_id": question.guild_id,
            "question_id": question.id,
            "post_id": post.id,
            "thread_id": post.thread_id if post.thread_id is not None else question.thread_id,
            "message_id": post.message_id,
        },
        sort_keys=True,
    )


async def _queue_one(
    session: AsyncSession,
    kind: NotificationKind,
    *,
    question: Post,
    post: Post,
    recipient: int,
    now: datetime | None,
    key: str | None = None,
) -> int:
    """Queue one DM of ``kind`` about ``post`` for ``recipient``; its key (one DM per key) is
    ``<kind>:<post id>:<recipient>`` unless given."""
    planned = [_Planned(recipient, key or f"{kind}:{post.id}:{recipient}")]
    return await _queue(session, kind, question=question, post=post, planned=planned, now=now)


async def _queue(
    session: AsyncSession,
    kind: NotificationKind,
    *,
    question: Post,
    post: Post,
    planned: Sequence[_Planned],
    now: datetime | None,
) -> int:
    if not planned:
        return 0
    now = now or utc_now()
    planned = [p for p in planned if not is_synthetic(p.recipient_id)]  # imported, no account
    unreachable = await prefs.unreachable_among(session, (p.recipient_id for p in planned))
    planned = [p for p in planned if p.recipient_id not in unreachable]
    if not planned:
        return 0
    config = await load_config(session, question.guild_id)
    window = timedelta(seconds=config.notify_coalesce_seconds)
    due = await _due_times(
        session,
        kind=kind,
        question_id=question.id,
        recipients=[p.recipient_id for p in planned],
        now=now,
        window=window,
    )
    payload = _payload(kind, question=question, post=post)
    rows = [
        _row(
            kind,
            question=question,
            post=post,
            payload=payload,
            planned=p,
            due=due[p.recipient_id],
            now=now,
        )
        for p in planned
    ]
    return await _insert_new(session, rows)


def _answer_plan(answer: PostRef, user_id: int) -> _Planned:
    """A new answer's DM to one member: one per answer and member."""
    return _Planned(user_id, f"answer:{answer.id}:{user_id}")


def _row(
    kind: NotificationKind,
    *,
    question: PostRef,
    post: PostRef,
    payload: str,
    planned: _Planned,
    due: datetime,
    now: datetime,
) -> dict[str, object]:
    """One pending ``notifications`` row about ``post``, due at ``due``."""
    return {
        "guild_id": question.guild_id,
        "recipient_id": planned.recipient_id,
        "kind": kind,
        "question_id": question.id,
        "post_id": post.id,
        "payload": payload,
        "dedupe_key": planned.dedupe_key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }


async def _insert_new(session: AsyncSession, rows: Sequence[dict[str, object]]) -> int:
    """Insert the rows whose dedupe key is new (a repeated event queues nothing); how many
    were."""
    if not rows:
        return 0
    table = Notification.__table__
    stmt = (  # one statement for all the rows, compiled once (see ``thread_batch``)
        insert(session, table)
        .on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
        .returning(table.c.id)
    )
    return len((await session.execute(stmt, list(rows))).all())


async def _due_times(
    session: AsyncSession,
    *,
    kind: NotificationKind,
    question_id: int,
    recipients: Sequence[int],
    now: datetime,
    window: timedelta,
) -> dict[int, datetime]:
    """When each recipient's new row is due, so bursts coalesce (see the module docstring).

    ``last`` is the latest due time of the recipient's earlier rows for this question and kind:
    a slot still in the future is joined; one within ``window`` in the past opens the next slot
    at ``last + window``; otherwise the row is due now.
    """
    due = dict.fromkeys(recipients, now)
    if window <= timedelta(0):
        return due
    stmt = (
        select(Notification.recipient_id, func.max(Notification.next_attempt_at))
        .where(
            Notification.question_id == question_id,
            Notification.kind == kind,
            Notification.recipient_id.in_(recipients),
            # Rows that reached (or may yet reach) the recipient; failed ones delivered nothing.
            Notification.status.in_(("pending", "sending", "sent")),
        )
        .group_by(Notification.recipient_id)
    )
    for recipient_id, last in await session.execute(stmt):
        due[recipient_id] = next_due(last, now, window)
    return due


def next_due(last: datetime | None, now: datetime, window: timedelta) -> datetime:
    """When a row queued ``now`` is due, after an earlier row of its slot due at ``last``."""
    if last is None or window <= timedelta(0):
        return now
    if last > now:
        return last
    return last + window if last + window > now else now
