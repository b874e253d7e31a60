"""AutoMod in the fake: the rules route (Manage Server), the rule events, and a member's own
message blocked while a bot's is not."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.fakediscord import permissions as P
from tests.fakediscord.automod import SEND_ALERT_MESSAGE, AutoModBlocked
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.test_rules import set_bot_permissions


def guild_of(harness: BotHarness, fake: FakeDiscord) -> discord.Guild:
    assert fake.guild is not None
    guild = harness.bot.get_guild(fake.guild.id)
    assert guild is not None
    return guild


async def test_the_rules_need_manage_server(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None
    fake.add_automod_rule(fake.guild, name="Words", keywords=["cat*"], custom_message="Be nice.")
    guild = guild_of(probe_bot, fake)
    with pytest.raises(discord.Forbidden) as refused:
        await guild.fetch_automod_rules()
    assert refused.value.status == 403 and refused.value.code == 50013
    set_bot_permissions(fake, grant=P.MANAGE_GUILD)
    (rule,) = await guild.fetch_automod_rules()
    assert rule.name == "Words" and rule.trigger.keyword_filter == ["cat*"]
    assert rule.trigger.type is discord.AutoModRuleTriggerType.keyword
    assert rule.event_type is discord.AutoModRuleEventType.message_send
    (action,) = rule.actions
    assert action.type is discord.AutoModRuleActionType.block_message
    assert action.custom_message == "Be nice."


async def test_rule_changes_reach_the_bot(fake_discord: FakeDiscord, probe_bot: BotHarness) -> None:
    fake = fake_discord
    assert fake.guild is not None
    seen: list[tuple[str, discord.AutoModRule]] = []
    changed = asyncio.Event()

    def recorder(kind: str):  # type: ignore[no-untyped-def]
        async def record(rule: discord.AutoModRule) -> None:
            seen.append((kind, rule))
            changed.set()

        return record

    for kind in ("create", "update", "delete"):
        probe_bot.bot.add_listener(recorder(kind), f"on_automod_rule_{kind}")
    rule = fake.add_automod_rule(fake.guild, name="Words", keywords=["bad"])
    alert = {"type": SEND_ALERT_MESSAGE, "metadata": {"channel_id": str(fake.guild.id)}}
    fake.automod.update(rule, keywords=["worse"], actions=[alert])
    fake.automod.delete(rule)
    await fake.flush()
    async with asyncio.timeout(5):
        while len(seen) < 3:  # no await between the check and the clear: no lost wake-up
            changed.clear()
            await changed.wait()
    assert [kind for kind, _ in seen] == ["create", "update", "delete"]
    assert seen[1][1].trigger.keyword_filter == ["worse"]
    assert [a.type for a in seen[1][1].actions] == [
        discord.AutoModRuleActionType.send_alert_message
    ]
    assert fake.automod.of(fake.guild.id) == []


async def test_a_members_message_is_blocked_and_a_bots_is_not(
    fake_discord: FakeDiscord, probe_bot: BotHarness
) -> None:
    fake = fake_discord
    assert fake.guild is not None and fake.general is not None
    helper = fake.add_role(fake.guild, "Helper")
    fake.add_automod_rule(fake.guild, name="Words", keywords=["bad"], exempt_roles=[helper])
    alice = fake.add_member(fake.guild, "alice")
    bob = fake.add_member(fake.guild, "bob", roles=[helper])
    with pytest.raises(AutoModBlocked, match="Words"):
        await alice.send(fake.general, "a bad day")
    with pytest.raises(AutoModBlocked):
        await alice.create_post(fake.forum, "bad title", "fine")  # type: ignore[arg-type]
    assert [m.content for m in fake.messages_in(fake.general)] == []
    await alice.send(fake.general, "a good day")
    await bob.send(fake.general, "a bad day")  # an exempt role
    channel = probe_bot.bot.get_channel(fake.general.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("a bad day, says the bot")  # bots are exempt
    contents = [m.content for m in fake.messages_in(fake.general)]
    assert contents == ["a good day", "a bad day", "a bad day, says the bot"]
