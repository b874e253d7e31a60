"""``erase_member``: remove or anonymise everything stored about a member, in one server or in
every server, and say what the adapter must do in Discord.

What happens to each table (the decision, documented in the README's "Your data"):

- ``posts`` they wrote stay as **tombstones**, so threads, answer counts and other members'
  points keep making sense: the text goes (body ``''``, a question's title ``[removed]``, display
  name and removal reason NULL, from the search index too by its triggers or generated column),
  the author becomes ``ERASED_AUTHOR_ID`` (0, nobody) and the post anonymous, so what it still
  earns counts in no public total and names no one. The notifications about those posts (anyone's)
  lose their payload and are cancelled when not yet sent.
- Their ``votes`` are deleted; then every affected server's scores and points are recomputed
  (``recompute_points``), so cached values equal a recomputation.
- Their ``members`` rows, outbox rows, follows, reports they filed, pseudonyms, drafts and held
  posts are deleted.
- Where they acted as a moderator (``mod_actions.moderator_id``, a block's ``created_by`` /
  ``lifted_by``, a report's ``resolved_by``, a held post's ``decided_by``, a post's
  ``removed_by``) the id becomes 0: the action stays, by "an erased moderator".
- ``member_blocks`` on them stay (erasing does not lift a block), and the ``user_prefs`` row
  keeps the ``erased_at`` marker: their reactions count nothing afterwards (``bot.forum.votes``)
  and no DM is queued for them. The marker is per account, so it holds in every server, also
  after an erase of one server's data (the other servers' data stays until erased there or from
  the DM with the bot). An erase of every server's data also resets their preferences.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.imported import ImportedAuthor, ImportedVote
from bot.db.models import (
    ArchivePref,
    AskDraft,
    Flag,
    Follow,
    HeldPost,
    Member,
    MemberBlock,
    ModAction,
    Notification,
    Post,
    ReportCard,
    ThreadPseudonym,
    UserPref,
    Vote,
)
from bot.forum.mydata.scope import in_scope, members_rows
from bot.forum.points import recompute_points
from bot.forum.prefs import ERASED_AUTHOR_ID, mark_erased

log = logging.getLogger(__name__)

#: The title a tombstone question keeps (and its thread's new name).
REMOVED_TITLE: Final = "[removed]"
_UNSENT: Final = ("pending", "sending", "failed")
#: What a tombstone keeps of a post: no text, no name, no author, no choice to publish.
_TOMBSTONE: Final[dict[str, object]] = {
    "author_id": ERASED_AUTHOR_ID,
    "anonymous": True,
    "display_name": None,
    "body": "",
    "removal_reason": None,
    "closed_reason": None,
    "publish_consent": None,
}
#: The member's rows deleted outright, by the column that names them (their pseudonyms too).
_DELETED_ROWS: Final = (
    Vote.user_id,
    Notification.recipient_id,
    Follow.user_id,
    Flag.reporter_id,
    AskDraft.user_id,
    HeldPost.author_id,
    Member.user_id,
    ArchivePref.user_id,
    # the imported Q2A handle a moderator linked to the member (``/mod link-imported``)
    ImportedAuthor.linked_user_id,
)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A Discord message: ``guild_id`` None for a DM (``channel_id`` None: the DM channel is
    not known, open it with the member)."""

    guild_id: int | None
    channel_id: int | None
    message_id: int


@dataclass(frozen=True, slots=True)
class ErasePlan:
    """What the adapter does in Discord after ``erase_member``."""

    #: The bot's starters of their questions: replaced by "Removed at the author's request"
    #: (the thread's answers by others need them to make sense).
    replace: tuple[MessageRef, ...] = ()
    #: The bot's messages of their answers and comments, and moderator cards of their held posts.
    delete: tuple[MessageRef, ...] = ()
    #: (question id, thread id) of their questions' threads: renamed ``[removed]``.
    rename_threads: tuple[tuple[int, int], ...] = ()
    #: The DMs the bot sent them (deleted where Discord still has them).
    dms: tuple[MessageRef, ...] = ()
    #: (guild id, post id) of report cards to show again: their posts' (text gone) and those of
    #: the posts they reported (their report gone).
    report_cards: tuple[tuple[int, int], ...] = ()
    #: Servers whose scores and points were recomputed.
    guilds: tuple[int, ...] = ()
    #: Rows removed or anonymised, for the log (counts only).
    rows: int = 0


def _discord_work(posts: Iterable[Post]) -> tuple[list[MessageRef], list[MessageRef], list[Any]]:
    replace: list[MessageRef] = []
    remove: list[MessageRef] = []
    rename: list[tuple[int, int]] = []
    for post in posts:
        if post.deleted_at is not None or post.state != "live" or post.thread_id is None:
            continue
        if post.kind == "question":
            rename.append((post.id, post.thread_id))
        if not post.via_bot or post.message_id is None:
            continue
        ref = MessageRef(post.guild_id, post.thread_id, post.message_id)
        (replace if post.kind == "question" else remove).append(ref)
    return replace, remove, rename


