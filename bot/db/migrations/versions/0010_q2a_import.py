"""q2a import: imported_posts (Q2A post id per guild, views, last edit), imported_votes (votes
that are imported facts), imported_authors (Q2A users under synthetic negative ids)
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import (
    create_guild_table,
    create_post_record,
    integer,
    snowflake,
    utc_time,
)

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    create_post_record(
        "imported_posts",
        snowflake("guild_id"),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        integer("views"),
        utc_time("edited_at", nullable=True),
        utc_time("imported_at"),
        unique=("guild_id", "source_id"),
    )
    create_post_record("imported_votes", snowflake("user_id"), keyed_with=("user_id",))
    create_guild_table(
        "imported_authors",
        snowflake("user_id"),
        sa.Column("handle", sa.String(length=100), nullable=False),
        sa.Column("source_user_id", sa.BigInteger(), nullable=False),
        snowflake("linked_user_id", nullable=True),
        utc_time("linked_at", nullable=True),
        sa.UniqueConstraint("guild_id", "handle", name="uq_imported_authors_handle"),
        keyed_with=("user_id",),
    )


def downgrade() -> None:
    op.drop_table("imported_authors")
    op.drop_table("imported_votes")
    op.drop_table("imported_posts")
