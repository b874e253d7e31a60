"""Member look-ups of the notifier against the fake Discord: answers remembered, failures not,
a ban arriving during a look-up wins, a request that takes too long is bounded."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.workers.memberships import Memberships
from tests.fakediscord.fixtures import PROBE, BotFactory, BotHarness
from tests.fakediscord.server import FakeDiscord

MEMBER = "/guilds/{guild_id}/members/{user_id}"


async def test_answers_are_remembered_and_failures_are_not(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    guild_id = fake.guild.id
    members = Memberships(probe_bot.bot, timeout=5)
    hana, ivan = fake.add_member(fake.guild, "hana"), fake.add_member(fake.guild, "ivan")
    fake.remove_member(ivan)
    assert await members.is_member(guild_id, hana.id)
    assert not await members.is_member(guild_id, ivan.id)
    assert await members.is_member(guild_id, hana.id)
    assert not await members.is_member(guild_id, ivan.id)
    assert members.lookups == 2
    # A 404 that is not about the member (here: the server) is no answer: it is raised.
    fault = fake.faults.fail("GET", MEMBER, code=10004)
    members.forget(guild_id, hana.id)
    with pytest.raises(discord.NotFound):
        await members.is_member(guild_id, hana.id)
    fault.cancel()
    assert await members.is_member(guild_id, hana.id)  # asked again: nothing was remembered
    assert members.lookups == 4


async def test_a_ban_during_a_look_up_wins(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    guild_id = fake.guild.id
    members = Memberships(probe_bot.bot, timeout=5)
    hana = fake.add_member(fake.guild, "hana")
    gate = fake.faults.hold("GET", MEMBER, times=1)
    asking = asyncio.ensure_future(members.is_member(guild_id, hana.id))
    await gate.arrived()
    members.gone(guild_id, hana.id)  # the ban event came while Discord was asked
    gate.release()
    assert await asking is False
    assert not await members.is_member(guild_id, hana.id)
    assert members.lookups == 1


async def test_a_slow_look_up_times_out_and_is_asked_again(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    guild_id = fake.guild.id
    members = Memberships(probe_bot.bot, timeout=0.05)
    hana = fake.add_member(fake.guild, "hana")
    gate = fake.faults.hold("GET", MEMBER, times=1)
    with pytest.raises(TimeoutError):
        await members.is_member(guild_id, hana.id)
    gate.release()
    assert await members.is_member(guild_id, hana.id)
    assert members.lookups == 2


async def test_a_server_of_another_process_is_named_by_one_look_up(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    here = fake.add_guild("Shard 0 Guild", shard=(0, 2))
    elsewhere = fake.add_guild("Shard 1 Guild", shard=(1, 2))
    gone = fake.add_guild("Gone Guild", shard=(1, 2))
    harness = await qa_bot_factory(extensions=[PROBE], shard_count=2, shard_ids=[0])
    members = Memberships(harness.bot, timeout=5)
    assert await members.server_name(here.id) == "Shard 0 Guild"  # this process's: cached
    assert members.lookups == 0
    assert harness.bot.get_guild(elsewhere.id) is None
    assert await members.server_name(elsewhere.id) == "Shard 1 Guild"
    assert await members.server_name(elsewhere.id) == "Shard 1 Guild"
    assert members.lookups == 1
    fake.faults.fail("GET", "/guilds/{guild_id}", code=10004)
    assert await members.server_name(gone.id) is None  # the DM says "a server"
