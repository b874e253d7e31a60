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

It is a function of a ``Connection``: run it with ``bot.transactions.run_sync_read`` (on SQLite
no hand-off to another thread for a small read, ``inline=True``: ``bot.db.reads``), or from an
async session with ``session.run_sync(lambda s: question_page(s.connection(), question_id=...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.engine import Connection

from bot.db.models import Post
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
        Post.kind == "answer",
        Post.state == "live",
        Post.deleted_at.is_(None),
        Post.removed_at.is_(None),
    )
    .order_by(Post.score.desc(), Post.id)
    .limit(bindparam("answers", type_=Integer))
)


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
    row = connection.execute(_QUESTION, bound).first()
    found = None if row is None else PostSnapshot(*row)
    if (
        found is None
        or found.kind != "question"
        or found.deleted_at is not None
        or found.removed_at is not None
    ):
        raise NotFound(QUESTION_GONE)
    best = connection.execute(_ANSWERS, bound) if answers > 0 else ()
    return QuestionPage(found, tuple(PostSnapshot(*answer) for answer in best))
