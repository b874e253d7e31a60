"""What the public archive may publish: the one query that decides (issue 23).

The web archive asks ``publishable_questions`` and ``publishable_thread`` on every request, and
nothing here is cached, so a change in Discord or of anyone's mind shows at the next query.

The rules, all of them needed:

1. **The server.** Its ``publishing`` setting is on (off by default), and the question's
   category is one it chose for the archive (``categories.archived``; a question without a
   category is never published).
2. **The asker.** A question is published only with its asker's yes.
3. **Each author.** An answer or comment is shown only with its author's yes; without it the
   thread keeps a placeholder row ("an answer not published by its author"), so the page is
   honest about what is missing.

4. **Imported history** (``qa-bot import-q2a``). Its authors without a Discord account (a
   synthetic id, ``bot.forum.synthetic_ids``) never gave a yes: their posts are published only
   when the server opts the imported history in (its ``archive_imported`` setting, off by
   default), and then they are never named: "A member", or "Anonymous" for a post Q2A showed
   anonymously (never the Q2A handle or the name typed there). A member linked to an imported
   handle (``/mod link-imported``) owns those posts: their own yes decides, as for any post.

A yes is the post's own choice (``posts.publish_consent``: the "Allow in the public archive"
button, the **Publish / unpublish** command) or, when the post has no choice of its own, the
author's current default in that server (``archive_prefs.by_default``, set with ``/privacy``).
The default is read at query time, not copied onto posts: turning it off unpublishes at once
every post that has no yes of its own. Nothing else is a yes: a native forum post, a message
typed in a thread, an author with no ``/privacy`` choice are all unpublished.

Never published, not even as a placeholder: deleted posts, posts removed by a moderator (or
hidden by reports), erased ones (their author is ``ERASED_AUTHOR_ID``), and rows the bot is still
posting (``state = 'pending'``). A post waiting in pre-moderation is not a post yet at all.

Names: an anonymous post shows what its thread shows, its chosen display name or per-thread
pseudonym ("Member 2"), else "Anonymous"; a named post shows its author's name only when they
chose to be named (``archive_prefs.named``), else "A member". No result carries an author's id,
so nothing the archive receives links an anonymous post to a member or two threads to each
other.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Integer, Row, and_, bindparam, false, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db.models import ArchivePref, Category, Member, Post
from bot.forum.prefs import ERASED_AUTHOR_ID
from bot.forum.settings import GuildConfig, config_from_overrides, load_config, overrides

#: The placeholder rows of a thread, by kind.
WITHHELD: Final = {
    "answer": "an answer not published by its author",
    "comment": "a comment not published by its author",
}
#: How a named author who did not choose to be named is shown (and one whose name is unknown).
A_MEMBER: Final = "A member"
#: An anonymous post without a display name.
ANONYMOUS: Final = "Anonymous"
#: A page of questions at most.
PAGE_MAX: Final = 100
#: A list of solved questions looks among the server's newest this many questions (no index
#: finds solved ones: without a window, a server with none would be read to its first question).
SOLVED_WINDOW: Final = 2_000
#: Older than any post (the window of a server with fewer questions than SOLVED_WINDOW).
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Every column of a post: a row's first columns (``_names`` adds its author's, ``_author``).
_POST_COLUMNS: Final = tuple(Post.__table__.c)


@dataclass(frozen=True, slots=True)
class PublishedQuestion:
    """A question the archive may show, with its author as the archive names them."""

    id: int
    guild_id: int
    thread_id: int | None
    title: str
    body: str
    category: str
    author: str
    status: str
    score: int
    upvotes: int
    downvotes: int
    answer_count: int
    accepted_answer_id: int | None
    created_at: datetime
    last_activity_at: datetime


@dataclass(frozen=True, slots=True)
class PublishedPost:
    """An answer or comment of a published question. ``withheld``: its author has not said yes;
    then ``body`` is the placeholder sentence, ``author`` is None and no votes are shown."""

    id: int
    kind: str
    parent_id: int | None
    message_id: int | None
    author: str | None
    body: str
    withheld: bool
    accepted: bool
    score: int
    upvotes: int
    downvotes: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PublishedThread:
    question: PublishedQuestion
    #: Answers and comments, oldest first.
    posts: tuple[PublishedPost, ...]


# --------------------------------------------------------------------------- the rules in SQL


def shown(post: Any) -> ColumnElement[bool]:
    """Rows that exist for anyone: live, not deleted, not removed, not erased."""
    return and_(
        post.state == "live",
        post.deleted_at.is_(None),
        post.removed_at.is_(None),
        post.author_id != ERASED_AUTHOR_ID,
    )


def consented(post: Any, pref: Any) -> ColumnElement[bool]:
    """The author's yes: the post's own choice, else their default (no row: no)."""
    return func.coalesce(post.publish_consent, pref.by_default, false()).is_(True)


def synthetic(post: Any) -> ColumnElement[bool]:
    """Posts of an imported author with no Discord account (``bot.forum.synthetic_ids``)."""
    imported: ColumnElement[bool] = post.author_id < ERASED_AUTHOR_ID
    return imported


def author_yes(post: Any, pref: Any, *, imported: bool) -> ColumnElement[bool]:
    """The author's yes, and for an imported author's post the server's (``imported``)."""
    yes = consented(post, pref)
    return or_(yes, synthetic(post)) if imported else yes


