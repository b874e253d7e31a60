"""The servers of a shard process (``bot.forum.shards``): ``ServerScope`` in Python and in SQL
agree on both backends, and the retention sweeps of a process touch only its servers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import DepartedGuild, Notification
from bot.forum import retention
from bot.forum.shards import ALL_SERVERS, ServerScope, shard_of
from bot.forum.uow import run_in_transaction
from tests.bot.forum.core_support import NOW
from tests.bot.forum.test_retention import left_ids, notification, set_setting

DAY = timedelta(days=1)
#: A snowflake's timestamp part of late 2026; even, so ``(BASE << 22) % 2 == 0``.
BASE = 290_000_000_000


def guild_on(shard: int, shard_count: int, n: int = 0) -> int:
    """A server id Discord routes to ``shard`` of ``shard_count``."""
    stamp = BASE + n * shard_count
    stamp += (shard - stamp) % shard_count
    return (stamp << 22) | (n % 4096)


SHARD0, SHARD1 = guild_on(0, 2), guild_on(1, 2)


def test_a_process_running_every_shard_owns_every_server() -> None:
    assert ServerScope.of(None, None) is ALL_SERVERS
    assert ServerScope.of(2, None) is ALL_SERVERS
    assert ServerScope.of(2, [1, 0]) is ALL_SERVERS
    assert ALL_SERVERS.everything and ALL_SERVERS.owns(SHARD0) and ALL_SERVERS.owns(SHARD1)
    only_one = ServerScope.of(2, [1])
    assert not only_one.everything
    assert only_one.owns(SHARD1) and not only_one.owns(SHARD0)
    assert [shard_of(SHARD0, 2), shard_of(SHARD1, 2)] == [0, 1]


async def test_the_sql_filter_picks_the_servers_owns_picks(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    guilds = [guild_on(shard, 3, n) for n in range(4) for shard in range(3)]
    guilds.append((1 << 63) - 1)  # the largest id a BIGINT holds
    async with sessionmaker.begin() as session:
        session.add_all(notification(g, "sent", NOW, sent=True) for g in guilds)
    for scope in (ServerScope.of(3, [0, 2]), ServerScope.of(3, [1]), ALL_SERVERS):

        async def picked(s: AsyncSession, scope: ServerScope = scope) -> set[int]:
            query = select(Notification.guild_id).where(scope.where(Notification.guild_id))
            return set((await s.execute(query)).scalars())

        assert await run_in_transaction(sessionmaker, picked) == {
            g for g in guilds if scope.owns(g)
        }


async def test_a_shard_process_sweeps_only_its_servers_notifications(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await set_setting(sessionmaker, SHARD1, "notification_retention_days", 7)
    rows = {
        "shard 0 old": notification(SHARD0, "sent", NOW - 31 * DAY, sent=True),
        "shard 1 old": notification(SHARD1, "sent", NOW - 31 * DAY, sent=True),
        "shard 1 past its own": notification(SHARD1, "sent", NOW - 8 * DAY, sent=True),
    }
    async with sessionmaker.begin() as session:
        session.add_all(rows.values())
    shard0, shard1 = ServerScope.of(2, [0]), ServerScope.of(2, [1])

    async def sweep(scope: ServerScope) -> int:
        return await run_in_transaction(
            sessionmaker, lambda s: retention.purge_notifications(s, now=NOW, scope=scope)
        )

    assert await sweep(shard0) == 1
    assert await left_ids(sessionmaker, Notification) == {
        rows["shard 1 old"].id,
        rows["shard 1 past its own"].id,
    }
    assert await sweep(shard1) == 2
    assert await left_ids(sessionmaker, Notification) == set()


async def test_a_shard_process_purges_only_its_departed_servers(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    for guild_id in (SHARD0, SHARD1):
        await run_in_transaction(
            sessionmaker,
            lambda s, g=guild_id: retention.record_departure(s, guild_id=g, now=NOW - 31 * DAY),
        )
    purged = await run_in_transaction(
        sessionmaker,
        lambda s: retention.purge_departed(s, now=NOW, scope=ServerScope.of(2, [1])),
    )
    assert purged.guilds == 1

    async def departed(s: AsyncSession) -> set[int]:
        return set((await s.execute(select(DepartedGuild.guild_id))).scalars())

    assert await run_in_transaction(sessionmaker, departed) == {SHARD0}
