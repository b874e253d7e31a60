"""Reading a Question2Answer (Q2A 1.8) site's MySQL/MariaDB database, for ``qa-bot import-q2a``.

Every query names its columns: the IP address columns (``createip``, ``lastip``, ``loginip``,
...), e-mail addresses (``users.email``, ``posts.notify``), cookies and passwords are never
selected, so they never reach qa-bot. Q2A's DATETIME columns are read as UTC. The tables carry
Q2A's prefix (``qa_`` by default); user ids are Q2A's default integer ids.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

PREFIX_PATTERN: Final = re.compile(r"[A-Za-z0-9_]{0,40}")
# Q2A's post types: visible, hidden by a moderator, queued for moderation, a closing note.
POST_TYPES: Final = ("Q", "A", "C", "Q_HIDDEN", "A_HIDDEN", "C_HIDDEN", "Q_QUEUED", "A_QUEUED")


class SourceRefused(Exception):
    """The source cannot be read (one sentence for the user)."""


@dataclass(frozen=True, slots=True)
class SourceCategory:
    id: int
    parent_id: int | None
    title: str
    position: int


@dataclass(frozen=True, slots=True)
class SourcePoints:
    """A user's ``qa_userpoints`` figures the import report compares with qa-bot's."""

    user_id: int
    points: int
    bonus: int
    votes_cast: int


@dataclass(frozen=True, slots=True)
class SourcePost:
    id: int
    type: str
    parent_id: int | None
    category_id: int | None
    selected_id: int | None
    closed_by_id: int | None
    user_id: int | None
    views: int
    format: str
    created: datetime
    updated: datetime | None
    title: str | None
    content: str
    name: str | None


@dataclass(frozen=True, slots=True)
class SourceVote:
    post_id: int
    user_id: int
    vote: int
    flag: bool


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


#: Q2A's post columns, under the names of ``SourcePost``'s fields.
_POST_COLUMNS: Final = (
    "postid AS id, type, parentid AS parent_id, categoryid AS category_id, "
    "selchildid AS selected_id, closedbyid AS closed_by_id, userid AS user_id, views, format, "
    "created, updated, title, content, name"
)


def _post(row: Any) -> SourcePost:
    """A row of ``_POST_COLUMNS`` as it is, but for Q2A's NULL texts (empty) and times (UTC)."""
    fixed = {
        "format": row.format or "",
        "content": row.content or "",
        "created": _utc(row.created) or datetime.now(UTC),
        "updated": _utc(row.updated),
    }
    return SourcePost(**(row._asdict() | fixed))


class Q2ASource:
    """A Q2A database, read only through named columns."""

    def __init__(self, url: str, prefix: str = "qa_") -> None:
        if not PREFIX_PATTERN.fullmatch(prefix):
            raise SourceRefused(f"The table prefix {prefix!r} is not a Q2A table prefix.")
        self.prefix = prefix
        self.engine: AsyncEngine = create_async_engine(url, pool_size=2, max_overflow=0)

    def _t(self, table: str) -> str:
        return f"{self.prefix}{table}"

    async def close(self) -> None:
        await self.engine.dispose()

    async def _rows(self, sql: str, **params: Any) -> list[Any]:
        statement = text(sql)
        for name, value in params.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                statement = statement.bindparams(bindparam(name, expanding=True))
        async with self.engine.connect() as conn:
            return list((await conn.execute(statement, params)).all())

    async def categories(self) -> list[SourceCategory]:
        rows = await self._rows(
            f"SELECT categoryid, parentid, title, position FROM {self._t('categories')} "
            "ORDER BY position, categoryid"
        )
        return [SourceCategory(r.categoryid, r.parentid, r.title, r.position) for r in rows]

    async def handles(self) -> dict[int, str]:
        """Every user's handle, by user id (in id order)."""
        rows = await self._rows(f"SELECT userid, handle FROM {self._t('users')} ORDER BY userid")
        return {r.userid: r.handle for r in rows}

    async def points(self) -> dict[int, SourcePoints]:
        rows = await self._rows(
            "SELECT userid, points, bonus, "
            "qupvotes + qdownvotes + aupvotes + adownvotes AS cast "
            f"FROM {self._t('userpoints')}"
        )
        return {r.userid: SourcePoints(r.userid, r.points, r.bonus, int(r.cast)) for r in rows}

    async def options(self, names: Collection[str]) -> dict[str, str]:
        """Q2A's settings of these names (its point rules: ``points_*``)."""
        rows = await self._rows(
            f"SELECT title, content FROM {self._t('options')} WHERE title IN :names",
            names=sorted(names),
        )
        return {r.title: r.content for r in rows}

    async def post_count(self) -> int:
        rows = await self._rows(f"SELECT COUNT(*) AS n FROM {self._t('posts')}")
        return int(rows[0].n)

    async def posts(self, *, batch: int) -> AsyncIterator[list[SourcePost]]:
        """Every post but the closing notes, by id, in batches."""
        after = 0
        while True:
            rows = await self._rows(
                f"SELECT {_POST_COLUMNS} FROM {self._t('posts')} WHERE postid > :after "
                "AND type <> 'NOTE' ORDER BY postid LIMIT :batch",
                after=after,
                batch=batch,
            )
            if not rows:
                return
            yield [_post(r) for r in rows]
            after = rows[-1].id

    async def posts_by_id(self, ids: Collection[int]) -> dict[int, SourcePost]:
        """These posts (closing notes included), by id."""
        if not ids:
            return {}
        rows = await self._rows(
            f"SELECT {_POST_COLUMNS} FROM {self._t('posts')} WHERE postid IN :ids",
            ids=sorted(ids),
        )
        return {r.id: _post(r) for r in rows}

    async def referrers(self, ids: Collection[int]) -> list[SourcePost]:
        """The questions whose selected answer or closing post is one of these."""
        if not ids:
            return []
        rows = await self._rows(
            f"SELECT {_POST_COLUMNS} FROM {self._t('posts')} "
            "WHERE selchildid IN :ids OR closedbyid IN :ids",
            ids=sorted(ids),
        )
        return [_post(r) for r in rows]

    async def vote_count(self) -> int:
        rows = await self._rows(f"SELECT COUNT(*) AS n FROM {self._t('uservotes')}")
        return int(rows[0].n)

    async def votes(self, *, batch: int) -> AsyncIterator[list[SourceVote]]:
        """Every vote and flag (``qa_uservotes``), in batches."""
        after = (0, 0)
        while True:
            rows = await self._rows(
                f"SELECT postid, userid, vote, flag FROM {self._t('uservotes')} "
                "WHERE (postid, userid) > (:p, :u) ORDER BY postid, userid LIMIT :batch",
                p=after[0],
                u=after[1],
                batch=batch,
            )
            if not rows:
                return
            yield [SourceVote(r.postid, r.userid, int(r.vote), bool(r.flag)) for r in rows]
            after = (rows[-1].postid, rows[-1].userid)
