"""Pre-moderation: a post the bot would publish for a member, held for a moderator's review.

When a guild's settings say so (``premod_anonymous``: anonymous posts; ``premod_new_member_days``:
posts by members who joined fewer days ago) and a moderator channel is set, what ``/ask``,
``/answer`` or ``/reply`` would publish is not published: ``hold_if_due`` refuses it as the
publishing path would (text rules, the question still open, the hourly limit), then stores
exactly what the post would carry as a ``HeldPost`` (``payload``: title, details, category,
display name, the author's name for a named post...). ``card`` is what the moderators' card
shows; a moderator's decision is ``bot.forum.premod_decisions``. Nothing here logs text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import HeldPost, Post
from bot.forum import drafts
from bot.forum.blocks import check_not_blocked
from bot.forum.categories import resolve_category
from bot.forum.errors import InvalidState, NotFound, RateLimited
from bot.forum.lookups import get_post, get_question
from bot.forum.post_rows import QUESTION_CLOSED, QUESTION_GONE
from bot.forum.posts import MemberPost
from bot.forum.ratelimits import check_rate, limit_for
from bot.forum.results import PostSnapshot, snapshot_of
from bot.forum.settings import GuildConfig, load_config
from bot.forum.text_rules import (
    clean_display_name,
    validate_body,
    validate_details,
    validate_title,
)

log = logging.getLogger(__name__)

HeldKind = Literal["question", "answer", "comment"]
#: The questions a held question's post will call related (their ids, found before it is held).
Related = Sequence[int]
HeldStatus = Literal["waiting", "approved", "rejected"]
#: The outcomes an author is DMed about, each a notification kind ``held_<outcome>``.
Outcome = Literal["approved", "rejected", "unpublished"]
OUTCOMES: Final = get_args(Outcome)
DM_KINDS: Final = tuple(f"held_{outcome}" for outcome in OUTCOMES)

ALREADY_DECIDED: Final = "Already decided."
#: How the reason of an approval that could not be published starts.
UNPUBLISHED: Final = "Not published: "
HELD_GONE: Final = "That held post no longer exists."
TOO_MANY_WAITING: Final = (
    "You have {count} posts like this waiting for a moderator's review already; "
    "please wait until they are decided."
)
#: The longest reason a moderator may give (a modal field).
REASON_MAX: Final = 500


class AlreadyDecided(InvalidState):
    """The held post was approved or rejected already."""

    def __init__(self) -> None:
        super().__init__(ALREADY_DECIDED)


@dataclass(frozen=True, slots=True)
class HeldPostSnapshot:
    """A held post as stored; ``payload`` is what its publishing needs (see the module doc)."""

    id: int
    guild_id: int
    author_id: int = field(repr=False)
    kind: HeldKind
    question_id: int | None
    payload: Mapping[str, Any] = field(repr=False)
    anonymous: bool
    status: HeldStatus
    card_channel_id: int | None
    card_message_id: int | None
    post_id: int | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    reason: str

    @property
    def text(self) -> str:
        """The post's text: a question's details, an answer's or reply's body."""
        return str(self.payload.get("details" if self.kind == "question" else "body") or "")

    @property
    def title(self) -> str | None:
        title = self.payload.get("title")
        return str(title) if title is not None else None

    @property
    def waiting(self) -> bool:
        return self.status == "waiting"

    def member_post(self) -> MemberPost:
        """A held answer or reply as ``posts.post_answer`` and ``post_reply`` store it."""
        joined = self.payload.get("joined_at")
        return MemberPost(
            guild_id=self.guild_id,
            author_id=self.author_id,
            body=self.text,
            question_id=self.question_id,
            anonymous=self.anonymous,
            joined_at=datetime.fromisoformat(joined) if isinstance(joined, str) else None,
        )

    @property
    def unpublished(self) -> bool:
        """Approved, but the domain refused to publish it (``unpublished``)."""
        return self.status == "rejected" and self.reason.startswith(UNPUBLISHED)

    @property
    def why(self) -> str:
        """The reason given (a moderator's, or why it could not be published)."""
        return self.reason.removeprefix(UNPUBLISHED)


@dataclass(frozen=True, slots=True)
class HeldCard:
    """What the moderators' card of a held post shows: the post, the question it waits to join
    (None when that question is gone; for a question, itself once published) and the post it
    became once approved."""

    held: HeldPostSnapshot
    question: PostSnapshot | None
    post: PostSnapshot | None = None


def holds(
    config: GuildConfig, *, anonymous: bool, joined_at: datetime | None, now: datetime
) -> bool:
    """Whether the guild holds this post: a moderator channel is set and the post is anonymous
    under ``premod_anonymous`` or its author joined fewer than ``premod_new_member_days`` days
    ago (an unknown join date holds nothing)."""
    if config.mod_channel_id is None:
        return False
    if anonymous and config.premod_anonymous:
        return True
    days = config.premod_new_member_days
    return days is not None and joined_at is not None and now - joined_at < timedelta(days=days)


def snapshot(row: HeldPost) -> HeldPostSnapshot:
    return snapshot_of(HeldPostSnapshot, row, payload=json.loads(row.payload))


async def load_held(session: AsyncSession, held_id: int, guild_id: int) -> HeldPost:
    stmt = (
        select(HeldPost)
        .where(HeldPost.id == held_id, HeldPost.guild_id == guild_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(HELD_GONE)
    return row


async def _checked_question(
    session: AsyncSession, guild_id: int, question_id: int, kind: HeldKind
) -> PostSnapshot:
    question = await get_question(session, question_id=question_id)
    if question.guild_id != guild_id or not question.live:
        raise NotFound(QUESTION_GONE)
    if kind == "answer" and question.closed:
        raise InvalidState(QUESTION_CLOSED)
    return question


async def _check_waiting_count(
    session: AsyncSession, config: GuildConfig, *, guild_id: int, author_id: int, kind: HeldKind
) -> None:
    """A member has at most the kind's hourly limit of posts of that kind waiting for review
    (held posts count in no hourly limit until published)."""
    limit = limit_for(config, "question" if kind == "question" else "answer")
    waiting = await session.scalar(
        select(func.count())
        .select_from(HeldPost)
        .where(
            HeldPost.guild_id == guild_id,
            HeldPost.author_id == author_id,
            HeldPost.kind == kind,
            HeldPost.status == "waiting",
        )
    )
    if (waiting or 0) >= limit:
        raise RateLimited(TOO_MANY_WAITING.format(count=waiting), retry_after=0)


async def _checked_payload(
    session: AsyncSession,
    config: GuildConfig,
    *,
    guild_id: int,
    author_id: int,
    kind: HeldKind,
    question_id: int | None,
    payload: Mapping[str, Any],
    anonymous: bool,
    now: datetime,
) -> dict[str, Any]:
    """The payload as the publishing path would accept it, refused as it would refuse it."""
    await check_not_blocked(session, guild_id=guild_id, user_id=author_id, anonymous=anonymous)
    checked = dict(payload)
    if kind == "question":
        checked["title"] = validate_title(str(payload.get("title") or ""))
        checked["details"] = validate_details(str(payload.get("details") or ""))
        checked["display_name"] = clean_display_name(payload.get("display_name"))
        checked["category"] = await resolve_category(session, guild_id, payload.get("category"))
        await check_rate(
            session, config, guild_id=guild_id, user_id=author_id, kind="question", now=now
        )
        return checked
    if question_id is None:
        raise ValueError("an answer or reply is held with its question")
    await _checked_question(session, guild_id, question_id, kind)
    what = "answer" if kind == "answer" else "reply"
    checked["body"] = validate_body(str(payload.get("body") or ""), what=what)
    if kind == "answer":
        await check_rate(
            session, config, guild_id=guild_id, user_id=author_id, kind="answer", now=now
        )
    return checked


async def hold_if_due(
    session: AsyncSession,
    *,
    guild_id: int,
    author_id: int,
    kind: HeldKind,
    payload: Mapping[str, Any],
    anonymous: bool,
    joined_at: datetime | None,
    question_id: int | None = None,
    draft_id: int | None = None,
    related: Related | None = None,
    now: datetime | None = None,
) -> HeldPostSnapshot | None:
    """Hold the post when the guild pre-moderates it (``holds``); None: publish it as usual.

    A reply by the asker of an anonymous question is anonymous whatever it asked. A question
    from the similar-questions gate (``draft_id``) uses its draft up and keeps the questions
    its post will call related (``related``, looked for before in a read-only transaction), in
    the same transaction. Like posting, it refuses a member blocked from this kind of post.
    """
    now = now or utc_now()
    config = await load_config(session, guild_id)
    if kind == "comment" and question_id is not None and not anonymous:
        question = await session.get(Post, question_id)
        anonymous = question is not None and question.anonymous and question.author_id == author_id
    if not holds(config, anonymous=anonymous, joined_at=joined_at, now=now):
        return None
    if anonymous:  # an anonymous post keeps no name of its author
        payload = {k: v for k, v in payload.items() if k != "author_name"}
    checked = await _checked_payload(
        session,
        config,
        guild_id=guild_id,
        author_id=author_id,
        kind=kind,
        question_id=question_id,
        payload=payload,
        anonymous=anonymous,
        now=now,
    )
    await _check_waiting_count(session, config, guild_id=guild_id, author_id=author_id, kind=kind)
    if draft_id is not None:
        await drafts.consume_draft(session, draft_id=draft_id, user_id=author_id, now=now)
        checked["draft_id"] = draft_id
    if related is not None:
        checked["related"] = list(related)
    row = HeldPost(
        guild_id=guild_id,
        author_id=author_id,
        kind=kind,
        question_id=question_id,
        payload=json.dumps(checked, sort_keys=True),
        anonymous=anonymous,
        status="waiting",
        reason="",
        created_at=now,
    )
    session.add(row)
    await session.flush()
    log.info("%s held for review as held post %s in guild %s", kind, row.id, guild_id)
    return snapshot(row)


async def set_card(
    session: AsyncSession, *, held_id: int, guild_id: int, channel_id: int, message_id: int
) -> None:
    """Remember the moderators' card of a held post (its buttons carry the held post's id)."""
    row = await load_held(session, held_id, guild_id)
    row.card_channel_id, row.card_message_id = channel_id, message_id


async def discard(session: AsyncSession, *, held_id: int, guild_id: int) -> None:
    """Forget a held post whose card could not be sent (nothing was held, nothing shows it);
    the similar-questions gate's draft it used up can be posted again."""
    row = await load_held(session, held_id, guild_id)
    draft_id = json.loads(row.payload).get("draft_id")
    if draft_id is not None:
        await drafts.restore_draft(session, draft_id=int(draft_id))
    await session.delete(row)


async def card(session: AsyncSession, *, held_id: int, guild_id: int) -> HeldCard:
    """A held post and the question it waits to join, as its card shows them."""
    held = snapshot(await load_held(session, held_id, guild_id))
    post = await get_post(session, held.post_id) if held.post_id is not None else None
    question: PostSnapshot | None = None
    question_id = post.question_ref if post is not None else held.question_id
    if question_id is not None:
        try:
            question = await get_question(session, question_id=question_id)
        except NotFound:
            question = None
    return HeldCard(held, question, post)


async def related_questions(
    session: AsyncSession, held: HeldPostSnapshot
) -> tuple[PostSnapshot, ...]:
    """The live questions a held question's post calls related (kept when it was held)."""
    found: list[PostSnapshot] = []
    for question_id in held.payload.get("related") or ():
        try:
            question = await get_question(session, question_id=int(question_id))
        except NotFound:
            continue
        if question.live and question.guild_id == held.guild_id:
            found.append(question)
    return tuple(found)
