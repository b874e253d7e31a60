"""The server's own moderation as the fake applies it to members, as Discord does: timeouts
(``communication_disabled_until``), slowmode (``rate_limit_per_user``, a forum's
``default_thread_rate_limit_per_user`` copied to new threads) and locking a thread."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from tests.fakediscord import permissions as P
from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.clock import advance_clock
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord
from tests.fakediscord.snowflake import iso


@pytest.fixture
def fake(fake_discord: FakeDiscord, probe_bot: BotHarness) -> FakeDiscord:
    return fake_discord


async def refused(gesture: Any) -> None:
    with pytest.raises(GestureRefused):
        await gesture


async def test_a_timeout_reaches_the_bot_and_stops_the_members_gestures(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.guild is not None and fake.general is not None and fake.forum is not None
    assert fake.owner is not None
    lena = fake.add_member(fake.guild, "lena")
    hello = await fake.owner.send(fake.general, "hello")
    await fake.owner.react(hello, "👍")
    ask = await lena.slash("probe ask", channel=fake.general)  # before the timeout
    await ask.modal()
    until = fake.time_out(lena, 600)
    assert until is not None
    # GUILD_MEMBER_UPDATE needs the Server Members intent, which the bot does not ask for.
    (event,) = fake.recorder.find_events(
        "GUILD_MEMBER_UPDATE",
        where=lambda e: e.data["user"]["id"] == str(lena.id),
        delivered_only=False,
    )
    assert event.data["communication_disabled_until"] == iso(until)
    # Every permission but View Channel and Read Message History is gone; the owner is exempt.
    assert fake.permissions_in(fake.general, lena) == P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY
    await refused(lena.send(fake.general, "hi"))
    await refused(lena.react(hello, "👍"))  # joining a reaction too
    await refused(lena.create_post(fake.forum, "A post", "body"))
    await refused(lena.slash("probe ask", channel=fake.general))  # no Use Application Commands
    # A form opened before the timeout still submits; the member it carries is timed out.
    done = await ask.submit_modal({"title": "t"})
    await done.response()
    assert done.payload["member"]["communication_disabled_until"] == iso(until)
    probe = probe_bot.cog("Probe")
    seen: discord.Interaction = await probe.wait_for("interaction", lambda i: i.id == done.id)
    assert isinstance(seen.user, discord.Member) and seen.user.timed_out_until is not None
    assert seen.user.is_timed_out()
    # Lifted (or ended), everything is back.
    fake.time_out(lena, None)
    await lena.send(fake.general, "back")
    fake.time_out(lena, 5)
    await refused(lena.send(fake.general, "too soon"))
    advance_clock(fake, 6)
    await lena.send(fake.general, "the timeout ended")


async def test_slowmode_paces_members_not_bots_or_moderators(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.guild is not None and fake.forum is not None
    assert fake.moderator_role is not None
    lena = fake.add_member(fake.guild, "lena")
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    probe = probe_bot.cog("Probe")
    fake.edit_channel(fake.forum, rate_limit_per_user=60, default_thread_rate_limit_per_user=30)
    cached = await probe.wait_for("channel_update", lambda c: c.id == fake.forum.id)
    assert isinstance(cached, discord.ForumChannel)
    assert (cached.slowmode_delay, cached.default_thread_slowmode_delay) == (60, 30)
    post = await lena.create_post(fake.forum, "A post", "body")
    assert post.rate_limit_per_user == 30  # copied from the forum's default
    await refused(lena.create_post(fake.forum, "Another post", "body"))  # the forum's 60 s
    await refused(lena.send(post, "the starter was the first message"))
    await mod.send(post, "Manage Messages is exempt")
    await mod.send(post, "so is a second message")
    thread = await probe.wait_for("thread_create", lambda t: t.id == post.id)
    await thread.send("bots are exempt")
    await thread.send("twice")
    advance_clock(fake, 31)
    await lena.send(post, "after the thread's slowmode")
    await refused(lena.send(post, "a second one"))
    await refused(lena.create_post(fake.forum, "Still too soon", "body"))
    advance_clock(fake, 30)
    later = await lena.create_post(fake.forum, "After the forum's slowmode", "body")
    # The default is copied at creation, not kept in step.
    fake.edit_channel(fake.forum, default_thread_rate_limit_per_user=0)
    assert later.rate_limit_per_user == 30


async def test_only_a_moderator_locks_a_thread_and_it_holds_members(
    fake: FakeDiscord, probe_bot: BotHarness
) -> None:
    assert fake.guild is not None and fake.forum is not None
    assert fake.moderator_role is not None
    lena = fake.add_member(fake.guild, "lena")
    mod = fake.add_member(fake.guild, "mod", roles=[fake.moderator_role])
    post = await lena.create_post(fake.forum, "A post", "body")
    await refused(lena.edit_thread(post, locked=True))  # even the thread's owner
    await refused(lena.edit_thread(post, rate_limit_per_user=10))
    await mod.edit_thread(post, locked=True)
    event = await fake.wait_for_event("THREAD_UPDATE", where=lambda e: e.data["id"] == str(post.id))
    assert event.data["thread_metadata"]["locked"] is True
    await refused(lena.send(post, "locked out"))
    await mod.send(post, "a moderator still speaks")
