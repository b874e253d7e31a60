"""full-text search: a narrow covering index on posts for mapping a matching post to its question

``/search`` maps every post the full-text index matches to its question (and checks it is a
live post of the guild): with this index SQLite reads a narrow index entry instead of the wide
``posts`` row (title and body). PostgreSQL gets it too so both schemas stay alike.
"""

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_index(
        "ix_posts_search_lookup",
        "posts",
        ["id", "question_id", "guild_id", "kind", "state", "deleted_at", "removed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_posts_search_lookup", table_name="posts")
