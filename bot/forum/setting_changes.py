"""A server manager changes a setting (``/qa settings set`` and ``/qa settings reset``).

What they typed is parsed and stored by ``bot.forum.settings``; when the change moves a point
rule, the guild's cached points are rebuilt in the same transaction (``points.recompute_points``),
so the cache always equals a recomputation under the rules in force. This module sits above
both: the point rules read ``settings.GuildConfig``, and settings know nothing of points.
A change that moves a value is recorded in the audit trail (``setting``, the key as detail,
never the value).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.forum import audit
from bot.forum.points import recompute_points
from bot.forum.settings import (
    DEFAULTS,
    GuildConfig,
    check_public,
    load_config,
    parse_value,
    set_setting,
)


def affects_points(key: str) -> bool:
    """Whether changing ``key`` changes what members' cached points must be."""
    return key.startswith("points_") or "_cap_" in key or key == "question_voting"


async def set_from_text(
    session: AsyncSession, guild_id: int, key: str, raw: str, *, actor_id: int
) -> GuildConfig:
    """``/qa settings set`` by ``actor_id``: parse what a server manager typed and store it.

    Keys that ``/qa setup`` manages (the forum channel, the solved tag) are refused here.
    """
    check_public(key)
    return await _change(session, guild_id, key, parse_value(key, raw), actor_id)


async def reset_from_text(
    session: AsyncSession, guild_id: int, key: str, *, actor_id: int
) -> GuildConfig:
    """``/qa settings reset``: back to the default, checked like a ``set`` (keys /qa setup manages
    are refused, and so is a default that would clash, such as equal vote emoji)."""
    check_public(key)
    return await _change(session, guild_id, key, getattr(DEFAULTS, key), actor_id)


async def _change(
    session: AsyncSession, guild_id: int, key: str, value: object, actor_id: int
) -> GuildConfig:
    """Store ``value`` for ``key``; rebuild the cached points when a point rule moved; record
    a moved value in the audit trail."""
    before = await load_config(session, guild_id)
    after = await set_setting(session, guild_id, key, value)
    if getattr(before, key) == getattr(after, key):
        return after
    if affects_points(key):
        await recompute_points(session, guild_id)
    await audit.record(session, guild_id, actor_id, "setting", detail=key)
    return after
