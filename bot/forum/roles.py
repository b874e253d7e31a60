"""Point roles: Discord roles members hold while their points reach a threshold.

Q2A's levels and Stack Exchange's privileges in Discord form: a guild maps thresholds to roles
(e.g. "Helper" at 500 points); a member holds every mapped role whose threshold their points
reach, and loses it when their points fall below. Points are compared as members see them
(the guild's ``points_base`` plus their *public* points): what anonymous posts earned never
gives a role, since a role is public (DESIGN.md section 5).

The mapping is stored as one guild setting, ``point_roles``: a JSON object
``{"<threshold>": "<role id>"}`` (ids as strings, so no JSON reader rounds them). One role per
threshold and one threshold per role; it is not one of the typed ``GuildConfig`` keys (those
are scalars), so ``/qa settings`` does not list it and ``bot.forum.settings`` ignores the row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import GuildSetting, Member
from bot.forum.errors import NotFound, ValidationError
from bot.forum.leaderboard import on_the_board
from bot.forum.settings import load_config

log = logging.getLogger(__name__)

SETTING_KEY: Final = "point_roles"
MAX_POINT_ROLES: Final = 20
THRESHOLD_MAX: Final = 1_000_000_000


@dataclass(frozen=True, slots=True, order=True)
class PointRole:
    """Members whose points (as shown) are at least ``threshold`` hold ``role_id``."""

    threshold: int
    role_id: int


def roles_for_points(roles: Iterable[PointRole], points: int) -> frozenset[int]:
    """The role ids a member with ``points`` (as shown: base included) should hold."""
    return frozenset(r.role_id for r in roles if points >= r.threshold)


def managed_role_ids(roles: Iterable[PointRole]) -> frozenset[int]:
    """Every role the bot gives and takes by points."""
    return frozenset(r.role_id for r in roles)


def _decode(raw: str) -> list[PointRole]:
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("ignoring an unreadable %s setting", SETTING_KEY)
        return []
    if not isinstance(data, dict):
        log.warning("ignoring a %s setting that is not an object", SETTING_KEY)
        return []
    roles: dict[int, PointRole] = {}
    for key, value in data.items():
        try:
            threshold, role_id = int(key), int(value)
        except (TypeError, ValueError):
            log.warning("ignoring an invalid entry of the %s setting", SETTING_KEY)
            continue
        if not 0 <= threshold <= THRESHOLD_MAX or role_id < 1:
            log.warning("ignoring an out-of-range entry of the %s setting", SETTING_KEY)
            continue
        # One threshold per role: a (hand-edited) duplicate keeps the lowest threshold.
        if role_id not in roles or threshold < roles[role_id].threshold:
            roles[role_id] = PointRole(threshold, role_id)
    return sorted(roles.values())


def _encode(roles: Iterable[PointRole]) -> str:
    return json.dumps({str(r.threshold): str(r.role_id) for r in sorted(roles)})


async def point_roles(session: AsyncSession, guild_id: int) -> list[PointRole]:
    """The guild's point roles, lowest threshold first."""
    raw = (
        await session.execute(
            select(GuildSetting.value).where(
                GuildSetting.guild_id == guild_id, GuildSetting.key == SETTING_KEY
            )
        )
    ).scalar_one_or_none()
    return [] if raw is None else _decode(raw)


async def _store(session: AsyncSession, guild_id: int, roles: list[PointRole]) -> None:
    if not roles:
        await session.execute(
            delete(GuildSetting).where(
                GuildSetting.guild_id == guild_id, GuildSetting.key == SETTING_KEY
            )
        )
        return
    encoded = _encode(roles)
    now = utc_now()
    stmt: Any = insert(session, GuildSetting).values(
        guild_id=guild_id, key=SETTING_KEY, value=encoded, updated_at=now
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[GuildSetting.guild_id, GuildSetting.key],
            set_={"value": encoded, "updated_at": now},
        )
    )


def validate_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise ValidationError("The points threshold must be a whole number.")
    if not 0 <= threshold <= THRESHOLD_MAX:
        raise ValidationError(f"The points threshold must be between 0 and {THRESHOLD_MAX:,}.")
    return threshold


