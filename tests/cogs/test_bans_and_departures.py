"""End to end through the fake Discord, on both database backends: a member banned from the
server, or one who left it, gets no further DMs about it and their follows there end, while
everyone else's DMs go out; a failed member look-up is retried, not taken for a departure; and
the look-ups are bounded by their cache.

The bot has the moderation intent (bans) and no Server Members intent: a departure reaches it
only through the worker's member look-up at send time (GET /guilds/{g}/members/{u}).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.db.models import Follow
from bot.forum import departures
from cogs import notifications as cog
from tests.bot.workers.test_notifier import ManualClock, wait_for_dms
from tests.cogs.conftest import AskedQuestion, BotEvents
from tests.cogs.test_notifications import OTHER, Scene, make_scene, reply_of
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory

MEMBER = "/guilds/{guild_id}/members/{user_id}"


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    made = await make_scene(fake_discord, qa_bot_factory, db_url)
    try:
        yield made
    finally:
        made.events.close()


def lookups_of(fake: FakeDiscord, member: Member) -> list[int]:
    """The statuses of the bot's member look-ups of ``member``, in order."""
    calls = fake.find_calls("GET", MEMBER, where=lambda c: c.id("user_id") == member.id)
    return [c.status for c in calls]


async def follow(asked: AskedQuestion, *followers: Member) -> None:
    for member in followers:
        assert cog.FOLLOW_REPLIES[True, True] in await reply_of(
            await member.slash("follow", channel=asked.thread)
        )


async def followers_of(scene: Scene, asked: AskedQuestion) -> set[int]:
    async with scene.harness.sessionmaker() as session:
        rows = await session.execute(select(Follow.user_id).where(Follow.question_id == asked.id))
        return set(rows.scalars())


async def test_a_banned_follower_gets_no_dm_while_the_asker_and_the_other_follower_do(
    scene: Scene,
) -> None:
    fake = scene.fake
    asked = await scene.ask()
    await follow(asked, scene.carol, scene.dave)
    banned = BotEvents(scene.harness, "qa_member_banned")
    try:
        fake.ban(scene.carol, reason="harassment")
        _, user_id, ended = await banned.wait_for("qa_member_banned")
    finally:
        banned.close()
    assert user_id == scene.carol.id
    assert ended == departures.MembershipEnded(follows_ended=1, notifications_dropped=0)
    assert await followers_of(scene, asked) == {scene.dave.id}
    await scene.say(scene.bob, asked)
    [to_alice] = await wait_for_dms(fake, scene.alice, 1)
    [to_dave] = await wait_for_dms(fake, scene.dave, 1)
    await scene.notifier.wait_idle()
    for dm in (to_alice, to_dave):
        assert dm.embeds[0]["title"] == f"New answer to “{asked.question.title}”"
    assert fake.dms_to(scene.carol) == []
    assert {r.recipient_id for r in await scene.rows()} == {scene.alice.id, scene.dave.id}
    # The asker was never in the client's member cache: the look-up by id found her.
    guild = scene.harness.bot.get_guild(asked.thread.guild_id or 0)
    assert guild is not None and guild.get_member(scene.alice.id) is None
    assert lookups_of(fake, scene.alice) == [200]
    assert lookups_of(fake, scene.carol) == []  # the ban told the worker: no look-up


async def test_a_ban_drops_the_dms_already_waiting_for_the_member(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    await follow(asked, scene.carol)
    await scene.notifier.stop()  # the answer's DMs wait in the outbox
    await scene.say(scene.bob, asked)
    banned = BotEvents(scene.harness, "qa_member_banned")
    try:
        fake.ban(scene.carol)
        *_, ended = await banned.wait_for("qa_member_banned")
    finally:
        banned.close()
    assert ended == departures.MembershipEnded(follows_ended=1, notifications_dropped=1)
    scene.notifier.start()
    await wait_for_dms(fake, scene.alice, 1)
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.carol) == []
    statuses = {r.recipient_id: (r.status, r.last_error) for r in await scene.rows()}
    assert statuses == {
        scene.alice.id: ("sent", None),
        scene.carol.id: ("cancelled", departures.BANNED),
    }


