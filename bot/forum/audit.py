"""The moderators' audit trail: every moderator action, who took it, when and on which post.

An entry names the moderator and the post, never the author: a moderator reading ``/mod log``
learns what was done to a post, not who wrote it. The detail is what the moderator typed (a
reason) or chose (a block's scope and length, a setting's key), never text of the post.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import ModAction
from bot.forum.paging import EntryPage, page_window

log = logging.getLogger(__name__)

Action = Literal[
    "remove", "restore", "block", "unblock", "approve", "reject", "dismiss", "close", "setting"
]
ACTIONS: tuple[str, ...] = get_args(Action)
#: The longest detail kept (a reason is a modal field; a setting key is short).
DETAIL_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    moderator_id: int
    action: Action
    post_id: int | None
    detail: str
    created_at: datetime


#: One page of a guild's entries, newest first.
AuditPage = EntryPage[AuditEntry]


async def record(
    session: AsyncSession,
    guild_id: int,
    moderator_id: int,
    action: Action,
    *,
    post_id: int | None = None,
    detail: str = "",
) -> int:
    """Store one moderator action in the caller's transaction; returns the entry's id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown moderator action {action!r}")
    row = ModAction(
        guild_id=guild_id,
        moderator_id=moderator_id,
        action=action,
        post_id=post_id,
        detail=detail[:DETAIL_LIMIT],
    )
    session.add(row)
    await session.flush()
    log.info(
        "audit: guild=%d moderator=%d action=%s post=%s", guild_id, moderator_id, action, post_id
    )
    return row.id


async def page(
    session: AsyncSession, guild_id: int, *, number: int = 1, per_page: int = 10
) -> AuditPage:
    """Page ``number`` (clamped to the pages there are) of the guild's entries, newest first."""
    total = (
        await session.scalar(
            select(func.count()).select_from(ModAction).where(ModAction.guild_id == guild_id)
        )
    ) or 0
    window = page_window(total, number, per_page)
    rows = await session.scalars(
        select(ModAction)
        .where(ModAction.guild_id == guild_id)
        .order_by(ModAction.id.desc())
        .offset(window.offset)
        .limit(window.limit)
    )
    entries = tuple(
        AuditEntry(
            id=row.id,
            moderator_id=row.moderator_id,
            action=cast(Action, row.action),
            post_id=row.post_id,
            detail=row.detail,
            created_at=row.created_at,
        )
        for row in rows
    )
    return EntryPage(entries, window.number, window.pages, total)
