"""Authors and votes of imported history (``qa-bot import-q2a``), and linking a handle.

**Synthetic authors** (``bot.forum.synthetic_ids``) keep their Q2A handle as the display name
(``imported_authors``); ``/mydata`` export and erase are asked for by a Discord user, whose id
is never synthetic, so a synthetic author's data is in no export and no erase.

**Imported votes** are facts: ``imported_votes`` marks them and reaction reconciliation keeps
them (``imported_voters``). A linked member's reaction changes their one vote on the post.

**Linking** (``link_imported``, ``/mod link-imported``): the handle's posts, votes and flags
become the member's in one transaction; where the member already voted on the same post the
member's own vote stays and the imported one goes (one vote per person per post), a vote that
becomes a vote on the member's own post is dropped (it would count nothing), and the guild's
points are recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.clock import utc_now
from bot.db.imported import ImportedAuthor, ImportedVote
from bot.db.models import Flag, Member, Post, Vote
from bot.forum.errors import InvalidState, NotFound, ValidationError
from bot.forum.points import recompute_points
from bot.forum.synthetic_ids import is_synthetic


async def imported_voters(session: AsyncSession, post_id: int) -> set[int]:
    """The members whose vote on the post is an imported fact."""
    rows = await session.scalars(
        select(ImportedVote.user_id).where(ImportedVote.post_id == post_id)
    )
    return set(rows)


@dataclass(frozen=True, slots=True)
class LinkResult:
    handle: str
    posts: int
    votes: int
    votes_collapsed: int
    self_votes_dropped: int


def _handle(raw: str) -> str:
    handle = raw.strip()
    if not handle:
        raise ValidationError("Give the Q2A handle to link.")
    return handle


async def link_imported(
    session: AsyncSession,
    *,
    guild_id: int,
    handle: str,
    user_id: int,
    now: datetime | None = None,
) -> LinkResult:
    """Make the imported ``handle``'s posts, votes and flags ``user_id``'s (see the module)."""
    now = now or utc_now()
    handle = _handle(handle)
    author = (
        await session.execute(
            select(ImportedAuthor)
            .where(ImportedAuthor.guild_id == guild_id, ImportedAuthor.handle == handle)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if author is None:
        raise NotFound(f"No imported author has the handle {handle[:40]!r} here.")
    if author.linked_user_id is not None:
        raise InvalidState("That imported handle is already linked to a member.")
    if is_synthetic(user_id):
        raise ValidationError("Link the handle to a member of this server.")
    old = author.user_id

    moved_posts = list(
        await session.scalars(
            select(Post.id).where(
                Post.guild_id == guild_id, Post.author_id == old, Post.anonymous.is_(False)
            )
        )
    )
    posts = await session.execute(
        update(Post)
        .where(Post.guild_id == guild_id, Post.author_id == old)
        .values(author_id=user_id, display_name=None)
        .execution_options(synchronize_session=False)
    )
    mine = aliased(Vote)
    member_voted = exists().where(mine.post_id == Vote.post_id, mine.user_id == user_id)
    collapsed = await session.execute(
        delete(Vote)
        .where(Vote.guild_id == guild_id, Vote.user_id == old, member_voted)
        .execution_options(synchronize_session=False)
    )
    # Votes that become votes on one's own post: the old handle's on the member's posts and
    # the member's on the posts just moved.
    own_post = exists().where(Post.id == Vote.post_id, Post.author_id == user_id)
    self_votes = await session.execute(
        delete(Vote)
        .where(
            Vote.guild_id == guild_id,
            or_(
                and_(Vote.user_id == old, own_post),
                Vote.post_id.in_(moved_posts) & (Vote.user_id == user_id),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    # Markers of the dropped votes go, and those the member already has stay theirs; the
    # rest follow the votes that move.
    marker = aliased(ImportedVote)
    still_voted = exists().where(Vote.post_id == ImportedVote.post_id, Vote.user_id == old)
    member_marked = exists().where(
        marker.post_id == ImportedVote.post_id, marker.user_id == user_id
    )
    await session.execute(
        delete(ImportedVote)
        .where(ImportedVote.user_id == old, ~still_voted | member_marked)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ImportedVote)
        .where(ImportedVote.user_id == old)
        .values(user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    moved = await session.execute(
        update(Vote)
        .where(Vote.guild_id == guild_id, Vote.user_id == old)
        .values(user_id=user_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    gone = ~exists().where(Vote.post_id == ImportedVote.post_id, Vote.user_id == user_id)
    await session.execute(
        delete(ImportedVote)
        .where(ImportedVote.user_id == user_id, gone)
        .execution_options(synchronize_session=False)
    )
    their = aliased(Flag)
    member_flagged = exists().where(
        their.post_id == Flag.post_id, their.reporter_id == user_id, their.status == "open"
    )
    await session.execute(
        delete(Flag)
        .where(Flag.guild_id == guild_id, Flag.reporter_id == old, member_flagged)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Flag)
        .where(Flag.guild_id == guild_id, Flag.reporter_id == old)
        .values(reporter_id=user_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Member).where(and_(Member.guild_id == guild_id, Member.user_id == old))
    )
    author.linked_user_id = user_id
    author.linked_at = now
    await session.flush()
    await recompute_points(session, guild_id, now=now)
    return LinkResult(
        handle=author.handle,
        posts=_count(posts),
        votes=_count(moved),
        votes_collapsed=_count(collapsed),
        self_votes_dropped=_count(self_votes),
    )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
