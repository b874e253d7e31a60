"""Read paths over members' points: the leaderboard, a member's rank and profile, names.

Only *public* points and counters are read here (DESIGN.md section 5): what anonymous posts earned
(``anon_points``) ranks nobody and appears on no leaderboard. A member is *on the board* when
they have public activity - public points or any public counter other than zero - so a member
whose only activity is anonymous is not listed, ranked or counted (being listed would single
them out). Points are shown as the guild's ``points_base`` plus what was earned; ties share a
rank ("1, 2, 2, 4") and are listed by user id.

``members.display_name`` holds the name a member was last seen with, so the leaderboard can name
members without the privileged members intent; ``remember_display_names`` keeps it current.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import built_once, dialect_name, insert
from bot.db.models import Member
from bot.db.packed import fields, pack
from bot.forum import prefs
from bot.forum.listing import QuestionSummary, recent_questions
from bot.forum.paging import page_window
from bot.forum.points import get_member_points
from bot.forum.results import MemberPoints
from bot.forum.settings import load_config
from bot.forum.text_rules import has_visible
from bot.forum.visibility import VisibleForums

PER_PAGE: Final = 10
DISPLAY_NAME_MAX: Final = 100


def on_the_board() -> ColumnElement[bool]:
    """Members with public activity (public points or a public counter not zero); imported
    authors without a Discord account (synthetic ids, ``bot.forum.synthetic_ids``) are none."""
    return and_(
        Member.user_id > 0,
        or_(
            Member.points != 0,
            Member.questions != 0,
            Member.answers != 0,
            Member.accepted_answers != 0,
            Member.upvotes_received != 0,
            Member.downvotes_received != 0,
        ),
    )


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One line of the leaderboard; ``points`` as shown (the guild's base included)."""

    rank: int
    user_id: int
    points: int
    display_name: str | None


