"""Display names Discord just showed, remembered without making a read path wait for a writer.

``/profile`` and ``/leaderboard`` read in read-only transactions (``bot.transactions.run_read``),
which never queue behind the vote writer. The names they saw (the member asking, the member
shown) are remembered apart: a read tells which differ from the stored ones, and only then does
a writing transaction store them (``bot.forum.leaderboard.remember_display_names``). A name
rarely changes, so a command almost never writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.forum import leaderboard
from bot.transactions import HasTransactionRunner, run_read, run_transaction


async def remember_seen_names(
    bot: HasTransactionRunner, guild_id: int, names: Mapping[int, str]
) -> None:
    """Store the display names in ``names`` that differ from the stored ones (if any)."""
    stale = await run_read(
        bot, lambda s: leaderboard.unremembered_names(s, guild_id=guild_id, names=names)
    )
    if stale:
        await run_transaction(
            bot, lambda s: leaderboard.remember_display_names(s, guild_id=guild_id, names=stale)
        )
