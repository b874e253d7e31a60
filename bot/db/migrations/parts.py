"""Pieces that several migrations build the schema from.

A migration is history: what it creates must never change once it has run somewhere. So a
piece here never changes either; a migration that needs something else defines it itself, or a
new piece is added beside these.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

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


def integer(name: str) -> sa.Column[int]:
    """A whole number the row must have (a count, a rank)."""
    return sa.Column(name, sa.Integer(), nullable=False)


def utc_time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, bot.db.types.UTCDateTime(), nullable=nullable)


def flag(name: str) -> sa.Column[bool]:
    """A yes/no that is no until set (anonymous, an opt-in...)."""
    return sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)


def fk_to_posts(table: str, column: str, *, ondelete: str) -> sa.ForeignKeyConstraint:
    """``table.column`` references a post, under the naming convention's name."""
    return sa.ForeignKeyConstraint(
        [column], ["posts.id"], name=op.f(f"fk_{table}_{column}_posts"), ondelete=ondelete
    )


def create_guild_record(table: str, *items: sa.schema.SchemaItem) -> None:
    """Create ``table`` as a guild's record with an id of its own (``bot.db.base.GuildRecord``):
    ``id``, its primary key, then ``guild_id``, then ``items``."""
    op.create_table(
        table,
        surrogate_id(),
        snowflake("guild_id"),
        *items,
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )


def create_guild_table(
    table: str, *items: sa.schema.SchemaItem, keyed_with: Sequence[str] = ()
) -> None:
    """Create ``table`` of a guild's facts: keyed by ``guild_id`` (``keyed_with`` completes the
    key), then ``items``."""
    op.create_table(
        table,
        snowflake("guild_id"),
        *items,
        sa.PrimaryKeyConstraint("guild_id", *keyed_with, name=op.f(f"pk_{table}")),
    )


def create_post_record(
    table: str,
    *columns: sa.Column[Any],
    key: str = "post_id",
    keyed_with: Sequence[str] = (),
    unique: Sequence[str] = (),
) -> None:
    """Create ``table`` whose rows belong to a post (``bot.db.base.PostKey``): ``key`` holds the
    post's id, goes with the post and opens the primary key (``keyed_with`` completes it), then
    ``columns``. ``unique``: columns unique together, as ``uq_<table>_<their names but _id>``."""
    constraints: list[sa.schema.SchemaItem] = [
        fk_to_posts(table, key, ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(key, *keyed_with, name=op.f(f"pk_{table}")),
    ]
    if unique:
        name = "_".join(column.removesuffix("_id") for column in unique)
        constraints.append(sa.UniqueConstraint(*unique, name=op.f(f"uq_{table}_{name}")))
    op.create_table(table, post_ref(key, nullable=False), *columns, *constraints)


def report_items() -> list[sa.schema.SchemaItem]:
    """The columns of ``flags`` (a member's report of a post) as 0001 created them, and their
    reference to the post: 0001 adds one report per member and post, 0006 rebuilds the table
    with a report's resolution (and restores 0001's table on the way down)."""
    return [
        post_ref("post_id", nullable=False),
        snowflake("reporter_id"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        utc_time("created_at"),
        fk_to_posts("flags", "post_id", ondelete="CASCADE"),
    ]


def create_reports(*extra: sa.schema.SchemaItem) -> None:
    """Create ``flags`` with 0001's columns and ``extra`` (0006's resolution of a report; on the
    way down, 0001's one report per member and post). ``extra`` is made before the reference to
    the post, which puts it before that reference in the table's DDL, as 0006 always had it."""
    create_guild_record("flags", *report_items(), *extra)


def run_for_dialect(*, sqlite: Sequence[str], postgresql: Sequence[str]) -> None:
    """Execute, in order, the statements written for the engine the migration runs on."""
    statements = sqlite if op.get_bind().dialect.name == "sqlite" else postgresql
    for statement in statements:
        op.execute(statement)


#: A migration's statements for one engine: (upgrade, downgrade).
SqlSteps = tuple[Sequence[str], Sequence[str]]


def sql_migration(
    *, sqlite: SqlSteps, postgresql: SqlSteps
) -> tuple[Callable[[], None], Callable[[], None]]:
    """``upgrade`` and ``downgrade`` of a migration written as SQL for each engine: each runs
    its statements for the engine the migration runs on (``run_for_dialect``)."""

    def upgrade() -> None:
        run_for_dialect(sqlite=sqlite[0], postgresql=postgresql[0])

    def downgrade() -> None:
        run_for_dialect(sqlite=sqlite[1], postgresql=postgresql[1])

    return upgrade, downgrade
