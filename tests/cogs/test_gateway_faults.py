"""Gateway faults with the real bot, end to end on both backends: a silent (zombie) connection
noticed within ``GATEWAY_HEARTBEAT_TIMEOUT`` and resumed, a dropped connection resumed, an
INVALID_SESSION answered by a fresh IDENTIFY whose reconciliation re-reads what was lost. No
vote is lost, and a command issued while the connection was silent is answered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.db.models import Post
from tests.cogs.conftest import AskedQuestion, BotEvents, ask_question_directly, configure_qa_guild
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.fixtures import BotFactory, BotHarness

#: How long a silent connection is trusted (production: 60 s).
HEARTBEAT_TIMEOUT = 0.5


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    asked: AskedQuestion
    voters: list[Member]

    async def score(self) -> int:
        async with self.harness.sessionmaker() as session:
            row = await session.get(Post, self.asked.id)
            assert row is not None
            return row.score

    async def reacted(self, events: BotEvents, voter: Member) -> None:
        """Until the bot received ``voter``'s reaction and applied it."""
        await events.wait_for("raw_reaction_add", lambda p: p.user_id == voter.id, timeout=10)
        await self.harness.bot.vote_writer.wait_idle()


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    fake.gateway.heartbeat_interval_ms = 50  # HELLO's interval: the bot beats every 50 ms
    asker = fake.add_member(fake.guild, "asker")
    voters = [fake.add_member(fake.guild, f"voter{i}") for i in range(3)]
    harness = await qa_bot_factory(database_url=db_url, gateway_heartbeat_timeout=HEARTBEAT_TIMEOUT)
    await configure_qa_guild(harness)
    asked = await ask_question_directly(harness, asker)
    yield Scene(fake, harness, asked, voters)


async def test_a_silent_gateway_is_resumed_and_nothing_sent_meanwhile_is_lost(
    scene: Scene,
) -> None:
    fake = scene.fake
    resumed = BotEvents(scene.harness, "shard_resumed", "raw_reaction_add")
    session = fake.gateway.session_for(0)
    fake.faults.go_silent()
    await scene.voters[0].react(scene.asked.starter, "👍")
    ix = await scene.voters[1].slash("profile", channel=fake.general)
    await resumed.wait_for("shard_resumed", timeout=HEARTBEAT_TIMEOUT + 5)
    assert (await ix.message()).ephemeral  # replayed on the RESUME, answered in time
    await scene.reacted(resumed, scene.voters[0])
    assert await scene.score() == 1
    assert session.resumes >= 1 and len(fake.gateway.identifies) == 1
    resumed.close()


async def test_a_dropped_connection_and_an_invalid_session_lose_no_vote(scene: Scene) -> None:
    fake = scene.fake
    events = BotEvents(scene.harness, "shard_resumed", "qa_reconciled", "raw_reaction_add")
    async with fake.paused():
        await fake.faults.drop_connection()
        await scene.voters[0].react(scene.asked.starter, "👍")  # buffered: the RESUME replays it
    await events.wait_for("shard_resumed")
    await scene.reacted(events, scene.voters[0])
    assert await scene.score() == 1
    # op 9, not resumable: what happens before the new IDENTIFY is never delivered; the new
    # session's reconciliation re-reads the reactions.
    async with fake.paused():
        fake.faults.invalidate_session(resumable=False)
        await scene.voters[1].react(scene.asked.starter, "👍")
        await scene.voters[2].react(scene.asked.starter, "👍")
    await events.wait_for("qa_reconciled", timeout=10)
    await scene.harness.bot.vote_writer.wait_idle()
    assert await scene.score() == 3
    assert len(events.of("raw_reaction_add")) == 1  # the two later ones were never delivered
    assert len(fake.gateway.identifies) == 2
    events.close()
