"""imported history: imported_claims (an imported question being continued in Discord: the one
press that creates its thread holds the claim)
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0012"
down_revision = "0011"

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
