"""What the notifier's next DMs show, read a few DMs at a time.

Reading each DM's content in a transaction of its own cost the notifier more than sending it
(issue 21). ``Contents`` reads the content of a pass's DMs (``outbox.group_claimed``, in the
order the pass sends them) in chunks of ``CHUNK``: each chunk in one read-only transaction of a
few set-based statements (``dm_content.notification_contents``): the first as soon as the pass
has claimed its DMs (``start``), each next one while the senders are at the chunk before it. A DM
so shows its posts as they were at most about a second before it left at the worker's pace
(two chunks' sending time; the first chunk of a pass claimed ahead waits for the pass before
it, ``Notifier``), edits honoured, deleted posts left out.
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
CHUNK: Final = 16


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
        self._reads: dict[int, asyncio.Future[list[NotificationContent]]] = {}

    def start(self) -> None:
        """Begin reading the first chunk (before the first DM is sent)."""
        self._read(0)

    async def of(self, index: int) -> NotificationContent:
        """The content of the ``index``-th DM, its chunk read if it was not yet; the next
        chunk is read ahead meanwhile, so the senders do not wait for it."""
        number, place = divmod(index, self.chunk)
        self._read(number + 1)
        return (await self._read(number))[place]

    def _read(self, number: int) -> asyncio.Future[list[NotificationContent]]:
        read = self._reads.get(number)
        if read is not None:
            return read
        part = self.groups[number * self.chunk : (number + 1) * self.chunk]
        if part:
            read = asyncio.get_running_loop().create_task(
                self.runner.run(
                    lambda s: dm_content.notification_contents(s, part), read_only=True
                ),
                name="read DM contents",
            )
            # A chunk read ahead may be awaited by nobody (its DMs skipped): retrieve a failure.
            read.add_done_callback(lambda done: done.cancelled() or done.exception())
        else:
            read = asyncio.get_running_loop().create_future()
            read.set_result([])
        self._reads[number] = read
        return read
