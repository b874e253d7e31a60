"""What the notifier's next DMs show, read a few DMs at a time.

Reading each DM's content in a transaction of its own cost the notifier more than sending it
(issue 21). ``Contents`` reads the content of a pass's DMs (``outbox.group_claimed``, in the
order the pass sends them) in chunks of ``CHUNK``: each chunk in one read-only transaction of a
few set-based statements (``dm_content.notification_contents``), when the first DM of the chunk
is about to go out. A DM so shows its posts as they were at most a chunk's sending time before
it left (a fraction of a second at the worker's pace), edits honoured, deleted posts left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from bot.forum import dm_content
from bot.forum.dm_content import NotificationContent
from bot.forum.outbox import OutboxItem
from bot.transactions import TransactionRunner

#: DMs whose content one transaction reads.
CHUNK: Final = 12


class Contents:
    """The content of the DMs of one pass (``groups``), each read with those next to it."""

    def __init__(
        self,
        runner: TransactionRunner,
        groups: Sequence[Sequence[OutboxItem]],
        chunk: int = CHUNK,
    ) -> None:
        if chunk < 1:
            raise ValueError("a chunk holds at least one DM")
        self.runner = runner
        self.groups = groups
        self.chunk = chunk
        self._reads: dict[int, asyncio.Task[list[NotificationContent]]] = {}

    async def of(self, index: int) -> NotificationContent:
        """The content of the ``index``-th DM, its chunk read on the first call."""
        number, place = divmod(index, self.chunk)
        read = self._reads.get(number)
        if read is None:
            part = self.groups[number * self.chunk : (number + 1) * self.chunk]
            read = asyncio.get_running_loop().create_task(
                self.runner.run(
                    lambda s: dm_content.notification_contents(s, part), read_only=True
                ),
                name="read DM contents",
            )
            self._reads[number] = read
        return (await read)[place]
