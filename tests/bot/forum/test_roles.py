"""Point roles: the threshold -> role mapping, its validation, and who should hold what."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import GuildSetting
from bot.forum import roles, settings
from bot.forum.errors import NotFound, ValidationError
from bot.forum.roles import PointRole, roles_for_points
from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, VOTER, Forum

HELPER, EXPERT, GURU = 501, 502, 503


def test_roles_for_points_holds_every_threshold_reached() -> None:
    mapping = [PointRole(500, HELPER), PointRole(2000, EXPERT)]
    assert roles_for_points(mapping, 100) == frozenset()
    assert roles_for_points(mapping, 500) == {HELPER}
    assert roles_for_points(mapping, 1999) == {HELPER}
    assert roles_for_points(mapping, 5000) == {HELPER, EXPERT}
    assert roles_for_points([], 10**6) == frozenset()


async def test_set_show_move_and_remove(forum: Forum) -> None:
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == []
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 2000, EXPERT))
    shown = await forum.run(lambda s: roles.set_point_role(s, GUILD, 500, HELPER))
    assert shown == [PointRole(500, HELPER), PointRole(2000, EXPERT)]
    # The same role at another threshold moves; a used threshold now gives the new role.
    moved = await forum.run(lambda s: roles.set_point_role(s, GUILD, 800, HELPER))
    assert moved == [PointRole(800, HELPER), PointRole(2000, EXPERT)]
    replaced = await forum.run(lambda s: roles.set_point_role(s, GUILD, 2000, GURU))
    assert replaced == [PointRole(800, HELPER), PointRole(2000, GURU)]
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == replaced
    assert await forum.run(lambda s: roles.remove_point_role(s, GUILD, HELPER)) == [
        PointRole(2000, GURU)
    ]
    with pytest.raises(NotFound, match="not a point role"):
        await forum.run(lambda s: roles.remove_point_role(s, GUILD, HELPER))
    assert await forum.run(lambda s: roles.remove_point_role(s, GUILD, GURU)) == []


async def test_the_mapping_is_one_guild_setting_the_typed_settings_ignore(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 500, HELPER))
    async with sessionmaker() as s:
        row = (
            await s.execute(select(GuildSetting).where(GuildSetting.key == roles.SETTING_KEY))
        ).scalar_one()
        assert json.loads(row.value) == {"500": str(HELPER)}
        config = await settings.load_config(s, GUILD)
    assert config == settings.DEFAULTS
    await forum.run(lambda s: roles.remove_point_role(s, GUILD, HELPER))
    async with sessionmaker() as s:
        assert (await s.execute(select(GuildSetting))).first() is None
    # Another guild's mapping is its own.
    await forum.run(lambda s: roles.set_point_role(s, GUILD + 1, 10, HELPER))
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == []


@pytest.mark.parametrize(
    ("threshold", "role_id", "sentence"),
    [
        (-1, HELPER, "between 0 and"),
        (roles.THRESHOLD_MAX + 1, HELPER, "between 0 and"),
        (True, HELPER, "whole number"),
        (500, GUILD, "@everyone"),
        (500, 0, "not a role"),
    ],
)
async def test_bad_mappings_are_refused(
    forum: Forum, threshold: int, role_id: int, sentence: str
) -> None:
    with pytest.raises(ValidationError, match=sentence):
        await forum.run(lambda s: roles.set_point_role(s, GUILD, threshold, role_id))
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == []


async def test_at_most_twenty_point_roles(forum: Forum) -> None:
    for i in range(roles.MAX_POINT_ROLES):
        await forum.run(lambda s, i=i: roles.set_point_role(s, GUILD, 100 * (i + 1), 1000 + i))
    with pytest.raises(ValidationError, match="at most 20"):
        await forum.run(lambda s: roles.set_point_role(s, GUILD, 99_999, 9999))
    # Moving or replacing within the limit is still fine.
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 99_999, 1000))
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 200, 9999))
    assert len(await forum.run(lambda s: roles.point_roles(s, GUILD))) == roles.MAX_POINT_ROLES


async def test_a_damaged_setting_is_read_leniently(
    forum: Forum, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    raw = json.dumps({"500": str(HELPER), "x": "1", "700": "-4", "900": str(HELPER), "50": "7"})
    async with sessionmaker() as s, s.begin():
        s.add(GuildSetting(guild_id=GUILD, key=roles.SETTING_KEY, value=raw))
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == [
        PointRole(50, 7),
        PointRole(500, HELPER),
    ]
    async with sessionmaker() as s, s.begin():
        row = await s.get(GuildSetting, (GUILD, roles.SETTING_KEY))
        assert row is not None
        row.value = "not json"
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == []


async def test_roles_of_member_use_public_points_as_shown(forum: Forum) -> None:
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 150, HELPER))
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 100, EXPERT))
    q = await forum.ask(ASKER)  # 120
    a = await forum.answer(q, ANSWERER)  # 140
    await forum.vote(a, VOTER)  # 160
    anon = await forum.answer(q, VOTER, anonymous=True)  # anon only: public stays 100
    await forum.vote(anon, ASKER)
    got = {
        u: await forum.run(lambda s, u=u: roles.roles_of_member(s, guild_id=GUILD, user_id=u))
        for u in (ASKER, ANSWERER, VOTER)
    }
    assert got[ANSWERER].points == 160 and got[ANSWERER].wanted == {HELPER, EXPERT}
    assert got[ASKER].points == 120 and got[ASKER].wanted == {EXPERT}
    assert got[VOTER].points == 100 and got[VOTER].wanted == {EXPERT}
    assert got[VOTER].managed == {HELPER, EXPERT}
    reaching = await forum.run(lambda s: roles.members_reaching(s, guild_id=GUILD, threshold=120))
    # On the board and at 120 or more: the voter's activity is anonymous only.
    assert reaching == sorted([ASKER, ANSWERER])


async def test_forget_a_deleted_role(forum: Forum) -> None:
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 500, HELPER))
    assert await forum.run(lambda s: roles.forget_role(s, GUILD, EXPERT)) is False
    assert await forum.run(lambda s: roles.forget_role(s, GUILD, HELPER)) is True
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == []


async def test_add_point_role_maps_it_and_names_who_reaches_it(forum: Forum) -> None:
    await forum.run(lambda s: roles.set_point_role(s, GUILD, 2000, EXPERT))
    q = await forum.ask(ASKER)  # 120
    await forum.answer(q, ANSWERER)  # 140
    added = await forum.run(lambda s: roles.add_point_role(s, GUILD, 130, HELPER))
    assert added.mapping == [PointRole(130, HELPER), PointRole(2000, EXPERT)]
    assert added.reaching == [ANSWERER]
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == added.mapping
    with pytest.raises(ValidationError):
        await forum.run(lambda s: roles.add_point_role(s, GUILD, 10, GUILD))
    assert await forum.run(lambda s: roles.point_roles(s, GUILD)) == added.mapping
