"""Bans and departures in the fake as the real discord.py client meets them: GUILD_BAN_ADD /
GUILD_BAN_REMOVE only with the moderation intent, GUILD_MEMBER_REMOVE only with the members
intent, and GET /guilds/{g}/members/{u} answering 404 10007 once the member is gone."""

from __future__ import annotations

import asyncio

import discord
import pytest

from bot.client import bot_intents
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.test_faults import plain_client

MEMBER = "/guilds/{guild_id}/members/{user_id}"


async def test_a_ban_reaches_a_bot_with_the_moderation_intent_and_no_members_intent(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    bot = probe_bot.bot
    assert bot_intents().moderation and not bot_intents().members
    hana = fake.add_member(fake.guild, "hana")
    assert (await bot.http.get_member(fake.guild.id, hana.id))["user"]["id"] == str(hana.id)
    banned = asyncio.ensure_future(bot.wait_for("member_ban", timeout=5))
    fake.ban(hana, reason="spam")
    guild, user = await banned
    assert (guild.id, user.id) == (fake.guild.id, hana.id)
    assert fake.guild.bans == {hana.id: "spam"}
    assert hana.id not in fake.guild.members
    [ban_event] = fake.find_events("GUILD_BAN_ADD")
    assert ban_event.data == {"guild_id": str(fake.guild.id), "user": ban_event.data["user"]}
    assert ban_event.data["user"]["id"] == str(hana.id)
    # Without the members intent the removal is not sent (recorded as reaching no session).
    assert fake.find_events("GUILD_MEMBER_REMOVE") == []
    [removal] = fake.recorder.find_events("GUILD_MEMBER_REMOVE", delivered_only=False)
    assert removal.session_id is None and removal.index > ban_event.index
    with pytest.raises(discord.NotFound) as info:
        await bot.http.get_member(fake.guild.id, hana.id)
    assert info.value.code == 10007
    with pytest.raises(ValueError, match="banned"):
        fake.add_member(fake.guild, "hana", user=hana)
    unbanned = asyncio.ensure_future(bot.wait_for("member_unban", timeout=5))
    fake.unban(hana)
    guild, user = await unbanned
    assert (guild.id, user.id) == (fake.guild.id, hana.id)
    fake.add_member(fake.guild, "hana", user=hana)
    assert (await bot.http.get_member(fake.guild.id, hana.id))["user"]["id"] == str(hana.id)


async def test_a_member_who_leaves_is_unknown_to_the_member_lookup(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    guild = probe_bot.bot.get_guild(fake.guild.id)
    assert guild is not None
    ivan = fake.add_member(fake.guild, "ivan")
    assert (await guild.fetch_member(ivan.id)).id == ivan.id
    fake.remove_member(ivan)
    with pytest.raises(discord.NotFound) as info:
        await guild.fetch_member(ivan.id)
    assert (info.value.status, info.value.code) == (404, 10007)
    assert [c.status for c in fake.find_calls("GET", MEMBER)] == [200, 404]
    assert fake.find_events("GUILD_BAN_ADD") == []  # leaving is no ban
    assert fake.find_events("GUILD_MEMBER_REMOVE") == []  # nobody asked for the members intent
    assert len(fake.recorder.find_events("GUILD_MEMBER_REMOVE", delivered_only=False)) == 1


async def test_the_intents_decide_which_events_a_ban_sends(
    fake_discord: FakeDiscord, discord_urls: object
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    with_members = fake.add_member(fake.guild, "jon")
    everything = discord.Intents.all()
    async with plain_client(fake, intents=everything) as client:
        banned = asyncio.ensure_future(client.wait_for("member_ban", timeout=5))
        removed = asyncio.ensure_future(client.wait_for("raw_member_remove", timeout=5))
        fake.ban(with_members)
        assert (await banned)[1].id == with_members.id
        assert (await removed).user.id == with_members.id
    without = fake.add_member(fake.guild, "kim")
    guilds_only = discord.Intents.none()
    guilds_only.guilds = True
    async with plain_client(fake, intents=guilds_only):
        mark = len(fake.recorder.events)
        fake.ban(without)
        fake.unban(without)
        await fake.flush()
        later = fake.recorder.find_events(since=mark, delivered_only=False)
    assert [e.name for e in later] == ["GUILD_BAN_ADD", "GUILD_MEMBER_REMOVE", "GUILD_BAN_REMOVE"]
    assert all(e.session_id is None for e in later)  # none of them reached the client
