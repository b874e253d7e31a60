"""discord.py's message cache, looked up by id in constant time.

discord.py keeps the last ``max_messages`` (1000) messages in a deque and finds one by scanning
it from the newest (``ConnectionState._get_message``). Every reaction event, message edit and
delete looks its message up there, so a reaction burst on messages that left the cache (a
popular answer an hour old) scanned all 1000 entries per event: two thirds of the bot's work per
gateway event. ``IndexedConnectionState`` keeps the same deque (``Client.cached_messages`` and
every discord.py path that iterates it are unchanged) with an index by id beside it, and answers
``_get_message`` from the index: the newest cached message with that id, as the scan did.

discord.py 2.7.1 only ``append``s to the deque (the oldest falls out at ``maxlen``), ``remove``s
a deleted message and iterates it; when a guild goes away it replaces the deque by a plain one,
which the next lookup indexes again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import discord
from discord.state import AutoShardedConnectionState


class IndexedMessages(deque[discord.Message]):
    """A bounded deque of messages with the newest message per id at hand."""

    def __init__(self, messages: Iterable[discord.Message] = (), maxlen: int | None = None) -> None:
        super().__init__((), maxlen)
        self._by_id: dict[int, discord.Message] = {}
        for message in messages:
            self.append(message)

    def get(self, message_id: int | None) -> discord.Message | None:
        """The newest cached message with this id."""
        return None if message_id is None else self._by_id.get(message_id)

    def append(self, message: discord.Message) -> None:
        oldest = self[0] if self.maxlen is not None and len(self) == self.maxlen else None
        super().append(message)
        self._by_id[message.id] = message
        if oldest is not None and self._by_id.get(oldest.id) is oldest:
            # Indexed means no newer copy was appended: it was the only one.
            del self._by_id[oldest.id]

    def remove(self, message: discord.Message) -> None:
        super().remove(message)
        if self._by_id.get(message.id) is not message:
            return
        del self._by_id[message.id]
        for older in reversed(self):  # a copy delivered twice: the newest left is found
            if older.id == message.id:
                self._by_id[message.id] = older
                return

    def clear(self) -> None:
        super().clear()
        self._by_id.clear()


class IndexedConnectionState(AutoShardedConnectionState[Any]):
    """The sharded client's connection state with an indexed message cache."""

    def clear(self, *, views: bool = True) -> None:
        super().clear(views=views)
        if self._messages is not None:
            self._messages = IndexedMessages(maxlen=self.max_messages)

    def _get_message(self, msg_id: int | None) -> discord.Message | None:
        messages = self._messages
        if not messages:
            return None
        if not isinstance(messages, IndexedMessages):
            # discord.py replaced the deque (a guild removed): index what it kept.
            messages = self._messages = IndexedMessages(messages, maxlen=self.max_messages)
        return messages.get(msg_id)
