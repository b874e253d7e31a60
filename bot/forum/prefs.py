"""A user's DM preferences and markers, and following questions.

``user_prefs`` holds one row per user (DMs are per user, across guilds); a user without a row has
the defaults: notifications on, DMs not known to be closed, no cached DM channel, not erased, and
no safety resources by DM.
Every write is an atomic upsert, so concurrent commands never lose one another's change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import among, insert
from bot.db.models import Follow, Post, UserPref
from bot.forum.errors import InvalidState, NotFound, ValidationError
from bot.forum.results import IsSet, snapshot_of

#: What a DM shows: everything (the question's title, an excerpt), no text (the server's name
#: and the link), or nothing but the kind of news and the link (``bot.ui.dms.render_dm``).
DM_PREVIEWS: Final = ("full", "no-text", "minimal")
NOTHING_TO_SET: Final = "Choose a mode, a preview, or both."
#: The author of an erased member's posts (their tombstones), the moderator of their actions:
#: nobody. No DM is ever queued for it.
ERASED_AUTHOR_ID: Final = 0

QUESTION_GONE = "That question no longer exists."
NOT_A_QUESTION_THREAD = "Use this inside a question's thread."
ASKER_FOLLOWS = (
    "You asked this question, so you always hear about its answers; "
    "use /notifications off to stop all DMs."
)


@dataclass(frozen=True, slots=True)
class Prefs:
    """A user's preferences (the defaults when they never set any)."""

    user_id: int
    notifications: bool = True
    dms_closed_at: datetime | None = None
    dm_channel_id: int | None = None
    erased_at: datetime | None = None
    #: Whether the user asked for the safety resources by DM when a question matches the
    #: server's keywords (off: they are shown ephemerally instead).
    resources_dm: bool = False
    #: What the user's DMs show (one of ``DM_PREVIEWS``).
    dm_preview: str = "full"

    dms_closed = IsSet("dms_closed_at")
    erased = IsSet("erased_at")


async def get_prefs(session: AsyncSession, user_id: int) -> Prefs:
    row = await session.get(UserPref, user_id, populate_existing=True)
    if row is None:
        return Prefs(user_id=user_id)
    return snapshot_of(Prefs, row)


async def prefs_of(session: AsyncSession, user_ids: Iterable[int]) -> dict[int, Prefs]:
    """``get_prefs`` of many users in one statement (the defaults for those without a row)."""
    ids = set(user_ids)
    found = {user_id: Prefs(user_id=user_id) for user_id in ids}
    if ids:
        stmt = (
            select(UserPref)
            .where(UserPref.user_id.in_(ids))
            .execution_options(populate_existing=True)
        )
        for row in (await session.execute(stmt)).scalars():
            found[row.user_id] = snapshot_of(Prefs, row)
    return found


async def _upsert(session: AsyncSession, user_id: int, **values: object) -> None:
    values["updated_at"] = utc_now()
    stmt = insert(session, UserPref).values(user_id=user_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=[UserPref.user_id], set_=values)
    await session.execute(stmt)


async def set_notifications(session: AsyncSession, user_id: int, on: bool) -> Prefs:
    """Turn the user's DM notifications on or off (off: nothing is queued for them)."""
    await _upsert(session, user_id, notifications=on)
    return await get_prefs(session, user_id)


async def set_dm_options(
    session: AsyncSession,
    user_id: int,
    *,
    notifications: bool | None = None,
    preview: str | None = None,
) -> Prefs:
    """Set the user's DM notifications on or off and/or what their DMs show (``DM_PREVIEWS``);
    at least one must be given."""
    values: dict[str, object] = {}
    if notifications is not None:
        values["notifications"] = notifications
    if preview is not None:
        if preview not in DM_PREVIEWS:
            raise ValidationError(f"A preview is one of: {', '.join(DM_PREVIEWS)}.")
        values["dm_preview"] = preview
    if not values:
        raise ValidationError(NOTHING_TO_SET)
    await _upsert(session, user_id, **values)
    return await get_prefs(session, user_id)


async def set_resources_dm(session: AsyncSession, user_id: int, on: bool) -> Prefs:
    """Opt in to (or out of) getting the safety resources by DM after a matching question."""
    await _upsert(session, user_id, resources_dm=on)
    return await get_prefs(session, user_id)


