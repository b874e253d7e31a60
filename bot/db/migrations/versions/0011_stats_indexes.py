"""community health: an index on posts for a guild's questions and answers by creation time
(/mod stats' weeks)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
