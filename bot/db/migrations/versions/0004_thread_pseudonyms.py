"""thread pseudonyms: an anonymous author's stable "Member N" in one question thread"""

import sqlalchemy as sa
from alembic import op

import bot.db.types
from bot.db.migrations.parts import fk_to_posts, post_ref

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_table(
        "thread_pseudonyms",
        post_ref("question_id", nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", bot.db.types.UTCDateTime(), nullable=False),
        fk_to_posts("thread_pseudonyms", "question_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id", "author_id", name=op.f("pk_thread_pseudonyms")),
        sa.UniqueConstraint(
            "question_id", "number", name=op.f("uq_thread_pseudonyms_question_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("thread_pseudonyms")
