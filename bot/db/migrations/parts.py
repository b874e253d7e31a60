"""Pieces that several migrations build the schema from.

A migration is history: what it creates must never change once it has run somewhere. So a
piece here never changes either; a migration that needs something else defines it itself, or a
new piece is added beside these.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import bot.db.types


def _surrogate_key_type() -> sa.types.TypeEngine[int]:
    """A surrogate key's type (``posts.id`` and the like): BIGINT on PostgreSQL, INTEGER (the
    rowid alias) on SQLite."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def surrogate_id() -> sa.Column[int]:
    """The ``id`` column of a table keyed by a generated number."""
    return sa.Column("id", _surrogate_key_type(), autoincrement=True, nullable=False)


def post_ref(name: str, *, nullable: bool) -> sa.Column[int]:
    """A column holding the id of a post."""
    return sa.Column(name, _surrogate_key_type(), nullable=nullable)


def snowflake(name: str, *, nullable: bool = False) -> sa.Column[int]:
    """A Discord id (guild, user, channel, message)."""
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def utc_time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, bot.db.types.UTCDateTime(), nullable=nullable)


def fk_to_posts(table: str, column: str, *, ondelete: str) -> sa.ForeignKeyConstraint:
    """``table.column`` references a post, under the naming convention's name."""
    return sa.ForeignKeyConstraint(
        [column], ["posts.id"], name=op.f(f"fk_{table}_{column}_posts"), ondelete=ondelete
    )


def run_for_dialect(*, sqlite: Sequence[str], postgresql: Sequence[str]) -> None:
    """Execute, in order, the statements written for the engine the migration runs on."""
    statements = sqlite if op.get_bind().dialect.name == "sqlite" else postgresql
    for statement in statements:
        op.execute(statement)
