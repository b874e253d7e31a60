"""retention: departed_guilds (a server that removed the bot, purged once its retention has
passed, forgotten if the bot returns earlier) and user_prefs.dm_preview (what a DM shows)
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import create_guild_table, utc_time

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    create_guild_table("departed_guilds", utc_time("departed_at"))
    op.add_column(
        "user_prefs",
        sa.Column("dm_preview", sa.String(length=16), server_default="full", nullable=False),
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), as 0005 and 0006 do.
    op.drop_column("user_prefs", "dm_preview")
    op.drop_table("departed_guilds")
