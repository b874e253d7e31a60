"""thread pseudonyms: an anonymous author's stable "Member N" in one question thread"""

from alembic import op

from bot.db.migrations.parts import create_post_record, integer, snowflake, utc_time

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create_post_record(
        "thread_pseudonyms",
        snowflake("author_id"),
        integer("number"),
        utc_time("created_at"),
        key="question_id",
        keyed_with=("author_id",),
        unique=("question_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("thread_pseudonyms")
