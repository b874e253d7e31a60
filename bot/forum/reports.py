"""Members report posts to the moderators; moderators dismiss the reports.

A member has at most one *open* report per post (the partial unique index on ``flags``); once a
moderator dismisses the reports on a post, its reporters may report it again. Each post with
open reports has one report card in the moderator channel (``report_cards``): the first report
posts it, later ones update it, and a dismissal forgets it (the next report gets a new card).
The report row is committed on its own, so a card Discord refuses never loses a report.

**Hide after N reports** (``reports_hide_after``, off by default): when a post's open reports
reach N, the post is hidden as a moderator's removal hides it: ``removed_at`` is set and
``removed_by`` stays NULL (no moderator did it), and like any removed post it counts nothing in
points (``bot.forum.ledger``: a removed post is not live). Its Discord message stays until a
moderator acts. Dismissing the reports on a post hidden by reports alone shows it again; a post a
moderator removed stays removed.

Nothing here reveals a post's author or a post's reporters: a card shows the post, the count
and the latest reasons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import Flag, Post, ReportCard
from bot.forum import audit
from bot.forum.errors import InvalidState, NotFound, PermissionDenied, ValidationError
from bot.forum.ledger import Ledger
from bot.forum.post_rows import POST_GONE, load_post, lock_posts, post_id_by_message, update_post
from bot.forum.results import PostKind
from bot.forum.settings import load_config
from bot.forum.text_rules import has_visible, trim

log = logging.getLogger(__name__)

#: The longest reason a reporter may give (the modal's field; the reason is optional).
REASON_MAX: Final = 300
#: How many of the latest reasons a card shows.
REASONS_SHOWN: Final = 3

NOT_A_POST: Final = (
    "Only questions, answers and comments of this server's Q&A forum can be reported."
)
ALREADY_REPORTED: Final = "You have already reported this post."
OWN_POST: Final = "You cannot report your own post."
NOTHING_OPEN: Final = "The reports on this post were already handled."


@dataclass(frozen=True, slots=True)
class ReportedPost:
    """A reported post as a card shows it: never its author."""

    id: int
    guild_id: int
    kind: PostKind
    #: Its question's id (its own for a question).
    question_id: int
    #: The question's title (an answer's or comment's question).
    title: str | None
    body: str
    thread_id: int | None
    message_id: int | None
    #: Hidden: removed by a moderator, or by reports (``hidden_by_reports``).
    hidden: bool
    hidden_by_reports: bool
    #: Deleted (by its author, or with its thread): the text is gone, ``title`` and ``body``
    #: are empty.
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class CardState:
    """What a report card shows, and where the card is (None: not posted yet)."""

    post: ReportedPost
    open_reports: int
    #: The latest non-empty reasons of the open reports, newest first.
    reasons: tuple[str, ...]
    card_channel_id: int | None
    card_message_id: int | None
    #: The moderator who dismissed the reports, when the card shows a dismissal.
    dismissed_by: int | None = None
    #: The dismissal showed the post again (it was hidden by reports alone).
    shown_again: bool = False


@dataclass(frozen=True, slots=True)
class ReportFiled:
    card: CardState
    #: This report hid the post (the ``reports_hide_after`` count was reached).
    hidden_now: bool


def validate_reason(raw: str) -> str:
    """The reason as stored: trimmed, empty when nothing visible was typed (it is optional),
    refused past ``REASON_MAX`` characters."""
    reason = trim(raw)
    if not has_visible(reason):
        return ""
    if len(reason) > REASON_MAX:
        raise ValidationError(f"The reason can be at most {REASON_MAX} characters.")
    return reason


@dataclass(frozen=True, slots=True)
class Report:
    """A member's report of the post behind a Discord message, with their reason (optional)."""

    guild_id: int
    message_id: int
    reporter_id: int = field(repr=False)
    reason: str = field(default="", repr=False)


