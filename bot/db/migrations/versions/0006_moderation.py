"""moderation: reports that allow a new one after a dismissal, report cards, the audit trail,
member blocks, held posts (pre-moderation), and a moderator's removal of a post
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0006"
down_revision = "0005"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, autoincrement=True, nullable=False)


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, bot.db.types.UTCDateTime(), nullable=nullable)


def _post_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["posts.id"], name=op.f(f"fk_{table}_{column}_posts"), ondelete=ondelete
    )


def _create_flags(*extra: sa.Column[object] | sa.Constraint) -> None:
    """The reports table: the columns both revisions share, and ``extra``."""
    op.create_table(
        "flags",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created_at"),
        _post_fk("flags", "post_id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
        *extra,
    )


def upgrade() -> None:
    # No code ever wrote a report before this revision: the table is rebuilt, not altered.
    op.drop_table("flags")
    _create_flags(
        _time("resolved_at", nullable=True),
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
        sa.Column("post_id", _ID, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        _post_fk("report_cards", "post_id", "CASCADE"),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_report_cards")),
    )
    op.create_table(
        "mod_actions",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mod_actions")),
    )
    op.create_index("ix_mod_actions_guild_id", "mod_actions", ["guild_id", "id"])
    op.create_table(
        "member_blocks",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _time("created_at"),
        _time("ends_at", nullable=True),
        _time("lifted_at", nullable=True),
        sa.Column("lifted_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("scope IN ('anonymous', 'all')", name=op.f("ck_member_blocks_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_blocks")),
    )
    op.create_index("ix_member_blocks_guild_user", "member_blocks", ["guild_id", "user_id"])
    op.create_table(
        "held_posts",
        _id(),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("question_id", _ID, nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("card_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("card_message_id", sa.BigInteger(), nullable=True),
        sa.Column("post_id", _ID, nullable=True),
        _time("created_at"),
        _time("decided_at", nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('question', 'answer', 'comment')", name=op.f("ck_held_posts_kind")
        ),
        sa.CheckConstraint(
            "status IN ('waiting', 'approved', 'rejected')", name=op.f("ck_held_posts_status")
        ),
        _post_fk("held_posts", "question_id", "CASCADE"),
        _post_fk("held_posts", "post_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_posts")),
    )
    op.create_index("ix_held_posts_guild_status", "held_posts", ["guild_id", "status"])
    op.add_column("posts", _time("removed_at", nullable=True))
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
