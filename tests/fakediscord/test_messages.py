"""Messages, threads, reactions and channels: REST and gateway agree."""

from __future__ import annotations

import io

import discord
import pytest

from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import MSG_CHANNEL_PINNED, MSG_REPLY
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.world import FakeError


@pytest.fixture
def fake(fake_discord: FakeDiscord, probe_bot: BotHarness) -> FakeDiscord:
    return fake_discord


def text_channel(harness: BotHarness, channel_id: int) -> discord.TextChannel:
    ch = harness.bot.get_channel(channel_id)
    assert isinstance(ch, discord.TextChannel)
    return ch


def forum_channel(harness: BotHarness, channel_id: int) -> discord.ForumChannel:
    ch = harness.bot.get_channel(channel_id)
    assert isinstance(ch, discord.ForumChannel)
    return ch


async def test_a_sent_message_is_found_by_history(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None and fake.owner is not None
    channel = text_channel(probe_bot, fake.general.id)
    first = await fake.owner.send(fake.general, "before")
    sent = await channel.send("hello from the bot")
    echoed = await probe_bot.cog("Probe").wait_for("message", lambda m: m.id == sent.id)
    assert echoed.author.id == fake.bot_user.id
    history = [m async for m in channel.history(limit=10)]
    assert [m.id for m in history] == [sent.id, first.id]
    assert history[0].content == "hello from the bot"
    assert fake.messages_in(fake.general)[-1].content == "hello from the bot"
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == sent.content


async def test_history_paging(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None and fake.owner is not None
    channel = text_channel(probe_bot, fake.general.id)
    sent = [await fake.owner.send(fake.general, f"m{i}") for i in range(7)]
    ids = [m.id for m in sent]
    newest = [m.id async for m in channel.history(limit=3)]
    assert newest == ids[::-1][:3]
    before = [m.id async for m in channel.history(limit=3, before=discord.Object(ids[4]))]
    assert before == [ids[3], ids[2], ids[1]]
    after = [m.id async for m in channel.history(limit=3, after=discord.Object(ids[1]))]
    assert after == [ids[2], ids[3], ids[4]]
    around = [m.id async for m in channel.history(limit=3, around=discord.Object(ids[3]))]
    assert sorted(around) == [ids[2], ids[3], ids[4]]
    everything = [m.id async for m in channel.history(limit=None, oldest_first=True)]
    assert everything == ids


async def test_member_messages_edits_deletes_and_replies(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.general is not None and fake.owner is not None and fake.guild is not None
    probe = probe_bot.cog("Probe")
    dave = fake.add_member(fake.guild, "dave")
    original = await dave.send(fake.general, "first draft")
    got = await probe.wait_for("message", lambda m: m.id == original.id)
    assert isinstance(got.author, discord.Member) and got.author.id == dave.id
    reply = await fake.owner.send(fake.general, "a reply", reply_to=original)
    assert reply.type == MSG_REPLY and reply.mentions == [dave.id]
    got_reply = await probe.wait_for("message", lambda m: m.id == reply.id)
    assert got_reply.reference is not None and got_reply.reference.message_id == original.id
    await dave.edit(original, "final text")
    edit = await probe.wait_for("edit", lambda p: p.message_id == original.id)
    assert edit.message.content == "final text"
    await dave.delete(original)
    deleted = await probe.wait_for("delete", lambda p: p.message_id == original.id)
    assert deleted.channel_id == fake.general.id
    assert original not in fake.messages_in(fake.general)


async def test_bot_edit_delete_and_bulk_delete_are_echoed(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.general is not None and fake.owner is not None
    probe = probe_bot.cog("Probe")
    channel = text_channel(probe_bot, fake.general.id)
    msg = await channel.send("v1")
    await msg.edit(content="v2")
    await probe.wait_for("edit", lambda p: p.message_id == msg.id)
    assert fake.message(msg.id).content == "v2"
    foreign = await fake.owner.send(fake.general, "not yours")
    with pytest.raises(discord.Forbidden) as info:
        await channel.get_partial_message(foreign.id).edit(content="hijack")
    assert info.value.code == 50005
    await msg.delete()
    await probe.wait_for("delete", lambda p: p.message_id == msg.id)
    a = await fake.owner.send(fake.general, "a")
    b = await fake.owner.send(fake.general, "b")
    await channel.delete_messages([discord.Object(a.id), discord.Object(b.id)])
    bulk = await probe.wait_for("bulk_delete")
    assert bulk.message_ids == {a.id, b.id}


async def test_reactions_reach_the_bot_and_back(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None and fake.owner is not None and fake.guild is not None
    probe = probe_bot.cog("Probe")
    erin = fake.add_member(fake.guild, "erin")
    post = await fake.owner.send(fake.general, "vote on me")
    await erin.react(post, "👍")
    added = await probe.wait_for("reaction_add", lambda p: p.message_id == post.id)
    assert added.user_id == erin.id and str(added.emoji) == "👍"
    assert added.member is not None and added.member.id == erin.id
    assert added.message_author_id == fake.owner.id
    await erin.react(post, "👍")  # a repeat changes nothing and sends nothing
    assert len(fake.find_events("MESSAGE_REACTION_ADD")) == 1
    await erin.unreact(post, "👍")
    removed = await probe.wait_for("reaction_remove", lambda p: p.message_id == post.id)
    assert removed.user_id == erin.id

    # The bot's own reactions, another user's reaction removed, and the user list.
    channel = text_channel(probe_bot, fake.general.id)
    partial = channel.get_partial_message(post.id)
    await erin.react(post, "👎")
    await partial.add_reaction("👎")
    assert post.reaction_users("👎") == [erin.id, fake.bot_user.id]
    fetched = await channel.fetch_message(post.id)
    (reaction,) = fetched.reactions
    assert reaction.count == 2 and reaction.me
    users = [u.id async for u in reaction.users()]
    assert sorted(users) == sorted([erin.id, fake.bot_user.id])
    await partial.remove_reaction("👎", discord.Object(erin.id))
    assert post.reaction_users("👎") == [fake.bot_user.id]
    await partial.clear_reaction("👎")
    await probe.wait_for("reaction_clear_emoji", lambda p: p.message_id == post.id)
    await erin.react(post, "<:party:123456>")
    await partial.clear_reactions()
    await probe.wait_for("reaction_clear", lambda p: p.message_id == post.id)
    assert post.reactions == {}


async def test_super_reactions_are_counted_and_listed_apart(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    """A super reaction (burst) is type 1: ``count_details.burst``, listed with ``type=1``."""
    assert fake.general is not None and fake.owner is not None and fake.guild is not None
    probe = probe_bot.cog("Probe")
    erin, finn = fake.add_member(fake.guild, "erin"), fake.add_member(fake.guild, "finn")
    post = await fake.owner.send(fake.general, "vote on me")
    await erin.super_react(post, "👍")
    added = await probe.wait_for("reaction_add", lambda p: p.message_id == post.id)
    assert added.burst and added.type == discord.ReactionType.burst
    await finn.react(post, "👍")
    channel = text_channel(probe_bot, fake.general.id)
    (reaction,) = (await channel.fetch_message(post.id)).reactions
    assert (reaction.count, reaction.normal_count, reaction.burst_count) == (2, 1, 1)
    normal = [u.id async for u in reaction.users(type=discord.ReactionType.normal)]
    burst = [u.id async for u in reaction.users(type=discord.ReactionType.burst)]
    assert (normal, burst) == ([finn.id], [erin.id])
    assert post.reaction_users("👍") == [finn.id]  # normal reactions only


async def test_forum_post_by_the_bot_and_tags(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.forum is not None
    probe = probe_bot.cog("Probe")
    forum = forum_channel(probe_bot, fake.forum.id)
    anxiety = next(t for t in forum.available_tags if t.name == "Anxiety")
    created = await forum.create_thread(
        name="How do I cope?", content="Details", applied_tags=[anxiety]
    )
    assert created.thread.id == created.message.id
    thread = fake.channel(created.thread.id)
    assert thread.applied_tags == [anxiety.id] and thread.parent_id == fake.forum.id
    cached = await probe.wait_for("thread_create", lambda t: t.id == thread.id)
    assert cached.applied_tags == [anxiety]
    starter = await probe.wait_for("message", lambda m: m.id == thread.id)
    assert starter.content == "Details"
    call = await fake.wait_for_call("POST", "/channels/{channel_id}/threads")
    assert call.json["message"]["content"] == "Details"

    # Tags created and deleted through a channel edit.
    solved = discord.ForumTag(name="Solved")
    await forum.edit(available_tags=[*forum.available_tags, solved])
    updated = await probe.wait_for(
        "channel_update", lambda c: "Solved" in [t.name for t in c.available_tags]
    )
    solved_tag = next(t for t in updated.available_tags if t.name == "Solved")
    assert fake.forum.tag("Solved").id == solved_tag.id
    await created.thread.edit(applied_tags=[anxiety, solved_tag], name="Coping (solved)")
    change = await probe.wait_for("thread_update", lambda p: p.data["name"] == "Coping (solved)")
    assert change.data["applied_tags"] == [str(anxiety.id), str(solved_tag.id)]
    await forum.edit(available_tags=[t for t in updated.available_tags if t.name != "Depression"])
    assert "Depression" not in [t.name for t in fake.forum.available_tags]


async def test_member_forum_post_and_archived_thread(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.forum is not None and fake.guild is not None
    probe = probe_bot.cog("Probe")
    frank = fake.add_member(fake.guild, "frank")
    thread = await frank.create_post(fake.forum, "Native post", "My question", tags=["General"])
    created = await probe.wait_for("thread_create", lambda t: t.id == thread.id)
    assert created.owner_id == frank.id
    starter = await probe.wait_for("message", lambda m: m.id == thread.id)
    assert starter.content == "My question"
    await frank.edit_thread(thread, archived=True)
    await probe.wait_for("thread_update", lambda p: p.thread_id == thread.id)
    assert probe_bot.bot.get_guild(fake.guild.id).get_thread(thread.id) is None  # type: ignore[union-attr]
    # The bot answering in the archived (unlocked) thread unarchives it, as Discord does.
    answer = await discord.PartialMessageable(
        state=probe_bot.bot._connection, id=thread.id, guild_id=fake.guild.id
    ).send("an answer")
    assert not thread.archived
    unarchived = fake.find_events("THREAD_UPDATE")[-1]
    assert unarchived.data["thread_metadata"]["archived"] is False
    assert (
        unarchived.index
        < fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(answer.id))[
            0
        ].index
    )
    assert thread.message_count == 1
    # Locked: a member's message box is closed; the API refuses even the bot without
    # Manage Threads once the thread is also archived.
    await fake.owner.edit_thread(thread, archived=True, locked=True)  # type: ignore[union-attr]
    with pytest.raises(GestureRefused, match="locked"):
        await frank.send(thread, "let me in")
    with pytest.raises(FakeError) as info:
        fake.world.post_message(thread, frank.id, {"content": "via the API"})
    assert info.value.code == 50083


async def test_dm_channels_and_uploads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None
    probe = probe_bot.cog("Probe")
    gina = fake.add_member(fake.guild, "gina")
    user = await probe_bot.bot.fetch_user(gina.id)
    dm = await user.send(
        "You got an answer", file=discord.File(io.BytesIO(b"report body"), "report.txt")
    )
    (msg,) = fake.dms_to(gina)
    assert msg.id == dm.id and msg.content == "You got an answer"
    assert msg.attachments[0].filename == "report.txt"
    assert await dm.attachments[0].read() == b"report body"
    call = fake.find_calls("POST", "/channels/{channel_id}/messages")[-1]
    assert call.files[0][0] == "report.txt" and call.json["content"] == "You got an answer"
    incoming = await gina.dm("thanks!")
    got = await probe.wait_for("message", lambda m: m.id == incoming.id)
    assert isinstance(got.channel, discord.DMChannel)


async def test_pins(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.general is not None and fake.owner is not None
    channel = text_channel(probe_bot, fake.general.id)
    msg = await fake.owner.send(fake.general, "pin me")
    await channel.get_partial_message(msg.id).pin()
    assert msg.pinned
    assert fake.messages_in(fake.general)[-1].type == MSG_CHANNEL_PINNED
    pins = [m async for m in channel.pins()]
    assert [p.id for p in pins] == [msg.id]
    assert fake.find_events("CHANNEL_PINS_UPDATE")
    await channel.get_partial_message(msg.id).unpin()
    assert [m async for m in channel.pins()] == []


async def test_member_roles_and_permissions(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None and fake.moderator_role is not None
    hank = fake.add_member(fake.guild, "hank")
    assert not fake.permissions_in(fake.general, hank) & (1 << 34)
    guild = probe_bot.bot.get_guild(fake.guild.id)
    assert guild is not None
    member = await guild.fetch_member(hank.id)
    await member.add_roles(fake.moderator_role)
    assert fake.permissions_in(fake.general, hank) & (1 << 34)
    # An overwrite denying Manage Threads for the role in one channel wins there.
    secret = fake.add_text_channel(
        fake.guild,
        "mods-no-threads",
        overwrites=[fake.overwrite(fake.moderator_role, deny=["manage_threads"])],
    )
    assert not fake.permissions_in(secret, hank) & (1 << 34)
    hidden = fake.add_text_channel(
        fake.guild,
        "hidden",
        overwrites=[fake.overwrite(fake.guild.roles[fake.guild.id], deny=["view_channel"])],
    )
    assert fake.permissions_in(hidden, hank) == 0
    assert fake.permissions_in(hidden, fake.owner) != 0  # type: ignore[arg-type]


async def test_reaction_refusals(fake: FakeDiscord) -> None:
    assert fake.guild is not None and fake.general is not None and fake.owner is not None
    assert fake.forum is not None
    everyone = fake.guild.roles[fake.guild.id]
    quiet = fake.add_text_channel(
        fake.guild,
        "no-new-reactions",
        overwrites=[fake.overwrite(everyone, deny=["add_reactions"])],
    )
    nina = fake.add_member(fake.guild, "nina")
    msg = await fake.owner.send(quiet, "react?")
    with pytest.raises(GestureRefused, match="new reactions"):
        await nina.react(msg, "👍")
    await fake.owner.react(msg, "👍")
    await nina.react(msg, "👍")  # joining an existing reaction needs no Add Reactions
    assert msg.reaction_users("👍") == [fake.owner.id, nina.id]
    thread = await nina.create_post(fake.forum, "Closed", "body")
    await fake.owner.edit_thread(thread, archived=True)
    with pytest.raises(GestureRefused, match="archived"):
        await fake.owner.react(fake.message(thread.id), "👍")


async def test_a_reaction_burst_arrives_in_order_and_skips_what_changes_nothing(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.general is not None and fake.guild is not None and fake.owner is not None
    probe = probe_bot.cog("Probe")
    erin, finn = fake.add_member(fake.guild, "erin"), fake.add_member(fake.guild, "finn")
    post = await fake.owner.send(fake.general, "vote on me")
    gestures = [
        (erin, post, "👍", True),
        (erin, post, "👍", True),  # already there: nothing is sent
        (finn, post, "👎", True),
        (erin, post, "👍", False),
        (finn, post, "👍", False),  # not there: nothing is sent
        (erin, post, "👍", True),
    ]
    sent = await fake.reaction_burst(gestures)
    assert sent == 4
    assert post.reaction_users("👍") == [erin.id] and post.reaction_users("👎") == [finn.id]
    events = fake.find_events(where=lambda e: e.name.startswith("MESSAGE_REACTION"))
    assert [(e.name[-3:], e.data["user_id"]) for e in events] == [
        ("ADD", str(erin.id)),
        ("ADD", str(finn.id)),
        ("OVE", str(erin.id)),
        ("ADD", str(erin.id)),
    ]
    # The bot receives them in that order: its third reaction_add is erin's last one.
    await probe.wait_for("reaction_add", lambda _: len(probe.of("reaction_add")) == 3)
    received = [(k, v.user_id) for k, v in probe.seen if k.startswith("reaction_")]
    assert received == [
        ("reaction_add", erin.id),
        ("reaction_add", finn.id),
        ("reaction_remove", erin.id),
        ("reaction_add", erin.id),
    ]
