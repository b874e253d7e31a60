"""The message cache indexed by id (``bot.message_cache``): the same answers as discord.py's scan
of its deque, from the index; and the real bot finds cached messages through it."""

from __future__ import annotations

from collections import deque
from typing import Any

from bot.message_cache import IndexedConnectionState, IndexedMessages
from tests.cogs.conftest import BotEvents
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import BotFactory


class _Message:
    """Stands for a ``discord.Message``: an id (compared by identity here)."""

    def __init__(self, message_id: int) -> None:
        self.id = message_id


def _message(message_id: int) -> Any:
    return _Message(message_id)


def test_the_oldest_falls_out_of_the_index_with_the_deque() -> None:
    cache = IndexedMessages(maxlen=3)
    first, *rest = [_message(i) for i in (1, 2, 3, 4)]
    for m in (first, *rest):
        cache.append(m)
    assert list(cache) == rest
    assert cache.get(1) is None and cache.get(4) is rest[-1] and cache.get(None) is None


def test_a_copy_delivered_twice_finds_the_newest_until_both_are_gone() -> None:
    cache = IndexedMessages(maxlen=3)
    old, other, new = _message(7), _message(8), _message(7)
    for m in (old, other, new):
        cache.append(m)
    assert cache.get(7) is new
    cache.remove(new)
    assert cache.get(7) is old  # the scan from the newest would find the older copy now
    cache.append(_message(9))
    cache.append(_message(10))  # ``old`` falls out
    assert cache.get(7) is None and cache.get(8) is other and len(cache) == 3
    cache.clear()
    assert cache.get(9) is None and not cache


def test_a_deque_discord_py_put_in_its_place_is_indexed_at_the_next_lookup() -> None:
    state: Any = IndexedConnectionState.__new__(IndexedConnectionState)
    state.max_messages = 2
    kept = [_message(1), _message(2)]
    state._messages = deque(kept, maxlen=2)  # what a guild's removal leaves
    assert state._get_message(2) is kept[1] and state._get_message(3) is None
    assert isinstance(state._messages, IndexedMessages) and list(state._messages) == kept
    state._messages = None  # max_messages=None: no cache at all
    assert state._get_message(1) is None


async def test_the_bot_finds_its_cached_messages_by_id(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    harness = await qa_bot_factory(extensions=[])
    bot = harness.bot
    assert isinstance(bot._connection._messages, IndexedMessages)
    events = BotEvents(harness, "message", "reaction_add", "raw_message_delete")
    member = fake_discord.add_member(fake_discord.guild, "Ada")
    message = await member.send(fake_discord.general, "hello")
    await events.wait_for("message", lambda m: m.id == message.id)
    # A reaction on a cached message is dispatched with it (discord.py looked it up by id).
    await member.react(message, "👍")
    reaction, user = await events.wait_for("reaction_add", lambda r, _u: r.message.id == message.id)
    assert user.id == member.id and reaction.count == 1
    await member.delete(message)
    (payload,) = await events.wait_for("raw_message_delete", lambda p: p.message_id == message.id)
    assert payload.cached_message is not None and payload.cached_message.id == message.id
    assert bot._connection._get_message(message.id) is None
    assert all(m.id != message.id for m in bot.cached_messages)
    events.close()