def choices_of(post: Any, pref: Any) -> ColumnElement[bool]:
    """Joins a post to its author's archive choices in its server (``archive_prefs``)."""
    return and_(pref.guild_id == post.guild_id, pref.user_id == post.author_id)


def _name_of(post: Any) -> ColumnElement[bool]:
    """Joins a post to its author's row in ``members`` (the name they were last seen with)."""
    return and_(Member.guild_id == post.guild_id, Member.user_id == post.author_id)


# Every select below is built once per variant (``functools.cache``) with bound parameters:
# building one (the aliases, the joins) costs more than SQLite's work for a page.


@functools.cache
def _questions(*, imported: bool) -> Any:
    """The select of the publishable questions of the server in the bound ``guild_id`` (rows of
    columns, no ORM objects), their asker's name columns joined (``imported``: the server
    publishes its imported history)."""
    pref = aliased(ArchivePref)
    return (
        select(*_POST_COLUMNS, *_names(pref))
        .join(
            Category,
            and_(
                Category.guild_id == Post.guild_id,
                Category.name == Post.category,
                Category.archived.is_(True),
            ),
        )
        .outerjoin(pref, choices_of(Post, pref))
        .outerjoin(Member, _name_of(Post))
        .where(
            Post.guild_id == bindparam("guild_id"),
            Post.kind == "question",
            shown(Post),
            author_yes(Post, pref, imported=imported),
        )
    )


def _names(pref: Any) -> tuple[ColumnElement[Any], ...]:
    return (pref.named.label("author_named"), Member.display_name.label("author_seen_as"))


def _author(post: Row[Any]) -> str:
    if post.author_id < ERASED_AUTHOR_ID:  # an imported author: never named
        return ANONYMOUS if post.anonymous else A_MEMBER
    if post.anonymous:
        return (post.display_name or "").strip() or ANONYMOUS
    return (post.author_seen_as or A_MEMBER) if post.author_named else A_MEMBER


def _question(post: Row[Any]) -> PublishedQuestion:
    return PublishedQuestion(
        id=post.id,
        guild_id=post.guild_id,
        thread_id=post.thread_id,
        title=post.title or "",
        body=post.body,
        category=post.category or "",
        author=_author(post),
        status=post.status,
        score=post.score,
        upvotes=post.upvotes,
        downvotes=post.downvotes,
        answer_count=post.answer_count,
        accepted_answer_id=post.accepted_answer_id,
        created_at=post.created_at,
        last_activity_at=post.last_activity_at,
    )


async def archive_open(session: AsyncSession, guild_id: int) -> bool:
    """Whether the server publishes at all (its ``publishing`` setting)."""
    return (await load_config(session, guild_id)).publishing


def config_in(connection: Connection, guild_id: int) -> GuildConfig:
    """The server's settings, read on ``connection`` (``load_config`` of a sync read)."""
    return config_from_overrides(overrides(connection, guild_id))


def _open_config(connection: Connection, guild_id: int) -> GuildConfig | None:
    """The server's settings when it publishes at all, else None."""
    config = config_in(connection, guild_id)
    return config if config.publishing else None


# --------------------------------------------------------------------------- the queries
# Functions of a connection (``bot.db.reads``): the archive reads a whole page in one unit.


