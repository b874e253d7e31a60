"""Who agrees to be published: the writes of the archive's consent model, and a member's view.

- A post's own choice (``posts.publish_consent``): ``allow_post`` (the "Allow in the public
  archive" button of the asker's confirmation) and ``toggle_post`` (**Publish / unpublish** on
  one's own post). Only the author chooses for a post; anyone else is refused and nothing is
  written.
- A member's choices in a server (``archive_prefs``): ``set_prefs`` (``/privacy``), and
  ``withdraw_all``, which in one step turns the default off and gives every post of theirs in
  the server an explicit no.
- The categories a server chose for the archive (``categories.archived``): ``set_archived``.
- ``my_published``: what of a member's is published now, exactly as ``bot.forum.publishing``
  decides it.

Which of these makes a post published is ``bot.forum.publishing``'s to say; the rules are there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import insert
from bot.db.models import ArchivePref, Category, Post
from bot.forum import audit
from bot.forum.categories import CategorySnapshot, find_category
from bot.forum.errors import NotFound, PermissionDenied
from bot.forum.post_rows import POST_GONE, gone
from bot.forum.publishing import (
    archive_open,
    choices_of,
    consented,
    publishable_question_ids,
    shown,
)

log = logging.getLogger(__name__)

#: The pseudo-setting ``/qa settings`` uses for the archive's categories, and its help line.
ARCHIVE_KEY: Final = "archive_categories"
ARCHIVE_HELP: Final = (
    'Categories whose questions the public archive may publish: set "add <name>" or '
    '"remove <name>".'
)
NOT_A_POST: Final = "This message is not a question, answer or comment of the Q&A forum."
NOT_YOURS: Final = "Only its author can choose whether a post is published."
#: The most links ``my_published`` returns (the counts are complete).
LINKS_MAX: Final = 10


@dataclass(frozen=True, slots=True)
class ArchiveChoice:
    """A post's archive choice after a change: what it is now, and whether it shows."""

    post_id: int
    kind: str
    allowed: bool
    #: The server publishes at all (off: nothing shows, whatever the choice).
    archive_on: bool


@dataclass(frozen=True, slots=True)
class Prefs:
    by_default: bool
    named: bool


@dataclass(frozen=True, slots=True)
class PublishedLink:
    kind: str
    thread_id: int
    message_id: int | None


@dataclass(frozen=True, slots=True)
class MyArchive:
    """``/privacy``: a member's choices and what of theirs is published now."""

    prefs: Prefs
    archive_on: bool
    questions: int
    answers: int
    comments: int
    #: Up to ``LINKS_MAX`` of them, newest first.
    links: tuple[PublishedLink, ...]


# --------------------------------------------------------------------------- a post's choice


async def _own_post(session: AsyncSession, post: Post | None, user_id: int) -> Post:
    if post is None or post.state != "live":
        raise NotFound(NOT_A_POST)
    if gone(post):
        raise NotFound(POST_GONE)
    if post.author_id != user_id:
        raise PermissionDenied(NOT_YOURS)
    return post


async def _choose(session: AsyncSession, post: Post, allowed: bool) -> ArchiveChoice:
    await session.execute(update(Post).where(Post.id == post.id).values(publish_consent=allowed))
    log.info("post %s archive choice set (%s)", post.id, "yes" if allowed else "no")
    return ArchiveChoice(post.id, post.kind, allowed, await archive_open(session, post.guild_id))


async def allow_post(session: AsyncSession, *, post_id: int, user_id: int) -> ArchiveChoice:
    """The author's yes for one post (the asker's button)."""
    post = (await session.execute(select(Post).where(Post.id == post_id))).scalar_one_or_none()
    return await _choose(session, await _own_post(session, post, user_id), True)


async def toggle_post(session: AsyncSession, *, message_id: int, user_id: int) -> ArchiveChoice:
    """**Publish / unpublish** on the author's own post: a yes when the post is not allowed now
    (by its own choice or the author's default), else an explicit no."""
    found = await session.execute(
        select(Post, ArchivePref.by_default)
        .outerjoin(ArchivePref, choices_of(Post, ArchivePref))
        .where(Post.message_id == message_id)
    )
    row = found.first()
    post = await _own_post(session, row[0] if row else None, user_id)
    by_default = bool(row[1]) if row else False
    allowed_now = post.publish_consent if post.publish_consent is not None else by_default
    return await _choose(session, post, not allowed_now)


