"""posts.forum_id (reads show only questions in forums the member can view) and
user_prefs.resources_dm (a member's opt-in to receive the safety resources by DM)
"""

import sqlalchemy as sa
from alembic import op

from bot.db.migrations.parts import flag, snowflake

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("posts", snowflake("forum_id", nullable=True))
    # Every existing post lives in its guild's current Q&A forum (the only one it has had
    # unless /qa setup moved it; a question left in an old forum is then judged by the new
    # forum's visibility, the stricter reading would need Discord and is not worth a guess).
    op.execute(
        sa.text(
            "UPDATE posts SET forum_id = CAST(("
            " SELECT gs.value FROM guild_settings gs"
            " WHERE gs.guild_id = posts.guild_id AND gs.key = 'forum_channel_id'"
            ") AS BIGINT)"
        )
    )
    op.add_column("user_prefs", flag("resources_dm"))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not batch mode: recreating ``posts``
    # would drop the full-text triggers of 0002 with the old table.
    op.drop_column("user_prefs", "resources_dm")
    op.drop_column("posts", "forum_id")
