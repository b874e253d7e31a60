"""A DM a dead worker was sending, taken over: sent exactly once, however long the outage.

Within Discord's nonce window the resend carries the same nonce and Discord drops it; after it,
the worker first looks for the DM's key (its footer) in the recent messages of the DM channel.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.forum import outbox, prefs
from bot.forum.outbox import OutboxItem
from tests.bot.workers.test_notifier import (
    MESSAGES,
    Scene,
    dm_sends,
    make_scene,
    manual_time,
    rows,
    wait_for_dms,
)
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.model import Message

LEASE = timedelta(seconds=60)


@pytest.fixture
async def scene(db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory) -> Scene:
    return await make_scene(fake_discord, qa_bot_factory, database_url=db_url)


async def claimed_by_a_dead_worker(scene: Scene) -> tuple[OutboxItem, object]:
    """A queued DM claimed by a worker that then died (the bot's own worker is stopped)."""
    await scene.notifier.stop()
    clock = manual_time(scene)
    await scene.answer(await scene.question())
    [claimed] = await scene.run(
        lambda s: outbox.claim_due(s, worker_id="dead", now=clock.now, lease=LEASE, limit=10)
    )
    return claimed, clock


async def delivered_before_dying(scene: Scene, claimed: OutboxItem) -> Message:
    """What the dead worker's request left on Discord: its DM, with the key and the nonce."""
    fake = scene.fake
    channel = fake.dm_channel(scene.asker)
    await scene.run(lambda s: prefs.remember_dm_channel(s, scene.asker.id, channel.id))
    body = {
        "embeds": [{"title": "New answer", "footer": {"text": claimed.nonce}}],
        "nonce": claimed.nonce,
        "enforce_nonce": True,
    }
    message = fake.world.post_message(channel, fake.bot_user.id, body)
    await fake.flush()
    return message


def history_reads(fake: FakeDiscord, mark: int) -> int:
    return len(fake.find_calls("GET", MESSAGES, since=mark))


async def test_after_the_nonce_window_a_sent_dm_is_found_by_its_key_not_sent_again(
    scene: Scene,
) -> None:
    fake = scene.fake
    claimed, clock = await claimed_by_a_dead_worker(scene)
    delivered = await delivered_before_dying(scene, claimed)
    fake.rules.nonce_window = 0  # Discord no longer drops a resend by its nonce
    clock.to(claimed.claimed_until + timedelta(minutes=5))  # type: ignore[attr-defined]
    mark = fake.mark()
    scene.notifier.start()
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.sent_message_id) == ("sent", delivered.id)
    assert dm_sends(fake, since=mark) == []
    assert history_reads(fake, mark) == 1
    assert fake.dms_to(scene.asker) == [delivered]


async def test_after_the_nonce_window_a_dm_never_sent_is_sent_once_with_its_key(
    scene: Scene,
) -> None:
    fake = scene.fake
    claimed, clock = await claimed_by_a_dead_worker(scene)
    fake.rules.nonce_window = 0
    clock.to(claimed.claimed_until + timedelta(minutes=5))  # type: ignore[attr-defined]
    mark = fake.mark()
    scene.notifier.start()
    [dm] = await wait_for_dms(fake, scene.asker, 1)
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.sent_message_id) == ("sent", dm.id)
    assert [embed["footer"]["text"] for embed in dm.embeds] == [claimed.nonce]
    assert len(dm_sends(fake, since=mark)) == 1
    # The DM channel was never opened by the dead worker: nothing to look in.
    assert history_reads(fake, mark) == 0


async def test_within_the_nonce_window_the_resend_is_dropped_by_its_nonce(
    scene: Scene,
) -> None:
    fake = scene.fake
    claimed, clock = await claimed_by_a_dead_worker(scene)
    delivered = await delivered_before_dying(scene, claimed)
    clock.to(claimed.claimed_until)  # type: ignore[attr-defined]
    mark = fake.mark()
    scene.notifier.start()
    await scene.notifier.wait_idle()
    [row] = await rows(scene.sessionmaker)
    assert (row.status, row.sent_message_id) == ("sent", delivered.id)
    [resend] = dm_sends(fake, since=mark)  # one request, answered with the earlier message
    assert resend.response["id"] == str(delivered.id)
    assert history_reads(fake, mark) == 0
    assert fake.dms_to(scene.asker) == [delivered]
