"""The weekly community-health digest end to end on both backends: off by default; turned on, the
daily pass posts it to the moderator channel once a week (counts under 5 as "fewer than 5", no
member named), not again a day later, nor after a restart within the week, and again once the
week is over; only for servers this process runs."""

from __future__ import annotations

from datetime import timedelta

from bot.forum import digests
from tests import health_community as community
from tests.cogs.conftest import configure_qa_guild, run_domain
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.model import Channel
from tests.fakediscord.server import FakeDiscord
from tests.health_community import AnswerSpec, QuestionSpec

NOW = community.NOW
M = timedelta(minutes=1)


def digests_in(fake: FakeDiscord, channel: Channel) -> list[str]:
    return [
        m.embed_text()
        for m in fake.messages_in(channel)
        if m.author_id == fake.bot_user.id and "Weekly community health" in m.embed_text()
    ]


async def daily_pass(harness: BotHarness, at: timedelta) -> None:
    worker = harness.bot.stats_digests
    worker.clock = lambda: NOW + at
    worker.wake()
    await worker.wait_idle()
    await harness.fake.flush()


async def test_the_digest_posts_once_a_week_across_a_restart(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    mods = fake.add_text_channel(fake.guild, "mods")
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness, mod_channel_id=mods.id)
    day = NOW - timedelta(days=2)
    asked = [
        QuestionSpec(day + n * M, 11 + n % 3, "Sleep", [AnswerSpec(10 * M, 2, 21 + n % 2)])
        for n in range(5)
    ]
    waiting = QuestionSpec(day + 9 * M, 11, None, title="Still waiting", anonymous=True)
    await community.insert(harness.sessionmaker, fake.guild.id, [*asked, waiting])
    # Off by default: a pass posts nothing.
    await daily_pass(harness, timedelta(0))
    assert digests_in(fake, mods) == []

    await configure_qa_guild(harness, mod_channel_id=mods.id, stats_digest=True)
    await daily_pass(harness, timedelta(0))
    (posted,) = digests_in(fake, mods)
    assert "**Questions asked:** 6 (0.9/day)" in posted
    assert "fewer than 5 asking, fewer than 5 answering" in posted
    assert "fewer than 5 questions without an answer yet" in posted
    assert "Area 51" in posted and "Still waiting" in posted and "<@" not in posted

    await daily_pass(harness, timedelta(days=1))
    assert len(digests_in(fake, mods)) == 1

    await harness.close()
    harness = await qa_bot_factory(database_url=db_url)
    await harness.bot.stats_digests.wait_idle()  # the pass at start: within the week
    await daily_pass(harness, timedelta(days=6, hours=23))
    assert len(digests_in(fake, mods)) == 1
    await daily_pass(harness, timedelta(days=7))
    assert len(digests_in(fake, mods)) == 2
    await daily_pass(harness, timedelta(days=7, hours=1))
    assert len(digests_in(fake, mods)) == 2

    # Only the servers this process runs: another server's setting is not its to post.
    served = await run_domain(harness, lambda s: digests.digest_guilds(s, served=[fake.guild.id]))
    assert served == [fake.guild.id]
    assert await run_domain(harness, lambda s: digests.digest_guilds(s, served=[1234])) == []
    await harness.close()