async def file_report(
    session: AsyncSession, *, report: Report, now: datetime | None = None
) -> ReportFiled:
    """The member reports the post whose Discord message is named.

    Refused when the message is no live post of this guild, when it is the reporter's own, and
    while the reporter's previous report on it is still open. Hides the post when the open
    reports reach ``reports_hide_after``.
    """
    now = now or utc_now()
    reason = validate_reason(report.reason)
    guild_id, reporter_id = report.guild_id, report.reporter_id
    post_id = await check_report(session, report=report)
    post = await load_post(session, post_id)
    assert post is not None
    # Lock order: the question, then the post (one report at a time per post); check again.
    post = (await lock_posts(session, {post.question_id or post.id, post.id}))[post.id]
    _check_reportable(post, guild_id, reporter_id)
    try:
        async with session.begin_nested():
            session.add(
                Flag(
                    guild_id=guild_id,
                    post_id=post.id,
                    reporter_id=reporter_id,
                    reason=reason,
                    status="open",
                    created_at=now,
                )
            )
    except IntegrityError:  # the same member's report a moment ago (the partial unique index)
        raise InvalidState(ALREADY_REPORTED) from None
    count = await count_open(session, post.id)
    hide_after = (await load_config(session, guild_id)).reports_hide_after
    hidden_now = bool(hide_after) and count >= (hide_after or 0) and post.removed_at is None
    if hidden_now:
        await hide_post(session, post.id, now=now)
    log.info("report on post %d in guild %d: %d open", post.id, guild_id, count)
    return ReportFiled(card=await card_state(session, post.id), hidden_now=hidden_now)


async def check_report(session: AsyncSession, *, report: Report) -> int:
    """The id of the post the member may report now (the message's post), or the sentence
    saying why not: for the Report menu to refuse before it asks for a reason."""
    post_id = await post_id_by_message(session, report.message_id)
    post = await load_post(session, post_id) if post_id is not None else None
    if post is None:
        raise NotFound(NOT_A_POST)
    _check_reportable(post, report.guild_id, report.reporter_id)
    if await _open_report_of(session, post.id, report.reporter_id):
        raise InvalidState(ALREADY_REPORTED)
    return post.id


def _check_reportable(post: Post, guild_id: int, reporter_id: int) -> None:
    if post.guild_id != guild_id or post.state != "live" or post.deleted_at is not None:
        raise NotFound(NOT_A_POST)
    if post.author_id == reporter_id:
        raise PermissionDenied(OWN_POST)


async def _open_report_of(session: AsyncSession, post_id: int, reporter_id: int) -> bool:
    found = await session.scalar(
        select(Flag.id).where(
            Flag.post_id == post_id, Flag.reporter_id == reporter_id, Flag.status == "open"
        )
    )
    return found is not None


async def count_open(session: AsyncSession, post_id: int) -> int:
    """How many open reports the post has."""
    count = await session.scalar(
        select(func.count()).select_from(Flag).where(Flag.post_id == post_id, Flag.status == "open")
    )
    return int(count or 0)


async def hide_post(
    session: AsyncSession, post_id: int, *, now: datetime, removed_by: int | None = None
) -> bool:
    """Hide a post (``removed_at``; ``removed_by`` None: by reports) and undo everything it
    earned or gave through the ledger; a question takes its thread's answers with it. False
    when it was already hidden."""
    return await _set_removed(session, post_id, now=now, removed_at=now, removed_by=removed_by)


async def unhide_post(session: AsyncSession, post_id: int, *, now: datetime) -> bool:
    """Show a hidden post again and give back what it earns; False when it was not hidden."""
    return await _set_removed(session, post_id, now=now, removed_at=None, removed_by=None)


async def _set_removed(
    session: AsyncSession,
    post_id: int,
    *,
    now: datetime,
    removed_at: datetime | None,
    removed_by: int | None,
) -> bool:
    post = await load_post(session, post_id)
    if post is None:
        raise NotFound(POST_GONE)
    locked = await lock_posts(session, {post.question_id or post.id, post.id})
    post = locked[post.id]
    if (post.removed_at is None) == (removed_at is None):
        return False
    if post.kind == "question":
        ledger = await Ledger.for_thread(session, post)
        ledger.refresh_status(post.id)
    else:
        ledger = await Ledger.start(session, post.guild_id, [post.id])
    await update_post(
        session, post.id, removed_at=removed_at, removed_by=removed_by, updated_at=now
    )
    await ledger.settle(now)
    log.info("post %d %s in guild %d", post.id, "hidden" if removed_at else "shown", post.guild_id)
    return True