async def test_a_follower_who_left_is_found_at_send_time_and_gets_no_dm(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    await follow(asked, scene.carol, scene.dave)
    fake.remove_member(scene.carol)  # no event reaches the bot: it has no members intent
    await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.alice, 1)
    await wait_for_dms(fake, scene.dave, 1)
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.carol) == []
    assert lookups_of(fake, scene.carol) == [404]
    statuses = {r.recipient_id: (r.status, r.last_error) for r in await scene.rows()}
    assert statuses[scene.carol.id] == ("cancelled", departures.LEFT)
    assert statuses[scene.alice.id] == statuses[scene.dave.id] == ("sent", None)
    assert await followers_of(scene, asked) == {scene.dave.id}
    assert scene.notifier.stats.departed == 1


async def test_an_asker_who_left_is_looked_up_once_within_the_cache_time(scene: Scene) -> None:
    fake = scene.fake
    asked = await scene.ask()
    await follow(asked, scene.carol)
    fake.remove_member(scene.alice)
    await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.carol, 1)
    # The asker follows her question implicitly: a second answer queues her a DM again, which
    # the remembered "not a member" drops without asking Discord.
    await scene.say(scene.dave, asked, OTHER)
    await wait_for_dms(fake, scene.carol, 2)
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.alice) == []
    assert lookups_of(fake, scene.alice) == [404]
    rows = [r for r in await scene.rows() if r.recipient_id == scene.alice.id]
    assert [(r.status, r.last_error) for r in rows] == [("cancelled", departures.LEFT)] * 2


async def test_two_dms_to_one_member_cost_one_look_up_within_the_cache_time(
    scene: Scene,
) -> None:
    fake = scene.fake
    first = await scene.ask()
    second = await scene.ask("What helps with racing thoughts at night?")
    await scene.say(scene.bob, first)
    await wait_for_dms(fake, scene.alice, 1)
    await scene.say(scene.bob, second)
    await wait_for_dms(fake, scene.alice, 2)
    assert lookups_of(fake, scene.alice) == [200]
    # Its twin: once the remembered answer expires, the next DM asks Discord again.
    scene.notifier.members.ttl = 0
    await scene.say(scene.dave, first, OTHER)
    await wait_for_dms(fake, scene.alice, 3)
    assert lookups_of(fake, scene.alice) == [200, 200]


async def test_a_failed_look_up_is_retried_not_taken_for_a_departure(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    clock = ManualClock()
    scene.notifier.clock = clock
    asked = await scene.ask()
    await follow(asked, scene.carol)
    # discord.py tries a 500 five times (its sleeps scaled here), then gives up: one attempt.
    fake.faults.fail(
        "GET", MEMBER, status=500, times=5, where=lambda c: c.id("user_id") == scene.alice.id
    )
    await scene.say(scene.bob, asked)
    await wait_for_dms(fake, scene.carol, 1)  # its twin: carol's look-up answered
    await scene.notifier.wait_idle()
    assert fake.dms_to(scene.alice) == []
    [row] = [r for r in await scene.rows() if r.recipient_id == scene.alice.id]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500 (code 0)")
    assert await followers_of(scene, asked) == {scene.carol.id}
    assert scene.notifier.stats.departed == 0
    # Nothing was remembered from the failure: the retry asks again, and the DM goes out.
    clock.to(row.next_attempt_at)
    scene.notifier.wake()
    await wait_for_dms(fake, scene.alice, 1)
    await scene.notifier.wait_idle()
    assert lookups_of(fake, scene.alice) == [500] * 5 + [200]
    [row] = [r for r in await scene.rows() if r.recipient_id == scene.alice.id]
    assert (row.status, row.attempts) == ("sent", 2)


async def test_an_unbanned_member_who_rejoins_and_follows_again_gets_dms_again(
    scene: Scene,
) -> None:
    fake = scene.fake
    assert fake.guild is not None
    asked = await scene.ask()
    await follow(asked, scene.carol)
    events = BotEvents(scene.harness, "qa_member_banned", "member_unban")
    try:
        fake.ban(scene.carol)
        await events.wait_for("qa_member_banned")
        fake.unban(scene.carol)
        await events.wait_for("member_unban")
    finally:
        events.close()
    carol = fake.add_member(fake.guild, "carol", user=scene.carol)
    await follow(asked, carol)
    await scene.say(scene.bob, asked)
    [dm] = await wait_for_dms(fake, carol, 1)
    assert dm.embeds[0]["title"] == f"New answer to “{asked.question.title}”"
    # The unban made the worker forget the ban: it asked Discord, which knows her again.
    assert lookups_of(fake, carol) == [200]