# --------------------------------------------------------------------------- a member's choices


async def get_prefs(session: AsyncSession, guild_id: int, user_id: int) -> Prefs:
    row = await session.get(ArchivePref, (guild_id, user_id))
    return Prefs(False, False) if row is None else Prefs(row.by_default, row.named)


async def set_prefs(
    session: AsyncSession,
    guild_id: int,
    user_id: int,
    *,
    by_default: bool | None = None,
    named: bool | None = None,
) -> Prefs:
    """Change what is given (None: unchanged); the member's choices after it."""
    current = await get_prefs(session, guild_id, user_id)
    new = Prefs(
        current.by_default if by_default is None else by_default,
        current.named if named is None else named,
    )
    if new != current:
        values = {"by_default": new.by_default, "named": new.named, "updated_at": utc_now()}
        stmt = insert(session, ArchivePref).values(guild_id=guild_id, user_id=user_id, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ArchivePref.guild_id, ArchivePref.user_id], set_=values
        )
        await session.execute(stmt)
        log.info("member archive choices changed in guild %s", guild_id)
    return new


async def withdraw_all(session: AsyncSession, guild_id: int, user_id: int) -> int:
    """Nothing of the member's in this server is published any more: the default off, and an
    explicit no on each of their posts. How many posts had a choice other than no."""
    await set_prefs(session, guild_id, user_id, by_default=False)
    result = await session.execute(
        update(Post)
        .where(
            Post.guild_id == guild_id,
            Post.author_id == user_id,
            or_(Post.publish_consent.is_(None), Post.publish_consent.is_(True)),
        )
        .values(publish_consent=False)
        .execution_options(synchronize_session=False)
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    log.info("member withdrew every archive consent in guild %s (%d posts)", guild_id, changed)
    return changed


async def my_published(session: AsyncSession, guild_id: int, user_id: int) -> MyArchive:
    """The member's choices and what of theirs the archive publishes now."""
    prefs = await get_prefs(session, guild_id, user_id)
    rows = (
        await session.execute(
            select(Post.id, Post.kind, Post.question_id, Post.thread_id, Post.message_id)
            .outerjoin(ArchivePref, choices_of(Post, ArchivePref))
            .where(
                Post.guild_id == guild_id,
                Post.author_id == user_id,
                shown(Post),
                consented(Post, ArchivePref),
            )
            .order_by(Post.created_at.desc(), Post.id.desc())
        )
    ).all()
    asked = {row.question_id or row.id for row in rows}
    open_ids = await publishable_question_ids(session, guild_id, sorted(asked))
    published = [row for row in rows if (row.question_id or row.id) in open_ids]
    threads = await _threads(session, {row.question_id or row.id for row in published})
    links = tuple(
        PublishedLink(row.kind, threads[row.question_id or row.id], row.message_id)
        for row in published[:LINKS_MAX]
        if threads.get(row.question_id or row.id) is not None
    )
    return MyArchive(
        prefs=prefs,
        archive_on=await archive_open(session, guild_id),
        questions=sum(row.kind == "question" for row in published),
        answers=sum(row.kind == "answer" for row in published),
        comments=sum(row.kind == "comment" for row in published),
        links=links,
    )


async def _threads(session: AsyncSession, question_ids: set[int]) -> dict[int, int]:
    if not question_ids:
        return {}
    rows = await session.execute(
        select(Post.id, Post.thread_id).where(Post.id.in_(sorted(question_ids)))
    )
    return {qid: tid for qid, tid in rows.all() if tid is not None}


# --------------------------------------------------------------------------- the server's choice


async def set_archived(
    session: AsyncSession, guild_id: int, raw_name: str, archived: bool, *, actor_id: int = 0
) -> CategorySnapshot:
    """Choose a category for the archive, or take it out (its questions stop showing at once);
    a change by ``actor_id`` is recorded in the audit trail as a setting."""
    category = await find_category(session, guild_id, raw_name)
    result = await session.execute(
        update(Category)
        .where(Category.id == category.id, Category.archived.is_not(archived))
        .values(archived=archived)
        .execution_options(synchronize_session=False)
    )
    if actor_id and getattr(result, "rowcount", 0):
        await audit.record(session, guild_id, actor_id, "setting", detail=ARCHIVE_KEY)
    log.info("guild %s archive category %s %s", guild_id, category.id, "in" if archived else "out")
    return category
