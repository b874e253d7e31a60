"""thread pseudonyms: an anonymous author's stable "Member N" in one question thread"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import fk_to_posts, post_ref, snowflake, utc_time

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "thread_pseudonyms",
        post_ref("question_id", nullable=False),
        snowflake("author_id"),
        sa.Column("number", sa.Integer(), nullable=False),
        utc_time("created_at"),
        fk_to_posts("thread_pseudonyms", "question_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id", "author_id", name=op.f("pk_thread_pseudonyms")),
        sa.UniqueConstraint(
            "question_id", "number", name=op.f("uq_thread_pseudonyms_question_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("thread_pseudonyms")
