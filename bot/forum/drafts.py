"""Ask drafts: a question held by the similar-questions gate of /ask.

When the /ask modal is submitted and similar questions exist, the question is not posted yet:
it is stored here and the asker sees the similar questions with "Post my question anyway" and
"Cancel". A draft is kept ``DRAFT_TTL`` (15 minutes), in the database so that buttons pressed
after a restart still work. Either button uses it up, exactly once: a second press, a press on
the other button, or a press after expiry is refused with a sentence saying why.

``hold_if_similar`` is the gate itself: given the similar questions (``search.
similar_questions``, looked for in a read-only transaction before, so that ranking them never
holds the write lock), it holds the question when there are some. ``ask_draft`` uses the draft
and stores the question (``pending``, as /ask does) in the same transaction: if the question is
refused (rate limit, a category removed meanwhile) the draft stays usable;
``post_held_question`` does that for "Post my question anyway", with the questions the post
calls related (looked for before in the same way). Drafts expired or used are
deleted by ``bot.forum.retention.purge_drafts`` after the server's ``draft_retention_hours``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import AskDraft
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.questions import AskedQuestion, ask_question, checked_question
from bot.forum.results import PostChange, snapshot_of
from bot.forum.search import SearchHit

log = logging.getLogger(__name__)

DRAFT_TTL: Final = timedelta(minutes=15)

DraftOutcome = Literal["posted", "cancelled"]

DRAFT_GONE: Final = "That question is no longer waiting to be posted; please use /ask again."
NOT_YOURS: Final = "Only the member who asked can use these buttons."


class DraftExpired(InvalidState):
    """The draft waited longer than it is kept."""


class DraftUsed(InvalidState):
    """The draft was already posted or cancelled."""


@dataclass(frozen=True, slots=True)
class AskDraftSnapshot:
    """A question waiting behind the similar-questions gate (what the asker typed)."""

    id: int
    guild_id: int
    user_id: int = field(repr=False)
    title: str
    details: str
    category: str | None
    anonymous: bool
    display_name: str | None
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None
    outcome: DraftOutcome | None

    @property
    def asked(self) -> AskedQuestion:
        """The question as the member asked it, to post or hold for review."""
        return AskedQuestion(
            self.title, self.details, self.category, self.anonymous, self.display_name
        )


@dataclass(frozen=True, slots=True)
class HeldQuestion:
    """What the gate found: the similar questions, and the draft holding the new one (None
    when nothing is similar: the question is posted at once)."""

    similar: list[SearchHit]
    draft: AskDraftSnapshot | None


@dataclass(frozen=True, slots=True)
class PostedDraft:
    """A held question stored ``pending`` to be posted, and the questions it calls related."""

    change: PostChange
    related: list[SearchHit]


def _view(row: AskDraft) -> AskDraftSnapshot:
    outcome: DraftOutcome | None = None
    if row.outcome == "posted":
        outcome = "posted"
    elif row.outcome == "cancelled":
        outcome = "cancelled"
    return snapshot_of(AskDraftSnapshot, row, outcome=outcome)


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _refusal(row: AskDraft | None, *, user_id: int, now: datetime) -> Exception:
    """The error saying why a draft cannot be used."""
    if row is None:
        return NotFound(DRAFT_GONE)
    if row.user_id != user_id:
        return PermissionDenied(NOT_YOURS)
    if row.outcome == "posted":
        return DraftUsed("This question was already posted.")
    if row.outcome == "cancelled":
        return DraftUsed("This question was cancelled; use /ask to ask again.")
    if row.expires_at <= now:
        kept = _minutes(row.expires_at - row.created_at)
        return DraftExpired(
            f"This question waited more than {kept} and expired; please use /ask again."
        )
    return InvalidState(DRAFT_GONE)


async def _load(session: AsyncSession, draft_id: int) -> AskDraft | None:
    stmt = select(AskDraft).where(AskDraft.id == draft_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def create_draft(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    asked: AskedQuestion,
    now: datetime | None = None,
    ttl: timedelta = DRAFT_TTL,
) -> AskDraftSnapshot:
    """Hold a question typed into /ask; refused at once (like /ask) when a field is invalid."""
    now = now or utc_now()
    if not asked.anonymous:  # a named question keeps no display name
        asked = replace(asked, display_name=None)
    asked = await checked_question(session, guild_id, asked)
    draft = AskDraft(
        guild_id=guild_id,
        user_id=user_id,
        **asdict(asked),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(draft)
    await session.flush()
    log.info("ask draft %s held in guild %s", draft.id, guild_id)
    return _view(draft)


async def get_draft(
    session: AsyncSession, *, draft_id: int, user_id: int, now: datetime | None = None
) -> AskDraftSnapshot:
    """A draft its asker may still post or cancel; refused like ``consume_draft`` otherwise."""
    now = now or utc_now()
    row = await _load(session, draft_id)
    if (
        row is None
        or row.user_id != user_id
        or row.consumed_at is not None
        or row.expires_at <= now
    ):
        raise _refusal(row, user_id=user_id, now=now)
    return _view(row)


async def consume_draft(
    session: AsyncSession,
    *,
    draft_id: int,
    user_id: int,
    outcome: DraftOutcome = "posted",
    now: datetime | None = None,
) -> AskDraftSnapshot:
    """Use a draft up, once: a single conditional UPDATE, so two presses at the same moment
    cannot both succeed. Refused when it is not the asker's, expired or already used."""
    now = now or utc_now()
    stmt = (
        update(AskDraft)
        .where(
            AskDraft.id == draft_id,
            AskDraft.user_id == user_id,
            AskDraft.consumed_at.is_(None),
            AskDraft.expires_at > now,
        )
        .values(consumed_at=now, outcome=outcome)
        .returning(AskDraft.id)
        .execution_options(synchronize_session=False)
    )
    used = (await session.execute(stmt)).scalar_one_or_none()
    row = await _load(session, draft_id)
    if used is None or row is None:
        raise _refusal(row, user_id=user_id, now=now)
    log.info("ask draft %s %s", draft_id, outcome)
    return _view(row)