@dataclass(frozen=True, slots=True)
class LeaderboardPage:
    """Page ``page`` (from 1) of ``pages``; ``total`` members are on the board."""

    entries: tuple[LeaderboardEntry, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class Profile:
    """A member's public standing and counters.

    ``points`` is shown as a plain number (base + public points earned); ``rank`` is None while
    the member has no public activity. ``stats.anon_points`` is for the member's own eyes only.
    """

    stats: MemberPoints
    points: int
    points_base: int
    rank: int | None
    display_name: str | None
    # The member's newest named questions the reader can see, newest first.
    recent: tuple[QuestionSummary, ...] = ()


def _clean_name(name: str) -> str | None:
    cleaned = " ".join(name.split())[:DISPLAY_NAME_MAX]
    return cleaned if has_visible(cleaned) else None


async def remember_display_names(
    session: AsyncSession,
    *,
    guild_id: int,
    names: Mapping[int, str],
    now: datetime | None = None,
    erased: Collection[int] | None = None,
) -> None:
    """Store the display name each member was just seen with (a no-op when unchanged).

    Members who erased their data are skipped: nothing new is stored about them (``erased``:
    those among ``names``, when the caller has just read them).
    """
    now = now or utc_now()
    cleaned = {uid: name for uid, raw in names.items() if (name := _clean_name(raw)) is not None}
    if not cleaned:
        return
    if erased is None:
        erased = await prefs.erased_among(session, cleaned)
    rows = [
        {"guild_id": guild_id, "user_id": uid, "display_name": cleaned[uid], "updated_at": now}
        for uid in sorted(cleaned)
        if uid not in erased
    ]
    if not rows:
        return
    if dialect_name(session) == "sqlite":
        packed = pack((row["user_id"], row["display_name"]) for row in rows)
        await session.execute(
            _UPSERT_NAMES_PACKED, {"guild_id": guild_id, "rows": packed, "now": now}
        )
        return
    # The rows as parameters of one statement built and compiled once, not a ``values(rows)``
    # compiled anew for every count of names (a batch names many at once).
    await session.execute(built_once(session, _upsert_names), rows)


# SQLite: one step for all the names (``bot.db.packed``), not one per row of an
# ``executemany``: the vote and answer batches name many members at once in the writing thread,
# with the write lock held.
_UPSERT_NAMES_PACKED: Final = text(
    "INSERT INTO members (guild_id, user_id, display_name, updated_at)"
    f" SELECT :guild_id, {fields(2)}, :now FROM json_each(:rows) WHERE true"
    " ON CONFLICT (guild_id, user_id) DO UPDATE SET display_name = excluded.display_name"
    " WHERE members.display_name IS NULL OR members.display_name != excluded.display_name"
).bindparams(bindparam("now", type_=Member.__table__.c.updated_at.type))


def _upsert_names(session: AsyncSession) -> Any:
    stmt = insert(session, Member)
    return stmt.on_conflict_do_update(
        index_elements=[Member.guild_id, Member.user_id],
        set_={"display_name": stmt.excluded.display_name},
        where=or_(
            Member.display_name.is_(None),
            Member.display_name != stmt.excluded.display_name,
        ),
    )


async def unremembered_names(
    session: AsyncSession, *, guild_id: int, names: Mapping[int, str]
) -> dict[int, str]:
    """Of ``names``, those ``remember_display_names`` would store (cleaned, of members who did
    not erase their data, and unlike the stored name): a read, so a read path can tell whether
    it has a name to remember at all."""
    cleaned = {uid: name for uid, raw in names.items() if (name := _clean_name(raw)) is not None}
    if not cleaned:
        return {}
    erased = await prefs.erased_among(session, cleaned)
    stored = await display_names(session, guild_id=guild_id, user_ids=sorted(cleaned))
    return {
        uid: name for uid, name in cleaned.items() if uid not in erased and stored.get(uid) != name
    }


async def display_names(
    session: AsyncSession, *, guild_id: int, user_ids: list[int]
) -> dict[int, str]:
    """The last-seen display names of these members (those known)."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(Member.user_id, Member.display_name).where(
            Member.guild_id == guild_id,
            Member.user_id.in_(user_ids),
            Member.display_name.is_not(None),
        )
    )
    return {row.user_id: row.display_name for row in rows}


async def board_size(session: AsyncSession, *, guild_id: int) -> int:
    """How many members of the guild are on the board."""
    stmt = select(func.count()).where(Member.guild_id == guild_id, on_the_board())
    return int((await session.execute(stmt)).scalar_one())


async def rank_of(session: AsyncSession, *, guild_id: int, user_id: int) -> int | None:
    """The member's rank by public points (1 is the top), None when not on the board."""
    mine = (
        await session.execute(
            select(Member.points).where(
                Member.guild_id == guild_id, Member.user_id == user_id, on_the_board()
            )
        )
    ).scalar_one_or_none()
    if mine is None:
        return None
    above = select(func.count()).where(
        Member.guild_id == guild_id, on_the_board(), Member.points > mine
    )
    return int((await session.execute(above)).scalar_one()) + 1


async def top_members(
    session: AsyncSession,
    *,
    guild_id: int,
    page: int = 1,
    per_page: int = PER_PAGE,
    seen_names: Mapping[int, str] | None = None,
) -> LeaderboardPage:
    """One page of the guild's members by public points, best first.

    ``page`` is clamped to the pages there are. ``seen_names`` (member id -> the display name
    Discord just showed, e.g. the member asking) are remembered first.
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    if seen_names:
        await remember_display_names(session, guild_id=guild_id, names=seen_names)
    config = await load_config(session, guild_id)
    total = await board_size(session, guild_id=guild_id)
    window = page_window(total, page, per_page)
    ranked = (
        select(
            Member.user_id.label("user_id"),
            Member.points.label("points"),
            Member.display_name.label("display_name"),
            func.rank().over(order_by=Member.points.desc()).label("rank"),
        )
        .where(Member.guild_id == guild_id, on_the_board())
        .subquery()
    )
    rows: Any = await session.execute(
        select(ranked.c.user_id, ranked.c.points, ranked.c.display_name, ranked.c.rank)
        .order_by(ranked.c.points.desc(), ranked.c.user_id)
        .limit(window.limit)
        .offset(window.offset)
    )
    entries = tuple(
        LeaderboardEntry(
            rank=int(row.rank),
            user_id=row.user_id,
            points=config.points_shown(row.points),
            display_name=row.display_name,
        )
        for row in rows
    )
    return LeaderboardPage(entries=entries, page=window.number, pages=window.pages, total=total)


async def profile(
    session: AsyncSession,
    *,
    guild_id: int,
    user_id: int,
    visible: VisibleForums,
    seen_names: Mapping[int, str] | None = None,
) -> Profile:
    """A member's points (as shown), counters, rank, last-seen name, and newest questions in
    the forums the reader can see (``visible``).

    ``seen_names`` are remembered first (as for ``top_members``).
    """
    if seen_names:
        await remember_display_names(session, guild_id=guild_id, names=seen_names)
    config = await load_config(session, guild_id)
    stats = await get_member_points(session, guild_id=guild_id, user_id=user_id)
    names = await display_names(session, guild_id=guild_id, user_ids=[user_id])
    return Profile(
        stats=stats,
        points=config.points_shown(stats.points),
        points_base=config.points_base,
        rank=await rank_of(session, guild_id=guild_id, user_id=user_id),
        display_name=names.get(user_id),
        recent=tuple(
            await recent_questions(session, guild_id=guild_id, author_id=user_id, visible=visible)
        ),
    )
