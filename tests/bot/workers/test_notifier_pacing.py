"""The notifier's pace (scaled, no timing asserts): one request per DM when the DM channel and
the membership are known, no 429 under Discord's global limit, and new DM channels opened slowly
enough that Discord never answers 40003 "You are opening direct messages too fast" - beside the
same backlog without the pace, which Discord refuses."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.db.models import Notification
from bot.forum import prefs
from tests.bot.workers.test_notifier import (
    OPEN_DM,
    Scene,
    answer,
    ask,
    dm_sends,
    make_scene,
    manual_time,
    rows,
)
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.fixtures import BotFactory

MEMBER = "/guilds/{guild_id}/members/{user_id}"


async def followers_of_one_question(scene: Scene, count: int) -> tuple[int, list[Member]]:
    """The asker's question (not yet answered) and ``count`` members following it."""
    fake = scene.fake
    assert fake.guild is not None
    guild_id = fake.guild.id
    members = [fake.add_member(fake.guild, f"reader{i}") for i in range(count)]
    question_id = await ask(scene.sessionmaker, fake, scene.asker.id)
    for m in members:
        await scene.run(
            lambda s, m=m: prefs.follow(s, guild_id=guild_id, question_id=question_id, user_id=m.id)
        )
    return question_id, members


async def answered(scene: Scene, question_id: int, readers: list[Member]) -> list[Notification]:
    """The question is answered; returns its notification rows once every DM is out."""
    fake = scene.fake
    await answer(scene.sessionmaker, fake, question_id, scene.answerer.id)
    scene.notifier.wake()
    await fake.wait_until(
        lambda: all(fake.dms_to(r) for r in readers) or None,
        what="a DM to every reader",
        timeout=60,
    )
    await scene.notifier.wait_idle()
    return await rows(scene.sessionmaker)


async def test_known_dm_channels_and_members_cost_one_request_per_dm_without_a_429(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    assert fake.guild is not None and fake.general is not None
    scene = await make_scene(fake, qa_bot_factory)
    question_id, readers = await followers_of_one_question(scene, 20)
    everyone = [scene.asker, *readers]
    bot = scene.harness.bot
    heard = [
        bot.wait_for("message", check=lambda msg, m=m: msg.author.id == m.id, timeout=30)
        for m in everyone
    ]
    heard_all = asyncio.gather(*heard)
    for m in everyone:
        channel_id = fake.dm_channel(m).id
        await scene.run(lambda s, m=m, c=channel_id: prefs.remember_dm_channel(s, m.id, c))
        await m.send(fake.general, "hello")  # the bot sees them write: members, no look-up
    await heard_all
    await scene.notifier.wait_idle()  # a full pass: the listeners have run
    members = scene.notifier.members
    assert all(members.known(fake.guild.id, m.id) for m in everyone)
    fake.ratelimits.set_global(limit=50, window=1.0)
    mark = fake.mark()
    stored = await answered(scene, question_id, everyone)
    assert {r.status for r in stored} == {"sent"} and len(stored) == len(everyone)
    assert len(dm_sends(fake, since=mark)) == len(everyone)
    assert fake.find_calls("POST", OPEN_DM, since=mark) == []
    assert fake.find_calls("GET", MEMBER, since=mark) == []
    assert fake.ratelimits.limited == []


async def first_time_backlog(
    fake: FakeDiscord, factory: BotFactory, **pace: Any
) -> tuple[Scene, list[Member]]:
    """12 first-time recipients (no DM channel yet: the asker and 11 followers) of one answer,
    Discord refusing more than 9 new DM channels a second; the worker's clock stands still."""
    scene = await make_scene(fake, factory, **pace)
    question_id, readers = await followers_of_one_question(scene, 11)
    fake.ratelimits.limit_dm_opens(limit=9, window=1.0)
    manual_time(scene)  # a refused DM's retry falls due only when a test says so
    await answer(scene.sessionmaker, fake, question_id, scene.answerer.id)
    scene.notifier.wake()
    return scene, [scene.asker, *readers]


async def test_first_time_recipients_get_dm_channels_at_a_pace_discord_accepts(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    # A burst of 5, then 4 a second: never more than 9 in a second.
    scene, readers = await first_time_backlog(fake, qa_bot_factory, notify_dm_opens_per_second=4.0)
    await fake.wait_until(
        lambda: all(fake.dms_to(r) for r in readers) or None, what="every DM", timeout=60
    )
    await scene.notifier.wait_idle()
    assert fake.ratelimits.dm_opens_refused == []
    assert len(fake.find_calls("POST", OPEN_DM)) == len(readers) == 12
    assert {r.status for r in await rows(scene.sessionmaker)} == {"sent"}


async def test_without_the_pace_discord_refuses_dm_channels_opened_too_fast(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    fake = fake_discord
    scene, readers = await first_time_backlog(
        fake, qa_bot_factory, notify_dm_opens_per_second=1000.0
    )
    await fake.wait_until(
        lambda: fake.ratelimits.dm_opens_refused or None, what="a refusal", timeout=60
    )
    await scene.notifier.wait_idle()
    refused = [r for r in await rows(scene.sessionmaker) if r.status == "pending"]
    assert refused, "a refused DM waits for its retry"
    assert {r.last_error for r in refused} == {"HTTP 403 (code 40003)"}
    assert len(fake.ratelimits.dm_opens_refused) == len(refused)
    assert len(dm_sends(fake, ok=True)) == len(readers) - len(refused)
