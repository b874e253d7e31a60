"""Rate limits: Discord's headers on every reply, 429s per route and global, and discord.py's
own handling of them (it waits on its buckets, retries a 429 with ``Via``, not one without).

The fake's rate-limit clock is frozen here: a window ends only when a test advances the clock or
discord.py has slept through it (its scaled sleep catches the clock up), so no outcome depends on
how much real time passes between two calls on a loaded machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord

MESSAGES = "/channels/{channel_id}/messages"
CHANNEL = "/channels/{channel_id}"


@pytest.fixture(autouse=True)
def frozen_windows(fake_discord: FakeDiscord) -> Iterator[None]:
    """Rate-limit windows that only end on ``clock.advance`` or a wait of discord.py's."""
    fake_discord.ratelimits.clock.freeze()
    yield
    fake_discord.ratelimits.clock.unfreeze()


@pytest.fixture
async def http(fake_discord: FakeDiscord) -> AsyncIterator[Any]:
    """A bare HTTP client with the bot's token: ``await http("GET", "/channels/1")``."""
    async with aiohttp.ClientSession() as session:

        async def call(method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
            headers = {"Authorization": f"Bot {fake_discord.token}"}
            async with session.request(
                method, fake_discord.api_base + path, headers=headers, **kwargs
            ) as response:
                await response.read()
                return response

        yield call


def text_channel(harness: BotHarness, fake: FakeDiscord) -> discord.TextChannel:
    assert fake.general is not None
    ch = harness.bot.get_channel(fake.general.id)
    assert isinstance(ch, discord.TextChannel)
    return ch


async def test_every_reply_carries_bucket_headers_and_via(
    fake_discord: FakeDiscord, http: Any
) -> None:
    fake = fake_discord
    assert fake.general is not None
    first = await http("GET", f"/channels/{fake.general.id}")
    second = await http("GET", f"/channels/{fake.general.id}")
    assert first.status == 200 and first.headers["Via"] == "1.1 google"
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == (
        "999",
        "998",
    )
    assert first.headers["X-RateLimit-Bucket"] == fake.ratelimits.bucket_hash("GET", CHANNEL)
    assert first.headers["X-RateLimit-Reset-After"] == "1.000"  # the window began with it
    assert float(first.headers["X-RateLimit-Reset"]) > 1.7e9  # epoch seconds
    missing = await http("GET", "/channels/1")
    assert missing.status == 404 and "X-RateLimit-Remaining" in missing.headers


async def test_route_bucket_refuses_then_resets(fake_discord: FakeDiscord, http: Any) -> None:
    fake = fake_discord
    assert fake.general is not None and fake.forum is not None
    fake.ratelimits.limit("GET", CHANNEL, limit=2, window=10.0)
    path = f"/channels/{fake.general.id}"
    assert [(await http("GET", path)).headers["X-RateLimit-Remaining"] for _ in range(2)] == [
        "1",
        "0",
    ]
    refused = await http("GET", path)
    assert refused.status == 429
    body = await refused.json()
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert body["retry_after"] == 10.0
    headers = refused.headers
    assert headers["Retry-After"] == "10" and headers["Via"] == "1.1 google"
    assert headers["X-RateLimit-Scope"] == "user" and "X-RateLimit-Global" not in headers
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("2", "0")
    assert headers["X-RateLimit-Bucket"] == fake.ratelimits.bucket_hash("GET", CHANNEL)
    # Another top-level resource has its own bucket; the window ends without sleeping.
    assert (await http("GET", f"/channels/{fake.forum.id}")).status == 200
    fake.ratelimits.clock.advance(9.5)
    still = await http("GET", path)
    assert still.status == 429 and (await still.json())["retry_after"] == 0.5
    fake.ratelimits.clock.advance(0.5)
    assert (await http("GET", path)).status == 200
    assert [c.path for c in fake.ratelimits.limited] == [path, path]


async def test_global_limit(fake_discord: FakeDiscord, http: Any) -> None:
    fake = fake_discord
    assert fake.general is not None and fake.forum is not None
    assert fake.ratelimits.set_global().limit == 50  # Discord's default, per second
    fake.ratelimits.set_global(limit=3, window=1.0)
    for path in (f"/channels/{fake.general.id}", f"/channels/{fake.forum.id}", "/users/@me"):
        assert (await http("GET", path)).status == 200
    refused = await http("GET", "/users/@me")
    assert refused.status == 429
    assert refused.headers["X-RateLimit-Global"] == "true"
    assert refused.headers["X-RateLimit-Scope"] == "global"
    assert (await refused.json())["global"] is True
    # Interaction endpoints are not bound by the global limit.
    webhook = await http("POST", f"/webhooks/{fake.application_id}/no-such-token", json={})
    assert webhook.status == 404
    fake.ratelimits.clock.advance(1.0)
    assert (await http("GET", "/users/@me")).status == 200


async def test_opening_new_dm_channels_too_fast_is_refused_with_40003(
    fake_discord: FakeDiscord, http: Any
) -> None:
    fake = fake_discord
    users = [fake.add_user(f"user {i}").id for i in range(4)]
    fake.ratelimits.limit_dm_opens(limit=2, window=10.0)

    async def open_dm(user_id: int) -> tuple[int, Any]:
        reply = await http("POST", "/users/@me/channels", json={"recipient_id": str(user_id)})
        return reply.status, await reply.json()

    assert [(await open_dm(u))[0] for u in users[:2]] == [200, 200]
    status, body = await open_dm(users[2])
    assert (status, body["code"]) == (403, 40003)
    assert body["message"] == "You are opening direct messages too fast."
    assert users[2] not in fake.world.dm_channels
    # Re-opening a DM channel that exists is not a new one: not counted, not refused.
    assert (await open_dm(users[0]))[0] == 200
    assert len(fake.ratelimits.dm_opens_refused) == 1
    fake.ratelimits.clock.advance(10.0)
    assert (await open_dm(users[2]))[0] == 200
    assert (await open_dm(users[3]))[0] == 200


async def test_discord_py_waits_on_its_bucket(
    fake_discord: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    fake = fake_discord
    assert fake.general is not None
    fake.ratelimits.limit("POST", MESSAGES, limit=1, window=2.0)
    channel = text_channel(probe_bot, fake)
    start = fake.ratelimits.clock.time()
    sent = [await channel.send(f"message {i}") for i in range(3)]
    assert [m.content for m in fake.messages_in(fake.general)][-3:] == [m.content for m in sent]
    assert fake.ratelimits.limited == []  # the headers told discord.py to wait: no 429 at all
    # After each send its bucket is empty: discord.py waits out the window before going on,
    # and only those waits moved the (frozen) clock on.
    assert discord_sleep.waits == [2.0, 2.0, 2.0]
    assert fake.ratelimits.clock.time() == start + 6.0


async def test_a_429_is_retried(
    fake_discord: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    fake = fake_discord
    assert fake.general is not None
    fault = fake.faults.rate_limit("POST", MESSAGES, retry_after=1.5)
    mark = fake.mark()
    msg = await text_channel(probe_bot, fake).send("after a 429")
    assert [c.status for c in fake.find_calls("POST", MESSAGES, since=mark)] == [429, 200]
    assert discord_sleep.waits == [1.5] and fault.remaining == 0
    assert [m.content for m in fake.messages_in(fake.general)].count("after a 429") == 1
    assert fake.message(msg.id).content == "after a 429"


async def test_an_exhausted_route_bucket_is_retried(
    fake_discord: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog, http: Any
) -> None:
    fake = fake_discord
    assert fake.general is not None
    fake.ratelimits.limit("POST", MESSAGES, limit=1, window=20.0)
    gate = fake.faults.hold("POST", MESSAGES, times=1)  # park the bot's request in the fake
    mark = fake.mark()
    sending = asyncio.create_task(text_channel(probe_bot, fake).send("mine"))
    await gate.arrived()
    path = f"/channels/{fake.general.id}/messages"
    assert (await http("POST", path, json={"content": "someone else's"})).status == 200
    gate.release()  # the bucket is now exhausted: the bot's request meets a 429
    msg = await sending
    statuses = [c.status for c in fake.find_calls("POST", MESSAGES, since=mark)]
    assert statuses == [429, 200, 200]  # in arrival order: the bot's, the other, the retry
    (limited,) = fake.ratelimits.limited
    assert limited.response["retry_after"] == 20.0  # the other request began the window
    # discord.py waited what the 429 said (then, its bucket empty again, until the window ends).
    assert discord_sleep.waits == [20.0, 20.0]
    assert fake.messages_in(fake.general)[-1].id == msg.id


async def test_a_global_429_is_retried(
    fake_discord: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    fake = fake_discord
    assert fake.general is not None and fake.forum is not None
    fake.ratelimits.set_global(limit=2, window=5.0)
    mark = fake.mark()
    ids = [fake.general.id, fake.forum.id, fake.general.id]
    fetched = [await probe_bot.bot.fetch_channel(i) for i in ids]
    assert [c.id for c in fetched] == ids
    statuses = [c.status for c in fake.find_calls("GET", CHANNEL, since=mark)]
    assert statuses == [200, 200, 429, 200]
    (limited,) = fake.ratelimits.limited
    assert limited.response["global"] is True and limited.response["retry_after"] == 5.0
    assert discord_sleep.waits == [5.0]  # the third waited out the global window, then went


async def test_a_429_without_via_is_not_retried(
    fake_discord: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    fake = fake_discord
    assert fake.general is not None
    fake.faults.rate_limit("GET", CHANNEL, via=False)
    with pytest.raises(discord.HTTPException) as info:
        await probe_bot.bot.fetch_channel(fake.general.id)
    assert info.value.status == 429  # discord.py takes it for a Cloudflare ban
    assert len(fake.find_calls("GET", CHANNEL)) == 1 and discord_sleep.waits == []
