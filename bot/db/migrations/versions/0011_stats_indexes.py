"""community health: an index on posts for a guild's questions and answers by creation time
(/mod stats' weeks)
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    # Partial to a condition every row meets: only a query comparing created_at uses it.
    dated = sa.text("created_at IS NOT NULL")
    op.create_index(
        "ix_posts_guild_kind_created",
        "posts",
        ["guild_id", "kind", "created_at"],
        unique=False,
        sqlite_where=dated,
        postgresql_where=dated,
    )


def downgrade() -> None:
    op.drop_index("ix_posts_guild_kind_created", table_name="posts")
