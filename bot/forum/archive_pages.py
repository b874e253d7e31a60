"""What the public web archive lists besides one question (issue 24), always through the
publishable query of ``bot.forum.publishing``: the servers that publish, a server's chosen
categories, and a search whose hits are only publishable questions.

All but the search are functions of a ``Connection`` (``bot.db.reads``): a page's reads are one
unit, on SQLite one hand-off to a reading thread."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Category, GuildSetting, Post
from bot.forum.publishing import (
    PublishedThread,
    archive_open,
    config_in,
    publishable_question_ids,
    publishable_thread,
)
from bot.forum.search import SearchHit, search_questions
from bot.forum.settings import load_config
from bot.forum.visibility import VisibleForums

#: The setting that opens a server's archive (stored only when on: off is the default).
_PUBLISHING_KEY = "publishing"


@dataclass(frozen=True, slots=True)
class ArchiveHome:
    """A publishing server's front matter: its chosen categories and its invite link."""

    guild_id: int
    categories: tuple[str, ...]
    invite: str | None


#: A server's archived categories (built once: building costs more than the read).
_CHOSEN: Final = (
    select(Category.name)
    .where(Category.guild_id == bindparam("guild_id"), Category.archived.is_(True))
    .order_by(Category.name)
)


def publishing_guilds(connection: Connection) -> list[int]:
    """The servers whose archive is open, by id."""
    rows = connection.execute(
        select(GuildSetting.guild_id)
        .where(GuildSetting.key == _PUBLISHING_KEY, GuildSetting.value == json.dumps(True))
        .order_by(GuildSetting.guild_id)
    )
    return [int(guild_id) for guild_id in rows.scalars()]


def archive_home(connection: Connection, guild_id: int) -> ArchiveHome | None:
    """The server's archive front matter, or None when it does not publish."""
    config = config_in(connection, guild_id)
    if not config.publishing:
        return None
    names = connection.execute(_CHOSEN, {"guild_id": guild_id})
    return ArchiveHome(guild_id, tuple(names.scalars()), config.archive_invite)


def archive_thread(
    connection: Connection, question_id: int
) -> tuple[PublishedThread, ArchiveHome] | None:
    """A question page's rows in one read: the publishable thread and its server's front
    matter, or None when the question is not publishable."""
    thread = publishable_thread(connection, question_id)
    if thread is None:
        return None
    home = archive_home(connection, thread.question.guild_id)
    return None if home is None else (thread, home)


async def published_search(
    session: AsyncSession, guild_id: int, query: str, *, limit: int = 20
) -> list[SearchHit]:
    """The domain search over every forum of the server, keeping only the hits the archive
    publishes now (most relevant first; up to five times ``limit`` hits are looked at)."""
    if not query.strip() or not await archive_open(session, guild_id):
        return []
    forums = await session.execute(
        select(Post.forum_id)
        .where(Post.guild_id == guild_id, Post.forum_id.is_not(None))
        .distinct()
    )
    ids = {int(f) for f in forums.scalars() if f is not None}
    configured = (await load_config(session, guild_id)).forum_channel_id
    if configured is not None:
        ids.add(configured)
    hits = await search_questions(
        session, guild_id=guild_id, visible=VisibleForums.of(ids), query=query, limit=limit * 5
    )
    shown = await publishable_question_ids(session, guild_id, [h.question_id for h in hits])
    return [h for h in hits if h.question_id in shown][:limit]
