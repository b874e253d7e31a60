"""The question page: a live question with its top answers by stored score, read cheaply.

``question_page`` is the read a reader of one question makes (the question as the status line
reads it, ``lookups.get_question``, and its best ``PAGE_ANSWERS`` live answers, best first, the
older first among equal scores). It selects only the columns a ``PostSnapshot`` holds, with Core
``select`` statements (no ORM identity map, no ``populate_existing`` round of attribute
loading), both in one statement (``UNION ALL``: every statement costs the async driver several
hops to its thread, more than SQLite's own work here), so it costs little more than the same rows
read with plain ``sqlite3`` (``make bench --scenario page``). The answers come from the
``ix_posts_question_score`` index; they are put in order here, not by the union.

It is a function of a ``Connection``: run it with ``bot.transactions.run_sync_read`` (on SQLite
the whole read is one hand-off to a reading thread, ``bot.db.reads``), or from an async session
with ``session.run_sync(lambda s: question_page(s.connection(), question_id=...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from sqlalchemy import Integer, bindparam, select, union_all
from sqlalchemy.engine import Connection

from bot.db.models import Post
from bot.forum.errors import NotFound
from bot.forum.post_rows import QUESTION_GONE
from bot.forum.results import PostSnapshot

#: Answers a question page shows at most.
PAGE_ANSWERS: Final = 20

_COLUMNS: Final = tuple(Post.__table__.c[f.name] for f in fields(PostSnapshot))
#: The read, built once (building and hashing a statement costs more than SQLite's work here):
#: the question by id, then its best answers, as the snapshot's columns in its fields' order.
_TOP: Final = (
    select(*_COLUMNS)
    .where(
        Post.question_id == bindparam("question_id"),
        Post.kind == "answer",
        Post.state == "live",
        Post.deleted_at.is_(None),
        Post.removed_at.is_(None),
    )
    .order_by(Post.score.desc(), Post.id)
    .limit(bindparam("answers", type_=Integer))
    .subquery()
)
_PAGE: Final = union_all(select(*_COLUMNS).where(Post.id == bindparam("question_id")), select(_TOP))


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
    rows = connection.execute(_PAGE, {"question_id": question_id, "answers": answers})
    # The columns are the snapshot's fields in order.
    snapshots = [PostSnapshot(*row) for row in rows]
    found = next((post for post in snapshots if post.id == question_id), None)
    if (
        found is None
        or found.kind != "question"
        or found.deleted_at is not None
        or found.removed_at is not None
    ):
        raise NotFound(QUESTION_GONE)
    best = sorted((p for p in snapshots if p is not found), key=lambda p: (-p.score, p.id))
    return QuestionPage(found, tuple(best))
