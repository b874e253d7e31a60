"""Every payload the fake builds becomes a discord.py object with the right values."""

from __future__ import annotations

import copy
from typing import Any

import discord
import pytest
from discord.app_commands import AppCommand
from discord.interactions import InteractionCallbackResponse
from discord.raw_models import (
    RawBulkMessageDeleteEvent,
    RawMessageDeleteEvent,
    RawReactionActionEvent,
    RawReactionClearEmojiEvent,
    RawReactionClearEvent,
    RawThreadDeleteEvent,
    RawThreadUpdateEvent,
)
from discord.threads import ThreadMember

from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import IX_COMPONENT, IX_MODAL_SUBMIT
from tests.fakediscord.server import FakeDiscord


@pytest.fixture
def fake(fake_discord: FakeDiscord, probe_bot: BotHarness) -> FakeDiscord:
    return fake_discord


def state(harness: BotHarness) -> Any:
    return harness.bot._connection


def fresh(data: Any) -> Any:
    return copy.deepcopy(data)  # discord.py mutates some payloads while parsing


async def test_guild_channel_role_member_user_payloads(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.guild is not None and fake.general is not None and fake.forum is not None
    st = state(probe_bot)
    w = fake.world
    ivy = fake.add_member(fake.guild, "ivy", roles=[fake.moderator_role], nick="Ivy")  # type: ignore[list-item]
    category = fake.add_category(fake.guild, "Support")
    thread = await ivy.create_post(fake.forum, "A post", "body", tags=["Anxiety"])

    payload = w.guild_create_payload(fake.guild, intents=-1)  # every intent: all members
    assert len(payload["members"]) == payload["member_count"] == len(fake.guild.members)
    guild = discord.Guild(data=fresh(payload), state=st)
    assert guild.name == "Test Guild" and guild.owner_id == fake.guild.owner_id
    assert guild.member_count == len(fake.guild.members)
    assert guild.me is not None  # the bot's own member is always in GUILD_CREATE
    members = [discord.Member(data=m, guild=guild, state=st) for m in fresh(payload["members"])]
    assert {m.id: m.nick for m in members}[ivy.id] == "Ivy"
    assert guild.get_thread(thread.id) is not None
    assert {c.id for c in guild.channels} >= {fake.general.id, fake.forum.id, category.id}
    assert guild.default_role.permissions.view_channel
    bot_role = next(r for r in guild.roles if r.managed)
    assert bot_role.tags is not None and bot_role.tags.bot_id == fake.bot_user.id

    text = discord.TextChannel(state=st, guild=guild, data=fresh(w.channel_payload(fake.general)))
    assert text.name == "general" and text.type is discord.ChannelType.text
    forum = discord.ForumChannel(state=st, guild=guild, data=fresh(w.channel_payload(fake.forum)))
    assert [t.name for t in forum.available_tags][:2] == ["General", "Anxiety"]
    cat = discord.CategoryChannel(state=st, guild=guild, data=fresh(w.channel_payload(category)))
    assert cat.type is discord.ChannelType.category
    th = discord.Thread(
        guild=guild, state=st, data=fresh(w.channel_payload(thread, for_user=ivy.id))
    )
    assert th.owner_id == ivy.id and th.parent_id == fake.forum.id
    assert th.applied_tags[0].name == "Anxiety" if th.parent is not None else True
    assert th.me is not None and th.me.id == ivy.id
    assert not th.archived and not th.locked
    tm = ThreadMember(th, fresh(w.thread_member_payload(thread, ivy.id)))
    assert tm.id == ivy.id and tm.thread_id == thread.id

    role = discord.Role(guild=guild, state=st, data=fresh(fake.moderator_role.payload()))  # type: ignore[union-attr]
    assert role.permissions.manage_threads and role.name == "Moderator"
    member = discord.Member(
        data=fresh(w.member_payload(fake.guild.id, ivy.id)), guild=guild, state=st
    )
    assert member.id == ivy.id and role.id in member._roles
    user = discord.User(state=st, data=fresh(w.user_payload(ivy.id)))
    assert user.name == "ivy" and not user.bot
    dm = w.open_dm(ivy.id)
    assert st.user is not None
    dm_channel = discord.DMChannel(me=st.user, state=st, data=fresh(w.channel_payload(dm)))
    assert dm_channel.recipient is not None and dm_channel.recipient.id == ivy.id


async def test_rest_payloads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    st = state(probe_bot)
    app = await probe_bot.bot.application_info()
    assert app.id == fake.application_id and app.owner.id == fake.world.owner.id
    assert isinstance(app, discord.AppInfo) and app.interactions_endpoint_url is None
    me = await probe_bot.bot.http.static_login(fake.token)
    assert discord.ClientUser(state=st, data=me).bot
    fake.install_commands(probe_bot.bot.tree)
    for command in fake.commands():
        parsed = AppCommand(data=fresh(command.payload()), state=st)
        assert parsed.id == command.id and parsed.name == command.name


async def test_message_payloads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None and fake.owner is not None
    st = state(probe_bot)
    w = fake.world
    guild = probe_bot.bot.get_guild(fake.guild.id)
    assert guild is not None
    channel: Any = guild.get_channel(fake.general.id)
    jack = fake.add_member(fake.guild, "jack")
    first = await jack.send(
        fake.general,
        f"hi {fake.owner.mention} <@&{fake.moderator_role.id}>",  # type: ignore[union-attr]
        embeds=[{"title": "T", "description": "D"}],
        files=[("a.txt", b"abc")],
    )
    await fake.owner.react(first, "👍")
    await jack.react(first, "<:party:42>")
    reply = await fake.owner.send(fake.general, "re", reply_to=first)
    for msg, gateway in ((first, True), (first, False), (reply, True), (reply, False)):
        data = fresh(w.message_payload(msg, gateway=gateway))
        parsed = discord.Message(state=st, channel=channel, data=data)
        assert parsed.id == msg.id and parsed.content == msg.content
        assert parsed.author.id == msg.author_id
    parsed = discord.Message(
        state=st, channel=channel, data=fresh(w.message_payload(first, gateway=True))
    )
    assert isinstance(parsed.author, discord.Member)
    assert [m.id for m in parsed.mentions] == [fake.owner.id]
    assert [r.id for r in parsed.role_mentions] == [fake.moderator_role.id]  # type: ignore[union-attr]
    assert parsed.embeds[0].title == "T" and parsed.attachments[0].size == 3
    assert [(str(r.emoji), r.count) for r in parsed.reactions] == [("👍", 1), ("<:party:42>", 1)]
    reply_data = fresh(w.message_payload(reply))
    parsed_reply = discord.Message(state=st, channel=channel, data=reply_data)
    assert parsed_reply.type is discord.MessageType.reply
    assert isinstance(parsed_reply.reference.resolved, discord.Message)  # type: ignore[union-attr]
    assert parsed_reply.reference.resolved.id == first.id  # type: ignore[union-attr]


async def test_event_payloads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None and fake.owner is not None
    assert fake.forum is not None
    kate = fake.add_member(fake.guild, "kate")
    msg = await kate.send(fake.general, "x")
    other = await kate.send(fake.general, "y")
    await fake.owner.react(msg, "👍")
    await fake.owner.unreact(msg, "👍")
    await fake.owner.clear_reactions(msg, "👍")
    await fake.owner.clear_reactions(msg)
    thread = await kate.create_post(fake.forum, "t", "body")
    await kate.edit_thread(thread, name="t2")
    await kate.delete(msg)
    await fake.bulk_delete(fake.general, [other])
    await kate.delete_thread(thread)
    await fake.flush()

    def data(name: str) -> Any:
        return fresh(fake.find_events(name)[-1].data)

    emoji = discord.PartialEmoji(name="👍")
    add = RawReactionActionEvent(data("MESSAGE_REACTION_ADD"), emoji, "REACTION_ADD")
    assert add.user_id == fake.owner.id and add.type is discord.ReactionType.normal
    assert add.guild_id == fake.guild.id and add.message_author_id == kate.id
    remove = RawReactionActionEvent(data("MESSAGE_REACTION_REMOVE"), emoji, "REACTION_REMOVE")
    assert remove.message_id == msg.id
    assert (
        RawReactionClearEmojiEvent(data("MESSAGE_REACTION_REMOVE_EMOJI"), emoji).message_id
        == msg.id
    )
    assert RawReactionClearEvent(data("MESSAGE_REACTION_REMOVE_ALL")).message_id == msg.id
    assert RawMessageDeleteEvent(data("MESSAGE_DELETE")).message_id == msg.id
    assert RawBulkMessageDeleteEvent(data("MESSAGE_DELETE_BULK")).message_ids == {other.id}
    assert RawThreadUpdateEvent(data("THREAD_UPDATE")).data["name"] == "t2"
    assert RawThreadDeleteEvent(data("THREAD_DELETE")).thread_id == thread.id
    created = data("THREAD_CREATE")
    assert created["newly_created"] is True
    guild = probe_bot.bot.get_guild(fake.guild.id)
    assert discord.Thread(guild=guild, state=state(probe_bot), data=created).id == thread.id  # type: ignore[arg-type]


async def test_interaction_payloads(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.guild is not None and fake.general is not None and fake.owner is not None
    assert fake.forum is not None and fake.moderator_role is not None
    st = state(probe_bot)
    lena = fake.add_member(fake.guild, "lena")
    target = await lena.send(fake.general, "target")
    handles = [
        await fake.owner.slash(
            "probe who",
            {"member": lena, "role": fake.moderator_role, "channel": fake.forum},
            channel=fake.general,
        ),
        await fake.owner.slash("probe group deep", {"value": 3}),
        await fake.owner.start_autocomplete("probe pick", {"fruit": "a"}, focused="fruit"),
        await fake.owner.context_menu("Probe message", target),
        await fake.owner.context_menu("Probe user", lena),
    ]
    ask = await fake.owner.slash("probe ask")
    handles.append(await ask.submit_modal({"title": "t"}))
    buttons = await fake.owner.slash("probe buttons")
    handles.append(await fake.owner.click(await buttons.message(), "probe:ok"))
    for handle in handles:
        await handle.response()
        interaction = discord.Interaction(data=fresh(handle.payload), state=st)
        assert interaction.id == handle.id and interaction.user.id == fake.owner.id
        assert isinstance(interaction.user, discord.Member)
        assert interaction.guild_id == fake.guild.id and interaction.channel is not None
        assert interaction.filesize_limit == 10 * 1024 * 1024
        assert interaction.app_permissions.send_messages
        data: Any = interaction.data
        if handle.type == IX_COMPONENT:
            assert interaction.message is not None and data["custom_id"] == "probe:ok"
        if handle.type == IX_MODAL_SUBMIT:
            assert ask.record.modal is not None
            assert data["custom_id"] == ask.record.modal["custom_id"]
        # The callback response the fake returned parses as discord.py expects it.
        (call,) = [
            c
            for c in fake.find_calls(
                "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
            )
            if c.id("interaction_id") == handle.id
        ]
        response = InteractionCallbackResponse(
            data=fresh(call.response),
            parent=interaction,
            state=st,
            type=discord.InteractionResponseType(call.json["type"]),
        )
        assert response.id == handle.id
        if call.json["type"] == 4:
            assert isinstance(response.resource, discord.InteractionMessage)
            assert response.message_id == handle.record.original_message_id
