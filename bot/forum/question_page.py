"""The question page: a live question with its top answers by stored score, read cheaply.

``question_page`` is the read a reader of one question makes (the question as the status line
reads it, ``lookups.get_question``, and its best ``PAGE_ANSWERS`` live answers, best first, the
older first among equal scores). It selects only the columns a ``PostSnapshot`` holds, with Core
``select`` statements built once with bound parameters (no ORM identity map, no statement built
and hashed per read), straight into snapshots, so it costs little more than the same rows read
with plain ``sqlite3`` (``make bench --scenario page``). The answers come from the
``ix_posts_question_score`` index. Two statements, not one ``UNION ALL``: the union made SQLite
sort in a temporary b-tree (p95 8 ms against 0.35 ms for the two, plain ``sqlite3``), and with no
hand-off per statement (below) a second statement costs next to nothing.

On SQLite the statements, compiled once, run on a cursor of the driver's connection (inside
the connection's transaction: one snapshot for both; aiosqlite's adapted cursor when run from an
async session), parameters bound, and the rows'
tuples become snapshots directly (``_SqliteRows``): SQLAlchemy's execution context, its result
and ``Row`` objects and its generic type processing (a regular expression per timestamp) cost
several times SQLite's own work for a page of 21 rows. PostgreSQL runs the Core statements.

It is a function of a ``Connection``: run it with ``bot.transactions.run_sync_read`` (on SQLite
no hand-off to another thread for a small read, ``inline=True``: ``bot.db.reads``), or from an
async session with ``session.run_sync(lambda s: question_page(s.connection(), question_id=...))``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from sqlalchemy import Boolean, Integer, String, bindparam, literal_column, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Select

from bot.db.models import Post
from bot.db.types import UTCDateTime
from bot.forum.errors import NotFound
from bot.forum.post_rows import QUESTION_GONE
from bot.forum.results import PostSnapshot

#: Answers a question page shows at most.
PAGE_ANSWERS: Final = 20

_COLUMNS: Final = tuple(Post.__table__.c[f.name] for f in fields(PostSnapshot))
#: The reads, built once (building and hashing a statement costs more than SQLite's work here),
#: as the snapshot's columns in its fields' order: the question by id, then its best answers.
_QUESTION: Final = select(*_COLUMNS).where(Post.id == bindparam("question_id"))
_ANSWERS: Final = (
    select(*_COLUMNS)
    .where(
        Post.question_id == bindparam("question_id"),
        # Constants written in the SQL, not bound: SQLite plans them better (plain ``sqlite3``:
        # 115 us for the page's two statements, 185 us with these two bound).
        Post.kind == literal_column("'answer'"),
        Post.state == literal_column("'live'"),
        Post.deleted_at.is_(None),
        Post.removed_at.is_(None),
    )
    .order_by(Post.score.desc(), Post.id)
    .limit(bindparam("answers", type_=Integer))
)

Convert = Callable[[Any], Any]


class _SqliteStatement:
    """A statement compiled once for SQLite: its SQL and its parameters in their order, the
    ones fixed by the statement (constants) filled in once."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        self.fixed = compiled.construct_params({"question_id": 0, "answers": 0})

    def parameters(self, bound: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(bound.get(name, self.fixed[name]) for name in self.names)


class _SqliteRows:
    """The page's statements run on the SQLite driver's cursor, rows made snapshots."""

    def __init__(self, dialect: Dialect) -> None:
        self.question = _SqliteStatement(_QUESTION, dialect)
        self.answers = _SqliteStatement(_ANSWERS, dialect)
        #: (position, conversion) of the columns whose stored value is not the snapshot's.
        self.convert = tuple(
            (i, c) for i, c in enumerate(_conversion(col.type, dialect) for col in _COLUMNS) if c
        )

    def run(
        self, connection: Connection, statement: _SqliteStatement, bound: Mapping[str, Any]
    ) -> list[PostSnapshot]:
        cursor = connection.connection.cursor()  # the driver's (aiosqlite's: adapted)
        try:
            cursor.execute(statement.sql, statement.parameters(bound))
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return [self.snapshot(row) for row in rows]

    def snapshot(self, row: Iterable[Any]) -> PostSnapshot:
        values = list(row)
        for i, convert in self.convert:
            if values[i] is not None:
                values[i] = convert(values[i])
        return PostSnapshot(*values)


def _conversion(kind: Any, dialect: Dialect) -> Convert | None:
    """How a column's value as SQLite stores it becomes the snapshot's (None: as it is)."""
    if isinstance(kind, UTCDateTime):
        return lambda value: kind.process_result_value(value, dialect)
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Integer | String):
        return None
    raise TypeError(f"no conversion from SQLite for {kind!r}")


@functools.cache
def _sqlite() -> _SqliteRows:
    """Compiled on first use (SQLite's dialects, pysqlite's and aiosqlite's, write the same)."""
    return _SqliteRows(sqlite.dialect())


@dataclass(frozen=True, slots=True)
class QuestionPage:
    """A question and its top answers (by stored score), snapshots taken in the transaction."""

    question: PostSnapshot
    answers: tuple[PostSnapshot, ...]


def question_page(
    connection: Connection, *, question_id: int, answers: int = PAGE_ANSWERS
) -> QuestionPage:
    """The question (NotFound when it does not exist, is not a question, or is deleted or
    removed) and its best ``answers`` live answers."""
    bound = {"question_id": question_id, "answers": answers}
    on_sqlite = connection.dialect.name == "sqlite"
    if on_sqlite:
        rows = _sqlite()
        found = next(iter(rows.run(connection, rows.question, bound)), None)
    else:
        row = connection.execute(_QUESTION, bound).first()
        found = None if row is None else PostSnapshot(*row)
    if (
        found is None
        or found.kind != "question"
        or found.deleted_at is not None
        or found.removed_at is not None
    ):
        raise NotFound(QUESTION_GONE)
    if answers <= 0:
        return QuestionPage(found, ())
    if on_sqlite:
        return QuestionPage(found, tuple(rows.run(connection, rows.answers, bound)))
    best = connection.execute(_ANSWERS, bound)
    return QuestionPage(found, tuple(PostSnapshot(*answer) for answer in best))
