"""REST details: recording, unknown routes, auth, webhooks, DMs, threads listing, late guilds."""

from __future__ import annotations

import json

import aiohttp
import discord
import pytest

from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply
from tests.fakediscord.server import FakeDiscord


async def test_unknown_route_is_404_and_recorded() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        async with http.get(
            f"{fake.api_base}/guilds/1/nonexistent-thing",
            headers={"Authorization": f"Bot {fake.token}"},
        ) as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["message"] == "404: Not Found"
        (call,) = fake.unknown_calls
        assert call.method == "GET" and call.path == "/guilds/1/nonexistent-thing"
        with pytest.raises(AssertionError, match="unknown route: GET /guilds/1/nonexistent-thing"):
            fake.assert_clean()


async def test_calls_are_recorded_with_template_params_and_body() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.build_default_scene()
        assert fake.general is not None
        headers = {"Authorization": f"Bot {fake.token}", "Content-Type": "application/json"}
        url = f"{fake.api_base}/channels/{fake.general.id}/messages"
        async with http.post(url, data=json.dumps({"content": "hi"}), headers=headers) as resp:
            assert resp.status == 200
            body = await resp.json()
        call = await fake.wait_for_call("POST", "/channels/{channel_id}/messages")
        assert call.id("channel_id") == fake.general.id
        assert call.json == {"content": "hi"} and call.response == body
        assert fake.find_calls("post", f"/channels/{fake.general.id}/*") == [call]
        async with http.get(f"{fake.api_base}/users/@me") as resp:
            assert resp.status == 401  # no token
        async with http.post(url, data=json.dumps({}), headers=headers) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 50006
        fake.assert_clean()


async def test_interaction_webhook_lifecycle(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.owner is not None
    ix = await fake.owner.slash("probe lifecycle")
    original, edited, fetched = await probe_bot.cog("Probe").wait_for("lifecycle")
    assert original.content == "v1" and edited.content == "v2" and fetched.content == "temp2"
    assert ix.original is not None and ix.original.content == "v2"
    (followup,) = ix.followup_messages
    assert followup.deleted
    routes = [c.route for c in fake.calls if c.route and c.route.startswith("/webhooks/")]
    assert routes == [
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",  # GET @original
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",  # PATCH @original
        "/webhooks/{webhook_id}/{webhook_token}",  # POST followup
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",  # PATCH followup
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",  # GET followup
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",  # DELETE followup
    ]
    webhook_calls = [c for c in fake.calls if c.route and c.route.startswith("/webhooks/")]
    assert [c.params.get("message_id") for c in webhook_calls[:2]] == ["@original", "@original"]


async def test_unknown_interaction_token_is_refused(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    webhook = discord.Webhook.partial(
        fake.application_id,
        "not-a-token",
        session=probe_bot.bot.http._HTTPClient__session,  # type: ignore[attr-defined]
    )
    with pytest.raises(discord.NotFound) as info:
        await webhook.send("x", wait=True)
    assert info.value.code == 10015


async def test_slash_command_in_a_dm(fake_discord: FakeDiscord, probe_bot: BotHarness) -> None:
    fake = fake_discord
    assert fake.guild is not None
    loner = fake.add_member(fake.guild, "loner")  # a guild install reaches members in DMs
    ix = await loner.slash("probe ping", channel=fake.dm_channel(loner))
    assert "user" in ix.payload and "member" not in ix.payload
    msg = await ix.message()
    assert msg.content == "pong" and msg.guild_id is None
    interaction = await probe_bot.cog("Probe").wait_for("interaction", lambda i: i.id == ix.id)
    assert isinstance(interaction.user, discord.User) and interaction.guild is None


async def test_fetch_thread_and_list_archived(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.forum is not None and fake.owner is not None
    thread = await fake.owner.create_post(fake.forum, "Old question", "body")
    await fake.owner.edit_thread(thread, archived=True)
    fetched = await probe_bot.bot.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.archived
    forum = probe_bot.bot.get_channel(fake.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    archived = [t.id async for t in forum.archived_threads()]
    assert archived == [thread.id]
    guild = probe_bot.bot.get_guild(fake.forum.guild_id or 0)
    assert guild is not None
    assert thread.id not in [t.id for t in await guild.active_threads()]


async def test_guild_joined_while_connected(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    late = fake.add_guild("Late Guild")
    event = await fake.wait_for_event("GUILD_CREATE", where=lambda e: e.data["id"] == str(late.id))
    assert event.data["name"] == "Late Guild"
    probe = probe_bot.cog("Probe")
    joined = await probe.wait_for("guild_join", lambda g: g.id == late.id)
    assert joined.name == "Late Guild" and joined.me is not None
    channel = fake.add_text_channel(late, "late-general")
    created = await probe.wait_for("channel_create", lambda c: c.id == channel.id)
    assert created.guild.id == late.id


async def test_message_content_intent_off_in_the_portal(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.general is not None and fake.owner is not None
    msg = await fake.owner.send(fake.general, "secret words")
    fake.set_portal_intents(message_content=False)
    channel = probe_bot.bot.get_channel(fake.general.id)
    assert isinstance(channel, discord.TextChannel)
    fetched = await channel.fetch_message(msg.id)
    assert fetched.content == ""  # REST hides content from an app without the intent
    mentioned = await fake.owner.send(fake.general, f"{fake.bot_user.id} <@{fake.bot_user.id}> hi")
    assert (await channel.fetch_message(mentioned.id)).content != ""


async def test_interceptors_and_reply_hooks(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    """The extension points for faults and rate limits: substitute a reply, add headers."""
    fake = fake_discord
    assert fake.general is not None and fake.owner is not None
    msg = await fake.owner.send(fake.general, "here")
    remaining: list[int] = [1]

    def unknown_message_once(call: Call) -> Reply | None:
        if call.route == "/channels/{channel_id}/messages/{message_id}" and remaining[0]:
            remaining[0] -= 1
            return Reply(404, {"message": "Unknown Message", "code": 10008})
        return None

    seen: list[int] = []
    fake.rest.interceptors.append(unknown_message_once)
    fake.rest.reply_hooks.append(lambda call, reply: seen.append(reply.status))
    channel = probe_bot.bot.get_channel(fake.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.NotFound) as info:
        await channel.fetch_message(msg.id)
    assert info.value.code == 10008
    assert (await channel.fetch_message(msg.id)).content == "here"
    assert seen == [404, 200]
