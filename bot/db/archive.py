"""The public archive's consent model (issue 23): each member's choices per server.

A server's switch and invite link are settings (``guild_settings``), its chosen categories a
flag on ``categories``, and a post's own choice a column of ``posts`` (``publish_consent``).
"""

from __future__ import annotations

from sqlalchemy.orm import Mapped

from bot.db.base import Base, NowOnWrite, OffByDefault, SnowflakeKey


class ArchivePref(Base):
    """A member's archive choices in one server: whether their posts without a choice of their
    own are published (``by_default``), and whether their name is shown (``named``). No row:
    both off."""

    __tablename__ = "archive_prefs"

    guild_id: Mapped[SnowflakeKey]
    user_id: Mapped[SnowflakeKey]
    by_default: Mapped[OffByDefault]
    named: Mapped[OffByDefault]
    updated_at: Mapped[NowOnWrite]
