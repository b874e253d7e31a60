"""The audit trail: entries stored in order, paged newest first, unknown actions refused."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import audit

GUILD = 1001
OTHER_GUILD = 1002
MOD = 501


async def test_entries_page_newest_first_and_stay_in_their_guild(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        ids = [
            await audit.record(session, GUILD, MOD, "remove", post_id=n, detail=f"reason {n}")
            for n in range(1, 6)
        ]
        await audit.record(session, OTHER_GUILD, MOD, "dismiss", post_id=99)
    async with sessionmaker() as session:
        first = await audit.page(session, GUILD, per_page=2)
        assert [e.post_id for e in first.entries] == [5, 4]
        assert (first.number, first.pages, first.total) == (1, 3, 5)
        second = await audit.page(session, GUILD, number=2, per_page=2)
        assert [e.post_id for e in second.entries] == [3, 2]
        last = await audit.page(session, GUILD, number=9, per_page=2)  # clamped
        assert last.number == 3
        assert [(e.post_id, e.detail, e.action) for e in last.entries] == [
            (1, "reason 1", "remove")
        ]
        assert ids == sorted(ids)
        other = await audit.page(session, OTHER_GUILD)
        assert [(e.action, e.post_id) for e in other.entries] == [("dismiss", 99)]
        empty = await audit.page(session, 4242)
        assert (empty.entries, empty.number, empty.pages, empty.total) == ((), 1, 1, 0)


async def test_an_unknown_action_is_refused_and_a_long_detail_is_bounded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        with pytest.raises(ValueError):
            await audit.record(session, GUILD, MOD, "unmask")  # type: ignore[arg-type]
        await audit.record(session, GUILD, MOD, "setting", detail="x" * 5000)
    async with sessionmaker() as session:
        (entry,) = (await audit.page(session, GUILD)).entries
        assert len(entry.detail) == audit.DETAIL_LIMIT
