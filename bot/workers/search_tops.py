"""Refreshes the top lists of very common search terms: ``SearchTops``, one per bot
(``bot.search_tops``; the lists are ``bot.common_terms``, see ``bot.forum.common_terms``).

A pass runs every ``REFRESH_INTERVAL`` seconds, and at once when a search asks for a new term's
list (``CommonTerms.on_wanted`` wakes it): each term asked for, then each term held, is ranked
in full in its own read-only transaction, one after the other, so the work stays in the
background and one connection at a time. A term that no longer matches enough questions loses
its list. Logs carry counts only (a term is member text).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Final

import discord

from bot.db import health
from bot.forum import common_terms
from bot.forum.common_terms import CommonTerms
from bot.transactions import TransactionRunner
from bot.workers.periodic import Periodic

log = logging.getLogger(__name__)

#: Seconds between two refreshes of every list: how stale a list may get.
REFRESH_INTERVAL: Final = 900.0


class SearchTops(Periodic):
    """Computes and refreshes ``common``'s top lists."""

    name = "search top lists"

    def __init__(
        self,
        bot: discord.Client,
        runner: TransactionRunner,
        common: CommonTerms,
        *,
        interval: float = REFRESH_INTERVAL,
    ) -> None:
        super().__init__(bot, runner, interval=interval)
        self.common = common
        common.on_wanted = self.wake

    async def run_pass(self, now: datetime) -> None:
        common = self.common
        refreshed = dropped = 0
        for key in common.due():
            guild_id, term = key
            try:
                top = await self.runner.run(
                    functools.partial(
                        common_terms.rank_term,
                        guild_id=guild_id,
                        term=term,
                        per_forum=common.per_forum,
                    ),
                    read_only=True,
                )
            except Exception as exc:
                health.log_failure(log, exc, "a search top list failed (guild %s)", guild_id)
                continue
            if common.record(key, top):
                refreshed += 1
            else:
                dropped += 1
        if refreshed or dropped:
            log.info("search top lists: %d refreshed, %d dropped", refreshed, dropped)
