"""q2a import: imported_posts (Q2A post id per guild, views, last edit), imported_votes (votes
that are imported facts), imported_authors (Q2A users under synthetic negative ids)
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types
from bot.db.migrations.parts import fk_to_posts, post_ref

revision = "0010"
down_revision = "0009"


def _post_fk(table: str) -> sa.ForeignKeyConstraint:
    """``table.post_id`` references a post and goes with it."""
    return fk_to_posts(table, "post_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "imported_posts",
        post_ref("post_id", nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("edited_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.Column("imported_at", bot.db.types.UTCDateTime(), nullable=False),
        _post_fk("imported_posts"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_imported_posts")),
        sa.UniqueConstraint("guild_id", "source_id", name="uq_imported_posts_guild_source"),
    )
    op.create_table(
        "imported_votes",
        post_ref("post_id", nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        _post_fk("imported_votes"),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_imported_votes")),
    )
    op.create_table(
        "imported_authors",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("source_user_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_user_id", sa.BigInteger(), nullable=True),
        sa.Column("linked_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_imported_authors")),
        sa.UniqueConstraint("guild_id", "handle", name="uq_imported_authors_handle"),
    )


def downgrade() -> None:
    op.drop_table("imported_authors")
    op.drop_table("imported_votes")
    op.drop_table("imported_posts")
