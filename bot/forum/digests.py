"""The weekly community-health digest's schedule: which servers want one now, and the claim
that makes it once a week across restarts.

A server wants its digest when ``stats_digest`` is on, it has a moderator channel, and its last
digest (``stats_digest_posted_at``, seconds since 1970, kept by the bot) is at least a week old
or there was none. ``claim_digest`` stores ``now`` as the last digest before the bot posts it,
in the same transaction as the check, so two passes never both post; a digest that could not
be posted gives its claim back (``release_digest``) and the next daily pass tries again.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import GuildSetting
from bot.forum.settings import load_config, set_setting

EVERY: Final = timedelta(days=7)
_POSTED: Final = "stats_digest_posted_at"


async def digest_guilds(session: AsyncSession, *, served: Collection[int]) -> list[int]:
    """The servers among ``served`` (those this process runs) with the digest turned on."""
    rows = await session.execute(
        select(GuildSetting.guild_id).where(
            GuildSetting.key == "stats_digest", GuildSetting.value == json.dumps(True)
        )
    )
    wanted = {int(guild_id) for (guild_id,) in rows}
    return sorted(wanted & set(served))


def _due(posted_at: int | None, now: datetime) -> bool:
    if posted_at is None:
        return True
    return now - datetime.fromtimestamp(posted_at, UTC) >= EVERY


async def claim_digest(
    session: AsyncSession, *, guild_id: int, now: datetime
) -> tuple[int, int | None] | None:
    """Claim this week's digest of ``guild_id``: its moderator channel and the previous claim
    (to give back), or None when it is off, has no channel, or is not due."""
    config = await load_config(session, guild_id)
    channel_id = config.mod_channel_id
    if not config.stats_digest or channel_id is None:
        return None
    previous = config.stats_digest_posted_at
    if not _due(previous, now):
        return None
    await set_setting(session, guild_id, _POSTED, int(now.timestamp()))
    return channel_id, previous


async def release_digest(
    session: AsyncSession, *, guild_id: int, claimed: datetime, previous: int | None
) -> None:
    """Give back a claim whose digest was not posted (unless a later claim replaced it)."""
    config = await load_config(session, guild_id)
    if config.stats_digest_posted_at == int(claimed.timestamp()):
        await set_setting(session, guild_id, _POSTED, previous)
