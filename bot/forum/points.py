"""Points, vote counting and the cached counters, defined once as pure functions.

The rules (Q2A's defaults, each a per-guild setting in ``GuildConfig``):

* A live question earns its author ``points_ask``; a live answer ``points_answer``. Comments earn
  nothing and their votes count nothing. A post is *live* when it was posted (not a pending row)
  and is not deleted; an answer or comment of a deleted question is not live either.
* A vote's value is ``up - down`` (both flags set = 0). A vote *counts* when the post is live,
  its question is not closed, the post is an answer (or a question while ``question_voting``
  is on), and the voter is not the author. On an anonymous post the author's own vote counts
  in the post's public score but earns no points (DESIGN.md section 5).
* Vote points per post, capped per post and per direction as Q2A does:
  ``min(ups * per_up, cap_up) - min(downs * per_down, cap_down)``, i.e. on a question at most
  +100 from up votes and at most -30 from down votes, on an answer +200 and -50.
* ``points_vote_cast`` goes to the voter for each counting vote (0 by default).
* The accepted answer (live, of a live question) earns its author ``points_accepted`` and the
  asker ``points_accepting`` - whoever clicked accept - unless the asker wrote the answer, when
  nobody earns anything.
* What an anonymous post earns goes to its author's ``anon_points``, never ``points``, and it
  counts in no public counter (questions, answers, accepted answers, votes received).

``compute_points`` and ``compute_post_caches`` apply these rules to a whole guild;
``recompute_points`` compares the result with the cached columns and fixes them. Every event
uses the same per-post function through a ``Ledger``: it computes what the touched posts
contribute before and after the change (with those rows locked) and applies the difference with
atomic SQL (``INSERT ... ON CONFLICT DO UPDATE SET points = points + :d``), so the caches always
equal a recomputation and concurrent events never lose an update.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final

from sqlalchemy import and_, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import dialect_name, insert
from bot.db.models import Member, Post, Vote
from bot.forum.results import MemberPoints, PostKind, QuestionStatus, RecomputeResult
from bot.forum.settings import GuildConfig, load_config

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- facts and totals


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What the rules need to know about a post."""

    id: int
    kind: PostKind
    author_id: int = field(repr=False)
    anonymous: bool
    # Posted (not pending) and not deleted.
    live: bool
    question_id: int | None = None
    # Questions only: closed now, and the accepted answer.
    closed: bool = False
    accepted_answer_id: int | None = None


@dataclass(frozen=True, slots=True)
class VoteFacts:
    post_id: int
    user_id: int
    up: bool
    down: bool

    @property
    def value(self) -> int:
        return int(self.up) - int(self.down)


@dataclass(frozen=True, slots=True)
class Totals:
    """A member's points and counters (or a difference of them)."""

    points: int = 0
    anon_points: int = 0
    questions: int = 0
    answers: int = 0
    accepted_answers: int = 0
    upvotes_received: int = 0
    downvotes_received: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, n) + getattr(other, n) for n in TOTAL_FIELDS))

    def __sub__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, n) - getattr(other, n) for n in TOTAL_FIELDS))

    def __bool__(self) -> bool:
        return any(getattr(self, n) for n in TOTAL_FIELDS)

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in TOTAL_FIELDS}


TOTAL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Totals))
# session.info key: {(guild_id, user_id)} whose public points moved in this transaction.
POINTS_MOVED: Final = "points_moved"
ZERO = Totals()