async def mark_dms_closed(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Record that a DM to the user was refused (DMs closed or the bot blocked)."""
    await _upsert(session, user_id, dms_closed_at=now)


async def consume_dms_closed_notice(session: AsyncSession, user_id: int) -> bool:
    """True exactly once after DMs were found closed; clears the marker.

    The caller (any command the user runs) then tells the user, once, that their DMs are closed;
    from then on notifications are queued for them again.
    """
    stmt = (
        update(UserPref)
        .where(UserPref.user_id == user_id, UserPref.dms_closed_at.is_not(None))
        .values(dms_closed_at=None, updated_at=utc_now())
        .returning(UserPref.user_id)
    )
    return (await session.execute(stmt)).first() is not None


async def remember_dm_channel(session: AsyncSession, user_id: int, channel_id: int) -> None:
    """Cache the user's DM channel id so a later DM costs one request."""
    await _upsert(session, user_id, dm_channel_id=channel_id)


async def mark_erased(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Leave the marker of an erased member: their reactions count nothing afterwards."""
    await _upsert(session, user_id, erased_at=now)


async def is_erased(session: AsyncSession, user_id: int) -> bool:
    stmt = select(UserPref.erased_at).where(UserPref.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def erased_among(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """The users among ``user_ids`` who erased their data."""
    ids = set(user_ids)
    if not ids:
        return set()
    stmt = select(UserPref.user_id).where(
        among(session, UserPref.user_id, ids), UserPref.erased_at.is_not(None)
    )
    return set((await session.execute(stmt)).scalars())


async def unreachable_among(session: AsyncSession, user_ids: Iterable[int]) -> set[int]:
    """The users among ``user_ids`` to queue no DM for: notifications off, DMs closed, erased
    (and ``ERASED_AUTHOR_ID``, the author of an erased member's posts)."""
    ids = set(user_ids)
    nobody = ids & {ERASED_AUTHOR_ID}
    ids -= nobody
    if not ids:
        return nobody
    stmt = select(UserPref.user_id).where(
        UserPref.user_id.in_(ids),
        (UserPref.notifications.is_(False))
        | UserPref.dms_closed_at.is_not(None)
        | UserPref.erased_at.is_not(None),
    )
    return set((await session.execute(stmt)).scalars()) | nobody


async def _live_question(
    session: AsyncSession, guild_id: int, given: ColumnElement[bool], missing: str = QUESTION_GONE
) -> Post:
    """The guild's question (not deleted) that ``given`` picks by its id or by its thread;
    ``NotFound(missing)`` otherwise."""
    stmt = select(Post).where(
        given,
        Post.guild_id == guild_id,
        Post.kind == "question",
        Post.deleted_at.is_(None),
        Post.removed_at.is_(None),
    )
    question = (await session.execute(stmt)).scalars().first()
    if question is None:
        raise NotFound(missing)
    return question


async def follow(session: AsyncSession, *, guild_id: int, question_id: int, user_id: int) -> bool:
    """Follow a question (new answers DM the follower). True if newly followed; idempotent."""
    await _live_question(session, guild_id, Post.id == question_id)
    stmt = (
        insert(session, Follow)
        .values(question_id=question_id, user_id=user_id, guild_id=guild_id, created_at=utc_now())
        .on_conflict_do_nothing(index_elements=[Follow.question_id, Follow.user_id])
        .returning(Follow.user_id)
    )
    return (await session.execute(stmt)).first() is not None


async def unfollow(session: AsyncSession, *, guild_id: int, question_id: int, user_id: int) -> bool:
    """Stop following a question. True if a follow was removed; idempotent.

    The asker follows their own question implicitly and cannot unfollow it (``InvalidState``
    says how to stop all DMs instead).
    """
    question = await _live_question(session, guild_id, Post.id == question_id)
    if question.author_id == user_id:
        raise InvalidState(ASKER_FOLLOWS)
    stmt = (
        delete(Follow)
        .where(Follow.question_id == question_id, Follow.user_id == user_id)
        .returning(Follow.user_id)
    )
    return (await session.execute(stmt)).first() is not None


async def is_following(session: AsyncSession, *, question_id: int, user_id: int) -> bool:
    """Whether the user hears about new answers to the question (the asker always does)."""
    return user_id in await followers(session, question_id)


async def followers(session: AsyncSession, question_id: int) -> list[int]:
    """Everyone following the question, the asker (an implicit follower) included, sorted.

    A deleted or unknown question has no followers.
    """
    asker = (
        await session.execute(
            select(Post.author_id).where(
                Post.id == question_id, Post.kind == "question", Post.deleted_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if asker is None:
        return []
    rows = await session.execute(select(Follow.user_id).where(Follow.question_id == question_id))
    return sorted({asker, *rows.scalars()})


async def followers_of(session: AsyncSession, askers: Mapping[int, int]) -> dict[int, list[int]]:
    """``followers`` of many undeleted questions at once (``askers``: question id -> asker)."""
    follows: dict[int, set[int]] = {qid: {asker} for qid, asker in askers.items()}
    rows = await session.execute(
        select(Follow.question_id, Follow.user_id).where(Follow.question_id.in_(askers))
    )
    for question_id, user_id in rows:
        follows[question_id].add(user_id)
    return {qid: sorted(users) for qid, users in follows.items()}


@dataclass(frozen=True, slots=True)
class FollowResult:
    """The outcome of /follow or /unfollow in a question's thread."""

    question_id: int
    #: Whether the user hears about new answers now.
    following: bool
    #: Whether this call changed it.
    changed: bool
    #: The user asked the question (an implicit follower who cannot unfollow).
    asker: bool
    #: Whether the user's DM notifications are on (off: following sends nothing).
    notifications: bool


async def set_following(
    session: AsyncSession, *, guild_id: int, thread_id: int, user_id: int, following: bool
) -> FollowResult:
    """Follow or unfollow the question of a thread (``NotFound`` outside one).

    The asker already follows (nothing is stored) and cannot unfollow (``InvalidState``).
    """
    question = await _live_question(
        session, guild_id, Post.thread_id == thread_id, NOT_A_QUESTION_THREAD
    )
    question_id = question.id
    asker = question.author_id == user_id
    if asker:
        if not following:
            raise InvalidState(ASKER_FOLLOWS)
        changed = False
    elif following:
        changed = await follow(session, guild_id=guild_id, question_id=question_id, user_id=user_id)
    else:
        changed = await unfollow(
            session, guild_id=guild_id, question_id=question_id, user_id=user_id
        )
    notifications = (await get_prefs(session, user_id)).notifications
    return FollowResult(
        question_id=question_id,
        following=following,
        changed=changed,
        asker=asker,
        notifications=notifications,
    )
