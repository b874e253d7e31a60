"""Member blocks, made through a post: a moderator blocks whoever wrote it from posting
anonymously (``anonymous``) or through the bot at all (``all``), for some days or until lifted.

The moderator never learns who it is: ``block_member_through_post`` reads the author inside the
transaction and returns a ``BlockInForce``, which carries the post, the scope and the end, never
the member. ``active_block`` / ``check_not_blocked`` are the intake's check: ``/ask``,
``/answer``, ``/reply`` and ``/edit`` refuse with a sentence, and a member blocked from
everything has their typed thread messages count as nothing (``posts.record_thread_message``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import MemberBlock, Post
from bot.forum import audit
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.post_rows import POST_GONE, load_post

log = logging.getLogger(__name__)

BlockScope = Literal["anonymous", "all"]
SCOPES: Final[tuple[BlockScope, ...]] = ("anonymous", "all")
#: The longest block a moderator may set, in days (longer: until lifted).
MAX_DAYS: Final = 3650
BLOCK_GONE: Final = "That block was lifted or has ended already."
OWN_POST: Final = "You can't block yourself through your own post."


@dataclass(frozen=True, slots=True)
class BlockInForce:
    """A block as moderators see it: made through ``post_id``, never naming the member."""

    id: int
    guild_id: int
    scope: BlockScope
    post_id: int | None
    thread_id: int | None
    message_id: int | None
    created_at: datetime
    ends_at: datetime | None


class MemberBlocked(PermissionDenied):
    """The member is blocked here: the sentence says from what and until when."""

    def __init__(self, scope: BlockScope, ends_at: datetime | None) -> None:
        what = "post anonymously" if scope == "anonymous" else "post through the bot"
        until = (
            f" until <t:{int(ends_at.timestamp())}:f>"
            if ends_at is not None
            else " until a moderator lifts your block"
        )
        super().__init__(f"You can't {what} here{until}.")
        self.scope = scope
        self.ends_at = ends_at


def block_detail(scope: BlockScope, days: int | None, reason: str) -> str:
    """The audit entry's detail: scope and length (and the moderator's reason)."""
    length = f"{days} day{'s' if days != 1 else ''}" if days else "until lifted"
    head = f"{scope}, {length}"
    return f"{head} · {reason}" if reason else head


def _in_force(now: datetime) -> ColumnElement[bool]:
    return and_(
        MemberBlock.lifted_at.is_(None),
        or_(MemberBlock.ends_at.is_(None), MemberBlock.ends_at > now),
    )


async def block_member_through_post(
    session: AsyncSession,
    *,
    post_id: int,
    moderator_id: int,
    scope: BlockScope,
    days: int | None,
    reason: str = "",
    guild_id: int | None = None,
    now: datetime | None = None,
) -> BlockInForce:
    """Block the author of ``post_id`` (``days`` None or 0: until lifted); audited "block"."""
    now = now or utc_now()
    if scope not in SCOPES:
        raise ValueError(f"unknown block scope {scope!r}")
    post = await load_post(session, post_id)
    if post is None or (guild_id is not None and post.guild_id != guild_id):
        raise NotFound(POST_GONE)
    if post.author_id == moderator_id:
        raise InvalidState(OWN_POST)
    days = min(days, MAX_DAYS) if days else None
    reason = reason.strip()
    row = MemberBlock(
        guild_id=post.guild_id,
        user_id=post.author_id,
        scope=scope,
        post_id=post.id,
        reason=reason,
        created_by=moderator_id,
        created_at=now,
        ends_at=now + timedelta(days=days) if days else None,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        post.guild_id,
        moderator_id,
        "block",
        post_id=post.id,
        detail=block_detail(scope, days, reason),
    )
    log.info("block %d made through post %d in guild %d", row.id, post.id, post.guild_id)
    return _shown(row, post)


async def lift_block(
    session: AsyncSession,
    *,
    block_id: int,
    moderator_id: int,
    guild_id: int,
    now: datetime | None = None,
) -> BlockInForce:
    """Lift a block in force; audited "unblock". A block already over is refused."""
    now = now or utc_now()
    row = await session.get(MemberBlock, block_id, populate_existing=True)
    if row is None or row.guild_id != guild_id:
        raise NotFound(BLOCK_GONE)
    lifted = await session.execute(
        update(MemberBlock)
        .where(MemberBlock.id == block_id, _in_force(now))
        .values(lifted_at=now, lifted_by=moderator_id)
        .execution_options(synchronize_session=False)
    )
    if not getattr(lifted, "rowcount", 0):
        raise InvalidState(BLOCK_GONE)
    await audit.record(session, guild_id, moderator_id, "unblock", post_id=row.post_id)
    log.info("block %d lifted in guild %d", block_id, guild_id)
    post = await session.get(Post, row.post_id) if row.post_id is not None else None
    return _shown(row, post)


async def active_block(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    *,
    anonymous: bool,
    now: datetime | None = None,
) -> BlockInForce | None:
    """The block that stops this member posting here (anonymously when ``anonymous``): a block
    of everything, or of anonymous posts for an anonymous one; the longest-lasting of them."""
    now = now or utc_now()
    scopes: tuple[BlockScope, ...] = SCOPES if anonymous else ("all",)
    rows = await session.scalars(
        select(MemberBlock).where(
            MemberBlock.guild_id == guild_id,
            MemberBlock.user_id == user_id,
            MemberBlock.scope.in_(scopes),
            _in_force(now),
        )
    )
    found = list(rows)
    if not found:
        return None
    forever = [row for row in found if row.ends_at is None]
    row = forever[0] if forever else max(found, key=lambda r: r.ends_at or now)
    return _shown(row, None)


async def blocked_among(
    session: AsyncSession, guild_id: int, user_ids: Iterable[int], *, now: datetime
) -> set[int]:
    """The members among ``user_ids`` blocked from posting in the guild under their name (a
    block of everything in force): ``check_not_blocked`` for many at once."""
    ids = set(user_ids)
    if not ids:
        return set()
    rows = await session.scalars(
        select(MemberBlock.user_id).where(
            MemberBlock.guild_id == guild_id,
            MemberBlock.user_id.in_(ids),
            MemberBlock.scope == "all",
            _in_force(now),
        )
    )
    return set(rows)


async def check_not_blocked(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    anonymous: bool,
    now: datetime | None = None,
) -> None:
    """Refuse (``MemberBlocked``, with the sentence) a member blocked from this kind of post."""
    block = await active_block(session, guild_id, user_id, anonymous=anonymous, now=now)
    if block is not None:
        raise MemberBlocked(block.scope, block.ends_at)


async def blocks_in_force(
    session: AsyncSession, guild_id: int, *, limit: int, now: datetime | None = None
) -> tuple[list[BlockInForce], int]:
    """The guild's blocks in force, soonest end first (until lifted last), at most ``limit``,
    and how many there are in all."""
    now = now or utc_now()
    where = and_(MemberBlock.guild_id == guild_id, _in_force(now))
    total = (await session.scalar(select(func.count()).select_from(MemberBlock).where(where))) or 0
    rows = await session.execute(
        select(MemberBlock, Post)
        .outerjoin(Post, Post.id == MemberBlock.post_id)
        .where(where)
        .order_by(MemberBlock.ends_at.is_(None), MemberBlock.ends_at, MemberBlock.id)
        .limit(limit)
    )
    return [_shown(block, post) for block, post in rows.all()], total


def _shown(row: MemberBlock, post: Post | None) -> BlockInForce:
    return BlockInForce(
        id=row.id,
        guild_id=row.guild_id,
        scope="all" if row.scope == "all" else "anonymous",
        post_id=row.post_id,
        thread_id=post.thread_id if post is not None else None,
        message_id=post.message_id if post is not None else None,
        created_at=row.created_at,
        ends_at=row.ends_at,
    )