async def restore_draft(session: AsyncSession, *, draft_id: int) -> None:
    """Make a draft used up by a post that did not happen usable again (its expiry is kept):
    a question held for review whose card could not be sent (``bot.forum.premod.discard``)."""
    await session.execute(
        update(AskDraft)
        .where(AskDraft.id == draft_id, AskDraft.outcome == "posted")
        .values(consumed_at=None, outcome=None)
        .execution_options(synchronize_session=False)
    )


async def cancel_draft(
    session: AsyncSession, *, draft_id: int, user_id: int, now: datetime | None = None
) -> AskDraftSnapshot:
    """The "Cancel" button: the draft is used up without posting."""
    return await consume_draft(
        session, draft_id=draft_id, user_id=user_id, outcome="cancelled", now=now
    )


async def ask_draft(
    session: AsyncSession, *, draft_id: int, user_id: int, now: datetime | None = None
) -> PostChange:
    """The "Post my question anyway" button: use the draft and store its question ``pending``
    (the caller posts the forum thread, then ``pending_posts.confirm_post``). One transaction:
    when the question is refused the draft is not used up."""
    now = now or utc_now()
    draft = await consume_draft(session, draft_id=draft_id, user_id=user_id, now=now)
    return await ask_question(
        session, guild_id=draft.guild_id, author_id=draft.user_id, asked=draft.asked, now=now
    )


async def hold_if_similar(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    asked: AskedQuestion,
    similar: list[SearchHit],
    now: datetime | None = None,
) -> HeldQuestion:
    """The similar-questions gate of /ask, given the questions like the one submitted that the
    asker can see (``search.similar_questions``, read before, in a read-only transaction): when
    there are any, the question is held as a draft (``create_draft``), anonymous and under its
    display name as it was asked."""
    if not similar:
        return HeldQuestion(similar, None)
    held = await create_draft(session, guild_id=guild_id, user_id=user_id, asked=asked, now=now)
    return HeldQuestion(similar, held)


async def post_held_question(
    session: AsyncSession,
    *,
    draft_id: int,
    user_id: int,
    related: list[SearchHit],
    now: datetime | None = None,
) -> PostedDraft:
    """ "Post my question anyway": ``ask_draft``, with the questions the post will call related
    (``search.similar_questions`` of the held one, read before). Refused like ``get_draft``."""
    change = await ask_draft(session, draft_id=draft_id, user_id=user_id, now=now)
    return PostedDraft(change, related)