@dataclass(frozen=True, slots=True)
class PostCache:
    """The cached columns of a post: its public score, and for questions answers and status."""

    score: int = 0
    upvotes: int = 0
    downvotes: int = 0
    answer_count: int = 0
    status: QuestionStatus = "open"


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one post adds: to members' totals, to its own score, to its question's answers."""

    members: Mapping[int, Totals]
    score: int = 0
    upvotes: int = 0
    downvotes: int = 0
    # 1 when this is a live answer (counted in its question's ``answer_count``).
    answer: int = 0


NOTHING = Contribution(members={})


# --------------------------------------------------------------------------- the pure rules


def is_alive(post: PostFacts, question: PostFacts | None) -> bool:
    """Live, and (for answers and comments) of a live question."""
    if not post.live:
        return False
    if post.kind == "question":
        return True
    return question is not None and question.live


def votes_count(config: GuildConfig, post: PostFacts, question: PostFacts | None) -> bool:
    """Whether votes on this post count at the moment (the voter aside)."""
    if post.kind == "comment" or not is_alive(post, question):
        return False
    assert question is not None or post.kind == "question"
    closing = post if post.kind == "question" else question
    if closing is not None and closing.closed:
        return False
    return post.kind == "answer" or config.question_voting


def capped_vote_points(config: GuildConfig, kind: PostKind, ups: int, downs: int) -> int:
    if kind == "question":
        gain = min(ups * config.points_question_upvote, config.question_vote_cap_up)
        loss = min(downs * config.points_question_downvote, config.question_vote_cap_down)
    else:
        gain = min(ups * config.points_answer_upvote, config.answer_vote_cap_up)
        loss = min(downs * config.points_answer_downvote, config.answer_vote_cap_down)
    return gain - loss


def question_status(*, closed: bool, accepted: bool, answer_count: int) -> QuestionStatus:
    if closed:
        return "closed"
    if accepted:
        return "solved"
    if answer_count > 0:
        return "answered"
    return "open"


def contribution(
    config: GuildConfig,
    post: PostFacts,
    question: PostFacts | None,
    votes: Iterable[VoteFacts],
) -> Contribution:
    """Everything ``post`` adds to members and caches; ``question`` is its question's facts
    (the post itself for a question, None when it is missing)."""
    if post.kind == "question":
        question = post
    if post.kind == "comment" or not is_alive(post, question):
        return NOTHING
    assert question is not None
    members: dict[int, Totals] = defaultdict(Totals)
    score = upvotes = downvotes = ups = downs = 0
    if votes_count(config, post, question):
        for vote in votes:
            value = vote.value
            if value == 0:
                continue
            own = vote.user_id == post.author_id
            if not own or post.anonymous:
                score += value
                upvotes += value > 0
                downvotes += value < 0
            if own:
                continue
            ups += value > 0
            downs += value < 0
            if config.points_vote_cast:
                members[vote.user_id] += Totals(points=config.points_vote_cast)

    earned = (
        config.points_ask if post.kind == "question" else config.points_answer
    ) + capped_vote_points(config, post.kind, ups, downs)
    if post.anonymous:
        members[post.author_id] += Totals(anon_points=earned)
    else:
        members[post.author_id] += Totals(
            points=earned,
            questions=int(post.kind == "question"),
            answers=int(post.kind == "answer"),
            upvotes_received=ups,
            downvotes_received=downs,
        )

    if (
        post.kind == "answer"
        and question.accepted_answer_id == post.id
        and post.author_id != question.author_id
    ):
        if post.anonymous:
            members[post.author_id] += Totals(anon_points=config.points_accepted)
        else:
            members[post.author_id] += Totals(points=config.points_accepted, accepted_answers=1)
        if question.anonymous:
            members[question.author_id] += Totals(anon_points=config.points_accepting)
        else:
            members[question.author_id] += Totals(points=config.points_accepting)

    return Contribution(
        members={user: totals for user, totals in members.items() if totals},
        score=score,
        upvotes=upvotes,
        downvotes=downvotes,
        answer=int(post.kind == "answer"),
    )


def _votes_by_post(votes: Iterable[VoteFacts]) -> dict[int, list[VoteFacts]]:
    by_post: dict[int, list[VoteFacts]] = defaultdict(list)
    for vote in votes:
        by_post[vote.post_id].append(vote)
    return by_post


def _contributions(
    config: GuildConfig, posts: Iterable[PostFacts], votes: Iterable[VoteFacts]
) -> tuple[dict[int, PostFacts], dict[int, Contribution]]:
    by_id = {post.id: post for post in posts}
    by_post = _votes_by_post(votes)
    result = {}
    for post in by_id.values():
        question = by_id.get(post.question_id) if post.question_id is not None else None
        result[post.id] = contribution(config, post, question, by_post.get(post.id, ()))
    return by_id, result


def compute_points(
    config: GuildConfig, posts: Iterable[PostFacts], votes: Iterable[VoteFacts]
) -> dict[int, Totals]:
    """Every member's points and counters from a guild's posts and votes alone."""
    _, contributions = _contributions(config, posts, votes)
    totals: dict[int, Totals] = defaultdict(Totals)
    for contrib in contributions.values():
        for user_id, add in contrib.members.items():
            totals[user_id] += add
    return {user_id: t for user_id, t in totals.items() if t}


def compute_post_caches(
    config: GuildConfig, posts: Iterable[PostFacts], votes: Iterable[VoteFacts]
) -> dict[int, PostCache]:
    """Every post's score and vote counts, and each question's answer count and status."""
    by_id, contributions = _contributions(config, posts, votes)
    answers: dict[int, int] = defaultdict(int)
    for post_id, contrib in contributions.items():
        question_id = by_id[post_id].question_id
        if contrib.answer and question_id is not None:
            answers[question_id] += 1
    caches = {}
    for post_id, contrib in contributions.items():
        post = by_id[post_id]
        count = answers.get(post_id, 0) if post.kind == "question" else 0
        status: QuestionStatus = "open"
        if post.kind == "question":
            status = question_status(
                closed=post.closed,
                accepted=post.accepted_answer_id is not None,
                answer_count=count,
            )
        caches[post_id] = PostCache(
            score=contrib.score,
            upvotes=contrib.upvotes,
            downvotes=contrib.downvotes,
            answer_count=count,
            status=status,
        )
    return caches


# --------------------------------------------------------------------------- loading facts


_FACT_COLUMNS = (
    Post.id,
    Post.kind,
    Post.author_id,
    Post.anonymous,
    Post.state,
    Post.deleted_at,
    Post.question_id,
    Post.closed_at,
    Post.accepted_answer_id,
)


def _facts(row: Any) -> PostFacts:
    """Facts from a row of ``_FACT_COLUMNS`` or an ORM ``Post`` (same attribute names)."""
    return PostFacts(
        id=row.id,
        kind=row.kind,
        author_id=row.author_id,
        anonymous=row.anonymous,
        live=row.state == "live" and row.deleted_at is None,
        question_id=row.question_id,
        closed=row.closed_at is not None,
        accepted_answer_id=row.accepted_answer_id,
    )


def facts_of(post: Post) -> PostFacts:
    """The facts of an ORM row."""
    return _facts(post)


_NONZERO = Vote.up != Vote.down


async def load_guild_facts(
    session: AsyncSession, guild_id: int
) -> tuple[list[PostFacts], list[VoteFacts]]:
    """Every post of a guild and every vote with a value (up != down) on them."""
    rows = await session.execute(select(*_FACT_COLUMNS).where(Post.guild_id == guild_id))
    posts = [_facts(row) for row in rows]
    vote_rows = await session.execute(
        select(Vote.post_id, Vote.user_id, Vote.up, Vote.down)
        .join(Post, Post.id == Vote.post_id)
        .where(Post.guild_id == guild_id, _NONZERO)
    )
    votes = [VoteFacts(r.post_id, r.user_id, r.up, r.down) for r in vote_rows]
    return posts, votes


async def _load_contributions(
    session: AsyncSession, config: GuildConfig, post_ids: Sequence[int]
) -> dict[int, tuple[int | None, Contribution]]:
    """Each post's (question id, contribution) as the database has it now."""
    if not post_ids:
        return {}
    rows = await session.execute(select(*_FACT_COLUMNS).where(Post.id.in_(post_ids)))
    posts = {f.id: f for f in map(_facts, rows)}
    missing = {p.question_id for p in posts.values() if p.question_id is not None} - posts.keys()
    questions = dict(posts)
    if missing:
        extra = await session.execute(select(*_FACT_COLUMNS).where(Post.id.in_(missing)))
        questions.update((f.id, f) for f in map(_facts, extra))
    vote_rows = await session.execute(
        select(Vote.post_id, Vote.user_id, Vote.up, Vote.down).where(
            Vote.post_id.in_(post_ids), _NONZERO
        )
    )
    by_post = _votes_by_post(VoteFacts(r.post_id, r.user_id, r.up, r.down) for r in vote_rows)
    result: dict[int, tuple[int | None, Contribution]] = {}
    for post_id in post_ids:
        post = posts.get(post_id)
        if post is None:
            result[post_id] = (None, NOTHING)
            continue
        question = questions.get(post.question_id) if post.question_id is not None else None
        result[post_id] = (
            post.question_id,
            contribution(config, post, question, by_post.get(post_id, ())),
        )
    return result


