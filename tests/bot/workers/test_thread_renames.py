"""Thread renames across shard processes (``bot.workers.thread_renames``): a question thread of
a server another shard process serves (a ``/mydata erase`` in DMs reaches every server) is
renamed by id; one of a server of this process's shards the bot left is not looked for."""

from __future__ import annotations

from tests.cogs.conftest import BotEvents, ask_question_directly
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.server import FakeDiscord

TITLE = "How do I calm down before an exam?"


async def test_a_thread_of_another_shard_process_is_renamed_by_id(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    elsewhere = fake.add_guild("Shard 1 Guild", shard=(1, 2))
    forum = fake.add_forum(elsewhere, "questions", tags=["General"])
    harness = await qa_bot_factory(database_url=db_url, shard_count=2, shard_ids=[0])
    assert harness.bot.get_guild(elsewhere.id) is None  # shard 1: another process's
    asked = await ask_question_directly(
        harness, fake.add_member(elsewhere, "asker"), TITLE, native=True, forum=forum
    )
    fake.edit_channel(asked.thread, name="Renamed by someone")
    renaming = await harness.bot.thread_renames.rename(asked.id, asked.thread.id)
    assert renaming.shown and not renaming.deferred
    assert asked.thread.name == TITLE
    call = await fake.wait_for_call("PATCH", "/channels/{channel_id}")
    assert call.id("channel_id") == asked.thread.id


async def test_a_thread_of_a_server_this_process_left_is_not_looked_for(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, db_url: str
) -> None:
    fake = fake_discord
    left = fake.add_guild("Shard 0 Guild", shard=(0, 2))
    forum = fake.add_forum(left, "questions", tags=["General"])
    harness = await qa_bot_factory(database_url=db_url, shard_count=2, shard_ids=[0])
    asked = await ask_question_directly(
        harness, fake.add_member(left, "asker"), TITLE, native=True, forum=forum
    )
    fake.edit_channel(asked.thread, name="Renamed by someone")
    events = BotEvents(harness, "guild_remove")
    fake.remove_bot(left)
    await events.wait_for("guild_remove")
    assert harness.bot.get_guild(left.id) is None
    calls = len(fake.calls)
    renaming = await harness.bot.thread_renames.rename(asked.id, asked.thread.id)
    assert renaming.shown
    assert asked.thread.name == "Renamed by someone"
    assert fake.calls[calls:] == []