def publishable_questions(
    connection: Connection,
    guild_id: int,
    *,
    category: str | None = None,
    solved: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[PublishedQuestion]:
    """The server's publishable questions, newest first (``category``: only that one;
    ``solved``: only those with an accepted answer, among the newest ``SOLVED_WINDOW``)."""
    config = _open_config(connection, guild_id)
    if config is None:
        return []
    stmt = _listing(config.archive_imported, category is not None, solved)
    bound = {
        "guild_id": guild_id,
        "category": category,
        "limit": max(1, min(limit, PAGE_MAX)),
        "offset": max(0, offset),
        "epoch": _EPOCH,
    }
    return [_question(row) for row in connection.execute(stmt, bound)]


@functools.cache
def _listing(imported: bool, by_category: bool, solved: bool) -> Any:
    stmt = _questions(imported=imported)
    if by_category:
        stmt = stmt.where(Post.category == bindparam("category"))
    if solved:  # among the newest SOLVED_WINDOW questions: a walk with an end
        newest = (
            select(Post.created_at)
            .where(
                Post.guild_id == bindparam("guild_id"),
                Post.kind == "question",
                Post.created_at.is_not(None),
            )
            .order_by(Post.created_at.desc())
            .limit(1)
            .offset(SOLVED_WINDOW - 1)
            .scalar_subquery()
        )
        stmt = stmt.where(
            Post.accepted_answer_id.is_not(None),
            Post.created_at
            >= func.coalesce(newest, bindparam("epoch", type_=Post.created_at.type)),
        )
    return (
        # Always true: it lets the planner walk ``ix_posts_guild_kind_created`` (partial to it)
        # newest first instead of sorting every question of the server.
        stmt.where(Post.created_at.is_not(None))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def publishable_index(
    connection: Connection, guild_id: int, *, limit: int
) -> list[tuple[int, str, datetime]]:
    """Every publishable question of the server as (id, title, last activity), most recently
    active first, at most ``limit`` (a sitemap's list)."""
    config = _open_config(connection, guild_id)
    if config is None:
        return []
    stmt = _index(config.archive_imported)
    rows = connection.execute(stmt, {"guild_id": guild_id, "limit": max(1, limit)})
    return [(qid, title or "", at) for qid, title, at in rows]


@functools.cache
def _index(imported: bool) -> Any:
    return (
        _questions(imported=imported)
        .with_only_columns(Post.id, Post.title, Post.last_activity_at)
        .order_by(Post.last_activity_at.desc(), Post.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


async def publishable_question_ids(
    session: AsyncSession, guild_id: int, question_ids: Sequence[int]
) -> set[int]:
    """Which of ``question_ids`` the archive publishes now."""
    config = await load_config(session, guild_id) if question_ids else None
    if config is None or not config.publishing:
        return set()
    stmt = _questions(imported=config.archive_imported).where(
        Post.id.in_(bindparam("ids", expanding=True))
    )
    rows = await session.execute(stmt, {"guild_id": guild_id, "ids": list(question_ids)})
    return {row.id for row in rows}


def publishable_thread(connection: Connection, question_id: int) -> PublishedThread | None:
    """A question with its answers and comments as the archive may show them, or None when the
    question is not publishable (unknown, gone, not consented, category or server not in)."""
    bound = {"question_id": question_id}
    guild_id = connection.execute(_GUILD_OF, bound).scalar_one_or_none()
    config = _open_config(connection, guild_id) if guild_id is not None else None
    if guild_id is None or config is None:
        return None
    imported = config.archive_imported
    row = connection.execute(_the_question(imported), {**bound, "guild_id": guild_id}).first()
    if row is None:
        return None
    question = _question(row)
    posts = tuple(_post(post, question) for post in connection.execute(_replies(imported), bound))
    return PublishedThread(question=question, posts=posts)


_GUILD_OF: Final = select(Post.guild_id).where(Post.id == bindparam("question_id"))


@functools.cache
def _the_question(imported: bool) -> Any:
    return _questions(imported=imported).where(Post.id == bindparam("question_id"))


@functools.cache
def _replies(imported: bool) -> Any:
    """The answers and comments of the question in the bound ``question_id``, oldest first."""
    pref = aliased(ArchivePref)
    return (
        select(
            *_POST_COLUMNS, *_names(pref), author_yes(Post, pref, imported=imported).label("yes")
        )
        .outerjoin(pref, choices_of(Post, pref))
        .outerjoin(Member, _name_of(Post))
        .where(Post.question_id == bindparam("question_id"), Post.kind != "question", shown(Post))
        .order_by(Post.created_at, Post.id)
    )


def _post(post: Any, question: PublishedQuestion) -> PublishedPost:
    published = PublishedPost(
        id=post.id,
        kind=post.kind,
        parent_id=post.parent_id,
        message_id=post.message_id,
        author=_author(post),
        body=post.body,
        withheld=False,
        accepted=post.id == question.accepted_answer_id,
        score=post.score,
        upvotes=post.upvotes,
        downvotes=post.downvotes,
        created_at=post.created_at,
    )
    return published if post.yes else _withheld(published)


def _withheld(post: PublishedPost) -> PublishedPost:
    """``post`` as the archive shows it while its author has not said yes: the placeholder
    sentence, no author, no message and no votes."""
    return replace(
        post,
        message_id=None,
        author=None,
        body=WITHHELD.get(post.kind, WITHHELD["comment"]),
        withheld=True,
        score=0,
        upvotes=0,
        downvotes=0,
    )
