"""The writes of ``qa-bot import-q2a``: one operation per stage batch, each in one transaction.

Keyed by Q2A's ids, so a second run adds only what is new and changes nothing it imported
before: posts by ``imported_posts.source_id``, authors by handle (``imported_authors``), votes
and flags by (post, voter), where any vote or flag already stored wins.

- ``import_authors``: each Q2A user becomes the member a moderator linked the handle to, the
  member the ``--users`` CSV names (a handle imported before and mapped now is linked as
  ``/mod link-imported`` does), or a synthetic author (``bot.forum.synthetic_ids``).
- ``import_posts``: a batch of Q2A posts by id. Questions, answers and comments keep their
  dates; hidden (``*_HIDDEN``) and queued (``*_QUEUED``) posts are stored removed, so they are
  not live; anonymous posts (no user) keep Q2A's ``name`` as their display name. A question's
  selected answer, its closing note (the reason) or the question it duplicates are set in the
  batch in which the later of the two arrives.
- ``import_votes``: a batch of ``qa_uservotes``: votes (marked imported) and flags.

Points and cached counters are left to ``bot.forum.points.recompute_points`` after the votes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert
from bot.db.imported import ImportedAuthor, ImportedPost, ImportedVote
from bot.db.models import Flag, Post, Vote
from bot.db.q2a_source import SourcePost, SourceVote
from bot.forum.imported import link_imported
from bot.forum.q2a_rules import HIDDEN_REASON, QUEUED_REASON, TITLE_MAX, to_markdown
from bot.forum.synthetic_ids import synthetic_anonymous_id, synthetic_user_id

KINDS: Final = {"Q": "question", "A": "answer", "C": "comment"}
FLAG_REASON: Final = "Flagged on the Q2A site"


#: How a Q2A user became an author here: the member a moderator linked the handle to, the
#: member the ``--users`` file names, or a synthetic author under the handle.
AuthorMatch = Literal["linked", "mapped", "synthetic"]


@dataclass(frozen=True, slots=True)
class Author:
    user_id: int
    display_name: str | None
    how: AuthorMatch


@dataclass(slots=True)
class AuthorsResult:
    authors: dict[int, Author]
    new_synthetic: int = 0
    # Imported before under their handle, mapped by the users file now: linked in this run.
    linked_now: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, how: AuthorMatch) -> int:
        """How many Q2A users became authors ``how``."""
        return sum(author.how == how for author in self.authors.values())


async def import_authors(
    session: AsyncSession,
    *,
    guild_id: int,
    handles: Mapping[int, str],
    user_map: Mapping[str, int],
) -> AuthorsResult:
    """Who each Q2A user (``handles``: their handles by Q2A user id) is here; new synthetic
    authors stored."""
    rows = await session.scalars(select(ImportedAuthor).where(ImportedAuthor.guild_id == guild_id))
    stored = {row.source_user_id: row for row in rows}
    result = AuthorsResult(authors={})
    for source_id, handle in handles.items():
        row = stored.get(source_id)
        mapped = user_map.get(handle)
        if row is not None and row.linked_user_id is not None:
            result.authors[source_id] = Author(row.linked_user_id, None, "linked")
            if mapped is not None and mapped != row.linked_user_id:
                result.problems.append(
                    f"Q2A user {source_id} is linked to another member already: the users "
                    "file's id for them is not used"
                )
        elif mapped is not None:
            if row is not None:
                # Imported before under the handle, mapped now: linked as a moderator would.
                await link_imported(session, guild_id=guild_id, handle=row.handle, user_id=mapped)
                result.linked_now += 1
            result.authors[source_id] = Author(mapped, None, "mapped")
        else:
            synthetic = synthetic_user_id(source_id)
            result.authors[source_id] = Author(synthetic, handle, "synthetic")
            if row is None:
                session.add(
                    ImportedAuthor(
                        guild_id=guild_id,
                        user_id=synthetic,
                        handle=handle,
                        source_user_id=source_id,
                    )
                )
                result.new_synthetic += 1
    known = set(handles.values())
    result.problems += [
        f"users file: {handle[:40]!r} is no Q2A user" for handle in user_map if handle not in known
    ]
    await session.flush()
    return result


@dataclass(slots=True)
class PostsResult:
    imported: dict[str, int] = field(default_factory=dict)
    not_live: int = 0
    skipped: int = 0
    links: int = 0
    problems: list[str] = field(default_factory=list)


async def post_ids_of(
    session: AsyncSession, guild_id: int, source_ids: Collection[int]
) -> dict[int, int]:
    """Q2A post id -> post id, for those of ``source_ids`` imported before."""
    if not source_ids:
        return {}
    rows = await session.execute(
        select(ImportedPost.source_id, ImportedPost.post_id).where(
            ImportedPost.guild_id == guild_id, ImportedPost.source_id.in_(list(source_ids))
        )
    )
    return dict(rows.all())


def _author(post: SourcePost, authors: Mapping[int, Author]) -> tuple[int, bool, str | None]:
    """(author id, anonymous, display name): a user's post, or an anonymous one (no user,
    or a deleted one's) under Q2A's ``name``."""
    author = authors.get(post.user_id) if post.user_id is not None else None
    if author is None:
        name = (post.name or "").strip()[:100] or None
        return synthetic_anonymous_id(post.id), True, name
    return author.user_id, False, author.display_name


async def import_posts(
    session: AsyncSession,
    *,
    guild_id: int,
    batch: Sequence[SourcePost],
    related: Mapping[int, SourcePost],
    authors: Mapping[int, Author],
    categories: Mapping[int, str | None],
    now: datetime,
) -> PostsResult:
    """Import the posts of ``batch`` not imported before (see the module). ``related``: the
    Q2A posts the batch's links name (parents, selected answers, closing notes, duplicates)
    and the questions whose links name a post of the batch."""
    result = PostsResult()
    sources = {p.id: p for p in batch}
    wanted = set(sources)
    wanted |= {p.parent_id for p in batch if p.parent_id is not None}
    wanted |= set(related)
    known = await post_ids_of(session, guild_id, wanted)
    new_rows: dict[int, Post] = {}
    questions_of: dict[int, int | None] = {}
    for source in batch:
        if source.id in known:
            continue
        kind = KINDS.get(source.type[0])
        parent = known.get(source.parent_id) if source.parent_id is not None else None
        if kind is None:
            result.skipped += 1
            continue
        question_id: int | None = None
        if kind != "question":
            if parent is None:
                result.skipped += 1
                result.problems.append(
                    f"post {source.id}: its parent {source.parent_id} is missing"
                )
                continue
            question_id = questions_of.get(parent) or await _question_of(session, parent)
        author_id, anonymous, display_name = _author(source, authors)
        title = (source.title or "").strip() if kind == "question" else None
        if title is not None and len(title) > TITLE_MAX:
            result.problems.append(f"post {source.id}: title cut to {TITLE_MAX} characters")
            title = title[:TITLE_MAX]
        hidden = source.type.endswith("_HIDDEN")
        queued = source.type.endswith("_QUEUED")
        row = Post(
            guild_id=guild_id,
            kind=kind,
            question_id=question_id,
            parent_id=parent,
            author_id=author_id,
            anonymous=anonymous,
            display_name=display_name,
            title=title or None,
            body=to_markdown(source.content, source.format),
            category=categories.get(source.category_id) if source.category_id else None,
            status="open",
            state="live",
            created_at=source.created,
            updated_at=source.updated or source.created,
            last_activity_at=max(source.created, source.updated or source.created),
            removed_at=now if hidden or queued else None,
            removal_reason=HIDDEN_REASON if hidden else QUEUED_REASON if queued else None,
        )
        session.add(row)
        await session.flush()
        known[source.id] = row.id
        new_rows[source.id] = row
        questions_of[row.id] = question_id if question_id is not None else row.id
        session.add(
            ImportedPost(
                post_id=row.id,
                guild_id=guild_id,
                source_id=source.id,
                views=source.views,
                edited_at=source.updated,
            )
        )
        result.imported[kind] = result.imported.get(kind, 0) + 1
        result.not_live += hidden or queued
    result.links = await _link_questions(session, guild_id, new_rows, {**related, **sources}, known)
    await session.flush()
    return result


async def _question_of(session: AsyncSession, post_id: int) -> int | None:
    """The question a stored post is or belongs to."""
    row = (
        await session.execute(select(Post.kind, Post.question_id).where(Post.id == post_id))
    ).one()
    return post_id if row.kind == "question" else row.question_id


async def _link_questions(
    session: AsyncSession,
    guild_id: int,
    new_rows: Mapping[int, Post],
    sources: Mapping[int, SourcePost],
    known: Mapping[int, int],
) -> int:
    """Set the selected answers, closings and duplicates whose later end arrived now."""
    links = 0
    for source in sources.values():
        if source.type[0] != "Q" or source.id not in known:
            continue
        ends = {source.selected_id, source.closed_by_id} - {None}
        if source.id not in new_rows and not ends & new_rows.keys():
            continue  # nothing of this question's links arrived in this batch
        row = new_rows.get(source.id) or await session.get(Post, known[source.id])
        if row is None:
            continue
        selected = known.get(source.selected_id) if source.selected_id else None
        if selected is not None and row.accepted_answer_id is None:
            row.accepted_answer_id = selected
            links += 1
        closer = sources.get(source.closed_by_id) if source.closed_by_id else None
        if closer is None or row.closed_at is not None:
            continue
        if closer.type == "NOTE":
            row.closed_at = closer.created
            row.closed_reason = to_markdown(closer.content, closer.format) or None
            row.closed_by_moderator = True
            links += 1
        elif closer.type[0] == "Q" and closer.id in known:
            row.duplicate_of_id = known[closer.id]
            row.closed_at = source.updated or source.created
            row.closed_reason = "Duplicate"
            row.closed_by_moderator = True
            links += 1
    return links


@dataclass(slots=True)
class VotesResult:
    votes: int = 0
    flags: int = 0
    skipped: int = 0


async def import_votes(
    session: AsyncSession,
    *,
    guild_id: int,
    batch: Sequence[SourceVote],
    authors: Mapping[int, Author],
    now: datetime,
) -> VotesResult:
    """Import the votes and flags of ``batch`` on imported posts (see the module)."""
    result = VotesResult()
    posts = await post_ids_of(session, guild_id, {v.post_id for v in batch})
    rows = await session.execute(
        select(Post.id, Post.author_id).where(Post.id.in_(list(posts.values())))
    )
    authors_of = dict(rows.all())
    pairs = [
        (posts[v.post_id], authors[v.user_id].user_id, v)
        for v in batch
        if v.post_id in posts and v.user_id in authors
    ]
    result.skipped = len(batch) - len(pairs)
    keys = [(post_id, user_id) for post_id, user_id, _ in pairs]
    voted: set[tuple[int, int]] = set()
    flagged: set[tuple[int, int]] = set()
    if keys:
        stored = await session.execute(
            select(Vote.post_id, Vote.user_id).where(tuple_(Vote.post_id, Vote.user_id).in_(keys))
        )
        voted = {(post_id, user_id) for post_id, user_id in stored}
        reported = await session.execute(
            select(Flag.post_id, Flag.reporter_id).where(
                tuple_(Flag.post_id, Flag.reporter_id).in_(keys)
            )
        )
        flagged = {(post_id, user_id) for post_id, user_id in reported}
    for post_id, user_id, vote in pairs:
        if vote.vote and (post_id, user_id) not in voted and authors_of.get(post_id) != user_id:
            await session.execute(
                insert(session, Vote)
                .values(
                    post_id=post_id,
                    user_id=user_id,
                    guild_id=guild_id,
                    up=vote.vote > 0,
                    down=vote.vote < 0,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            )
            await session.execute(
                insert(session, ImportedVote)
                .values(post_id=post_id, user_id=user_id)
                .on_conflict_do_nothing()
            )
            voted.add((post_id, user_id))
            result.votes += 1
        if vote.flag and (post_id, user_id) not in flagged:
            session.add(
                Flag(
                    guild_id=guild_id,
                    post_id=post_id,
                    reporter_id=user_id,
                    reason=FLAG_REASON,
                    status="open",
                    created_at=now,
                )
            )
            flagged.add((post_id, user_id))
            result.flags += 1
    await session.flush()
    return result
