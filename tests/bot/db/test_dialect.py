"""The dialect helpers of the hot paths, on SQLite and PostgreSQL: ``among`` selects what an
``IN`` list would, with one SQL text whatever the list's length on PostgreSQL; ``built_once``
builds a statement once per backend."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.dialect import among, built_once, dialect_name, insert
from bot.db.models import GuildSetting
from bot.forum.uow import run_in_transaction

GUILD = 5151
KEYS = ["a_key", "b_key", "c_key", "d_key"]


async def _store(session: AsyncSession) -> None:
    await session.execute(
        built_once(session, _upsert_setting),
        [{"guild_id": GUILD, "key": key, "value": '"x"'} for key in KEYS],
    )


def _upsert_setting(session: AsyncSession) -> object:
    stmt = insert(session, GuildSetting)
    return stmt.on_conflict_do_update(
        index_elements=["guild_id", "key"], set_={"value": stmt.excluded.value}
    )


async def test_among_selects_the_listed_values_and_its_text_ignores_their_number(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await run_in_transaction(sessionmaker, _store)
    await run_in_transaction(sessionmaker, _store)  # the same statement again: an upsert

    async def keys(session: AsyncSession, wanted: list[str]) -> list[str]:
        rows = await session.scalars(
            select(GuildSetting.key)
            .where(GuildSetting.guild_id == GUILD, among(session, GuildSetting.key, wanted))
            .order_by(GuildSetting.key)
        )
        return list(rows)

    async def texts(session: AsyncSession) -> tuple[str, str, str]:
        bind = session.get_bind()
        one, three = (
            str(
                select(GuildSetting.key)
                .where(among(session, GuildSetting.key, wanted))
                .compile(bind, compile_kwargs={"render_postcompile": True})
            )
            for wanted in (["a_key"], ["a_key", "b_key", "c_key"])
        )
        return dialect_name(session), one, three

    found = await run_in_transaction(
        sessionmaker, lambda s: keys(s, ["d_key", "b_key", "b_key", "zz"])
    )
    assert found == ["b_key", "d_key"]
    assert await run_in_transaction(sessionmaker, lambda s: keys(s, ["nothing"])) == []
    name, one, three = await run_in_transaction(sessionmaker, texts)
    assert (one == three) is (name == "postgresql")


async def test_built_once_keeps_one_statement_per_backend(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def twice(session: AsyncSession) -> bool:
        return built_once(session, _upsert_setting) is built_once(session, _upsert_setting)

    assert await run_in_transaction(sessionmaker, twice)
