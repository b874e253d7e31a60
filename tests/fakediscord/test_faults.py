"""Injected faults as the real discord.py client meets them: error codes become its exceptions,
server errors its retries (on the scaled clock), gateway faults its duplicates, reordering,
fresh IDENTIFYs and RESUMEs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord

MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
CHANNEL = "/channels/{channel_id}"


@pytest.fixture
def fake(fake_discord: FakeDiscord) -> FakeDiscord:
    return fake_discord


def text_channel(harness: BotHarness, fake: FakeDiscord) -> discord.TextChannel:
    assert fake.general is not None
    ch = harness.bot.get_channel(fake.general.id)
    assert isinstance(ch, discord.TextChannel)
    return ch


@contextlib.asynccontextmanager
async def plain_client(
    fake: FakeDiscord, intents: discord.Intents | None = None, **options: Any
) -> AsyncIterator[discord.Client]:
    """A plain ``discord.Client`` against the fake (for options or intents QABot does not use;
    default intents: ``Intents.default()``)."""
    discord.http.Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url + "/")
    client = discord.Client(
        intents=intents or discord.Intents.default(), guild_ready_timeout=0, **options
    )
    await client.login(fake.token)
    task = asyncio.create_task(client.connect(reconnect=True))
    try:
        async with asyncio.timeout(5):
            await client.wait_until_ready()
        await fake.flush()
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---------------------------------------------------------------------- REST errors


async def test_dms_closed_is_forbidden_50007(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None
    hana = fake.add_member(fake.guild, "hana")
    fault = fake.faults.fail("POST", MESSAGES, code=50007)
    user = await probe_bot.bot.fetch_user(hana.id)
    with pytest.raises(discord.Forbidden) as info:
        await user.send("you have an answer")
    assert (info.value.status, info.value.code) == (403, 50007)
    assert info.value.text == "Cannot send messages to this user"
    assert len(fault.hits) == 1 and fault.remaining == 0
    await user.send("the fault was for one call")
    assert [m.content for m in fake.dms_to(hana)] == ["the fault was for one call"]


async def test_error_codes_become_discord_py_exceptions(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.owner is not None and fake.general is not None
    channel = text_channel(probe_bot, fake)
    message = await fake.owner.send(fake.general, "there")
    fake.faults.fail("PATCH", CHANNEL, code=50013)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.edit(topic="new topic")
    assert (forbidden.value.code, forbidden.value.text) == (50013, "Missing Permissions")
    fake.faults.fail("GET", MESSAGE, code=10008)
    with pytest.raises(discord.NotFound) as missing:
        await channel.fetch_message(message.id)
    assert (missing.value.status, missing.value.code) == (404, 10008)
    # A glob on the path and a predicate narrow a fault to one channel.
    fake.faults.fail("GET", f"/channels/{fake.general.id}", code=10003)
    assert fake.forum is not None
    assert (await probe_bot.bot.fetch_channel(fake.forum.id)).id == fake.forum.id
    with pytest.raises(discord.NotFound) as unknown:
        await probe_bot.bot.fetch_channel(fake.general.id)
    assert (unknown.value.code, unknown.value.text) == (10003, "Unknown Channel")
    assert fake.general.topic is None and (await channel.fetch_message(message.id)).id


async def test_server_errors_are_retried_until_success(
    fake: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    assert fake.general is not None
    fake.faults.fail("POST", MESSAGES, status=500)
    fake.faults.fail("POST", MESSAGES, status=502)
    mark = fake.mark()
    msg = await text_channel(probe_bot, fake).send("delivered once")
    assert [c.status for c in fake.find_calls("POST", MESSAGES, since=mark)] == [500, 502, 200]
    assert discord_sleep.waits == [1, 3]  # discord.py's 1 s and 3 s, each a millisecond here
    assert [m.content for m in fake.messages_in(fake.general)].count("delivered once") == 1
    assert fake.message(msg.id).content == "delivered once"


async def test_discord_py_gives_up_after_five_server_errors(
    fake: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    fault = fake.faults.fail("POST", MESSAGES, status=500, times=None)
    with pytest.raises(discord.DiscordServerError) as info:
        await text_channel(probe_bot, fake).send("never")
    assert info.value.status == 500
    assert len(fault.hits) == 5 and discord_sleep.waits == [1, 3, 5, 7, 9]
    fault.cancel()
    assert (await text_channel(probe_bot, fake).send("and then it works")).id


async def test_a_lost_response_and_the_retry(
    fake: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    """The first attempt took effect but its answer was lost (502). discord.py's ``send`` adds
    a random nonce with ``enforce_nonce``, so its retry finds that message; a body without a
    nonce is posted twice."""
    assert fake.general is not None
    channel = text_channel(probe_bot, fake)
    fake.faults.fail("POST", MESSAGES, status=502, lost_response=True)
    mark = fake.mark()
    sent = await channel.send("posted once")
    calls = fake.find_calls("POST", MESSAGES, since=mark)
    assert [c.status for c in calls] == [502, 200] and calls[0].json["enforce_nonce"] is True
    assert [m.id for m in fake.messages_in(fake.general)].count(sent.id) == 1
    fake.faults.fail("POST", MESSAGES, status=502, lost_response=True)
    route = discord.http.Route("POST", MESSAGES, channel_id=channel.id)
    await probe_bot.bot.http.request(route, json={"content": "posted twice"})
    assert [m.content for m in fake.messages_in(fake.general)].count("posted twice") == 2


# ---------------------------------------------------------------------- latency


async def test_held_calls_wait_for_release(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None and fake.general is not None
    message = await fake.owner.send(fake.general, "slow to fetch")
    gate = fake.faults.hold("GET", MESSAGE)
    fetching = asyncio.create_task(text_channel(probe_bot, fake).fetch_message(message.id))
    (held,) = await gate.arrived()
    assert held.id("message_id") == message.id and held.status == 0 and not fetching.done()
    gate.release()
    assert (await fetching).id == message.id


async def test_latency_is_bounded_by_the_caller(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None and fake.general is not None
    message = await fake.owner.send(fake.general, "far away")
    latency = fake.faults.delay("GET", MESSAGE, 30.0)
    channel = text_channel(probe_bot, fake)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):  # discord.py sets no timeout: bound calls yourself
            await channel.fetch_message(message.id)
    assert len(latency.hits) == 1
    latency.cancel()  # also ends the wait in progress
    assert (await channel.fetch_message(message.id)).id == message.id


# ---------------------------------------------------------------------- gateway


async def test_an_event_delivered_twice(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None and fake.general is not None
    probe = probe_bot.cog("Probe")
    fault = fake.faults.duplicate_next_event("MESSAGE_CREATE")
    msg = await fake.owner.send(fake.general, "once, delivered twice")
    await probe.wait_for("message", lambda m: m.id == msg.id and len(probe.of("message")) >= 2)
    assert [m.id for m in probe.of("message")] == [msg.id, msg.id]
    sent = fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(msg.id))
    assert len(sent) == 2 and sent[0].seq != sent[1].seq and fault.done
    after = await fake.owner.send(fake.general, "delivered once")
    await probe.wait_for("message", lambda m: m.id == after.id)
    assert [m.id for m in probe.of("message")].count(after.id) == 1


async def test_events_delivered_out_of_order(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None and fake.general is not None
    probe = probe_bot.cog("Probe")
    fake.faults.reorder_next_events(2, names=["MESSAGE_CREATE", "MESSAGE_UPDATE"])
    msg = await fake.owner.send(fake.general, "draft")
    await fake.owner.edit(msg, "final")
    await probe.wait_for("message", lambda m: m.id == msg.id)
    kinds = [kind for kind, value in probe.seen if kind in ("message", "edit")]
    assert kinds == ["edit", "message"]  # the edit reached the bot before the message
    names = [e.name for e in fake.find_events(where=lambda e: e.name.startswith("MESSAGE_"))]
    assert names[-2:] == ["MESSAGE_UPDATE", "MESSAGE_CREATE"]


async def test_invalid_session_means_a_fresh_identify(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    probe = probe_bot.cog("Probe")
    old = fake.gateway.session_for(0)
    fake.faults.invalidate_session(resumable=False)
    await probe.wait_for("shard_ready", lambda s: len(probe.of("shard_ready")) == 2)
    assert len(fake.gateway.identifies) == 2 and old.invalid
    assert fake.gateway.session_for(0) is not old and old.resumes == 0


async def test_resumable_invalid_session_and_a_drop_resume(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    probe = probe_bot.cog("Probe")
    session = fake.gateway.session_for(0)
    fake.faults.invalidate_session(resumable=True)
    await probe.wait_for("shard_resumed")
    await fake.faults.drop_connection()
    await probe.wait_for("shard_resumed", lambda s: len(probe.of("shard_resumed")) == 2)
    assert session.resumes == 2 and len(fake.gateway.identifies) == 1
    assert fake.gateway.session_for(0) is session


async def test_a_silent_gateway_is_resumed(fake: FakeDiscord, discord_urls: Any) -> None:
    """No heartbeat ACK and no event: the client gives up on the connection after its
    ``heartbeat_timeout`` and RESUMEs on a new one, which replays what it missed."""
    assert fake.owner is not None and fake.general is not None
    fake.gateway.heartbeat_interval_ms = 50  # HELLO's interval: beats every 50 ms
    async with plain_client(fake, heartbeat_timeout=0.3) as client:
        session = fake.gateway.session_for(0)
        first = fake.gateway.connections[-1]
        fake.faults.go_silent()
        missed = await fake.owner.send(fake.general, "sent to a zombie connection")
        got = await client.wait_for("message", check=lambda m: m.id == missed.id, timeout=5)
        assert got.id == missed.id
        # At least once: a loop stalled past 0.3 s on a loaded machine may resume once more.
        assert session.resumes >= 1 and len(fake.gateway.identifies) == 1
        assert first.heartbeats > 0 and first.close_record is not None
        assert first.close_record.code == 4000 and first.close_record.by_client
        event = fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(missed.id))
        assert event[0].seq in session.replayed
