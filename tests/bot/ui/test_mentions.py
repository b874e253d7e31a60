"""bot.ui.mentions: what Discord is told to ping, unit and end to end through the fake."""

from __future__ import annotations

import discord

from bot.ui.mentions import NO_PINGS, ONLY_USER
from bot.ui.text import escape
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.server import FakeDiscord


def test_payloads() -> None:
    assert NO_PINGS.to_dict() == {"parse": []}
    assert ONLY_USER(123).to_dict() == {"parse": [], "users": [123]}
    assert ONLY_USER(123).replied_user is False


async def test_only_the_asker_is_pinged_and_nobody_else(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None and fake.general is not None and fake.owner is not None
    harness = await qa_bot_factory(extensions=[])
    asker = fake.add_member(fake.guild, "asker")
    other = fake.add_member(fake.guild, "other")
    role = fake.moderator_role
    assert role is not None
    channel = harness.bot.get_channel(fake.general.id)
    assert isinstance(channel, discord.TextChannel)
    text = f"<@{asker.id}> <@{other.id}> <@&{role.id}> @everyone @here"

    # The control: the bot may ping @everyone, and without a guard the fake pings all named.
    assert harness.bot.user is not None
    me = fake.member(fake.guild, harness.bot.user.id)
    loudspeaker = fake.add_role(fake.guild, "Loudspeaker", perms=["mention_everyone"])
    fake.set_roles(me, [*me.roles, loudspeaker])
    loud = await channel.send(text, allowed_mentions=discord.AllowedMentions.all())
    stored = fake.message(loud.id)
    assert set(stored.mentions) == {asker.id, other.id}
    assert stored.mention_roles == [role.id]
    assert stored.mention_everyone

    one = fake.message((await channel.send(text, allowed_mentions=ONLY_USER(asker.id))).id)
    assert one.mentions == [asker.id]
    assert one.mention_roles == [] and not one.mention_everyone

    none = fake.message((await channel.send(text, allowed_mentions=NO_PINGS)).id)
    assert none.mentions == [] and none.mention_roles == [] and not none.mention_everyone

    # The client default pings nobody either; escaped text names nobody in the first place.
    default = fake.message((await channel.send(text)).id)
    assert default.mentions == [] and not default.mention_everyone
    escaped = await channel.send(escape(text), allowed_mentions=discord.AllowedMentions.all())
    stored = fake.message(escaped.id)
    assert stored.mentions == [] and stored.mention_roles == [] and not stored.mention_everyone
