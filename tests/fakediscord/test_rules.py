"""Discord's rules as the real discord.py client meets them: each refusal is the exception, status
and JSON code discord.py raises against Discord, and the fake's body is Discord's."""

from __future__ import annotations

import discord
import pytest

from tests.fakediscord import permissions as P
from tests.fakediscord.clock import SleepLog, advance_clock
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import Channel, Role
from tests.fakediscord.server import FakeDiscord

MESSAGES = "/channels/{channel_id}/messages"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


@pytest.fixture
def fake(fake_discord: FakeDiscord, probe_bot: BotHarness) -> FakeDiscord:
    return fake_discord


def text_channel(harness: BotHarness, channel: Channel | None) -> discord.TextChannel:
    assert channel is not None
    ch = harness.bot.get_channel(channel.id)
    assert isinstance(ch, discord.TextChannel)
    return ch


def bot_role(fake: FakeDiscord) -> Role:
    assert fake.guild is not None
    return next(r for r in fake.guild.roles.values() if r.bot_id == fake.bot_user.id)


def set_bot_permissions(fake: FakeDiscord, *, grant: int = 0, revoke: int = 0) -> None:
    role = bot_role(fake)
    fake.world.update_role(role, permissions=(role.permissions | grant) & ~revoke)


async def raw_interaction(
    fake: FakeDiscord, harness: BotHarness
) -> tuple[discord.Interaction, int]:
    """A button click on a bot message no view handles: the test answers it itself."""
    assert fake.general is not None and fake.owner is not None
    button = {"type": 2, "style": 1, "label": "Go", "custom_id": "rules:raw"}
    message = fake.world.post_message(
        fake.general,
        fake.bot_user.id,
        {"content": "press", "components": [{"type": 1, "components": [button]}]},
    )
    handle = await fake.owner.click(message, "rules:raw")
    interaction = await harness.cog("Probe").wait_for("interaction", lambda i: i.id == handle.id)
    return interaction, handle.id


