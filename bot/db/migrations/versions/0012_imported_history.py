"""imported history: imported_claims (an imported question being continued in Discord: the one
press that creates its thread holds the claim)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# posts.id: 64 bits, INTEGER on SQLite (its rowid).
_POST_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "imported_claims",
        sa.Column("post_id", _POST_ID, nullable=False),
        sa.Column("claimed_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_imported_claims_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_imported_claims")),
    )


def downgrade() -> None:
    op.drop_table("imported_claims")
