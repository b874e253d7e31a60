"""publishing: the public archive's consent model. archive_prefs (a member's archive choices
per server: published by default, named), categories.archived (the categories a server chose
for the archive) and posts.publish_consent (an author's own choice for one post)
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import create_guild_table, flag, snowflake, utc_time

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    create_guild_table(
        "archive_prefs",
        snowflake("user_id"),
        flag("by_default"),
        flag("named"),
        utc_time("updated_at"),
        keyed_with=("user_id",),
    )
    # Plain ALTER TABLE ... ADD COLUMN, not batch mode: recreating ``posts`` on SQLite would drop
    # the full-text triggers of 0002 with the old table.
    op.add_column("categories", flag("archived"))
    op.add_column("posts", sa.Column("publish_consent", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "publish_consent")
    op.drop_column("categories", "archived")
    op.drop_table("archive_prefs")