async def test_content_up_to_2000_characters(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None
    channel = text_channel(probe_bot, fake.general)
    ok = await channel.send("x" * 2000)
    assert fake.message(ok.id).content == "x" * 2000
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("x" * 2001)
    assert (info.value.status, info.value.code) == (400, 50035)
    assert "In content: Must be 2000 or fewer in length." in info.value.text
    refused = fake.find_calls("POST", MESSAGES, where=lambda c: c.status == 400)
    assert refused[0].response == {
        "message": "Invalid Form Body",
        "code": 50035,
        "errors": {
            "content": {
                "_errors": [
                    {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
                ]
            }
        },
    }
    assert fake.messages_in(fake.general)[-1].id == ok.id


async def test_embed_limits(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    channel = text_channel(probe_bot, fake.general)
    too_long = {
        "embeds.0.description": discord.Embed(description="d" * 4097),
        "embeds.0.title": discord.Embed(title="t" * 257),
        "embeds.0.footer.text": discord.Embed().set_footer(text="f" * 2049),
        "embeds.0.author.name": discord.Embed().set_author(name="a" * 257),
        "embeds.0.fields.0.value": discord.Embed().add_field(name="n", value="v" * 1025),
        "embeds.0.fields.0.name": discord.Embed().add_field(name="n" * 257, value="v"),
        "embeds.0.fields": discord.Embed.from_dict(
            {"fields": [{"name": str(i), "value": "v"} for i in range(26)]}
        ),
    }
    for where, embed in too_long.items():
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(embed=embed)
        assert info.value.code == 50035, where
        assert f"In {where}:" in info.value.text, info.value.text
    with pytest.raises(discord.HTTPException) as info:
        await channel.send(embeds=[discord.Embed(description="d" * 3001) for _ in range(2)])
    assert "Embed size exceeds maximum size of 6000" in info.value.text
    # discord.py itself refuses an 11th embed, so send that body raw.
    route = discord.http.Route("POST", MESSAGES, channel_id=channel.id)
    with pytest.raises(discord.HTTPException) as info:
        await probe_bot.bot.http.request(route, json={"embeds": [{"title": "t"}] * 11})
    assert "In embeds: Must be 10 or fewer in length." in info.value.text
    # Exactly at every limit passes (whitespace around a value does not count).
    full = discord.Embed(title="t" * 256, description="d" * 2600 + "   ")
    full.set_footer(text="f" * 2048).set_author(name="a" * 256)
    for i in range(25):
        full.add_field(name=f"n{i}", value="v" * 27)
    sent = await channel.send(embed=full)
    assert len(fake.message(sent.id).embed_text()) > 5900


async def test_thread_names_are_1_to_100_characters(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.forum is not None
    forum = probe_bot.bot.get_channel(fake.forum.id)
    assert isinstance(forum, discord.ForumChannel)
    with pytest.raises(discord.HTTPException) as info:
        await forum.create_thread(name="n" * 101, content="body")
    assert info.value.code == 50035
    assert "In name: Must be between 1 and 100 in length." in info.value.text
    created = await forum.create_thread(name="n" * 100, content="body")
    with pytest.raises(discord.HTTPException) as info:
        await created.thread.edit(name="m" * 101)
    assert info.value.code == 50035
    channel = text_channel(probe_bot, fake.general)
    with pytest.raises(discord.HTTPException) as info:
        await channel.create_thread(name="", type=discord.ChannelType.public_thread)
    assert info.value.code == 50035
    assert fake.threads_in(fake.forum) == [fake.channel(created.thread.id)]


async def test_forum_tags_required_and_counted(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None
    strict = fake.add_forum(fake.guild, "strict", tags=[f"tag{i}" for i in range(6)])
    fake.edit_channel(strict, flags=1 << 4)  # REQUIRE_TAG
    await fake.flush()
    forum = await probe_bot.cog("Probe").wait_for(
        "channel_update", lambda c: c.id == strict.id and c.flags.require_tag
    )
    assert isinstance(forum, discord.ForumChannel) and forum.flags.require_tag
    with pytest.raises(discord.HTTPException) as info:
        await forum.create_thread(name="No tag", content="body")
    assert (info.value.status, info.value.code) == (400, 40067)
    assert info.value.text == "A tag is required to create a forum post in this channel"
    tags = forum.available_tags
    with pytest.raises(discord.HTTPException) as info:
        await forum.create_thread(name="Six tags", content="body", applied_tags=tags)
    assert "In applied_tags: Must be 5 or fewer in length." in info.value.text
    five = await forum.create_thread(name="Five tags", content="body", applied_tags=tags[:5])
    assert len(fake.channel(five.thread.id).applied_tags) == 5
    with pytest.raises(discord.HTTPException) as info:
        await forum.edit(available_tags=[discord.ForumTag(name=f"t{i}") for i in range(21)])
    assert "In available_tags: Must be 20 or fewer in length." in info.value.text
    await forum.edit(available_tags=[discord.ForumTag(name=f"t{i}") for i in range(20)])
    assert len(strict.available_tags) == 20


async def test_archived_and_locked_threads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.forum is not None and fake.owner is not None
    post = await fake.owner.create_post(fake.forum, "A post", "body")
    thread = await probe_bot.cog("Probe").wait_for("thread_create", lambda t: t.id == post.id)
    mine = await thread.send("the bot's answer")
    await fake.owner.edit_thread(post, archived=True)
    for attempt in (mine.edit(content="edited"), mine.add_reaction("👍"), thread.edit(name="x")):
        with pytest.raises(discord.HTTPException) as info:
            await attempt
        assert (info.value.status, info.value.code, info.value.text) == (
            400,
            50083,
            "Thread is archived",
        )
    await thread.send("sending unarchives an unlocked thread")
    assert not post.archived and fake.message(mine.id).content == "the bot's answer"
    await fake.owner.edit_thread(post, locked=True)
    set_bot_permissions(fake, revoke=P.MANAGE_THREADS)
    for attempt in (thread.send("locked out"), mine.edit(content="no")):
        with pytest.raises(discord.HTTPException) as info:
            await attempt
        assert (info.value.code, info.value.text) == (160005, "Thread is locked")
    await mine.add_reaction("👍")  # reactions stay open while the locked thread is active
    with pytest.raises(discord.Forbidden) as forbidden:
        await thread.edit(locked=False)
    assert forbidden.value.code == 50013
    set_bot_permissions(fake, grant=P.MANAGE_THREADS)
    moderated = await thread.send("a moderator may still speak")
    assert fake.messages_in(post)[-1].id == moderated.id


async def test_bot_permissions_per_route(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None and fake.owner is not None
    channel = text_channel(probe_bot, fake.general)
    members_message = await fake.owner.send(fake.general, "hello")
    await fake.owner.react(members_message, "👍")

    def deny(*names: str) -> None:
        fake.edit_channel(
            fake.general,  # type: ignore[arg-type]
            permission_overwrites=[FakeDiscord.overwrite(fake.bot_user, deny=list(names))],
        )

    deny("send_messages", "add_reactions")
    with pytest.raises(discord.Forbidden) as info:
        await channel.send("hi")
    assert (info.value.status, info.value.code) == (403, 50013)
    assert info.value.text == "Missing Permissions"
    message = await channel.fetch_message(members_message.id)
    await message.add_reaction("👍")  # joining a reaction needs no Add Reactions
    with pytest.raises(discord.Forbidden):
        await message.add_reaction("🎉")
    deny("read_message_history")
    assert [m async for m in channel.history(limit=10)] == []
    with pytest.raises(discord.Forbidden) as info:
        await channel.fetch_message(members_message.id)
    assert info.value.code == 50013
    deny("view_channel")
    with pytest.raises(discord.Forbidden) as info:
        await channel.send("hi")
    assert (info.value.code, info.value.text) == (50001, "Missing Access")
    deny()
    assert (await channel.send("allowed again")).content == "allowed again"


async def test_dms_closed(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None
    gina = fake.add_member(fake.guild, "gina")
    fake.rules.close_dms(gina)
    user = await probe_bot.bot.fetch_user(gina.id)
    with pytest.raises(discord.Forbidden) as info:
        await user.send("your answer was accepted")
    assert (info.value.code, info.value.text) == (50007, "Cannot send messages to this user")
    assert fake.dms_to(gina) == []
    fake.rules.open_dms(gina)
    await user.send("your answer was accepted")
    assert [m.content for m in fake.dms_to(gina)] == ["your answer was accepted"]


async def test_second_callback_is_refused_with_40060(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    interaction, ix_id = await raw_interaction(fake, probe_bot)
    await interaction.response.send_message("first")
    route = discord.http.Route(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        interaction_id=interaction.id,
        interaction_token=interaction.token,
    )
    with pytest.raises(discord.HTTPException) as info:
        await probe_bot.bot.http.request(route, json={"type": 4, "data": {"content": "second"}})
    assert (info.value.status, info.value.code) == (400, 40060)
    assert info.value.text == "Interaction has already been acknowledged."
    record = fake.world.interactions[ix_id]
    assert [c.data.get("content") for c in record.callbacks] == ["first"]


async def test_no_first_response_after_3_seconds(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    interaction, ix_id = await raw_interaction(fake, probe_bot)
    advance_clock(fake, 3.1)
    with pytest.raises(discord.NotFound) as info:
        await interaction.response.send_message("too late")
    assert (info.value.status, info.value.code, info.value.text) == (
        404,
        10062,
        "Unknown interaction",
    )
    assert not fake.world.interactions[ix_id].responded


async def test_deferred_interaction_follows_up_until_the_token_expires(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    interaction, _ = await raw_interaction(fake, probe_bot)
    await interaction.response.defer()
    advance_clock(fake, 60)  # long after 3 s: followups are fine for 15 minutes
    later = await interaction.followup.send("a minute later", wait=True)
    assert fake.message(later.id).content == "a minute later"
    advance_clock(fake, 15 * 60)
    with pytest.raises(discord.HTTPException) as info:
        await interaction.followup.send("too late")
    assert (info.value.status, info.value.code) == (401, 50027)


async def test_callback_bodies_are_validated(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    interaction, _ = await raw_interaction(fake, probe_bot)
    route = discord.http.Route(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        interaction_id=interaction.id,
        interaction_token=interaction.token,
    )
    bodies = {
        "In data.content: Must be 2000 or fewer": {"type": 4, "data": {"content": "c" * 2001}},
        "In data.title: Must be between 1 and 45": {
            "type": 9,
            "data": {"title": "t" * 46, "custom_id": "m", "components": [{"type": 1}]},
        },
        "In data.components.0.content: Must be between 1 and 4000": {
            "type": 9,
            "data": {"title": "t", "custom_id": "m", "components": [{"type": 10, "content": ""}]},
        },
        "In data.components.1.type: Value must be one of": {
            "type": 9,
            "data": {
                "title": "t",
                "custom_id": "m",
                "components": [{"type": 10, "content": "ok"}, {"type": 2, "label": "Go"}],
            },
        },
        "In data.components.0.label: Must be between 1 and 45": {
            "type": 9,
            "data": {
                "title": "t",
                "custom_id": "m",
                "components": [
                    {"type": 18, "label": "l" * 46, "component": {"type": 4, "custom_id": "x"}}
                ],
            },
        },
        "In data.allowed_mentions: parse:": {
            "type": 4,
            "data": {"content": "x", "allowed_mentions": {"parse": ["users"], "users": ["1"]}},
        },
    }
    for expected, body in bodies.items():
        with pytest.raises(discord.HTTPException) as info:
            await probe_bot.bot.http.request(route, json=body)
        assert info.value.code == 50035 and expected in info.value.text, info.value.text
    await interaction.response.send_message("a valid answer still goes through")


async def test_pings_follow_allowed_mentions(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None
    guild = fake.guild
    helpers = fake.add_role(guild, "Helpers", mentionable=True)
    quiet = fake.add_role(guild, "Quiet")
    alice = fake.add_member(guild, "alice")
    bob = fake.add_member(guild, "bob", roles=[helpers])
    carol = fake.add_member(guild, "carol", roles=[quiet])
    channel = text_channel(probe_bot, fake.general)
    text = f"{alice.mention} <@&{helpers.id}> <@&{quiet.id}> @everyone"

    # QABot's default allowed_mentions pings nobody.
    none = fake.rules.pings(fake.message((await channel.send(text)).id))
    assert (none.users, none.roles, none.everyone, none.notified) == ((), (), False, frozenset())

    only_alice = discord.AllowedMentions(users=[discord.Object(alice.id)], roles=False)
    sent = await channel.send(text, allowed_mentions=only_alice)
    recorded = fake.message(sent.id)
    assert recorded.allowed_mentions is not None
    assert recorded.allowed_mentions["users"] == [alice.id]
    assert fake.rules.pings(recorded).notified == {alice.id}

    # Everything allowed: the non-mentionable role and @everyone need Mention Everyone.
    every = discord.AllowedMentions.all()
    pings = fake.rules.pings(fake.message((await channel.send(text, allowed_mentions=every)).id))
    assert pings.users == (alice.id,) and pings.roles == (helpers.id,) and not pings.everyone
    assert pings.notified == {alice.id, bob.id} and alice in pings and carol not in pings
    set_bot_permissions(fake, grant=P.MENTION_EVERYONE)
    pings = fake.rules.pings(fake.message((await channel.send(text, allowed_mentions=every)).id))
    assert pings.everyone and set(pings.roles) == {helpers.id, quiet.id}
    assert pings.notified == set(guild.members) - {fake.bot_user.id}
    silent = await channel.send(text, allowed_mentions=every, silent=True)
    assert fake.rules.pings(fake.message(silent.id)).notified == frozenset()

    # A reply pings its author only when asked to.
    question = await alice.send(fake.general, "a question")
    target = await channel.fetch_message(question.id)
    quiet_reply = await target.reply("an answer", mention_author=False)
    assert fake.rules.pings(fake.message(quiet_reply.id)).notified == frozenset()
    loud_reply = await target.reply("an answer", mention_author=True)
    assert fake.rules.pings(fake.message(loud_reply.id)).notified == {alice.id}


async def test_enforce_nonce_returns_the_earlier_message(
    fake: FakeDiscord, probe_bot: BotHarness, discord_sleep: SleepLog
) -> None:
    assert fake.general is not None
    channel = text_channel(probe_bot, fake.general)
    first = await channel.send("posted once", nonce="qa-1")
    again = await channel.send("posted once", nonce="qa-1")
    assert again.id == first.id
    assert [m.id for m in fake.messages_in(fake.general)].count(first.id) == 1
    created = fake.find_events("MESSAGE_CREATE", where=lambda e: e.data.get("nonce") == "qa-1")
    assert len(created) == 1
    # A lost response (the message was created, the 502 hid it): the retry finds it.
    fake.faults.fail("POST", MESSAGES, status=502, lost_response=True)
    mark = fake.mark()
    retried = await channel.send("retried", nonce="qa-2")
    assert [c.status for c in fake.find_calls("POST", MESSAGES, since=mark)] == [502, 200]
    assert [m.content for m in fake.messages_in(fake.general)].count("retried") == 1
    assert fake.messages_in(fake.general)[-1].id == retried.id
    # Other nonces, and the same nonce after the window, make new messages.
    assert (await channel.send("other", nonce="qa-3")).id != first.id
    advance_clock(fake, fake.rules.nonce_window + 1)
    assert (await channel.send("posted once", nonce="qa-1")).id != first.id
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("x", nonce="n" * 26)
    assert "In nonce: Must be 25 or fewer in length." in info.value.text
