"""Discord's faults on the bot's thread edits and deletes, end to end on both backends (the
classes ``thread_edit`` and ``delete`` of ``tests/rest_inventory.py``): a close goes through 429
and 5xx; a refused edit leaves the stored change and says so beside it; a delete of a thread
already gone counts as done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.db.models import Post
from bot.threads import DISCORD_TROUBLE
from tests.cogs.conftest import (
    AskedQuestion,
    add_forum_tag,
    ask_question_directly,
    configure_qa_guild,
)
from tests.fakediscord import FakeDiscord, Member
from tests.fakediscord.clock import SleepLog
from tests.fakediscord.fixtures import BotFactory, BotHarness

CHANNEL = "/channels/{channel_id}"


@dataclass
class Scene:
    fake: FakeDiscord
    harness: BotHarness
    asker: Member
    asked: AskedQuestion

    def in_thread(self) -> Any:
        return lambda c: c.id("channel_id") == self.asked.thread.id

    async def post(self) -> Post:
        async with self.harness.sessionmaker() as session:
            row = await session.get(Post, self.asked.id)
            assert row is not None
            return row

    async def close(self) -> str:
        ix = await self.asker.slash("close", channel=self.asked.thread)
        return (await ix.message()).content


@pytest.fixture
async def scene(
    db_url: str, fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> AsyncIterator[Scene]:
    fake = fake_discord
    assert fake.guild is not None
    solved = add_forum_tag(fake, "Solved")
    asker = fake.add_member(fake.guild, "asker")
    harness = await qa_bot_factory(database_url=db_url)
    await configure_qa_guild(harness, solved_tag_id=solved)
    asked = await ask_question_directly(harness, asker)
    yield Scene(fake, harness, asker, asked)


async def test_closing_goes_through_rate_limits_and_5xx_on_the_thread_edit(
    scene: Scene, discord_sleep: SleepLog
) -> None:
    fake = scene.fake
    per_route = fake.faults.rate_limit("PATCH", CHANNEL, retry_after=2.0, where=scene.in_thread())
    shared = fake.faults.rate_limit(
        "PATCH", CHANNEL, retry_after=2.0, is_global=True, where=scene.in_thread()
    )
    failing = fake.faults.fail("PATCH", CHANNEL, status=500, times=1, where=scene.in_thread())
    reply = await scene.close()
    assert "The question is closed" in reply and DISCORD_TROUBLE not in reply
    assert scene.asked.thread.archived
    assert per_route.hits and shared.hits and failing.hits
    assert (await scene.post()).closed_at is not None


async def test_a_refused_thread_edit_keeps_the_change_and_says_so(scene: Scene) -> None:
    fake = scene.fake
    fake.faults.fail("PATCH", CHANNEL, code=50013, times=None, where=scene.in_thread())
    reply = await scene.close()
    assert "The question is closed" in reply and DISCORD_TROUBLE in reply
    assert not scene.asked.thread.archived
    assert (await scene.post()).closed_at is not None


async def test_deleting_a_question_whose_thread_is_already_gone_counts_as_done(
    scene: Scene,
) -> None:
    fake = scene.fake
    gone = fake.faults.fail("DELETE", CHANNEL, code=10003, where=scene.in_thread())
    ix = await scene.asker.slash("delete", channel=scene.asked.thread)
    prompt = await ix.message()
    (button,) = [c for c in prompt.walk_components() if c.get("label") == "Delete"]
    await scene.asker.click(prompt, str(button["custom_id"]))
    await fake.wait_until(lambda: gone.hits or None, what="the delete of the thread")
    await scene.harness.bot.thread_renames.wait_idle()
    assert (await scene.post()).deleted_at is not None
    assert [
        m for m in fake.find_calls("POST", "/webhooks/*") if DISCORD_TROUBLE in str(m.json)
    ] == []
