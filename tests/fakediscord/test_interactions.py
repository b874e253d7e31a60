"""Interactions through the fake: slash commands, modals, components, autocomplete, menus."""

from __future__ import annotations

import discord
import pytest

from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import FLAG_EPHEMERAL, MSG_CHAT_INPUT_COMMAND
from tests.fakediscord.server import FakeDiscord


@pytest.fixture
def fake(fake_discord: FakeDiscord, probe_bot: BotHarness) -> FakeDiscord:
    return fake_discord


async def test_slash_command_round_trip(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None and fake.general is not None
    ix = await fake.owner.slash("probe ping", channel=fake.general)
    msg = await ix.message()
    assert msg.content == "pong"
    assert msg.type == MSG_CHAT_INPUT_COMMAND
    assert msg.interaction_metadata is not None
    assert msg.interaction_metadata["user"]["id"] == str(fake.owner.id)
    call = await fake.wait_for_call(
        "POST", "/interactions/{interaction_id}/{interaction_token}/callback"
    )
    assert call.json["type"] == 4 and call.query["with_response"] == "1"
    # The public answer is in the channel and was echoed to the bot.
    assert fake.messages_in(fake.general)[-1] is msg
    probe = probe_bot.cog("Probe")
    echoed = await probe.wait_for("message", lambda m: m.id == msg.id)
    assert echoed.interaction_metadata is not None


async def test_modal_round_trip(fake: FakeDiscord) -> None:
    assert fake.owner is not None
    ix = await fake.owner.slash("probe ask")
    modal = await ix.modal()
    assert modal.title == "Ask a question"
    assert [f.label for f in modal.fields] == ["Title", "Details"]
    submitted = await ix.submit_modal({"title": "Why?", "Details": "Because."})
    msg = await submitted.message()
    assert msg.content == "asked: Why? / Because."
    assert submitted.record.parent_id == ix.id
    # As Discord answers it: the submission names the command that opened the modal.
    assert msg.interaction_metadata is not None
    trigger = msg.interaction_metadata["triggering_interaction_metadata"]
    assert trigger["id"] == str(ix.id) and trigger["type"] == 2 and trigger["name"] == "probe"


async def test_modal_with_label_components(fake: FakeDiscord) -> None:
    assert fake.owner is not None
    ix = await fake.owner.slash("probe label")
    modal = await ix.modal()
    assert [(f.label, f.in_label) for f in modal.fields] == [("Your answer", True)]
    assert modal.texts == ["Read **this** first."]  # a text display (type 10) above the label
    done = await ix.submit_modal({"Your answer": "forty-two"})
    msg = await done.message()
    assert msg.content == "answer: forty-two"
    assert msg.ephemeral and msg.visible_to == fake.owner.id
    # As Discord sends it: every component by id, the text display without its content.
    (text, label) = done.payload["data"]["components"]
    assert text == {"type": 10, "id": 1}
    assert label == {
        "type": 18,
        "id": 2,
        "component": {"type": 4, "id": 3, "custom_id": "answer", "value": "forty-two"},
    }


async def test_modal_refuses_what_the_client_refuses(fake: FakeDiscord) -> None:
    assert fake.owner is not None
    ix = await fake.owner.slash("probe ask")
    with pytest.raises(GestureRefused, match="required"):
        await ix.submit_modal({"details": "no title"})
    with pytest.raises(GestureRefused, match="longer than 100"):
        await ix.submit_modal({"title": "x" * 101})
    with pytest.raises(KeyError):
        await ix.submit_modal({"nope": "x"})


async def test_click_on_an_ephemeral_message_reaches_its_view(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.owner is not None and fake.guild is not None and fake.general is not None
    ix = await fake.owner.slash("probe buttons", channel=fake.general)
    msg = await ix.message()
    assert msg.ephemeral and msg.flags & FLAG_EPHEMERAL
    assert msg not in fake.messages_in(fake.general)  # ephemeral: not in history
    assert not fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(msg.id))
    stranger = fake.add_member(fake.guild, "stranger")
    with pytest.raises(GestureRefused, match="someone else"):
        await stranger.click(msg, "probe:ok")
    click = await fake.owner.click(msg, "probe:ok")
    updated = await click.message()
    assert updated is msg
    assert msg.content == "clicked" and msg.components == []
    probe = probe_bot.cog("Probe")
    interaction = await probe.wait_for("click")
    assert interaction.message.id == msg.id
    assert (await click.response()).type == 7


async def test_select_menu(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None
    ix = await fake.owner.slash("probe buttons")
    msg = await ix.message()
    with pytest.raises(GestureRefused, match="not options"):
        await fake.owner.select(msg, "probe:pick", ["durian"])
    chosen = await fake.owner.select(msg, "probe:pick", ["apple", "cherry"])
    reply = await chosen.message()
    assert reply.content == "picked apple,cherry"
    assert await probe_bot.cog("Probe").wait_for("select") == ["apple", "cherry"]


async def test_defer_then_followups(fake: FakeDiscord) -> None:
    assert fake.owner is not None and fake.general is not None
    ix = await fake.owner.slash("probe slow", channel=fake.general)
    assert await ix.deferred()
    final = await ix.message()
    assert final.content == "done" and not final.loading
    assert final.id == ix.record.original_message_id  # the first followup replaced "thinking"
    (more,) = await ix.followups(1)
    assert more.content == "and more"
    assert [m.content for m in fake.messages_in(fake.general)][-2:] == ["done", "and more"]
    created = fake.find_events("MESSAGE_CREATE", where=lambda e: e.data["id"] == str(final.id))
    assert created[0].data["flags"] & 128  # the loading message was announced, then updated
    assert fake.find_events("MESSAGE_UPDATE", where=lambda e: e.data["id"] == str(final.id))


async def test_ephemeral_defer_keeps_followup_private(fake: FakeDiscord) -> None:
    assert fake.owner is not None and fake.general is not None
    before = len(fake.messages_in(fake.general))
    ix = await fake.owner.slash("probe slow", {"private": True}, channel=fake.general)
    final = await ix.message()
    assert final.ephemeral and final.content == "done"
    await ix.followups(1)
    assert len(fake.messages_in(fake.general)) == before + 1  # only "and more" is public


async def test_second_callback_is_refused(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None
    await fake.owner.slash("probe twice")
    probe = probe_bot.cog("Probe")
    error = await probe.wait_for("twice_error", lambda e: isinstance(e, discord.HTTPException))
    assert error.code == 40060
    assert isinstance(probe.of("twice_error")[0], discord.InteractionResponded)


async def test_autocomplete(fake: FakeDiscord) -> None:
    assert fake.owner is not None
    choices = await fake.owner.autocomplete("probe pick", {"fruit": "ap"}, focused="fruit")
    assert [c["value"] for c in choices] == ["apple", "apricot"]
    ix = await fake.owner.slash("probe pick", {"fruit": "banana", "count": 3})
    assert (await ix.message()).content == "3 x banana"


async def test_options_of_every_kind_and_permissions(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.owner is not None and fake.guild is not None and fake.forum is not None
    assert fake.moderator_role is not None
    alice = fake.add_member(fake.guild, "alice", roles=[fake.moderator_role])
    ix = await alice.slash(
        "probe who",
        {"member": fake.owner, "role": fake.moderator_role, "channel": fake.forum, "ratio": 2},
    )
    text = (await ix.message()).content
    member_id, role_id, channel_id, ratio, perms = text.split()
    assert (int(member_id), int(role_id), int(channel_id)) == (
        fake.owner.id,
        fake.moderator_role.id,
        fake.forum.id,
    )
    assert float(ratio) == 2.0
    assert discord.Permissions(int(perms)).manage_threads
    with pytest.raises(GestureRefused, match="required"):
        await alice.slash("probe who", {"member": fake.owner})


async def test_subcommand_group_and_default_permissions(fake: FakeDiscord) -> None:
    assert fake.owner is not None and fake.guild is not None
    ix = await fake.owner.slash("probe group deep", {"value": 7})
    assert (await ix.message()).content == "deep 7"
    bob = fake.add_member(fake.guild, "bob")
    with pytest.raises(GestureRefused, match="hides /probe-admin"):
        await bob.slash("probe-admin")
    owner_ix = await fake.owner.slash("probe-admin")  # the owner has every permission
    assert (await owner_ix.message()).content == "admin ok"


async def test_context_menus(fake: FakeDiscord) -> None:
    assert fake.owner is not None and fake.guild is not None and fake.general is not None
    carol = fake.add_member(fake.guild, "carol")
    target = await carol.send(fake.general, "an answer")
    ix = await fake.owner.context_menu("Probe message", target)
    assert (await ix.message()).content == f"target {target.id}"
    user_ix = await fake.owner.context_menu("Probe user", carol)
    assert (await user_ix.message()).content == f"user {carol.id}"


async def test_unknown_command_is_a_clear_error(fake: FakeDiscord) -> None:
    assert fake.owner is not None
    with pytest.raises(LookupError, match="no slash command 'nope'"):
        await fake.owner.slash("nope")
    with pytest.raises(LookupError, match="no subcommand"):
        await fake.owner.slash("probe nope")


async def test_client_side_refusals(fake: FakeDiscord) -> None:
    assert fake.guild is not None and fake.forum is not None and fake.owner is not None
    everyone = fake.guild.roles[fake.guild.id]
    hidden = fake.add_text_channel(
        fake.guild, "staff", overwrites=[fake.overwrite(everyone, deny=["view_channel"])]
    )
    mia = fake.add_member(fake.guild, "mia")
    with pytest.raises(GestureRefused, match="cannot send"):
        await mia.send(hidden, "hello?")
    with pytest.raises(GestureRefused, match="cannot use commands"):
        await mia.slash("probe ping", channel=hidden)
    thread = await mia.create_post(fake.forum, "Closed one", "body")
    await fake.owner.edit_thread(thread, archived=True)
    with pytest.raises(GestureRefused, match="archived"):
        await mia.slash("probe ping", channel=thread)
    owner_ix = await fake.owner.slash("probe ping", channel=hidden)  # the owner sees all
    assert (await owner_ix.message()).content == "pong"


async def test_unhandled_bot_errors_are_collected(fake: FakeDiscord, probe_bot: BotHarness) -> None:
    assert fake.owner is not None
    probe_bot.allow_errors()  # without this, the fixture fails the test at teardown
    ix = await fake.owner.slash("probe boom")
    await fake.wait_until(lambda: probe_bot.errors, timeout=5, what="the bot to log the error")
    assert any("boom" in f"{r.getMessage()} {r.exc_info}" for r in probe_bot.errors)
    await ix.response()  # the bot's error handler still answers the member
