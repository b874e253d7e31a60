"""imported history: imported_claims (an imported question being continued in Discord: the one
press that creates its thread holds the claim)
"""

from alembic import op

from bot.db.migrations.parts import create_post_record, utc_time

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    create_post_record("imported_claims", utc_time("claimed_at"))


def downgrade() -> None:
    op.drop_table("imported_claims")
