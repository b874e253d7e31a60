"""The fake gateway against the real discord.py client: login, READY, drops, RESUME, IDENTIFY."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from bot.client import bot_intents
from tests.fakediscord.fixtures import PROBE, BotFactory, BotHarness
from tests.fakediscord.model import JSON
from tests.fakediscord.server import FakeDiscord


async def test_login_identify_ready_and_guild_create(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    bot = probe_bot.bot
    assert [c.route for c in fake.calls[:3]] == [
        "/users/@me",
        "/oauth2/applications/@me",
        "/gateway/bot",
    ]
    (identify,) = fake.gateway.identifies
    assert identify.intents == bot_intents().value
    assert identify.shard == (0, 1)
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert bot.application_id == fake.application_id
    assert fake.guild is not None and fake.forum is not None
    guild = bot.get_guild(fake.guild.id)
    assert guild is not None and guild.me is not None
    forum = guild.get_channel(fake.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    assert [t.name for t in forum.available_tags] == [t.name for t in fake.forum.available_tags]
    assert guild.get_role(fake.moderator_role.id) is not None  # type: ignore[union-attr]
    assert fake.find_events("READY")[0].data["resume_gateway_url"] == fake.gateway.resume_url


async def test_wrong_token_is_refused(fake_discord: FakeDiscord, discord_urls: object) -> None:
    fake = fake_discord
    discord.http.Route.BASE = fake.api_base
    client = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fake.calls[-1].status == 401


async def test_command_sync_goes_through_rest(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    harness = await qa_bot_factory(extensions=[PROBE], install_commands=False)
    assert fake.commands() == []
    synced = await harness.bot.tree.sync()
    call = await fake.wait_for_call("PUT", "/applications/{application_id}/commands")
    assert call.id("application_id") == fake.application_id
    names = sorted(c.name for c in fake.commands())
    assert (
        names
        == sorted(c.name for c in synced)
        == [
            "Probe message",
            "Probe user",
            "probe",
            "probe-admin",
        ]
    )
    ids = {c.name: c.id for c in fake.commands()}
    again = await harness.bot.tree.sync()
    assert {c.name: c.id for c in again} == ids  # a bulk overwrite keeps ids
    fetched = await harness.bot.tree.fetch_commands()
    assert {c.name for c in fetched} == set(ids)


async def test_dropped_connection_is_resumed(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    probe = probe_bot.cog("Probe")
    session = fake.gateway.session_for(0)
    await fake.drop(0)  # no close frame: a network failure
    await probe.wait_for("shard_resumed")
    assert session.resumes == 1
    assert fake.gateway.session_for(0) is session
    assert len(fake.gateway.identifies) == 1
    # The resume went to the resume_gateway_url from READY.
    assert fake.gateway.connections[-1].path == "/gateway-resume"
    assert fake.owner is not None and fake.general is not None
    msg = await fake.owner.send(fake.general, "after the drop")
    got = await probe.wait_for("message", lambda m: m.id == msg.id)
    assert got.content == "after the drop"


async def test_op7_reconnect_resumes(fake_discord: FakeDiscord, probe_bot: BotHarness) -> None:
    fake = fake_discord
    probe = probe_bot.cog("Probe")
    fake.reconnect(0)
    await probe.wait_for("shard_resumed")
    assert fake.gateway.session_for(0).resumes == 1
    assert fake.gateway.closes[0].by_client


async def test_resume_replays_missed_events(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    probe = probe_bot.cog("Probe")
    assert fake.owner is not None and fake.general is not None
    session = fake.gateway.session_for(0)
    async with fake.paused():
        await fake.drop(0)
        await fake.wait_until(lambda: fake.gateway.waiting_handshakes == 1, what="a reconnect")
        missed = await fake.owner.send(fake.general, "sent while the bot was away")
        assert session.conn is None
    got = await probe.wait_for("message", lambda m: m.id == missed.id)
    assert got.content == "sent while the bot was away"
    await probe.wait_for("shard_resumed")
    assert session.replayed == [fake.find_events("MESSAGE_CREATE")[-1].seq]
    assert len([m for m in probe.of("message") if m.id == missed.id]) == 1


async def test_fresh_identify_replays_nothing(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    probe = probe_bot.cog("Probe")
    assert fake.owner is not None and fake.general is not None
    old = fake.gateway.session_for(0)
    async with fake.paused():
        fake.invalidate_session(0, resumable=False)
        await fake.wait_until(lambda: fake.gateway.waiting_handshakes == 1, what="a reconnect")
        lost = await fake.owner.send(fake.general, "sent between sessions")
    await probe.wait_for("shard_ready", lambda s: s == 0 and len(probe.of("shard_ready")) == 2)
    new = fake.gateway.session_for(0)
    assert new is not old and old.invalid
    assert len(fake.gateway.identifies) == 2
    assert not new.replayed
    # The event had no session to go to; the bot never saw the message.
    (event,) = fake.recorder.find_events(
        "MESSAGE_CREATE", where=lambda e: e.data["id"] == str(lost.id), delivered_only=False
    )
    assert event.session_id is None
    after = await fake.owner.send(fake.general, "after the new session")
    await probe.wait_for("message", lambda m: m.id == after.id)
    assert all(m.id != lost.id for m in probe.of("message"))


async def test_bot_close_ends_the_session(fake_discord: FakeDiscord, probe_bot: BotHarness) -> None:
    fake = fake_discord
    session = fake.gateway.session_for(0)
    await probe_bot.close()
    await fake.wait_until(lambda: session.invalid, what="the session to end")
    assert fake.gateway.closes[-1].code == 1000
    assert fake.gateway.closes[-1].by_client


async def test_shards_follow_gateway_bot(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    fake.recommended_shards = 2
    other = fake.add_guild("Second Guild", shard=(1, 2))
    assert fake.guild is not None
    first_shard = (fake.guild.id >> 22) % 2
    harness = await qa_bot_factory(extensions=[PROBE])
    assert sorted(i.shard for i in fake.gateway.identifies) == [(0, 2), (1, 2)]
    readies = {e.shard_id: e.data["shard"] for e in fake.find_events("READY")}
    assert readies == {0: [0, 2], 1: [1, 2]}
    creates = sorted((e.shard_id, e.data["id"]) for e in fake.find_events("GUILD_CREATE"))
    assert creates == sorted([(1, str(other.id)), (first_shard, str(fake.guild.id))])
    assert {g.id for g in harness.bot.guilds} == {fake.guild.id, other.id}
    assert harness.bot.get_guild(other.id).shard_id == 1  # type: ignore[union-attr]


async def test_request_guild_members_is_answered(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    alice = fake.add_member(fake.guild, "alice")
    guild = probe_bot.bot.get_guild(fake.guild.id)
    assert guild is not None
    members = await guild.query_members(user_ids=[alice.id])
    assert [m.id for m in members] == [alice.id]


async def test_in_process_restart_on_the_same_database(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    first = await qa_bot_factory(extensions=[PROBE])
    await first.close()
    second = await qa_bot_factory(extensions=[PROBE])
    assert second.settings.database_url == first.settings.database_url
    assert len(fake.gateway.identifies) == 2
    assert fake.gateway.sessions[fake.gateway.identifies[0].session_id or ""].invalid
    assert fake.owner is not None and fake.general is not None
    msg = await fake.owner.send(fake.general, "hello again")
    await second.cog("Probe").wait_for("message", lambda m: m.id == msg.id)


async def _identify(fake: FakeDiscord, http: aiohttp.ClientSession, shard: list[int]) -> JSON:
    """A raw IDENTIFY on a new connection; the first frame the fake answers after HELLO."""
    ws = await http.ws_connect(f"{fake.gateway_url}?v=10&encoding=json")
    hello = await ws.receive_json()
    assert hello["op"] == 10
    await ws.send_json(
        {"op": 2, "d": {"token": fake.token, "intents": 1, "shard": shard, "properties": {}}}
    )
    answer: JSON = await ws.receive_json()
    return answer


async def test_session_starts_are_spaced_per_bucket(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    gateway = fake.gateway
    gateway.session_start_window = 60.0
    async with aiohttp.ClientSession() as http:
        first = await _identify(fake, http, [0, 2])
        assert first["t"] == "READY"
        # One bucket (max_concurrency 1): shard 1 starting within the window is refused.
        refused = await _identify(fake, http, [1, 2])
        assert refused == {"op": 9, "d": False}
        # Two buckets: shard 1 starts at once, while shard 2 (bucket 0 again) waits.
        gateway.max_concurrency = 2
        assert (await _identify(fake, http, [1, 3]))["t"] == "READY"
        assert (await _identify(fake, http, [2, 3]))["op"] == 9
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.get(f"{fake.api_base}/gateway/bot", headers=headers) as reply:
            limit = await reply.json()
    assert limit["session_start_limit"]["max_concurrency"] == 2
    assert [(i.shard[0], i.too_soon, i.session_id is not None) for i in gateway.identifies] == [
        (0, False, True),
        (1, True, False),
        (1, False, True),
        (2, True, False),
    ]
    assert gateway.identifies[0].time <= gateway.identifies[1].time
