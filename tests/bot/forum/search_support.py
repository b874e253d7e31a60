"""Helpers for the search tests: a guild's forum driven through the domain, searched."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import search, title_search
from bot.forum.results import PostSnapshot
from bot.forum.search import SearchHit
from bot.forum.title_search import TitleMatch
from tests.bot.forum.core_support import GUILD, SEEN, Forum

OTHER_GUILD = 2


class Board:
    """A guild's forum driven through the domain, each post by a different member (so no rate
    limit is reached), with search helpers returning titles."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        guild_id: int = GUILD,
        first_id: int = 10_000,
    ) -> None:
        self.forum = Forum(sessionmaker, guild_id, first_id=first_id)
        self.guild_id = guild_id
        self._members = itertools.count(first_id + 5_000)

    def member(self) -> int:
        return next(self._members)

    async def ask(self, title: str, details: str = "", **kwargs: Any) -> PostSnapshot:
        return await self.forum.ask(self.member(), title=title, details=details, **kwargs)

    async def answer(self, question: PostSnapshot, body: str) -> PostSnapshot:
        return await self.forum.answer(question, author=self.member(), body=body)

    async def run(self, work: Any) -> Any:
        return await self.forum.run(work)

    async def hits(self, query: str, **kwargs: Any) -> list[SearchHit]:
        kwargs.setdefault("visible", SEEN)
        return await self.run(  # type: ignore[no-any-return]
            lambda s: search.search_questions(s, guild_id=self.guild_id, query=query, **kwargs)
        )

    async def titles(self, query: str, **kwargs: Any) -> list[str]:
        return [hit.title for hit in await self.hits(query, **kwargs)]

    async def similar(self, title: str, details: str = "", **kwargs: Any) -> list[str]:
        kwargs.setdefault("visible", SEEN)
        hits = await self.run(
            lambda s: search.similar_questions(
                s, guild_id=self.guild_id, title=title, details=details, **kwargs
            )
        )
        return [hit.title for hit in hits]

    async def complete(self, prefix: str, **kwargs: Any) -> list[TitleMatch]:
        kwargs.setdefault("visible", SEEN)
        return await self.run(  # type: ignore[no-any-return]
            lambda s: title_search.title_matches(s, guild_id=self.guild_id, prefix=prefix, **kwargs)
        )

    async def completed_titles(self, prefix: str, **kwargs: Any) -> list[str]:
        return [match.title for match in await self.complete(prefix, **kwargs)]


async def unrelated(board: Board) -> None:
    """Questions sharing no search word with the others (so every term is rare enough for
    bm25 to rank by)."""
    await board.ask("Grief after a loss", "My grandmother passed away in March.")
    await board.ask("Talking to my parents", "They never hear me out.")
    await board.ask("Panic attacks at work", "My chest tightens in meetings.")
