"""What a DM shows: the notifications of one DM read at send time.

``notification_content`` reads the question and posts a group of claimed notifications is about
as they are now, so edits are honoured and deleted posts left out, and says which
notifications should no longer be sent (and why). An anonymous author's identity is never
loaded into the result.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import HeldPost, Member, Post
from bot.forum import prefs
from bot.forum.outbox import OutboxItem
from bot.forum.settings import load_config


@dataclass(frozen=True, slots=True)
class NotifiedPost:
    """A post a notification is about, as its DM shows it (read at send time).

    ``display_name`` is the chosen name of an anonymous post (None: "Anonymous"), or the name a
    named author was last seen with (None: not known). ``author_id`` is set for named posts only,
    so the identity behind an anonymous post never leaves the domain.
    """

    notification_id: int
    post_id: int
    kind: str
    thread_id: int | None
    message_id: int | None
    body: str
    anonymous: bool
    display_name: str | None
    author_id: int | None = field(repr=False)
    #: Why a moderator removed it (the "removed" DM only; None: no reason given).
    removal_reason: str | None = None


@dataclass(frozen=True, slots=True)
class HeldNotice:
    """A moderator's decision on the recipient's held post (``bot.forum.premod``): its kind,
    the outcome (``approved``, ``rejected``, ``unpublished``) and the reason given."""

    kind: str
    outcome: str
    reason: str
    #: The server publishes its archive: an approved post's DM offers the author's yes.
    archive_on: bool = False


@dataclass(frozen=True, slots=True)
class NotificationContent:
    """What one DM (a group from ``group_claimed``) says, and what is no longer to be sent.

    ``posts`` are the live posts, oldest first; ``cancelled`` maps the ids of notifications
    that should not be sent any more (post or question deleted, acceptance moved away,
    recipient's notifications off or data erased) to the reason. ``dm_channel_id`` is the
    recipient's cached DM channel; ``preview`` what their DMs show (``prefs.DM_PREVIEWS``),
    whatever the kind: ``bot.ui.dms.render_dm`` applies it.
    """

    kind: str
    guild_id: int
    question_id: int | None
    question_title: str | None
    question_thread_id: int | None
    posts: tuple[NotifiedPost, ...]
    cancelled: Mapping[int, str]
    dm_channel_id: int | None
    preview: str = "full"
    held: HeldNotice | None = None

    @property
    def latest(self) -> NotifiedPost | None:
        return self.posts[-1] if self.posts else None

    @property
    def notification_ids(self) -> list[int]:
        """The notifications the DM delivers."""
        return [post.notification_id for post in self.posts]


def _cancel_reason(
    item: OutboxItem, question: Post | None, post: Post | None, recipient: prefs.Prefs
) -> str | None:
    if recipient.erased:
        return "the recipient erased their data"
    if not recipient.notifications:
        return "the recipient turned notifications off"
    if item.kind == "removed":
        return None if post is not None and post.removed_at is not None else "it was restored"
    if question is None or question.deleted_at is not None:
        return "the question was deleted"
    if post is None or post.deleted_at is not None or post.state != "live":
        return "the post was deleted"
    if question.removed_at is not None or post.removed_at is not None:
        return "a moderator removed the post"
    if item.kind == "accepted" and question.accepted_answer_id != post.id:
        return "the answer is no longer accepted"
    return None


async def notification_content(
    session: AsyncSession, items: Sequence[OutboxItem]
) -> NotificationContent:
    """Read what the DM for ``items`` (one group: recipient, question, kind) shows now, with
    the recipient's preview (what their DMs show), whatever the kind.

    Edits are honoured and deleted posts left out; an anonymous author's identity is never
    loaded into the result.
    """
    content = await _read_content(session, items)
    recipient = await prefs.get_prefs(session, items[0].recipient_id)
    return dataclasses.replace(content, preview=recipient.dm_preview)


async def _read_content(session: AsyncSession, items: Sequence[OutboxItem]) -> NotificationContent:
    if not items:
        raise ValueError("a DM needs at least one notification")
    first = items[0]
    if any(item.group != first.group for item in items):
        raise ValueError("the notifications of one DM share recipient, question and kind")
    if first.kind.startswith(HELD_PREFIX):
        return await _held_content(session, items)
    question = (
        await session.get(Post, first.question_id, populate_existing=True)
        if first.question_id is not None
        else None
    )
    post_ids = sorted({item.post_id for item in items if item.post_id is not None})
    loaded = (
        await session.execute(
            select(Post).where(Post.id.in_(post_ids)).execution_options(populate_existing=True)
        )
        if post_ids
        else None
    )
    by_id = {post.id: post for post in loaded.scalars()} if loaded is not None else {}
    recipient = await prefs.get_prefs(session, first.recipient_id)
    cancelled: dict[int, str] = {}
    live: list[tuple[OutboxItem, Post]] = []
    for item in sorted(items, key=lambda i: i.id):
        post = by_id.get(item.post_id) if item.post_id is not None else None
        reason = _cancel_reason(item, question, post, recipient)
        if reason is not None:
            cancelled[item.id] = reason
        else:
            assert post is not None
            live.append((item, post))
    named = sorted({post.author_id for _, post in live if not post.anonymous})
    names: dict[int, str] = {}
    if named:
        rows = await session.execute(
            select(Member.user_id, Member.display_name).where(
                Member.guild_id == first.guild_id,
                Member.user_id.in_(named),
                Member.display_name.is_not(None),
            )
        )
        names = {row.user_id: row.display_name for row in rows}
    posts = tuple(
        NotifiedPost(
            notification_id=item.id,
            post_id=post.id,
            kind=post.kind,
            thread_id=post.thread_id,
            message_id=post.message_id,
            body=post.body,
            anonymous=post.anonymous,
            display_name=(
                post.display_name
                if post.anonymous
                else post.display_name or names.get(post.author_id)
            ),
            author_id=None if post.anonymous else post.author_id,
            removal_reason=post.removal_reason if item.kind == "removed" else None,
        )
        for item, post in sorted(live, key=lambda pair: (pair[1].id, pair[0].id))
    )
    return NotificationContent(
        kind=first.kind,
        guild_id=first.guild_id,
        question_id=first.question_id,
        question_title=question.title if question is not None else None,
        question_thread_id=question.thread_id if question is not None else None,
        posts=posts,
        cancelled=cancelled,
        dm_channel_id=recipient.dm_channel_id,
    )


#: Notification kinds about a held post start with this (``bot.forum.premod.DM_KINDS``).
HELD_PREFIX = "held_"


async def _held_content(session: AsyncSession, items: Sequence[OutboxItem]) -> NotificationContent:
    """The DM telling a member what became of their held post (the first of ``items``): its
    text as they wrote it, and the published post (approved) or the reason (rejected,
    unpublished)."""
    first = items[0]
    held = await session.get(HeldPost, first.payload.get("held_id"), populate_existing=True)
    post = await session.get(Post, held.post_id) if held and held.post_id else None
    question_id = first.question_id
    question = await session.get(Post, question_id) if question_id is not None else None
    recipient = await prefs.get_prefs(session, first.recipient_id)
    reason = None
    if recipient.erased:
        reason = "the recipient erased their data"
    elif not recipient.notifications:
        reason = "the recipient turned notifications off"
    elif held is None:
        reason = "the held post was deleted"
    if reason is not None or held is None:
        cancelled = {item.id: reason or "" for item in items}
        return NotificationContent(
            first.kind, first.guild_id, question_id, None, None, (), cancelled, None
        )
    payload = json.loads(held.payload)
    notified = NotifiedPost(
        notification_id=first.id,
        post_id=held.post_id or 0,
        kind=held.kind,
        thread_id=post.thread_id if post is not None else None,
        message_id=post.message_id if post is not None else None,
        body=str(payload.get("details" if held.kind == "question" else "body") or ""),
        anonymous=held.anonymous,
        display_name=None,
        author_id=None,
    )
    title = payload.get("title") if held.kind == "question" else None
    return NotificationContent(
        kind=first.kind,
        guild_id=first.guild_id,
        question_id=question_id,
        question_title=title or (question.title if question is not None else None),
        question_thread_id=question.thread_id if question is not None else None,
        posts=(notified,),
        # One decision a DM: others claimed with it (another held post on the same question)
        # are neither sent nor cancelled, so they are claimed again once their lease ends.
        cancelled={},
        dm_channel_id=recipient.dm_channel_id,
        held=HeldNotice(
            held.kind,
            first.kind.removeprefix(HELD_PREFIX),
            held.reason,
            archive_on=(await load_config(session, first.guild_id)).publishing,
        ),
    )
