"""ask drafts: questions held by the similar-questions gate of /ask"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import create_guild_record, flag, snowflake, utc_time

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    create_guild_record(
        "ask_drafts",
        snowflake("user_id"),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        flag("anonymous"),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        utc_time("created_at"),
        utc_time("expires_at"),
        utc_time("consumed_at", nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('posted', 'cancelled')", name=op.f("ck_ask_drafts_outcome")
        ),
    )
    op.create_index("ix_ask_drafts_expires_at", "ask_drafts", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_ask_drafts_expires_at", table_name="ask_drafts")
    op.drop_table("ask_drafts")
