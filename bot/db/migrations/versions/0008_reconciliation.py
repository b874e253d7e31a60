"""reconciliation: reconcile_runs (each server's last reconciliation run, shown by /qa status),
reconcile_repages (questions whose earlier messages still wait for a re-page: the carry-over
of a run that ran out of budget) and an index on posts for the window's questions
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import create_guild_table, integer, snowflake, utc_time

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    create_guild_table(
        "reconcile_runs",
        utc_time("finished_at"),
        integer("questions_scanned"),
        integer("messages_backfilled"),
        integer("votes_backfilled"),
        integer("requests_used"),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "reconcile_repages",
        integer("question_id"),
        snowflake("through_message_id"),
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
