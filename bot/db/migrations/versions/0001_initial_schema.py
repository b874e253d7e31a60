"""initial schema"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import (
    create_guild_record,
    create_guild_table,
    create_post_record,
    fk_to_posts,
    flag,
    post_ref,
    report_items,
    snowflake,
    utc_time,
)

revision = "0001"
down_revision = None

# The condition of the partial index ``ix_posts_unanswered``.
_UNANSWERED = "kind = 'question' AND answer_count = 0 AND status = 'open' AND deleted_at IS NULL"


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    create_guild_record(
        "categories",
        sa.Column("name", sa.String(length=100), nullable=False),
        snowflake("tag_id", nullable=True),
        utc_time("created_at"),
        sa.UniqueConstraint("guild_id", "name", name="uq_categories_guild_name"),
        sa.UniqueConstraint("tag_id", name=op.f("uq_categories_tag_id")),
    )
    create_guild_table(
        "guild_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        utc_time("updated_at"),
        keyed_with=("key",),
    )
    create_guild_table(
        "members",
        snowflake("user_id"),
        _counter("points"),
        _counter("anon_points"),
        _counter("questions"),
        _counter("answers"),
        _counter("accepted_answers"),
        _counter("upvotes_received"),
        _counter("downvotes_received"),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        utc_time("updated_at"),
        keyed_with=("user_id",),
    )
    op.create_index("ix_members_guild_points", "members", ["guild_id", "points"])
    create_guild_record(
        "posts",
        sa.Column("kind", sa.String(length=16), nullable=False),
        post_ref("question_id", nullable=True),
        post_ref("parent_id", nullable=True),
        snowflake("thread_id", nullable=True),
        snowflake("message_id", nullable=True),
        snowflake("status_message_id", nullable=True),
        snowflake("author_id"),
        flag("anonymous"),
        flag("via_bot"),
        sa.Column("display_name", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=400), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        flag("closed_by_moderator"),
        post_ref("duplicate_of_id", nullable=True),
        post_ref("accepted_answer_id", nullable=True),
        _counter("score"),
        _counter("upvotes"),
        _counter("downvotes"),
        _counter("answer_count"),
        snowflake("last_seen_message_id", nullable=True),
        utc_time("created_at"),
        utc_time("updated_at"),
        utc_time("last_activity_at"),
        utc_time("closed_at", nullable=True),
        utc_time("deleted_at", nullable=True),
        sa.CheckConstraint("kind IN ('question', 'answer', 'comment')", name=op.f("ck_posts_kind")),
        sa.CheckConstraint("state IN ('pending', 'live')", name=op.f("ck_posts_state")),
        sa.CheckConstraint(
            "status IN ('open', 'answered', 'solved', 'closed')", name=op.f("ck_posts_status")
        ),
        sa.CheckConstraint("answer_count >= 0", name=op.f("ck_posts_answer_count_nonnegative")),
        fk_to_posts("posts", "accepted_answer_id", ondelete="SET NULL"),
        fk_to_posts("posts", "duplicate_of_id", ondelete="SET NULL"),
        fk_to_posts("posts", "parent_id", ondelete="CASCADE"),
        fk_to_posts("posts", "question_id", ondelete="CASCADE"),
        sa.UniqueConstraint("message_id", name=op.f("uq_posts_message_id")),
    )
    op.create_index("ix_posts_guild_author", "posts", ["guild_id", "author_id"])
    op.create_index("ix_posts_question_score", "posts", ["question_id", "kind", "score"])
    op.create_index("ix_posts_thread_kind", "posts", ["thread_id", "kind"])
    op.create_index(
        "ix_posts_unanswered",
        "posts",
        ["guild_id", "created_at"],
        postgresql_where=sa.text(_UNANSWERED),
        sqlite_where=sa.text(_UNANSWERED),
    )
    op.create_table(
        "user_prefs",
        snowflake("user_id"),
        sa.Column("notifications", sa.Boolean(), server_default=sa.true(), nullable=False),
        utc_time("dms_closed_at", nullable=True),
        snowflake("dm_channel_id", nullable=True),
        utc_time("erased_at", nullable=True),
        utc_time("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_prefs")),
    )
    create_guild_record(
        "flags",
        *report_items(),
        sa.UniqueConstraint("post_id", "reporter_id", name="uq_flags_post_reporter"),
    )
    create_post_record(
        "follows",
        snowflake("user_id"),
        snowflake("guild_id"),
        utc_time("created_at"),
        key="question_id",
        keyed_with=("user_id",),
    )
    create_guild_record(
        "notifications",
        snowflake("recipient_id"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        post_ref("question_id", nullable=True),
        post_ref("post_id", nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _counter("attempts"),
        utc_time("next_attempt_at"),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        utc_time("claimed_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        snowflake("sent_message_id", nullable=True),
        utc_time("created_at"),
        utc_time("sent_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'undeliverable', 'cancelled')",
            name=op.f("ck_notifications_status"),
        ),
        fk_to_posts("notifications", "post_id", ondelete="CASCADE"),
        fk_to_posts("notifications", "question_id", ondelete="CASCADE"),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])
    op.create_index(
        "ix_notifications_recipient_question",
        "notifications",
        ["recipient_id", "question_id"],
    )
    create_post_record(
        "votes",
        snowflake("user_id"),
        snowflake("guild_id"),
        flag("up"),
        flag("down"),
        utc_time("updated_at"),
        keyed_with=("user_id",),
    )
    op.create_index("ix_votes_guild_user", "votes", ["guild_id", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_votes_guild_user", table_name="votes")
    op.drop_table("votes")
    op.drop_index("ix_notifications_recipient_question", table_name="notifications")
    op.drop_index("ix_notifications_due", table_name="notifications")
    op.drop_table("notifications")
    op.drop_table("follows")
    op.drop_table("flags")
    op.drop_table("user_prefs")
    op.drop_index("ix_posts_unanswered", table_name="posts")
    op.drop_index("ix_posts_thread_kind", table_name="posts")
    op.drop_index("ix_posts_question_score", table_name="posts")
    op.drop_index("ix_posts_guild_author", table_name="posts")
    op.drop_table("posts")
    op.drop_index("ix_members_guild_points", table_name="members")
    op.drop_table("members")
    op.drop_table("guild_settings")
    op.drop_table("categories")