async def _count(session: AsyncSession, stmt: Any) -> int:
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def _tombstones(session: AsyncSession, post_ids: list[int]) -> int:
    """Their posts keep what counters need and lose their text and their author."""
    if not post_ids:
        return 0
    mine = Post.id.in_(post_ids)
    notes = Notification.post_id.in_(post_ids) | Notification.question_id.in_(post_ids)
    await session.execute(
        update(Notification)
        .where(notes, Notification.status.in_(_UNSENT))
        .values(status="cancelled", claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Notification)
        .where(notes)
        .values(payload="{}", last_error=None)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Post)
        .where(mine, Post.kind == "question")
        .values(title=REMOVED_TITLE)
        .execution_options(synchronize_session=False)
    )
    return await _count(
        session,
        update(Post).where(mine).values(**_TOMBSTONE, updated_at=utc_now()),
    )


async def _as_erased_moderator(session: AsyncSession, user_id: int, guild_id: int | None) -> int:
    """Where they acted as a moderator, the action stays by "an erased moderator" (id 0)."""
    n = 0
    for model, column in (
        (ModAction, ModAction.moderator_id),
        (MemberBlock, MemberBlock.created_by),
        (MemberBlock, MemberBlock.lifted_by),
        (Flag, Flag.resolved_by),
        (HeldPost, HeldPost.decided_by),
        (Post, Post.removed_by),
    ):
        n += await _count(
            session,
            update(model)
            .where(*members_rows(column, user_id, guild_id))
            .values({column.key: ERASED_AUTHOR_ID}),
        )
    return n


async def erase_member(
    session: AsyncSession, *, user_id: int, guild_id: int | None, now: datetime | None = None
) -> ErasePlan:
    """Erase ``user_id``'s data in one server, or in every server (``guild_id=None``)."""
    now = now or utc_now()
    posts = list(
        (
            await session.execute(
                select(Post)
                .where(*members_rows(Post.author_id, user_id, guild_id))
                .order_by(Post.id)
                .with_for_update()
            )
        ).scalars()
    )
    replace, remove, rename = _discord_work(posts)
    held_cards = (
        await session.execute(
            select(HeldPost.guild_id, HeldPost.card_channel_id, HeldPost.card_message_id).where(
                *members_rows(HeldPost.author_id, user_id, guild_id),
                HeldPost.status == "waiting",
                HeldPost.card_message_id.is_not(None),
            )
        )
    ).all()
    remove += [MessageRef(g, c, m) for g, c, m in held_cards if m is not None]
    pref = await session.get(UserPref, user_id)
    dm_channel = pref.dm_channel_id if pref is not None else None
    sent = (
        await session.execute(
            select(Notification.sent_message_id).where(
                *members_rows(Notification.recipient_id, user_id, guild_id),
                Notification.sent_message_id.is_not(None),
            )
        )
    ).scalars()
    dms = [MessageRef(None, dm_channel, m) for m in sorted({m for m in sent if m is not None})]
    reported = select(Flag.post_id).where(*members_rows(Flag.reporter_id, user_id, guild_id))
    cards = (
        await session.execute(
            select(ReportCard.guild_id, ReportCard.post_id)
            .where(ReportCard.post_id.in_([p.id for p in posts]) | ReportCard.post_id.in_(reported))
            .order_by(ReportCard.post_id)
        )
    ).all()
    guilds = {p.guild_id for p in posts}
    for column in (Vote.user_id, Member.user_id):
        found = select(column.class_.guild_id).where(*members_rows(column, user_id, guild_id))
        found = found.distinct()
        guilds |= set((await session.execute(found)).scalars())

    rows = await _tombstones(session, [p.id for p in posts])
    posts_in_scope = select(Post.id).where(*in_scope(Post.guild_id, guild_id))
    removals: list[Any] = [
        delete(column.class_).where(*members_rows(column, user_id, guild_id))
        for column in _DELETED_ROWS
    ]
    removals.append(
        delete(ImportedVote).where(
            ImportedVote.user_id == user_id, ImportedVote.post_id.in_(posts_in_scope)
        )
    )
    removals.append(
        delete(ThreadPseudonym).where(
            ThreadPseudonym.author_id == user_id,
            ThreadPseudonym.question_id.in_(posts_in_scope),
        )
    )
    for stmt in removals:
        rows += await _count(session, stmt)
    rows += await _as_erased_moderator(session, user_id, guild_id)
    if guild_id is None:
        rows += await _count(session, delete(UserPref).where(UserPref.user_id == user_id))
    await mark_erased(session, user_id, now)
    for gid in sorted(guilds):
        await recompute_points(session, gid, now=now)
    log.info(
        "erased member data (%s): %d rows, %d servers recomputed",
        "every server" if guild_id is None else f"guild {guild_id}",
        rows,
        len(guilds),
    )
    return ErasePlan(
        replace=tuple(replace),
        delete=tuple(remove),
        rename_threads=tuple(rename),
        dms=tuple(dms),
        report_cards=tuple((g, p) for g, p in cards),
        guilds=tuple(sorted(guilds)),
        rows=rows,
    )
