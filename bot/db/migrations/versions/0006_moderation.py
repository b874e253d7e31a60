"""moderation: reports that allow a new one after a dismissal, report cards, the audit trail,
member blocks, held posts (pre-moderation), and a moderator's removal of a post
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import (
    create_guild_record,
    create_post_record,
    create_reports,
    fk_to_posts,
    flag,
    post_ref,
    snowflake,
    utc_time,
)

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # No code ever wrote a report before this revision: the table is rebuilt, not altered.
    op.drop_table("flags")
    create_reports(
        utc_time("resolved_at", nullable=True),
        snowflake("resolved_by", nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'dismissed', 'actioned')", name=op.f("ck_flags_status")
        ),
    )
    op.create_index(
        "uq_flags_open_post_reporter",
        "flags",
        ["post_id", "reporter_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_flags_guild_status", "flags", ["guild_id", "status"])
    create_post_record(
        "report_cards",
        snowflake("guild_id"),
        snowflake("channel_id"),
        snowflake("message_id", nullable=True),
        utc_time("created_at"),
        utc_time("updated_at"),
    )
    create_guild_record(
        "mod_actions",
        snowflake("moderator_id"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        utc_time("created_at"),
    )
    op.create_index("ix_mod_actions_guild_id", "mod_actions", ["guild_id", "id"])
    create_guild_record(
        "member_blocks",
        snowflake("user_id"),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        snowflake("created_by"),
        utc_time("created_at"),
        utc_time("ends_at", nullable=True),
        utc_time("lifted_at", nullable=True),
        snowflake("lifted_by", nullable=True),
        sa.CheckConstraint("scope IN ('anonymous', 'all')", name=op.f("ck_member_blocks_scope")),
    )
    op.create_index("ix_member_blocks_guild_user", "member_blocks", ["guild_id", "user_id"])
    create_guild_record(
        "held_posts",
        snowflake("author_id"),
        sa.Column("kind", sa.String(length=16), nullable=False),
        post_ref("question_id", nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        flag("anonymous"),
        sa.Column("status", sa.String(length=16), nullable=False),
        snowflake("card_channel_id", nullable=True),
        snowflake("card_message_id", nullable=True),
        post_ref("post_id", nullable=True),
        utc_time("created_at"),
        utc_time("decided_at", nullable=True),
        snowflake("decided_by", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('question', 'answer', 'comment')", name=op.f("ck_held_posts_kind")
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'approved', 'rejected')", name=op.f("ck_held_posts_status")
        ),
        fk_to_posts("held_posts", "question_id", ondelete="CASCADE"),
        fk_to_posts("held_posts", "post_id", ondelete="SET NULL"),
    )
    op.create_index("ix_held_posts_guild_status", "held_posts", ["guild_id", "status"])
    op.add_column("posts", utc_time("removed_at", nullable=True))
    op.add_column("posts", snowflake("removed_by", nullable=True))
    op.add_column("posts", sa.Column("removal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "removal_reason")
    op.drop_column("posts", "removed_by")
    op.drop_column("posts", "removed_at")
    op.drop_table("held_posts")
    op.drop_table("member_blocks")
    op.drop_table("mod_actions")
    op.drop_table("report_cards")
    op.drop_table("flags")
    create_reports(sa.UniqueConstraint("post_id", "reporter_id", name="uq_flags_post_reporter"))
