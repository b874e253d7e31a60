"""Reconciliation's stored side: what a run reads and writes (``bot.workers.reconciler`` does the
Discord side and hands each missed message to the live path).

- ``window_questions``: the live questions of a server active within the window
  (``ix_posts_guild_kind_activity``), with each thread's high-water mark
  (``posts.last_seen_message_id``: the newest thread message processed).
- ``advance_high_water``/``advance_thread_mark``: a thread's mark moves forward only (the live
  path moves it too, for the bot's own messages as well).
- ``mark_repage``/``repages_due``/``repaged``: questions whose earlier messages await a re-page
  for edits and deletes; a run out of budget leaves them for the next run.
- ``stored_messages``: the answers and comments stored for a question, to compare with Discord.
- ``orphan_pending``: pending rows older than this process (none of them is in flight): a run
  completes them from the message Discord holds or discards them (``bot.forum.pending_posts``).
- ``known_threads``: which of a forum's threads are stored questions (the others are adopted).
- ``save_run``/``last_run``: each server's last run, counts only, for ``/qa status``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.clock import utc_now
from bot.db.models import Post, ReconcileRepage, ReconcileRun


@dataclass(frozen=True, slots=True)
class WindowThread:
    """A question's thread to reconcile: its starter and high-water mark."""

    question_id: int
    thread_id: int
    starter_id: int
    high_water: int


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """An answer or comment as stored: its message, body and whether the bot posted it."""

    message_id: int
    body: str
    via_bot: bool


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A pending post left by an earlier process; ``thread_id`` is None for a question."""

    post_id: int
    kind: str
    thread_id: int | None


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One server's reconciliation run, counts only (the summary line and ``/qa status``)."""

    questions_scanned: int = 0
    messages_backfilled: int = 0
    votes_backfilled: int = 0
    requests_used: int = 0
    seconds: float = 0.0
    complete: bool = True
    finished_at: datetime | None = None


#: A run is stored as it is: each of its fields is a column of ``reconcile_runs``.
_STORED = tuple(f.name for f in fields(RunSummary))


async def window_questions(
    session: AsyncSession, guild_id: int, *, window_days: int, now: datetime | None = None
) -> list[WindowThread]:
    """The server's live questions with a thread, active within the last ``window_days``."""
    since = (now or utc_now()) - timedelta(days=window_days)
    rows = await session.execute(
        select(Post.id, Post.thread_id, Post.message_id, Post.last_seen_message_id)
        .where(
            Post.guild_id == guild_id,
            Post.kind == "question",
            Post.last_activity_at >= since,
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.thread_id.is_not(None),
        )
        .order_by(Post.last_activity_at.desc())
    )
    found = []
    for qid, thread_id, starter, seen in rows:
        assert thread_id is not None  # selected so
        found.append(
            WindowThread(qid, thread_id, starter or thread_id, seen or starter or thread_id)
        )
    return found


async def advance_high_water(session: AsyncSession, question_id: int, message_id: int) -> None:
    """The thread's messages up to ``message_id`` are processed (the mark never moves back)."""
    await _advance(session, Post.id == question_id, message_id)


async def advance_thread_mark(session: AsyncSession, thread_id: int, message_id: int) -> None:
    """As ``advance_high_water``, for the question of a thread (none: nothing changes)."""
    await _advance(session, (Post.thread_id == thread_id) & (Post.kind == "question"), message_id)


async def _advance(session: AsyncSession, which: ColumnElement[bool], message_id: int) -> None:
    await session.execute(
        update(Post)
        .where(
            which,
            (Post.last_seen_message_id.is_(None)) | (Post.last_seen_message_id < message_id),
        )
        .values(last_seen_message_id=message_id)
        .execution_options(synchronize_session=False)
    )


async def mark_repage(session: AsyncSession, question_id: int, through_message_id: int) -> None:
    """The question's messages up to ``through_message_id`` are to be re-paged (once)."""
    row = await session.get(ReconcileRepage, question_id)
    if row is None:
        session.add(ReconcileRepage(question_id=question_id, through_message_id=through_message_id))
    elif row.through_message_id < through_message_id:
        row.through_message_id = through_message_id


async def repages_due(session: AsyncSession, guild_id: int) -> dict[int, int]:
    """The server's questions awaiting a re-page: question id -> the message id it goes up to.
    Rows of questions no longer live (deleted, purged) are dropped."""
    question = aliased(Post)
    rows = (
        await session.execute(
            select(ReconcileRepage.question_id, ReconcileRepage.through_message_id, question.id)
            .outerjoin(question, question.id == ReconcileRepage.question_id)
            .where((question.guild_id == guild_id) | question.id.is_(None))
        )
    ).all()
    gone = [qid for qid, _, found in rows if found is None]
    if gone:
        await repaged(session, gone)
    return {qid: through for qid, through, found in rows if found is not None}


async def repaged(session: AsyncSession, question_ids: Collection[int]) -> None:
    await session.execute(
        delete(ReconcileRepage)
        .where(ReconcileRepage.question_id.in_(list(question_ids)))
        .execution_options(synchronize_session=False)
    )


async def stored_messages(session: AsyncSession, question_id: int) -> list[StoredMessage]:
    """The question's live answers and comments that have a message, oldest first."""
    rows = await session.execute(
        select(Post.message_id, Post.body, Post.via_bot)
        .where(
            Post.question_id == question_id,
            Post.state == "live",
            Post.deleted_at.is_(None),
            Post.message_id.is_not(None),
        )
        .order_by(Post.message_id)
    )
    return [StoredMessage(mid, body, via_bot) for mid, body, via_bot in rows if mid is not None]


async def orphan_pending(
    session: AsyncSession, guild_id: int, *, before: datetime
) -> list[PendingRow]:
    """The server's pending rows stored before ``before`` (this process's start): each with the
    thread its message would be in (its question's; None for a question)."""
    question = aliased(Post)
    rows = await session.execute(
        select(Post.id, Post.kind, question.thread_id)
        .outerjoin(question, question.id == Post.question_id)
        .where(Post.guild_id == guild_id, Post.state == "pending", Post.created_at < before)
        .order_by(Post.id)
    )
    return [PendingRow(pid, kind, thread_id) for pid, kind, thread_id in rows]


async def known_threads(session: AsyncSession, thread_ids: Collection[int]) -> set[int]:
    """Which of these threads are stored questions' (pending or live, deleted included)."""
    if not thread_ids:
        return set()
    rows = await session.execute(
        select(Post.thread_id).where(Post.kind == "question", Post.thread_id.in_(list(thread_ids)))
    )
    return {t for (t,) in rows if t is not None}


async def save_run(session: AsyncSession, guild_id: int, run: RunSummary) -> None:
    """Store the server's last run (replacing the one before)."""
    stored = replace(run, finished_at=run.finished_at or utc_now())
    await session.merge(ReconcileRun(guild_id=guild_id, **asdict(stored)))


async def last_run(session: AsyncSession, guild_id: int) -> RunSummary | None:
    """The server's last reconciliation run, None before the first."""
    row = await session.get(ReconcileRun, guild_id)
    if row is None:
        return None
    return RunSummary(**{name: getattr(row, name) for name in _STORED})
