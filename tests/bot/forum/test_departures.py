"""A member banned from a server or gone from it: follows there end, waiting DMs about it are
cancelled, everything else (other servers, other members, what was sent) stays."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Follow
from bot.forum import departures, notifications, prefs
from tests.bot.forum.outbox_support import (
    ASKER,
    GUILD,
    NOW,
    add_question,
    add_reply,
    claim,
    outbox_rows,
)

OTHER_GUILD = GUILD + 1
GONE = 1001
STAYS = 1002


async def follows(session: AsyncSession) -> set[tuple[int, int]]:
    rows = await session.execute(select(Follow.guild_id, Follow.user_id))
    return {(row.guild_id, row.user_id) for row in rows}


async def test_follows_end_and_waiting_notifications_are_cancelled_in_that_server_only(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        here = await add_question(session)
        there = await add_question(session, guild_id=OTHER_GUILD)
        for question in (here, there):
            for user in (GONE, STAYS):
                await prefs.follow(
                    session, guild_id=question.guild_id, question_id=question.id, user_id=user
                )
        first = await add_reply(session, here)
        await notifications.notify_new_answer(session, question=here, answer=first, now=NOW)
        await notifications.notify_new_answer(
            session, question=there, answer=await add_reply(session, there), now=NOW
        )
    async with sessionmaker.begin() as session:
        # The member's DMs are in a worker's hands (``sending``): the one here is dropped too,
        # the one about the other server is not.
        claimed = [i for i in await claim(session, NOW) if i.recipient_id == GONE]
        assert {i.guild_id for i in claimed} == {GUILD, OTHER_GUILD}
    async with sessionmaker.begin() as session:
        later = await add_reply(session, here)
        await notifications.notify_new_answer(
            session, question=here, answer=later, now=NOW + timedelta(minutes=5)
        )
    async with sessionmaker.begin() as session:
        ended = await departures.end_membership(
            session, guild_id=GUILD, user_id=GONE, reason=departures.BANNED, now=NOW
        )
    assert ended == departures.MembershipEnded(follows_ended=1, notifications_dropped=2)
    async with sessionmaker.begin() as session:
        assert await follows(session) == {
            (GUILD, STAYS),
            (OTHER_GUILD, GONE),
            (OTHER_GUILD, STAYS),
        }
        rows = await outbox_rows(session)
        gone_here = [r for r in rows if r.recipient_id == GONE and r.guild_id == GUILD]
        assert [(r.status, r.last_error) for r in gone_here] == [
            ("cancelled", departures.BANNED)
        ] * 2
        assert all(r.claimed_until is None for r in gone_here)
        others = [r for r in rows if r not in gone_here]
        assert {r.recipient_id for r in others} == {ASKER, GONE, STAYS}
        assert all(r.status in ("pending", "sending") for r in others)
        # A repeat (a replayed ban, a second worker finding the departure) changes nothing.
        again = await departures.end_membership(
            session, guild_id=GUILD, user_id=GONE, reason=departures.LEFT, now=NOW
        )
        assert again == departures.MembershipEnded(follows_ended=0, notifications_dropped=0)
        assert {r.last_error for r in await outbox_rows(session) if r in gone_here} == {
            departures.BANNED
        }


async def test_a_sent_dm_stays_sent(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        question = await add_question(session)
        answer = await add_reply(session, question)
        await notifications.notify_new_answer(session, question=question, answer=answer, now=NOW)
        [row] = await outbox_rows(session)
        row.status = "sent"
    async with sessionmaker.begin() as session:
        ended = await departures.end_membership(
            session, guild_id=GUILD, user_id=ASKER, reason=departures.LEFT, now=NOW
        )
        assert ended.notifications_dropped == 0
        assert [r.status for r in await outbox_rows(session)] == ["sent"]
