"""publishing: the public archive's consent model. archive_prefs (a member's archive choices
per server: published by default, named), categories.archived (the categories a server chose
for the archive) and posts.publish_consent (an author's own choice for one post)
"""

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "archive_prefs",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("by_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("named", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_archive_prefs")),
    )
    # Plain ALTER TABLE ... ADD COLUMN, not batch mode: recreating ``posts`` on SQLite would drop
    # the full-text triggers of 0002 with the old table.
    op.add_column(
        "categories",
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("posts", sa.Column("publish_consent", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "publish_consent")
    op.drop_column("categories", "archived")
    op.drop_table("archive_prefs")
