"""q2a import: imported_posts (Q2A post id per guild, views, last edit), imported_votes (votes
that are imported facts), imported_authors (Q2A users under synthetic negative ids)
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import fk_to_posts, post_ref, snowflake, utc_time

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "imported_posts",
        post_ref("post_id", nullable=False),
        snowflake("guild_id"),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        utc_time("edited_at", nullable=True),
        utc_time("imported_at"),
        fk_to_posts("imported_posts", "post_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_imported_posts")),
        sa.UniqueConstraint("guild_id", "source_id", name="uq_imported_posts_guild_source"),
    )
    op.create_table(
        "imported_votes",
        post_ref("post_id", nullable=False),
        snowflake("user_id"),
        fk_to_posts("imported_votes", "post_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_imported_votes")),
    )
    op.create_table(
        "imported_authors",
        snowflake("guild_id"),
        snowflake("user_id"),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("source_user_id", sa.BigInteger(), nullable=False),
        snowflake("linked_user_id", nullable=True),
        utc_time("linked_at", nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_imported_authors")),
        sa.UniqueConstraint("guild_id", "handle", name="uq_imported_authors_handle"),
    )


def downgrade() -> None:
    op.drop_table("imported_authors")
    op.drop_table("imported_votes")
    op.drop_table("imported_posts")
