"""What one server's reconciliation run shares between its steps (``bot.workers.reconciler``):
the request budget, the threads Discord listed, the window's questions and the counts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import discord

from bot.forum.reconcile import WindowThread
from bot.forum.settings import GuildConfig
from bot.workers.status_lines import StatusLines

if TYPE_CHECKING:
    from bot.transactions import TransactionRunner

T = TypeVar("T")

#: How the answering cog ingests a thread message (the live path: ``cogs.answering.intake``).
MessageIngester = Callable[[discord.Message], Awaitable[None]]
#: How the asking cog adopts a native forum post (its thread and starter message).
ThreadAdopter = Callable[[discord.Thread, discord.Message], Awaitable[None]]


class OutOfBudget(Exception):
    """The run's request budget is spent: the rest waits for the next run."""


@dataclass
class Budget:
    """A run's Discord requests: at most ``limit``, each bounded by ``timeout`` seconds."""

    limit: int
    timeout: float
    used: int = 0

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        if self.used >= self.limit:
            raise OutOfBudget
        self.used += 1
        async with asyncio.timeout(self.timeout):
            return await request()


@dataclass
class GuildRun:
    """One server's reconciliation in a run: what the steps share and count."""

    client: discord.Client
    guild: discord.Guild
    config: GuildConfig
    budget: Budget
    runner: TransactionRunner
    status_lines: StatusLines
    started_at: datetime
    window_days: int
    ingest: MessageIngester | None
    adopt: ThreadAdopter | None
    #: The forum's threads as Discord lists them (the first step), by id.
    threads: dict[int, discord.Thread] = field(default_factory=dict)
    #: Threads the bot created that no stored question has (a pending /ask's, maybe).
    own_threads: list[discord.Thread] = field(default_factory=list)
    #: The questions in the window (read after adoption).
    window: list[WindowThread] = field(default_factory=list)
    #: The member messages of the threads paged: posts whose reactions may have moved.
    scanned: list[discord.Message] = field(default_factory=list)
    messages_backfilled: int = 0
    votes_backfilled: int = 0

    def channel(self, thread_id: int) -> discord.Thread | discord.PartialMessageable:
        """The thread to page: as listed, else a partial one (an older archived thread)."""
        listed = self.threads.get(thread_id)
        if listed is not None:
            return listed
        return self.client.get_partial_messageable(
            thread_id, guild_id=self.guild.id, type=discord.ChannelType.public_thread
        )


#: A named step of a server's run.
Step = Callable[[GuildRun], Awaitable[None]]
