"""reconciliation: reconcile_runs (each server's last reconciliation run, shown by /qa status),
reconcile_repages (questions whose earlier messages still wait for a re-page: the carry-over
of a run that ran out of budget) and an index on posts for the window's questions
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "reconcile_runs",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("questions_scanned", sa.Integer(), nullable=False),
        sa.Column("messages_backfilled", sa.Integer(), nullable=False),
        sa.Column("votes_backfilled", sa.Integer(), nullable=False),
        sa.Column("requests_used", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_reconcile_runs")),
    )
    op.create_table(
        "reconcile_repages",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("through_message_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("question_id", name=op.f("pk_reconcile_repages")),
    )
    op.create_index(
        "ix_posts_guild_kind_activity",
        "posts",
        ["guild_id", "kind", "last_activity_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_posts_guild_kind_activity", table_name="posts")
    op.drop_table("reconcile_repages")
    op.drop_table("reconcile_runs")
