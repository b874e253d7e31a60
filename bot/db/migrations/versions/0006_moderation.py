"""moderation: reports that allow a new one after a dismissal, report cards, the audit trail,
member blocks, held posts (pre-moderation), and a moderator's removal of a post
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import fk_to_posts, post_ref, surrogate_id, utc_time

revision = "0006"
down_revision = "0005"


def _create_flags(*extra: sa.schema.SchemaItem) -> None:
    """The reports table: the columns both revisions share, and ``extra``."""
    op.create_table(
        "flags",
        surrogate_id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        post_ref("post_id", nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        utc_time("created_at"),
        fk_to_posts("flags", "post_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        *extra,
    )


def upgrade() -> None:
    # No code ever wrote a report before this revision: the table is rebuilt, not altered.
    op.drop_table("flags")
    _create_flags(
        utc_time("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.BigInteger(), nullable=True),
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
    op.create_table(
        "report_cards",
        post_ref("post_id", nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        utc_time("created_at"),
        utc_time("updated_at"),
        fk_to_posts("report_cards", "post_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_report_cards")),
    )
    op.create_table(
        "mod_actions",
        surrogate_id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        utc_time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_actions")),
    )
    op.create_index("ix_mod_actions_guild_id", "mod_actions", ["guild_id", "id"])
    op.create_table(
        "member_blocks",
        surrogate_id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        utc_time("created_at"),
        utc_time("ends_at", nullable=True),
        utc_time("lifted_at", nullable=True),
        sa.Column("lifted_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("scope IN ('anonymous', 'all')", name=op.f("ck_member_blocks_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_blocks")),
    )
    op.create_index("ix_member_blocks_guild_user", "member_blocks", ["guild_id", "user_id"])
    op.create_table(
        "held_posts",
        surrogate_id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        post_ref("question_id", nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("card_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        post_ref("post_id", nullable=True),
        utc_time("created_at"),
        utc_time("decided_at", nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('question', 'answer', 'comment')", name=op.f("ck_held_posts_kind")
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'approved', 'rejected')", name=op.f("ck_held_posts_status")
        ),
        fk_to_posts("held_posts", "question_id", ondelete="CASCADE"),
        fk_to_posts("held_posts", "post_id", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_posts")),
    )
    op.create_index("ix_held_posts_guild_status", "held_posts", ["guild_id", "status"])
    op.add_column("posts", utc_time("removed_at", nullable=True))
    op.add_column("posts", sa.Column("removed_by", sa.BigInteger(), nullable=True))
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
    _create_flags(sa.UniqueConstraint("post_id", "reporter_id", name="uq_flags_post_reporter"))
