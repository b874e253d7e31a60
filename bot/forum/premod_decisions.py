"""Pre-moderation decisions: a moderator approves or rejects a held post, once.

``claim_approval`` and ``reject`` are single conditional UPDATEs, so a second click finds the
held post ``AlreadyDecided``. An approval is claimed first, then published by the adapter, then
``approved`` (the post it became) or ``unpublished`` (the domain refused it meanwhile: the
question was closed or deleted) or, when publishing failed for another reason, ``release``\\d
for another try. Each decision is in the audit trail (naming the held post, never its author)
and queues the author's DM (kinds ``held_approved``, ``held_rejected``, ``held_unpublished``)
in the same transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import HeldPost, Notification
from bot.forum import audit, prefs
from bot.forum.lookups import get_post
from bot.forum.premod import (
    REASON_MAX,
    UNPUBLISHED,
    AlreadyDecided,
    HeldCard,
    HeldPostSnapshot,
    HeldStatus,
    Outcome,
    card,
    load_held,
    snapshot,
)


async def _decide(
    session: AsyncSession,
    *,
    held_id: int,
    guild_id: int,
    status: HeldStatus,
    moderator_id: int,
    reason: str,
    now: datetime,
) -> HeldPost:
    """Move a waiting held post to ``status``, once: a single conditional UPDATE."""
    stmt = (
        update(HeldPost)
        .where(HeldPost.id == held_id, HeldPost.guild_id == guild_id, HeldPost.status == "waiting")
        .values(status=status, decided_at=now, decided_by=moderator_id, reason=reason)
        .returning(HeldPost.id)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        await load_held(session, held_id, guild_id)  # NotFound when it is gone
        raise AlreadyDecided()
    return await load_held(session, held_id, guild_id)


async def check_waiting(session: AsyncSession, *, held_id: int, guild_id: int) -> None:
    """Refuse (``AlreadyDecided``) a decision on a held post no longer waiting."""
    if (await load_held(session, held_id, guild_id)).status != "waiting":
        raise AlreadyDecided()


async def claim_approval(
    session: AsyncSession,
    *,
    held_id: int,
    guild_id: int,
    moderator_id: int,
    now: datetime | None = None,
) -> HeldPostSnapshot:
    """A moderator approves: the held post is theirs to publish (a second click is refused).
    The caller publishes it, then calls ``approved``, ``unpublished`` or ``release``."""
    row = await _decide(
        session,
        held_id=held_id,
        guild_id=guild_id,
        status="approved",
        moderator_id=moderator_id,
        reason="",
        now=now or utc_now(),
    )
    return snapshot(row)


async def release(session: AsyncSession, *, held_id: int, guild_id: int) -> None:
    """Publishing an approved post failed (Discord, not a rule): it waits again."""
    row = await load_held(session, held_id, guild_id)
    if row.status == "approved" and row.post_id is None:
        row.status, row.decided_at, row.decided_by = "waiting", None, None


async def approved(session: AsyncSession, *, held_id: int, guild_id: int, post_id: int) -> HeldCard:
    """The approved post is published as ``post_id``: the audit entry and the author's DM."""
    row = await load_held(session, held_id, guild_id)
    row.post_id = post_id
    assert row.decided_by is not None
    await audit.record(
        session, guild_id, row.decided_by, "approve", post_id=post_id, detail=_held_ref(row)
    )
    await _notify(session, row, "approved")
    return await card(session, held_id=held_id, guild_id=guild_id)


async def unpublished(
    session: AsyncSession, *, held_id: int, guild_id: int, sentence: str
) -> HeldCard:
    """The approved post cannot be published any more (the domain's ``sentence``: the
    question was closed or deleted meanwhile): it is decided, the author told why."""
    row = await load_held(session, held_id, guild_id)
    row.status, row.reason = "rejected", (UNPUBLISHED + sentence)[:REASON_MAX]
    assert row.decided_by is not None
    detail = f"{_held_ref(row)}, not published: {sentence}"
    await audit.record(session, guild_id, row.decided_by, "approve", detail=detail)
    await _notify(session, row, "unpublished")
    return await card(session, held_id=held_id, guild_id=guild_id)


async def reject(
    session: AsyncSession,
    *,
    held_id: int,
    guild_id: int,
    moderator_id: int,
    reason: str = "",
    now: datetime | None = None,
) -> HeldCard:
    """A moderator rejects the held post (with an optional reason): nothing is published."""
    reason = reason.strip()[:REASON_MAX]
    row = await _decide(
        session,
        held_id=held_id,
        guild_id=guild_id,
        status="rejected",
        moderator_id=moderator_id,
        reason=reason,
        now=now or utc_now(),
    )
    detail = f"{_held_ref(row)}: {reason}" if reason else _held_ref(row)
    await audit.record(session, guild_id, moderator_id, "reject", detail=detail)
    await _notify(session, row, "rejected")
    return await card(session, held_id=held_id, guild_id=guild_id)


def _held_ref(row: HeldPost) -> str:
    return f"held {row.kind} #{row.id}"


async def _notify(session: AsyncSession, row: HeldPost, outcome: Outcome) -> None:
    """Queue the author's DM about the decision (due at once; once per held post)."""
    if row.author_id in await prefs.unreachable_among(session, [row.author_id]):
        return
    question_id = row.question_id
    if outcome == "approved" and row.post_id is not None:
        question_id = (await get_post(session, row.post_id)).question_ref
    kind = f"held_{outcome}"
    payload = {"kind": kind, "guild_id": row.guild_id, "held_id": row.id}
    stmt = (
        insert(session, Notification)
        .values(
            guild_id=row.guild_id,
            recipient_id=row.author_id,
            kind=kind,
            question_id=question_id,
            post_id=row.post_id if outcome == "approved" else None,
            payload=json.dumps(payload, sort_keys=True),
            dedupe_key=f"held:{row.id}",
            status="pending",
            attempts=0,
            next_attempt_at=utc_now(),
            created_at=utc_now(),
        )
        .on_conflict_do_nothing(index_elements=[Notification.dedupe_key])
    )
    await session.execute(stmt)
