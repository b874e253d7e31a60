"""``/mod``: a top-level group for moderators (Manage Threads by default), checked again in
code; ``/mod log`` pages the audit trail newest first, with buttons that survive a restart."""

from __future__ import annotations

import pytest

from bot.forum import audit
from tests.cogs.conftest import configure_qa_guild, run_domain
from tests.fakediscord import permissions as P
from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.model import Message
from tests.fakediscord.server import FakeDiscord


def button_id(message: Message, label: str) -> str:
    for component in message.walk_components():
        if component.get("type") == 2 and component.get("label") == label:
            return str(component["custom_id"])
    raise AssertionError(f"no {label!r} button")


async def test_mod_is_for_moderators_without_manage_server(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    assert fake.guild and fake.general and fake.moderator_role
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness)
    (mod,) = [c for c in fake.commands() if c.data["name"] == "mod"]
    assert int(mod.data["default_member_permissions"]) == P.MANAGE_THREADS
    assert mod.data.get("contexts") in (None, [0])

    moderator = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    assert not fake.permissions_in(fake.general, moderator) & P.MANAGE_GUILD
    member = fake.add_member(fake.guild, "bob")
    await fake.flush()
    guild_id = fake.guild.id
    for n in range(12):
        await run_domain(
            harness,
            lambda s, n=n: audit.record(s, guild_id, moderator.id, "remove", post_id=n + 1),
        )
    await run_domain(
        harness,
        lambda s: audit.record(s, guild_id, moderator.id, "dismiss", post_id=13, detail="ok"),
    )

    ix = await moderator.slash("mod log", {}, channel=fake.general)
    first = await ix.message()
    assert first.ephemeral
    (embed,) = first.embeds
    assert embed["title"] == "Moderation log (13)"
    lines = embed["description"].splitlines()
    assert len(lines) == 10
    assert lines[0].endswith(f"<@{moderator.id}> dismissed the reports on post #13 · ok")
    assert lines[1].endswith(f"<@{moderator.id}> removed post #12")
    assert embed["footer"]["text"] == "Page 1 of 2 · newest first"

    await harness.close()
    harness = await qa_bot_factory(database_url=db_url)
    click = await moderator.click(first, button_id(first, "Next"))
    second = await click.message()
    assert second.embeds[0]["footer"]["text"] == "Page 2 of 2 · newest first"
    assert second.embeds[0]["description"].splitlines()[-1].endswith("removed post #1")

    # Discord hides /mod from a member without Manage Threads; a server may lift that, and
    # then the bot refuses in code.
    with pytest.raises(GestureRefused):
        await member.slash("mod log", {}, channel=fake.general)
    refused = await member.slash("mod log", {}, channel=fake.general, bypass_permissions=True)
    reply = await refused.message()
    assert reply.ephemeral and "Only this server's moderators can use /mod." in reply.content
