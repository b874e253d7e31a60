"""ORM models of imported history (``qa-bot import-q2a``): which rows came from another site.

- ``imported_posts``: a post that came from a Question2Answer site, keyed by the Q2A post id
  per guild (a re-run imports only ids it has not seen), with what Discord has no place for:
  the view count and the last edit date.
- ``imported_votes``: a vote that is an imported fact, not a reaction: reconciling Discord's
  reactions never removes it (``bot.forum.votes.reconcile_votes``).
- ``imported_authors``: a Q2A user with no Discord account, under a synthetic id (negative: no
  Discord snowflake is; ``bot.forum.imported.is_synthetic``), until a moderator links the handle
  to a member (``linked_user_id``).
- ``imported_claims``: an imported question whose thread is being created ("Continue in
  Discord", ``bot.forum.continuation``): one press holds the claim, a second is told to wait.

They live beside ``bot.db.models`` on the same ``Base``: migrations and ``migrate-data`` see them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base, NowOnInsert, PostRecord, Snowflake, SnowflakeKey


class ImportedPost(PostRecord, Base):
    """A post imported from a Q2A site (the Q2A post id, its views and last edit)."""

    __tablename__ = "imported_posts"
    __table_args__ = (
        UniqueConstraint("guild_id", "source_id", name="uq_imported_posts_guild_source"),
    )

    guild_id: Mapped[Snowflake]
    source_id: Mapped[int] = mapped_column(BigInteger)
    views: Mapped[int] = mapped_column(Integer, default=0)
    edited_at: Mapped[datetime | None]
    imported_at: Mapped[NowOnInsert]


class ImportedVote(PostRecord, Base):
    """Marks the vote (post, user) as imported: a fact no reaction reconciliation removes."""

    __tablename__ = "imported_votes"

    user_id: Mapped[SnowflakeKey]


class ImportedAuthor(Base):
    """A Q2A user under a synthetic id in a guild, with their handle as the display name."""

    __tablename__ = "imported_authors"
    __table_args__ = (UniqueConstraint("guild_id", "handle", name="uq_imported_authors_handle"),)

    guild_id: Mapped[SnowflakeKey]
    user_id: Mapped[SnowflakeKey]
    handle: Mapped[str] = mapped_column(String(100))
    source_user_id: Mapped[int] = mapped_column(BigInteger)
    linked_user_id: Mapped[Snowflake | None]
    linked_at: Mapped[datetime | None]


class ImportedClaim(PostRecord, Base):
    """An imported question whose Discord thread is being created, since ``claimed_at``."""

    __tablename__ = "imported_claims"

    claimed_at: Mapped[datetime]
