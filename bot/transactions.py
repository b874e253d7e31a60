"""The transaction runner: every unit of work a cog or worker does is one named domain operation
run here, in its own transaction, retried when the database asks to (``bot.forum.uow``).

After the commit, members whose public points moved (the ledger notes them on the session, see
``bot.forum.ledger.POINTS_MOVED``) are announced once, as ``on_qa_points_changed(guild_id,
user_ids)``: the point roles follow them. Anonymous points never move public points.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum.ledger import POINTS_MOVED
from bot.forum.uow import run_in_transaction

T = TypeVar("T")


class TransactionHost(Protocol):
    """What running a transaction needs of the bot: its sessions and its event dispatch
    (``QABot`` is one; naming the protocol instead keeps this module below the client)."""

    sessionmaker: async_sessionmaker[AsyncSession]

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None: ...


#: The event dispatched after a commit that moved members' public points.
POINTS_CHANGED: Final = "qa_points_changed"


async def run_transaction(
    bot: TransactionHost, operation: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run one domain operation in its own transaction (retried on serialization failures);
    after the commit, announce whose public points moved."""
    moved: set[tuple[int, int]] = set()

    async def attempt(session: AsyncSession) -> T:
        moved.clear()  # a retried attempt starts over
        result = await operation(session)
        moved.update(session.info.get(POINTS_MOVED, ()))
        return result

    result = await run_in_transaction(bot.sessionmaker, attempt)
    announce_points_moved(bot, moved)
    return result


def announce_points_moved(bot: TransactionHost, moved: Iterable[tuple[int, int]]) -> None:
    by_guild: dict[int, set[int]] = {}
    for guild_id, user_id in moved:
        by_guild.setdefault(guild_id, set()).add(user_id)
    for guild_id, user_ids in by_guild.items():
        bot.dispatch(POINTS_CHANGED, guild_id, frozenset(user_ids))
