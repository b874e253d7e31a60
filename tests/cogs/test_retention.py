"""Servers that remove the bot, end to end through the fake Discord on both backends: a removal
seen live (``on_guild_remove``) or while the bot was down (missing from the shard's READY) is
recorded, and the retention worker purges the server's data once 30 days have passed; a server
that takes the bot back earlier keeps its data untouched. The worker's clock is moved forward
instead of waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import utc_now
from bot.db.models import DepartedGuild
from bot.forum import settings
from tests.bot.forum.test_retention import rows_of
from tests.cogs.conftest import BotEvents, ask_question_directly, configure_qa_guild, run_domain
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import BotFactory, BotHarness

EXTENSIONS = ["cogs.retention"]
EVENTS = ("qa_guild_departed", "qa_guild_returned", "qa_guilds_reconciled", "qa_retention_swept")


@dataclass
class Scene:
    fake: FakeDiscord
    factory: BotFactory
    db_url: str
    harness: BotHarness
    events: BotEvents
    guild_id: int  # the server with a question, that removes the bot
    other_id: int  # a server that stays

    async def restart(self) -> None:
        """Stop the bot, then start it again on the same database; returns once its shard's
        READY was compared with the database."""
        await self.harness.close()
        self.events.close()
        self.harness = await self.factory(
            extensions=EXTENSIONS, database_url=self.db_url, wait_ready=False
        )
        self.events = BotEvents(self.harness, *EVENTS)
        await self.events.wait_for("qa_guilds_reconciled")

    async def departed(self) -> set[int]:
        async with self.harness.sessionmaker() as session:
            return set((await session.execute(select(DepartedGuild.guild_id))).scalars())

    async def rows(self, guild_id: int) -> int:
        return await rows_of(self.harness.sessionmaker, guild_id)

    async def sweep(self, days: float) -> tuple[int, int]:
        """One pass of the retention worker as if ``days`` had passed: (guilds, rows) purged."""
        worker = self.harness.bot.retention
        await worker.wait_idle()  # a woken pass still finishing would swallow this wake-up
        at = utc_now() + timedelta(days=days)
        worker.clock = lambda: at
        worker.wake()
        (swept,) = await self.events.wait_for("qa_retention_swept", lambda swept: swept.at == at)
        return swept.guilds, swept.guild_rows


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    other = fake.add_guild("Other Guild")
    harness = await qa_bot_factory(extensions=EXTENSIONS, database_url=db_url)
    await harness.bot.reconciler.wait_idle()  # its run stores a row for each server
    await configure_qa_guild(harness)
    await ask_question_directly(harness, fake.add_member(fake.guild, "alice"))
    await run_domain(harness, lambda s: settings.set_setting(s, other.id, "min_answer_length", 5))
    made = Scene(
        fake, qa_bot_factory, db_url, harness, BotEvents(harness, *EVENTS), fake.guild.id, other.id
    )
    try:
        yield made
    finally:
        made.events.close()


async def test_a_removal_is_recorded_and_the_server_purged_after_30_days(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    before, other = await scene.rows(scene.guild_id), await scene.rows(scene.other_id)
    assert before > 2 and other == 2  # its one setting and its last reconciliation run
    fake.remove_bot(fake.guild)
    await scene.events.wait_for("qa_guild_departed", lambda gid, recorded: recorded)
    assert await scene.departed() == {scene.guild_id}
    assert await scene.sweep(days=29.9) == (0, 0)  # just inside the 30 days: kept
    assert await scene.rows(scene.guild_id) == before
    guilds, rows = await scene.sweep(days=30.1)
    assert guilds == 1 and 0 < rows <= before
    assert await scene.rows(scene.guild_id) == 0
    assert await scene.departed() == set()
    assert await scene.rows(scene.other_id) == other


async def test_a_server_that_takes_the_bot_back_keeps_its_data(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    before = await scene.rows(scene.guild_id)
    fake.remove_bot(fake.guild)
    await scene.events.wait_for("qa_guild_departed")
    fake.readd_bot(fake.guild)
    await scene.events.wait_for("qa_guild_returned", lambda gid, returned: returned)
    assert await scene.departed() == set()
    assert await scene.sweep(days=31) == (0, 0)
    assert await scene.rows(scene.guild_id) == before


async def test_a_removal_while_the_bot_was_down_is_found_in_ready(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    before, other = await scene.rows(scene.guild_id), await scene.rows(scene.other_id)
    await scene.harness.close()
    fake.remove_bot(fake.guild)  # no session hears it
    await scene.restart()
    [(shard_id, found)] = scene.events.of("qa_guilds_reconciled")
    assert (shard_id, found.departed, found.returned) == (0, 1, 0)
    assert await scene.departed() == {scene.guild_id}
    guilds, _ = await scene.sweep(days=30.1)
    assert guilds == 1
    assert await scene.rows(scene.guild_id) == 0
    assert await scene.rows(scene.other_id) == other
    assert before > 0


async def test_a_server_back_while_the_bot_was_down_is_restored_untouched(scene: Scene) -> None:
    fake = scene.fake
    assert fake.guild is not None
    before = await scene.rows(scene.guild_id)
    await scene.harness.close()
    fake.remove_bot(fake.guild)
    await scene.restart()
    assert await scene.departed() == {scene.guild_id}
    await scene.harness.close()
    fake.readd_bot(fake.guild)  # its GUILD_CREATE reaches no session
    await scene.restart()
    [(_, found)] = scene.events.of("qa_guilds_reconciled")
    assert (found.departed, found.returned) == (0, 1)
    assert await scene.departed() == set()
    assert await scene.sweep(days=31) == (0, 0)
    assert await scene.rows(scene.guild_id) == before