async def set_point_role(
    session: AsyncSession, guild_id: int, threshold: int, role_id: int
) -> list[PointRole]:
    """Members reaching ``threshold`` points (as shown) get ``role_id``; returns every mapping.

    A role already mapped moves to the new threshold; a threshold already used by another role
    now gives this role instead. The @everyone role (whose id is the guild's) is refused, and a
    guild has at most ``MAX_POINT_ROLES``.
    """
    threshold = validate_threshold(threshold)
    if role_id == guild_id:
        raise ValidationError("The @everyone role cannot be a point role.")
    if role_id < 1:
        raise ValidationError("That is not a role.")
    current = await point_roles(session, guild_id)
    kept = [r for r in current if r.role_id != role_id and r.threshold != threshold]
    if len(kept) >= MAX_POINT_ROLES:
        raise ValidationError(
            f"A server can have at most {MAX_POINT_ROLES} point roles: remove one first."
        )
    updated = sorted([*kept, PointRole(threshold, role_id)])
    await _store(session, guild_id, updated)
    log.info("point role %s set at %d in guild %s", role_id, threshold, guild_id)
    return updated


@dataclass(frozen=True, slots=True)
class PointRoleAdded:
    """``/qa roles add``: every mapping now, and the members who reach the new threshold."""

    mapping: list[PointRole]
    reaching: list[int]


async def add_point_role(
    session: AsyncSession, guild_id: int, threshold: int, role_id: int
) -> PointRoleAdded:
    """``set_point_role``, and the members whose points reach the role already (they are to be
    given it now rather than at their next change of points)."""
    mapping = await set_point_role(session, guild_id, threshold, role_id)
    reaching = await members_reaching(session, guild_id=guild_id, threshold=threshold)
    return PointRoleAdded(mapping, reaching)


async def remove_point_role(session: AsyncSession, guild_id: int, role_id: int) -> list[PointRole]:
    """Stop giving and taking ``role_id`` by points; returns the remaining mappings.

    Members keep the role as it is: it is simply no longer managed.
    """
    current = await point_roles(session, guild_id)
    remaining = [r for r in current if r.role_id != role_id]
    if len(remaining) == len(current):
        raise NotFound("That role is not a point role.")
    await _store(session, guild_id, remaining)
    log.info("point role %s removed in guild %s", role_id, guild_id)
    return remaining


async def forget_role(session: AsyncSession, guild_id: int, role_id: int) -> bool:
    """Drop a mapping whose role no longer exists in Discord; False when it was not mapped."""
    current = await point_roles(session, guild_id)
    remaining = [r for r in current if r.role_id != role_id]
    if len(remaining) == len(current):
        return False
    await _store(session, guild_id, remaining)
    log.info("deleted role %s dropped from the point roles of guild %s", role_id, guild_id)
    return True


@dataclass(frozen=True, slots=True)
class MemberRoles:
    """What a member should hold: ``wanted`` among the guild's ``managed`` point roles."""

    user_id: int
    points: int
    wanted: frozenset[int]
    managed: frozenset[int]


async def roles_of_member(session: AsyncSession, *, guild_id: int, user_id: int) -> MemberRoles:
    """The point roles a member should hold now, by their public points as shown."""
    roles = await point_roles(session, guild_id)
    config = await load_config(session, guild_id)
    earned = (
        await session.execute(
            select(Member.points).where(Member.guild_id == guild_id, Member.user_id == user_id)
        )
    ).scalar_one_or_none()
    points = config.points_shown(earned or 0)
    return MemberRoles(
        user_id=user_id,
        points=points,
        wanted=roles_for_points(roles, points),
        managed=managed_role_ids(roles),
    )


async def members_reaching(session: AsyncSession, *, guild_id: int, threshold: int) -> list[int]:
    """Members on the board whose points (as shown) reach ``threshold`` (to hand out a role
    just mapped), by user id."""
    config = await load_config(session, guild_id)
    earned_at_least = threshold - config.points_base
    rows = await session.execute(
        select(Member.user_id)
        .where(Member.guild_id == guild_id, on_the_board(), Member.points >= earned_at_least)
        .order_by(Member.user_id)
    )
    return list(rows.scalars())
