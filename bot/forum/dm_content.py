"""What a DM shows: the notifications of one DM read at send time.

``notification_content`` reads the question and posts a group of claimed notifications is about
as they are now, so edits are honoured and deleted posts left out, and says which
notifications should no longer be sent (and why); ``notification_contents`` does it for the next
few DMs the worker sends in a few set-based statements. An anonymous author's identity is never
loaded into the result.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_
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
    [content] = await notification_contents(session, [items])
    return content


async def notification_contents(
    session: AsyncSession, groups: Sequence[Sequence[OutboxItem]]
) -> list[NotificationContent]:
    """``notification_content`` of many DMs (one per group, in order) in a few set-based
    statements: the recipients' preferences, the questions and posts, the named authors'
    names (a DM about a held post reads its own rows)."""
    for items in groups:
        _check_group(items)
    recipients = await prefs.prefs_of(session, (items[0].recipient_id for items in groups))
    held = [items[0].kind.startswith(HELD_PREFIX) for items in groups]
    plain = [items for items, is_held in zip(groups, held, strict=True) if not is_held]
    wanted = {i.question_id for items in plain for i in items if i.question_id is not None}
    wanted |= {i.post_id for items in plain for i in items if i.post_id is not None}
    loaded = (
        await session.execute(
            select(Post).where(Post.id.in_(wanted)).execution_options(populate_existing=True)
        )
        if wanted
        else None
    )
    by_id = {post.id: post for post in loaded.scalars()} if loaded is not None else {}
    lives = [
        ([], {}) if is_held else _live_posts(items, by_id, recipients[items[0].recipient_id])
        for items, is_held in zip(groups, held, strict=True)
    ]
    named = {
        (items[0].guild_id, post.author_id)
        for items, (live, _) in zip(groups, lives, strict=True)
        for _, post in live
        if not post.anonymous
    }
    names: dict[tuple[int, int], str] = {}
    if named:
        rows = await session.execute(
            select(Member.guild_id, Member.user_id, Member.display_name).where(
                tuple_(Member.guild_id, Member.user_id).in_(sorted(named)),
                Member.display_name.is_not(None),
            )
        )
        names = {(row.guild_id, row.user_id): row.display_name for row in rows}
    contents = []
    for items, is_held, (live, cancelled) in zip(groups, held, lives, strict=True):
        recipient = recipients[items[0].recipient_id]
        if is_held:
            content = await _held_content(session, items, recipient)
        else:
            content = _content(items, by_id, live, cancelled, names, recipient)
        contents.append(dataclasses.replace(content, preview=recipient.dm_preview))
    return contents


def _check_group(items: Sequence[OutboxItem]) -> None:
    if not items:
        raise ValueError("a DM needs at least one notification")
    if any(item.group != items[0].group for item in items):
        raise ValueError("the notifications of one DM share recipient, question and kind")


def _live_posts(
    items: Sequence[OutboxItem], by_id: Mapping[int, Post], recipient: prefs.Prefs
) -> tuple[list[tuple[OutboxItem, Post]], dict[int, str]]:
    """The items still to send with their post, and the others with why they are not sent."""
    question_id = items[0].question_id
    question = by_id.get(question_id) if question_id is not None else None
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
    return live, cancelled


def _content(
    items: Sequence[OutboxItem],
    by_id: Mapping[int, Post],
    live: Sequence[tuple[OutboxItem, Post]],
    cancelled: Mapping[int, str],
    names: Mapping[tuple[int, int], str],
    recipient: prefs.Prefs,
) -> NotificationContent:
    first = items[0]
    question = by_id.get(first.question_id) if first.question_id is not None else None
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
                else post.display_name or names.get((first.guild_id, post.author_id))
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


async def _held_content(
    session: AsyncSession, items: Sequence[OutboxItem], recipient: prefs.Prefs
) -> NotificationContent:
    """The DM telling a member what became of their held post (the first of ``items``): its
    text as they wrote it, and the published post (approved) or the reason (rejected,
    unpublished)."""
    first = items[0]
    held = await session.get(HeldPost, first.payload.get("held_id"), populate_existing=True)
    post = await session.get(Post, held.post_id) if held and held.post_id else None
    question_id = first.question_id
    question = await session.get(Post, question_id) if question_id is not None else None
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