# --------------------------------------------------------------------------- the ledger


_STATUS_SQL = case(
    (Post.closed_at.is_not(None), "closed"),
    (Post.accepted_answer_id.is_not(None), "solved"),
    (Post.answer_count > 0, "answered"),
    else_="open",
)


class Ledger:
    """Keeps members' points and posts' caches equal to a recomputation across one event.

    ``await ledger.track(ids)`` before changing posts (whose rows the caller has locked, or
    just inserted), change them, then ``await ledger.settle()`` once: it applies the difference
    between what those posts contribute after and before. Members are written once, in user id
    order, with ``points = points + :delta``.
    """

    def __init__(self, session: AsyncSession, config: GuildConfig, guild_id: int) -> None:
        self.session = session
        self.config = config
        self.guild_id = guild_id
        self._before: dict[int, tuple[int | None, Contribution]] = {}
        # Questions whose status must be re-derived (closed, accepted or answers changed).
        self._questions: set[int] = set()

    async def track(self, post_ids: Iterable[int]) -> None:
        new = sorted(set(post_ids) - self._before.keys())
        self._before.update(await _load_contributions(self.session, self.config, new))

    def track_new(self, post_id: int) -> None:
        """Track a post inserted in this transaction (it contributed nothing before)."""
        self._before.setdefault(post_id, (None, NOTHING))

    def refresh_status(self, question_id: int) -> None:
        """Re-derive this (locked) question's status when settling."""
        self._questions.add(question_id)

    async def settle(self, now: datetime | None = None) -> bool:
        """Apply the differences; True when any cached value changed."""
        now = now or utc_now()
        ids = sorted(self._before)
        after = await _load_contributions(self.session, self.config, ids)
        members: dict[int, Totals] = defaultdict(Totals)
        answer_delta: dict[int, int] = defaultdict(int)
        changed = False
        for post_id in ids:
            q_before, before = self._before[post_id]
            q_after, now_contrib = after[post_id]
            for user_id, totals in before.members.items():
                members[user_id] -= totals
            for user_id, totals in now_contrib.members.items():
                members[user_id] += totals
            d_score = now_contrib.score - before.score
            d_up = now_contrib.upvotes - before.upvotes
            d_down = now_contrib.downvotes - before.downvotes
            if d_score or d_up or d_down:
                changed = True
                await self.session.execute(
                    update(Post)
                    .where(Post.id == post_id)
                    .values(
                        score=Post.score + d_score,
                        upvotes=Post.upvotes + d_up,
                        downvotes=Post.downvotes + d_down,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
            question_id = q_after if q_after is not None else q_before
            if question_id is not None and now_contrib.answer != before.answer:
                answer_delta[question_id] += now_contrib.answer - before.answer
        for question_id in sorted(answer_delta):
            if answer_delta[question_id]:
                changed = True
                self._questions.add(question_id)
                await self.session.execute(
                    update(Post)
                    .where(Post.id == question_id)
                    .values(answer_count=Post.answer_count + answer_delta[question_id])
                    .execution_options(synchronize_session=False)
                )
        for question_id in sorted(self._questions):
            result = await self.session.execute(
                update(Post)
                .where(Post.id == question_id, Post.kind == "question", Post.status != _STATUS_SQL)
                .values(status=_STATUS_SQL, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            changed = changed or bool(getattr(result, "rowcount", 0))
        deltas = {user: d for user, d in members.items() if d}
        if deltas:
            changed = True
            await apply_member_deltas(self.session, self.guild_id, deltas, now)
        self._before.clear()
        self._questions.clear()
        return changed


async def apply_member_deltas(
    session: AsyncSession, guild_id: int, deltas: Mapping[int, Totals], now: datetime
) -> None:
    """Add ``deltas`` to members' cached totals atomically (creating missing rows).

    Members whose *public* points move are noted in ``session.info`` (``points_moved``) so the
    caller can act after the commit (point roles); anonymous points never appear there.
    """
    moved = {user_id for user_id, delta in deltas.items() if delta.points}
    if moved:
        session.info.setdefault(POINTS_MOVED, set()).update((guild_id, u) for u in moved)
    rows = [
        {"guild_id": guild_id, "user_id": user_id, "updated_at": now, **deltas[user_id].as_dict()}
        for user_id in sorted(deltas)
    ]
    stmt = insert(session, Member).values(rows)
    set_ = {name: getattr(Member, name) + getattr(stmt.excluded, name) for name in TOTAL_FIELDS}
    set_["updated_at"] = stmt.excluded.updated_at
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[Member.guild_id, Member.user_id], set_=set_)
    )


# --------------------------------------------------------------------------- recompute and reads


async def recompute_points(
    session: AsyncSession, guild_id: int, *, now: datetime | None = None
) -> RecomputeResult:
    """Rebuild every member's points and counters, and every post's cached score, answer count
    and status, of one guild from ``posts`` and ``votes`` alone; fix what differs.

    Call it after changing a point setting (cached points follow the rules in force) or to
    repair. On PostgreSQL it locks ``posts``, ``votes`` and ``members`` against writers (readers
    go on) for the duration, so no event lands between reading and fixing.
    """
    now = now or utc_now()
    if dialect_name(session) == "postgresql":
        await session.execute(text("LOCK TABLE posts, votes, members IN EXCLUSIVE MODE"))
    config = await load_config(session, guild_id)
    posts, votes = await load_guild_facts(session, guild_id)
    expected_members = compute_points(config, posts, votes)
    expected_posts = compute_post_caches(config, posts, votes)

    posts_fixed = 0
    rows = await session.execute(
        select(
            Post.id,
            Post.score,
            Post.upvotes,
            Post.downvotes,
            Post.answer_count,
            Post.status,
            Post.kind,
        ).where(Post.guild_id == guild_id)
    )
    for row in rows.all():
        want = expected_posts[row.id]
        have = PostCache(
            score=row.score,
            upvotes=row.upvotes,
            downvotes=row.downvotes,
            answer_count=row.answer_count,
            status=row.status if row.kind == "question" else "open",
        )
        if have != want:
            posts_fixed += 1
            values: dict[str, object] = {
                "score": want.score,
                "upvotes": want.upvotes,
                "downvotes": want.downvotes,
                "answer_count": want.answer_count,
                "updated_at": now,
            }
            if row.kind == "question":
                values["status"] = want.status
            await session.execute(
                update(Post)
                .where(Post.id == row.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )

    members_fixed = 0
    have_members = {
        row.user_id: Totals(*(getattr(row, n) for n in TOTAL_FIELDS))
        for row in await session.execute(
            select(Member.user_id, *(getattr(Member, n) for n in TOTAL_FIELDS)).where(
                Member.guild_id == guild_id
            )
        )
    }
    for user_id in sorted(have_members.keys() | expected_members.keys()):
        want_totals = expected_members.get(user_id, ZERO)
        if have_members.get(user_id, ZERO) == want_totals:
            continue
        members_fixed += 1
        if have_members.get(user_id, ZERO).points != want_totals.points:
            session.info.setdefault(POINTS_MOVED, set()).add((guild_id, user_id))
        if user_id in have_members:
            await session.execute(
                update(Member)
                .where(and_(Member.guild_id == guild_id, Member.user_id == user_id))
                .values(updated_at=now, **want_totals.as_dict())
                .execution_options(synchronize_session=False)
            )
        else:
            await apply_member_deltas(session, guild_id, {user_id: want_totals}, now)
    if members_fixed or posts_fixed:
        log.warning(
            "recomputed guild %s: fixed %d members and %d posts",
            guild_id,
            members_fixed,
            posts_fixed,
        )
    return RecomputeResult(guild_id=guild_id, members_fixed=members_fixed, posts_fixed=posts_fixed)


async def get_member_points(session: AsyncSession, *, guild_id: int, user_id: int) -> MemberPoints:
    """A member's cached points and counters (zeros for someone who never took part)."""
    row = (
        await session.execute(
            select(*(getattr(Member, n) for n in TOTAL_FIELDS)).where(
                Member.guild_id == guild_id, Member.user_id == user_id
            )
        )
    ).one_or_none()
    if row is None:
        return MemberPoints(guild_id=guild_id, user_id=user_id)
    return MemberPoints(
        guild_id=guild_id, user_id=user_id, **{n: getattr(row, n) for n in TOTAL_FIELDS}
    )
