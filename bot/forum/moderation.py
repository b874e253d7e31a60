"""A moderator's removal of a post, and its restoration within the guild's restore window.

A removed post is hidden everywhere (it is no longer *live*: ``point_rules``, search, listings,
autocompletes and lookups leave it out) and what it earned or gave is undone through the ledger,
so a recomputation equals the cached points; removing a question takes its answers and comments
out of the points with it, as a deletion does (``bot.forum.deletion``). The text stays until the
restore window ends. The author is DMed through the outbox (``notify_removed``); every action is
audited. Nothing here returns who wrote the post, except to the caller that re-posts a named
post's text under its author's name (``Restored.author_name``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Member, Post
from bot.forum import audit, notifications, reports
from bot.forum.errors import InvalidState, NotFound
from bot.forum.ledger import Ledger
from bot.forum.lookups import change
from bot.forum.post_rows import POST_GONE, load_post, lock_posts, require_post, update_post
from bot.forum.results import PostChange
from bot.forum.rights import Actor
from bot.forum.settings import load_config

log = logging.getLogger(__name__)

ALREADY_REMOVED: Final = "That post is already removed."
NOT_REMOVED: Final = "That post is not removed."
NOT_POSTED_YET: Final = "That post is still being posted; try again in a moment."


def _too_late(days: int) -> str:
    return (
        f"That post was removed more than {days} day{'s' if days != 1 else ''} ago: "
        "it can no longer be restored."
    )


@dataclass(frozen=True, slots=True)
class Restored:
    """A restored post; ``author_name`` is a named author's last-seen name (None for an
    anonymous post, whose label is its own), for re-posting the text as the post read."""

    change: PostChange
    author_name: str | None


async def _locked(session: AsyncSession, post_id: int, guild_id: int | None) -> tuple[Post, Post]:
    """The post and its question, locked in id order (the question first); NotFound when the
    post is deleted or of another guild."""
    post = await load_post(session, post_id)
    if post is None or post.deleted_at is not None:
        raise NotFound(POST_GONE)
    if guild_id is not None and post.guild_id != guild_id:
        raise NotFound(POST_GONE)
    question_id = post.question_id if post.question_id is not None else post.id
    locked = await lock_posts(session, [question_id, post.id])
    post, question = locked[post.id], locked.get(question_id)
    if question is None or question.deleted_at is not None or post.deleted_at is not None:
        raise NotFound(POST_GONE)
    if post.state != "live":
        raise InvalidState(NOT_POSTED_YET)
    return post, question


async def _ledger(session: AsyncSession, post: Post, question: Post) -> Ledger:
    """A ledger tracking what the change touches: a question's whole thread, else the post."""
    if post.kind == "question":
        return await Ledger.for_thread(session, question)
    return await Ledger.start(session, post.guild_id, [post.id])


@dataclass(frozen=True, slots=True)
class Removal:
    """A moderator's removal of post ``post_id``, with the reason the author is told."""

    post_id: int
    reason: str = ""


async def remove_post(
    session: AsyncSession, *, removal: Removal, moderator: Actor, now: datetime | None = None
) -> PostChange:
    """Remove a question, answer or comment: hidden everywhere, points undone, the author DMed,
    audited "remove" (with the reason). Removing it again is refused."""
    now = now or utc_now()
    post, question = await _locked(session, removal.post_id, moderator.guild_id)
    moderator_id = moderator.member_id
    # A post hidden by its reports alone (no moderator) is already out of the points: a
    # moderator's removal makes it theirs (reason, DM, audit) without touching the ledger.
    hidden_by_reports = post.removed_at is not None and post.removed_by is None
    if (post.removed_at is not None and not hidden_by_reports) or (
        post.id != question.id and question.removed_at is not None
    ):
        raise InvalidState(ALREADY_REMOVED)
    reason = removal.reason.strip()
    fields = {"removed_by": moderator_id, "removal_reason": reason or None, "updated_at": now}
    if hidden_by_reports:
        await update_post(session, post.id, **fields)
    else:
        ledger = await _ledger(session, post, question)
        await update_post(session, post.id, removed_at=now, **fields)
        ledger.refresh_status(question.id)
        await ledger.settle(now)
    actioned = await reports.resolve_open_reports(
        session, post_id=post.id, moderator_id=moderator_id, status="actioned", now=now
    )
    removed = await load_post(session, post.id)
    fresh_question = await load_post(session, question.id)
    assert removed is not None
    assert fresh_question is not None
    await notifications.notify_removed(session, post=removed, question=fresh_question, now=now)
    await audit.record(
        session, post.guild_id, moderator_id, "remove", post_id=post.id, detail=reason
    )
    log.info(
        "%s %d removed in guild %d (%d open reports actioned)",
        post.kind,
        post.id,
        post.guild_id,
        actioned,
    )
    return await change(session, post.id)


async def restore_post(
    session: AsyncSession, *, post_id: int, moderator: Actor, now: datetime | None = None
) -> Restored:
    """Restore a removed post within the guild's ``restore_window_days``; its points come back;
    audited "restore". After the window, or for a post that is not removed, refused."""
    now = now or utc_now()
    post, question = await _locked(session, post_id, moderator.guild_id)
    if post.removed_at is None:
        raise InvalidState(NOT_REMOVED)
    if post.kind != "question" and question.removed_at is not None:
        raise InvalidState("Its question is removed: restore the question first.")
    config = await load_config(session, post.guild_id)
    if now - post.removed_at > timedelta(days=config.restore_window_days):
        raise InvalidState(_too_late(config.restore_window_days))
    ledger = await _ledger(session, post, question)
    await update_post(
        session, post.id, removed_at=None, removed_by=None, removal_reason=None, updated_at=now
    )
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    await audit.record(session, post.guild_id, moderator.member_id, "restore", post_id=post.id)
    log.info("%s %d restored in guild %d", post.kind, post.id, post.guild_id)
    name = None
    if not post.anonymous:
        name = await session.scalar(
            select(Member.display_name).where(
                Member.guild_id == post.guild_id, Member.user_id == post.author_id
            )
        )
    shown = None if post.anonymous else post.display_name or name
    return Restored(await change(session, post.id), shown)


async def reposted(session: AsyncSession, *, post_id: int, message_id: int) -> PostChange:
    """A restored post's text was posted again by the bot (its message had been deleted): the
    post now maps to that message, which the bot owns (so its author may ``/edit`` it)."""
    post = await require_post(session, post_id, lock=True)
    await update_post(session, post.id, message_id=message_id, via_bot=True)
    return await change(session, post.id)
