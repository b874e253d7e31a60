"""ask drafts: questions held by the similar-questions gate of /ask"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "ask_drafts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("consumed_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('posted', 'cancelled')", name=op.f("ck_ask_drafts_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ask_drafts")),
    )
    with op.batch_alter_table("ask_drafts", schema=None) as batch_op:
        batch_op.create_index("ix_ask_drafts_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ask_drafts", schema=None) as batch_op:
        batch_op.drop_index("ix_ask_drafts_expires_at")

    op.drop_table("ask_drafts")
