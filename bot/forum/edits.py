"""Edits: a question's title, details or category, and the text of answers and comments.

From commands (``edit_question``, a ``QuestionEdit`` by the asker or a moderator; ``edit_post``
for the author of an answer or reply the bot posted on their behalf) and from Discord
(``edit_message`` when a mapped message is edited, ``rename_question_by_thread`` when a
question's thread is renamed).
An edit never changes a post's kind, and an edit that changes nothing writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Post
from bot.forum.categories import resolve_category
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.lookups import change
from bot.forum.post_rows import (
    POST_GONE,
    gone,
    load_post,
    post_id_by_message,
    question_for_thread,
    require_question,
    update_post,
)
from bot.forum.prefs import ERASED_AUTHOR_ID
from bot.forum.results import PostChange
from bot.forum.rights import Actor, require_author_or_moderator
from bot.forum.text_rules import validate_body, validate_details, validate_title

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuestionEdit:
    """What an edit of question ``question_id`` changes: each of its title, details and category
    that is given (None keeps it)."""

    question_id: int
    title: str | None = None
    details: str | None = None
    category: str | None = None


async def edit_question(
    session: AsyncSession, *, edit: QuestionEdit, actor: Actor, now: datetime | None = None
) -> PostChange:
    """Change a question's title, details or category (the asker, or a moderator)."""
    now = now or utc_now()
    question = await require_question(session, edit.question_id, lock=True)
    require_author_or_moderator(
        question, actor, refusal="Only the asker or a moderator can edit this question."
    )
    values: dict[str, object] = {}
    if edit.title is not None:
        new_title = validate_title(edit.title)
        if new_title != question.title:
            values["title"] = new_title
    if edit.details is not None:
        new_details = validate_details(edit.details)
        if new_details != question.body:
            values["body"] = new_details
    if edit.category is not None:
        new_category = await resolve_category(session, question.guild_id, edit.category)
        if new_category != question.category:
            values["category"] = new_category
    if not values:
        return await change(session, question.id, changed=False)
    return await _save(session, question, values, now=now, how="edited")


async def rename_question_by_thread(
    session: AsyncSession,
    *,
    thread_id: int,
    name: str,
    guild_id: int | None = None,
    now: datetime | None = None,
) -> PostChange | None:
    """A question's thread was renamed in Discord (by its owner or a moderator): the question
    takes the new name as its title.

    Discord already allowed the rename, so nobody's rights are checked; the name must still be
    a valid title (``ValidationError`` otherwise, and the stored title stays). None when the
    thread is no live question's. A name equal to the stored title (the bot's own rename after
    an edit coming back from Discord) changes nothing.
    """
    question = await question_for_thread(session, thread_id=thread_id, guild_id=guild_id, lock=True)
    if question is None or question.deleted_at is not None or question.state != "live":
        return None
    if question.author_id == ERASED_AUTHOR_ID:  # a tombstone takes no text again
        return await change(session, question.id, changed=False)
    title = validate_title(name)
    if title == question.title:
        return await change(session, question.id, changed=False)
    return await _save(
        session, question, {"title": title}, now=now or utc_now(), how="renamed in Discord"
    )


async def edit_message(
    session: AsyncSession, *, message_id: int, body: str, now: datetime | None = None
) -> PostChange | None:
    """A mapped message was edited on Discord: update the post's text (its kind never changes).

    None when the message is no post. A question's starter message is its details.
    """
    now = now or utc_now()
    post_id = await post_id_by_message(session, message_id)
    if post_id is None:
        return None
    post = await load_post(session, post_id, lock=True)
    assert post is not None
    tombstone = post.author_id == ERASED_AUTHOR_ID  # an erased member's: it takes no text again
    if post.deleted_at is not None or post.body == body or tombstone:
        return await change(session, post.id, changed=False)
    return await _save(session, post, {"body": body}, now=now, how="edited")


async def edit_post(
    session: AsyncSession, *, post_id: int, actor: Actor, body: str, now: datetime | None = None
) -> PostChange:
    """/edit of an answer or reply the bot posted on the author's behalf (the author only).

    The caller edits the bot's message afterwards. Questions: ``edit_question``.
    """
    now = now or utc_now()
    post = await load_post(session, post_id, lock=True)
    if post is None or gone(post) or post.kind == "question":
        raise NotFound(POST_GONE)
    if post.author_id != actor.member_id:
        raise PermissionDenied("Only its author can edit this.")
    if not post.via_bot:
        raise InvalidState("Edit your own message on Discord directly.")
    text = validate_body(body, what="answer" if post.kind == "answer" else "reply")
    if text == post.body:
        return await change(session, post.id, changed=False)
    return await _save(session, post, {"body": text}, now=now, how="edited")


async def _save(
    session: AsyncSession, post: Post, values: dict[str, object], *, now: datetime, how: str
) -> PostChange:
    """Store a (locked) post's changed columns, log it with ids, return the change."""
    await update_post(session, post.id, updated_at=now, **values)
    log.info("%s %s %s in guild %s", post.kind, post.id, how, post.guild_id)
    return await change(session, post.id)
