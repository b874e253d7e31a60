"""Accepting an answer: one per question, by the asker or a moderator.

Accepting another answer moves the acceptance; unaccepting removes it. The question is
``solved`` while it has an accepted answer. The answer's author earns ``points_accepted`` and
the asker ``points_accepting`` - also when a moderator clicked (the moderator earns nothing).
Accepting an answer you wrote yourself is refused with ``SELF_ACCEPT``, one sentence whether
the question or the answer is named or anonymous, and told only to the one who tried; so every
accept is between two members and pays both (``bot.forum.point_rules``), an anonymous side's
share privately. A moderator accepting an asker's own (anonymous) answer is let through and
paid alike, since refusing it would tell the moderator who wrote the answer.
A closed question's acceptance cannot change until it is reopened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.forum import notifications
from bot.forum.errors import InvalidState, NotFound, PermissionDenied
from bot.forum.ledger import Ledger
from bot.forum.lookups import get_post
from bot.forum.post_rows import (
    QUESTION_GONE,
    gone,
    load_post,
    lock_posts,
    post_id_by_message,
    update_post,
)
from bot.forum.results import AcceptResult
from bot.forum.rights import Actor, locked_question_for

log = logging.getLogger(__name__)

ANSWER_GONE = "That answer no longer exists."
NOT_ALLOWED = "Only the asker or a moderator can accept an answer."
CLOSED = "This question is closed; reopen it to change its accepted answer."
SELF_ACCEPT = "You can't accept an answer you wrote yourself."


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post named by its id, or by its Discord message (a context-menu command's)."""

    post_id: int | None = None
    message_id: int | None = None

    def __post_init__(self) -> None:
        if (self.post_id is None) == (self.message_id is None):
            raise ValueError("give post_id or message_id")


async def accept_answer(
    session: AsyncSession, *, answer_ref: PostRef, actor: Actor, now: datetime | None = None
) -> AcceptResult:
    """Accept an answer (given by id or by its Discord message). Accepting the accepted answer
    again changes nothing; accepting another moves the acceptance to it."""
    now = now or utc_now()
    answer_id = answer_ref.post_id
    if answer_ref.message_id is not None:
        answer_id = await post_id_by_message(session, answer_ref.message_id)
        if answer_id is None:
            raise InvalidState("Only answers can be accepted.")
    assert answer_id is not None
    answer = await load_post(session, answer_id)
    if answer is None or gone(answer) or answer.state != "live":
        raise NotFound(ANSWER_GONE)
    if answer.kind != "answer" or answer.question_id is None:
        raise InvalidState("Only answers can be accepted.")
    question = await locked_question_for(session, answer.question_id, actor, refusal=NOT_ALLOWED)
    if answer.author_id == actor.member_id:
        raise PermissionDenied(SELF_ACCEPT)
    previous = question.accepted_answer_id
    if previous == answer.id:
        return AcceptResult(
            question=await get_post(session, question.id),
            answer=await get_post(session, answer.id),
            previous_answer_id=previous,
            changed=False,
        )
    if question.closed_at is not None:
        raise InvalidState(CLOSED)
    tracked = [answer.id] if previous is None else [answer.id, previous]
    locked = await lock_posts(session, tracked)
    answer = locked[answer.id]
    if answer.deleted_at is not None:
        raise NotFound(ANSWER_GONE)
    ledger = await Ledger.start(session, question.guild_id, tracked)
    await _set_accepted(session, question.id, answer.id, now)
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    fresh_question = await load_post(session, question.id)
    fresh_answer = await load_post(session, answer.id)
    assert fresh_question is not None
    assert fresh_answer is not None
    await notifications.notify_accepted(
        session, question=fresh_question, answer=fresh_answer, actor_id=actor.member_id, now=now
    )
    log.info(
        "answer %s accepted on question %s in guild %s",
        answer.id,
        question.id,
        question.guild_id,
    )
    return AcceptResult(
        question=await get_post(session, question.id),
        answer=await get_post(session, answer.id),
        previous_answer_id=previous,
        changed=True,
    )


async def unaccept_answer(
    session: AsyncSession, *, question_ref: PostRef, actor: Actor, now: datetime | None = None
) -> AcceptResult:
    """Remove a question's acceptance (the question given by id, or by the Discord message of
    the question or of one of its answers). Without an acceptance nothing changes."""
    now = now or utc_now()
    question_id = question_ref.post_id
    if question_ref.message_id is not None:
        post_id = await post_id_by_message(session, question_ref.message_id)
        post = None if post_id is None else await load_post(session, post_id)
        if post is None:
            raise NotFound(QUESTION_GONE)
        question_id = post.id if post.question_id is None else post.question_id
    assert question_id is not None
    question = await locked_question_for(
        session, question_id, actor, refusal="Only the asker or a moderator can unaccept an answer."
    )
    previous = question.accepted_answer_id
    if previous is None:
        return AcceptResult(
            question=await get_post(session, question.id),
            answer=None,
            previous_answer_id=None,
            changed=False,
        )
    if question.closed_at is not None:
        raise InvalidState(CLOSED)
    await lock_posts(session, [previous])
    ledger = await Ledger.start(session, question.guild_id, [previous])
    await _set_accepted(session, question.id, None, now)
    ledger.refresh_status(question.id)
    await ledger.settle(now)
    log.info("acceptance removed on question %s in guild %s", question.id, question.guild_id)
    return AcceptResult(
        question=await get_post(session, question.id),
        answer=None,
        previous_answer_id=previous,
        changed=True,
    )


async def _set_accepted(
    session: AsyncSession, question_id: int, answer_id: int | None, now: datetime
) -> None:
    await update_post(session, question_id, accepted_answer_id=answer_id, updated_at=now)
