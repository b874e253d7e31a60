"""The leaderboard, ranks and profiles read public points only; names are remembered."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Member
from bot.forum import leaderboard, prefs, settings
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, NOW, OTHER, SEEN, VOTER, Forum


async def test_an_empty_board_is_one_empty_page(forum: Forum) -> None:
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD, page=3))
    assert (page.entries, page.page, page.pages, page.total) == ((), 1, 1, 0)
    assert await forum.run(lambda s: leaderboard.rank_of(s, guild_id=GUILD, user_id=ASKER)) is None


async def test_members_are_ranked_by_public_points_shown_with_the_base(forum: Forum) -> None:
    q = await forum.ask(ASKER)  # asker 20
    a = await forum.answer(q, ANSWERER)  # answerer 40
    await forum.vote(a, VOTER)  # answerer 60
    await forum.answer(q, OTHER)  # other 40
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert [(e.rank, e.user_id, e.points) for e in page.entries] == [
        (1, ANSWERER, 160),
        (2, OTHER, 140),
        (3, ASKER, 120),
    ]
    # The voter earned nothing and has no public activity: not on the board.
    assert page.total == 3
    ranks = [
        await forum.run(lambda s, u=u: leaderboard.rank_of(s, guild_id=GUILD, user_id=u))
        for u in (ANSWERER, OTHER, ASKER, VOTER)
    ]
    assert ranks == [1, 2, 3, None]


async def test_ties_share_a_rank_and_are_listed_by_user_id(forum: Forum) -> None:
    q = await forum.ask(ASKER)
    for user in (300, 200, 100):
        await forum.answer(q, user)
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert [(e.rank, e.user_id) for e in page.entries] == [(1, 100), (1, 200), (1, 300), (4, ASKER)]
    assert await forum.run(lambda s: leaderboard.rank_of(s, guild_id=GUILD, user_id=300)) == 1
    assert await forum.run(lambda s: leaderboard.rank_of(s, guild_id=GUILD, user_id=ASKER)) == 4


async def test_pages_and_a_page_past_the_end_is_clamped(forum: Forum) -> None:
    q = await forum.ask(ASKER)
    answers = [await forum.answer(q, 1000 + i) for i in range(11)]
    # Distinct points: answer i gets i up votes (voters 5000+).
    for i, answer in enumerate(answers):
        for v in range(i):
            await forum.vote(answer, 5000 + v)
    first = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD, per_page=5))
    assert (first.page, first.pages, first.total, len(first.entries)) == (1, 3, 12, 5)
    assert [e.user_id for e in first.entries] == [1010, 1009, 1008, 1007, 1006]
    second = await forum.run(
        lambda s: leaderboard.top_members(s, guild_id=GUILD, page=2, per_page=5)
    )
    assert [e.rank for e in second.entries] == list(range(6, 11))
    last = await forum.run(
        lambda s: leaderboard.top_members(s, guild_id=GUILD, page=99, per_page=5)
    )
    assert last.page == 3 and [e.user_id for e in last.entries] == [1000, ASKER]
    default = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert leaderboard.PER_PAGE == 10
    assert (default.pages, len(default.entries)) == (2, 10)
    with pytest.raises(ValueError):
        await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD, per_page=0))


async def test_anonymous_activity_puts_nobody_on_the_board(forum: Forum) -> None:
    q = await forum.ask(ASKER, anonymous=True)
    a = await forum.answer(q, ANSWERER, anonymous=True)
    await forum.vote(a, VOTER)
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert page.entries == () and page.total == 0
    shown = await forum.run(
        lambda s: leaderboard.profile(s, guild_id=GUILD, user_id=ANSWERER, visible=SEEN)
    )
    # Public points only; what the anonymous answer earned is kept apart.
    assert (shown.points, shown.rank, shown.stats.anon_points, shown.stats.answers) == (
        100,
        None,
        60,
        0,
    )


async def test_a_profile_counts_public_activity(forum: Forum) -> None:
    q = await forum.ask(ASKER)
    a = await forum.answer(q, ANSWERER)
    await forum.vote(a, VOTER)
    await forum.vote(a, OTHER, "down")
    await forum.accept(a)
    shown = await forum.run(
        lambda s: leaderboard.profile(s, guild_id=GUILD, user_id=ANSWERER, visible=SEEN)
    )
    stats = shown.stats
    assert shown.points == 100 + 40 + 20 - 20 + 300
    assert (stats.answers, stats.accepted_answers) == (1, 1)
    assert (stats.upvotes_received, stats.downvotes_received) == (1, 1)
    assert shown.rank == 1
    nobody = await forum.run(
        lambda s: leaderboard.profile(s, guild_id=GUILD, user_id=777, visible=SEEN)
    )
    assert (nobody.points, nobody.rank, nobody.display_name) == (100, None, None)


async def test_points_base_is_a_guild_setting(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        await settings.set_setting(s, GUILD, "points_base", 0)
    await forum.ask(ASKER)
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert [e.points for e in page.entries] == [20]


async def test_display_names_are_remembered_and_updated(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await forum.ask(ASKER)
    await forum.run(
        lambda s: leaderboard.remember_display_names(
            s, guild_id=GUILD, names={ASKER: "  Ada \n Lovelace ", VOTER: "Vera"}, now=NOW
        )
    )
    page = await forum.run(lambda s: leaderboard.top_members(s, guild_id=GUILD))
    assert [(e.user_id, e.display_name) for e in page.entries] == [(ASKER, "Ada Lovelace")]
    again = await forum.run(
        lambda s: leaderboard.top_members(s, guild_id=GUILD, seen_names={ASKER: "Ada"})
    )
    assert again.entries[0].display_name == "Ada"
    # A name alone does not put anyone on the board, and blank names are not stored.
    assert again.total == 1
    await forum.run(
        lambda s: leaderboard.remember_display_names(s, guild_id=GUILD, names={ASKER: " \u200b "})
    )
    names = await forum.run(
        lambda s: leaderboard.display_names(s, guild_id=GUILD, user_ids=[ASKER, VOTER, OTHER])
    )
    assert names == {ASKER: "Ada", VOTER: "Vera"}
    await forum.check()


async def test_names_of_erased_members_are_not_stored(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as s, s.begin():
        await prefs.mark_erased(s, OTHER, NOW)
    await forum.run(
        lambda s: leaderboard.profile(
            s, guild_id=GUILD, user_id=OTHER, visible=SEEN, seen_names={OTHER: "Os"}
        )
    )
    async with sessionmaker() as s:
        assert (await s.execute(select(Member).where(Member.user_id == OTHER))).first() is None


async def test_a_long_name_is_cut_to_the_column(forum: Forum) -> None:
    await forum.run(
        lambda s: leaderboard.remember_display_names(s, guild_id=GUILD, names={VOTER: "x" * 300})
    )
    names = await forum.run(
        lambda s: leaderboard.display_names(s, guild_id=GUILD, user_ids=[VOTER])
    )
    assert names == {VOTER: "x" * leaderboard.DISPLAY_NAME_MAX}
