"""Retention sweeps (``bot.forum.retention``): each removes exactly what it should, rows just
inside the window stay, a server's own setting wins over the default; a departed server is
purged whole after its retention and restored untouched when the bot returns earlier."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import AskDraft, DepartedGuild, Notification, Post, Vote
from bot.forum import drafts, prefs, retention, settings
from bot.forum.questions import AskedQuestion
from bot.forum.uow import run_in_transaction
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, NOW, VOTER, Forum

OTHER_GUILD = GUILD + 1
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
keys = itertools.count(1)


def notification(
    guild_id: int, status: str, finished: datetime, *, sent: bool = False
) -> Notification:
    """A notification of ``status`` whose last attempt (``sent``: its send) was ``finished``."""
    return Notification(
        guild_id=guild_id,
        recipient_id=ASKER,
        kind="new_answer",
        dedupe_key=f"test:{next(keys)}",
        status=status,
        next_attempt_at=finished,
        sent_at=finished if sent else None,
        created_at=finished - timedelta(hours=1),
    )


async def left_ids(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> set[int]:
    async with sessionmaker() as session:
        return set((await session.execute(select(model.id))).scalars())  # type: ignore[attr-defined]


async def set_setting(
    sessionmaker: async_sessionmaker[AsyncSession], guild_id: int, key: str, value: int
) -> None:
    await run_in_transaction(sessionmaker, lambda s: settings.set_setting(s, guild_id, key, value))


async def test_finished_notifications_go_after_their_servers_retention(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await set_setting(sessionmaker, OTHER_GUILD, "notification_retention_days", 7)
    old, inside = NOW - 30 * DAY - MINUTE, NOW - 30 * DAY + MINUTE
    rows = {
        "sent old": notification(GUILD, "sent", old, sent=True),
        "failed old": notification(GUILD, "failed", old),
        "undeliverable old": notification(GUILD, "undeliverable", old),
        "cancelled old": notification(GUILD, "cancelled", old),
        "sent inside": notification(GUILD, "sent", inside, sent=True),
        "cancelled inside": notification(GUILD, "cancelled", inside),
        "pending old": notification(GUILD, "pending", old),
        "sending old": notification(GUILD, "sending", old),
        "sent a week ago": notification(GUILD, "sent", NOW - 8 * DAY, sent=True),
        "other: sent a week ago": notification(OTHER_GUILD, "sent", NOW - 8 * DAY, sent=True),
        "other: sent 6 days ago": notification(OTHER_GUILD, "sent", NOW - 6 * DAY, sent=True),
    }
    async with sessionmaker.begin() as session:
        session.add_all(rows.values())
    purged = await run_in_transaction(
        sessionmaker, lambda s: retention.purge_notifications(s, now=NOW)
    )
    gone = {
        "sent old",
        "failed old",
        "undeliverable old",
        "cancelled old",
        "other: sent a week ago",
    }
    assert purged == len(gone)
    left = await left_ids(sessionmaker, Notification)
    assert left == {row.id for name, row in rows.items() if name not in gone}
    # A second sweep finds nothing more.
    assert (
        await run_in_transaction(sessionmaker, lambda s: retention.purge_notifications(s, now=NOW))
        == 0
    )


async def test_drafts_go_a_day_after_they_expired_or_were_used(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await set_setting(sessionmaker, OTHER_GUILD, "draft_retention_hours", 48)

    async def hold(guild_id: int, at: datetime, ttl: timedelta = drafts.DRAFT_TTL) -> int:
        draft = await run_in_transaction(
            sessionmaker,
            lambda s: drafts.create_draft(
                s, guild_id=guild_id, user_id=ASKER, asked=AskedQuestion("Held"), now=at, ttl=ttl
            ),
        )
        return draft.id

    ttl = drafts.DRAFT_TTL
    expired_old = await hold(GUILD, NOW - DAY - ttl - MINUTE)
    expired_inside = await hold(GUILD, NOW - DAY - ttl + MINUTE)
    used_old = await hold(GUILD, NOW - 2 * DAY, ttl=timedelta(days=5))
    await run_in_transaction(
        sessionmaker,
        lambda s: drafts.consume_draft(s, draft_id=used_old, user_id=ASKER, now=NOW - DAY - MINUTE),
    )
    waiting = await hold(GUILD, NOW)
    other_kept = await hold(OTHER_GUILD, NOW - 2 * DAY - ttl + MINUTE)
    other_old = await hold(OTHER_GUILD, NOW - 2 * DAY - ttl - MINUTE)
    purged = await run_in_transaction(sessionmaker, lambda s: retention.purge_drafts(s, now=NOW))
    assert purged == 3
    assert await left_ids(sessionmaker, AskDraft) == {expired_inside, waiting, other_kept}
    assert not {expired_old, used_old, other_old} & await left_ids(sessionmaker, AskDraft)


async def rows_of(sessionmaker: async_sessionmaker[AsyncSession], guild_id: int) -> int:
    """How many rows, in every table with a ``guild_id``, belong to ``guild_id``."""
    total = 0
    async with sessionmaker() as session:
        for table in retention.GUILD_TABLES:
            count = select(func.count()).select_from(table).where(table.c.guild_id == guild_id)
            total += int((await session.execute(count)).scalar_one())
    return total


async def populate(sessionmaker: async_sessionmaker[AsyncSession], guild_id: int) -> Forum:
    """A server with a question, an answer, a vote, members, settings, a follow and a DM."""
    forum = Forum(sessionmaker, guild_id, first_id=guild_id * 1000)
    question = await forum.ask()
    answer = await forum.answer(question)
    await forum.vote(answer, VOTER)
    await set_setting(sessionmaker, guild_id, "min_answer_length", 5)
    await forum.run(
        lambda s: prefs.follow(s, guild_id=guild_id, question_id=question.id, user_id=ANSWERER)
    )
    return forum


async def departed(sessionmaker: async_sessionmaker[AsyncSession]) -> set[int]:
    async with sessionmaker() as session:
        return set((await session.execute(select(DepartedGuild.guild_id))).scalars())


async def test_a_departed_server_is_purged_whole_after_30_days_and_nothing_else(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await populate(sessionmaker, GUILD)
    await populate(sessionmaker, OTHER_GUILD)
    stayed = await rows_of(sessionmaker, OTHER_GUILD)
    assert await rows_of(sessionmaker, GUILD) > 5
    assert await run_in_transaction(
        sessionmaker, lambda s: retention.record_departure(s, guild_id=GUILD, now=NOW)
    )
    # A second removal (a repeated event) keeps the first date.
    assert not await run_in_transaction(
        sessionmaker,
        lambda s: retention.record_departure(s, guild_id=GUILD, now=NOW + 10 * DAY),
    )
    inside = NOW + 30 * DAY - MINUTE
    kept = await run_in_transaction(sessionmaker, lambda s: retention.purge_departed(s, now=inside))
    assert kept == retention.DepartedPurged(guilds=0, rows=0)
    before = await rows_of(sessionmaker, GUILD)
    later = NOW + 30 * DAY + MINUTE
    purged = await run_in_transaction(
        sessionmaker, lambda s: retention.purge_departed(s, now=later)
    )
    assert purged.guilds == 1
    assert 0 < purged.rows <= before  # rows a foreign key cascades to are not counted
    assert await rows_of(sessionmaker, GUILD) == 0
    assert await departed(sessionmaker) == set()
    assert await rows_of(sessionmaker, OTHER_GUILD) == stayed
    async with sessionmaker() as session:  # the other server's votes live with their posts
        votes = (await session.execute(select(Vote.guild_id))).scalars().all()
        posts = (await session.execute(select(Post.guild_id))).scalars().all()
    assert set(votes) == set(posts) == {OTHER_GUILD}


async def test_a_servers_own_retention_and_a_return_before_the_purge(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await populate(sessionmaker, GUILD)
    await set_setting(sessionmaker, GUILD, "departed_retention_days", 2)
    before = await rows_of(sessionmaker, GUILD)
    await run_in_transaction(
        sessionmaker, lambda s: retention.record_departure(s, guild_id=GUILD, now=NOW)
    )
    assert await run_in_transaction(
        sessionmaker, lambda s: retention.record_return(s, guild_id=GUILD)
    )
    assert not await run_in_transaction(
        sessionmaker, lambda s: retention.record_return(s, guild_id=GUILD)
    )
    later = NOW + 3 * DAY
    purged = await run_in_transaction(
        sessionmaker, lambda s: retention.purge_departed(s, now=later)
    )
    assert purged.guilds == 0
    assert await rows_of(sessionmaker, GUILD) == before
    # Gone again: its own two days apply.
    await run_in_transaction(
        sessionmaker, lambda s: retention.record_departure(s, guild_id=GUILD, now=NOW)
    )
    purged = await run_in_transaction(
        sessionmaker, lambda s: retention.purge_departed(s, now=later)
    )
    assert purged.guilds == 1
    assert await rows_of(sessionmaker, GUILD) == 0


async def test_a_shards_ready_records_its_missing_servers_and_forgets_returned_ones(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # Ids routed to shard 0 and shard 1 of 2 by Discord's formula.
    shard0 = [(n << 22) * 2 for n in (1, 2, 3)]
    shard1 = [(n << 22) * 2 + (1 << 22) for n in (1, 2)]
    for guild_id in (*shard0, *shard1):
        await set_setting(sessionmaker, guild_id, "min_answer_length", 5)
    await run_in_transaction(
        sessionmaker, lambda s: retention.record_departure(s, guild_id=shard0[2], now=NOW)
    )

    async def ready(present: list[int]) -> retention.ShardReconciled:
        return await run_in_transaction(
            sessionmaker,
            lambda s: retention.reconcile_shard(
                s, shard_id=0, shard_count=2, present=present, now=NOW
            ),
        )

    # shard0[1] is missing (removed while down), shard0[2] is back, shard 1 is not ours.
    assert await ready([shard0[0], shard0[2]]) == retention.ShardReconciled(departed=1, returned=1)
    assert await departed(sessionmaker) == {shard0[1]}
    assert await ready([shard0[0], shard0[2]]) == retention.ShardReconciled(departed=0, returned=0)
    assert await ready(shard0) == retention.ShardReconciled(departed=0, returned=1)
    assert await departed(sessionmaker) == set()
