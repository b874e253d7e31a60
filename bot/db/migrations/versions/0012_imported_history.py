"""imported history: imported_claims (an imported question being continued in Discord: the one
press that creates its thread holds the claim)
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types
from bot.db.migrations.parts import fk_to_posts, post_ref

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "imported_claims",
        post_ref("post_id", nullable=False),
        sa.Column("claimed_at", bot.db.types.UTCDateTime(), nullable=False),
        fk_to_posts("imported_claims", "post_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_imported_claims")),
    )


def downgrade() -> None:
    op.drop_table("imported_claims")
