"""The declarative base of every model and the column shapes several tables share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, MetaData, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.clock import utc_now
from bot.db.types import PK, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Column shapes several tables share (PEP 593: the annotation carries the column).
NowOnInsert = Annotated[datetime, mapped_column(UTCDateTime, default=utc_now)]
NowOnWrite = Annotated[datetime, mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)]
#: A Discord id (a snowflake needs 64 bits), and one that is (part of) the primary key.
Snowflake = Annotated[int, mapped_column(BigInteger)]
SnowflakeKey = Annotated[int, mapped_column(BigInteger, primary_key=True)]
#: A post's id that is (part of) the primary key: the row goes when the post does.
PostKey = Annotated[
    int, mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
]
#: A count kept in the row (points, votes, answers...): 0 until something is counted.
Counter = Annotated[int, mapped_column(Integer, default=0, server_default=text("0"))]
#: A yes/no that is no until set (anonymous, posted by the bot, an opt-in...).
OffByDefault = Annotated[bool, mapped_column(Boolean, default=False, server_default=false())]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every time is stored as UTC: ``Mapped[datetime]`` needs no column type of its own.
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class GuildRecord:
    """The columns a guild's record with an id of its own opens with: that id, then its guild.
    (A category, a post, a queued DM, a report, a moderator's action or block, a held post, a
    draft: each belongs to one guild and is named by its own number.)"""

    # First in the table, as the tables were created (migration 0001 and on).
    id: Mapped[int] = mapped_column(PK, primary_key=True, autoincrement=True, sort_order=-2)
    guild_id: Mapped[int] = mapped_column(BigInteger, sort_order=-1)


class PostRecord:
    """The column a post's own record opens with: the post, its key (with more columns, or
    alone), and the row goes when the post does. (A vote, a report card, an imported post's
    Q2A facts, an imported vote's marker, an imported question's claim.)"""

    # First in the table, as the tables were created (``create_post_record`` of the migrations).
    post_id: Mapped[PostKey] = mapped_column(sort_order=-1)