async def resolve_open_reports(
    session: AsyncSession,
    *,
    post_id: int,
    moderator_id: int,
    status: Literal["dismissed", "actioned"],
    now: datetime,
) -> int:
    """Close every open report on the post: ``dismissed``, or ``actioned`` when a moderator
    removed the post. Returns how many were open."""
    result = await session.execute(
        update(Flag)
        .where(Flag.post_id == post_id, Flag.status == "open")
        .values(status=status, resolved_at=now, resolved_by=moderator_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def dismiss_reports(
    session: AsyncSession,
    *,
    guild_id: int,
    post_id: int,
    moderator_id: int,
    now: datetime | None = None,
) -> CardState:
    """A moderator dismisses every open report on the post (an audit entry "dismiss"); a post
    hidden by reports alone is shown again. Refused when no report is open."""
    now = now or utc_now()
    post = await load_post(session, post_id)
    if post is None or post.guild_id != guild_id:
        raise NotFound(POST_GONE)
    await lock_posts(session, {post.question_id or post.id, post.id})
    dismissed = await resolve_open_reports(
        session, post_id=post_id, moderator_id=moderator_id, status="dismissed", now=now
    )
    if not dismissed:
        raise InvalidState(NOTHING_OPEN)
    post = await load_post(session, post_id)
    assert post is not None
    shown_again = post.removed_at is not None and post.removed_by is None
    if shown_again:
        await unhide_post(session, post_id, now=now)
    # The dismissed card is edited through the click; a new report gets a card of its own.
    await session.execute(delete(ReportCard).where(ReportCard.post_id == post_id))
    await audit.record(session, guild_id, moderator_id, "dismiss", post_id=post_id)
    log.info("dismissed %d reports on post %d in guild %d", dismissed, post_id, guild_id)
    state = await card_state(session, post_id)
    return replace(state, dismissed_by=moderator_id, shown_again=shown_again)


async def card_state(session: AsyncSession, post_id: int) -> CardState:
    """What the post's report card shows now."""
    post = await load_post(session, post_id)
    if post is None:
        raise NotFound(POST_GONE)
    title = post.title
    if post.question_id is not None:
        title = await session.scalar(select(Post.title).where(Post.id == post.question_id))
    reasons = await session.scalars(
        select(Flag.reason)
        .where(Flag.post_id == post_id, Flag.status == "open", Flag.reason != "")
        .order_by(Flag.id.desc())
        .limit(REASONS_SHOWN)
    )
    card = await session.get(ReportCard, post_id, populate_existing=True)
    return CardState(
        post=ReportedPost(
            id=post.id,
            guild_id=post.guild_id,
            kind=cast(PostKind, post.kind),
            question_id=post.question_id or post.id,
            title=title,
            body=post.body,
            thread_id=post.thread_id,
            message_id=post.message_id,
            hidden=post.removed_at is not None,
            hidden_by_reports=post.removed_at is not None and post.removed_by is None,
            deleted=post.deleted_at is not None,
        ),
        open_reports=await count_open(session, post_id),
        reasons=tuple(reasons),
        card_channel_id=card.channel_id if card is not None else None,
        card_message_id=card.message_id if card is not None else None,
    )


async def record_card(
    session: AsyncSession, *, guild_id: int, post_id: int, channel_id: int, message_id: int
) -> None:
    """Remember the post's report card (the message a later report updates)."""
    now = utc_now()
    stmt = insert(session, ReportCard).values(
        post_id=post_id,
        guild_id=guild_id,
        channel_id=channel_id,
        message_id=message_id,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ReportCard.post_id],
            set_={"channel_id": channel_id, "message_id": message_id, "updated_at": now},
        )
    )
