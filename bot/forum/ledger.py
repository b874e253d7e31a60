"""The ledger: members' points and posts' cached counters kept right across one event.

Every event uses the per-post rule (``point_rules.contribution``) through a ``Ledger``: it
computes what the touched posts contribute before and after the change (with those rows locked)
and applies the difference with atomic SQL (``INSERT ... ON CONFLICT DO UPDATE SET points =
points + :d``), so the caches always equal a recomputation and concurrent events never lose an
update. Members whose public points moved are noted in ``session.info[POINTS_MOVED]`` for the
caller to act on after the commit (point roles).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.dialect import built_once, dialect_name, insert
from bot.db.models import Member, Post, Vote
from bot.db.packed import fields, pack
from bot.forum.point_rules import (
    NOTHING,
    TOTAL_FIELDS,
    Contribution,
    PostFacts,
    Totals,
    VoteFacts,
    contribution,
    votes_by_post,
)
from bot.forum.post_rows import lock_answers
from bot.forum.settings import GuildConfig, load_config
from bot.forum.synthetic_ids import is_synthetic

# session.info key: {(guild_id, user_id)} whose public points moved in this transaction.
POINTS_MOVED: Final = "points_moved"


# --------------------------------------------------------------------------- loading facts


FACT_COLUMNS = (
    Post.id,
    Post.kind,
    Post.author_id,
    Post.anonymous,
    Post.state,
    Post.deleted_at,
    Post.removed_at,
    Post.question_id,
    Post.closed_at,
    Post.accepted_answer_id,
)


def row_facts(row: Any) -> PostFacts:
    """Facts from a row of ``FACT_COLUMNS`` or an ORM ``Post`` (same attribute names)."""
    return PostFacts(
        id=row.id,
        kind=row.kind,
        author_id=row.author_id,
        anonymous=row.anonymous,
        live=row.state == "live" and row.deleted_at is None and row.removed_at is None,
        question_id=row.question_id,
        closed=row.closed_at is not None,
        accepted_answer_id=row.accepted_answer_id,
    )


def facts_of(post: Post) -> PostFacts:
    """The facts of an ORM row."""
    return row_facts(post)


_NONZERO = Vote.up != Vote.down


async def load_guild_facts(
    session: AsyncSession, guild_id: int
) -> tuple[list[PostFacts], list[VoteFacts]]:
    """Every post of a guild and every vote with a value (up != down) on them."""
    rows = await session.execute(select(*FACT_COLUMNS).where(Post.guild_id == guild_id))
    posts = [row_facts(row) for row in rows]
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
    rows = await session.execute(select(*FACT_COLUMNS).where(Post.id.in_(post_ids)))
    posts = {f.id: f for f in map(row_facts, rows)}
    missing = {p.question_id for p in posts.values() if p.question_id is not None} - posts.keys()
    questions = dict(posts)
    if missing:
        extra = await session.execute(select(*FACT_COLUMNS).where(Post.id.in_(missing)))
        questions.update((f.id, f) for f in map(row_facts, extra))
    vote_rows = await session.execute(
        select(Vote.post_id, Vote.user_id, Vote.up, Vote.down).where(
            Vote.post_id.in_(post_ids), _NONZERO
        )
    )
    by_post = votes_by_post(VoteFacts(r.post_id, r.user_id, r.up, r.down) for r in vote_rows)
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

    @classmethod
    async def start(
        cls, session: AsyncSession, guild_id: int, post_ids: Iterable[int] = ()
    ) -> Ledger:
        """A ledger under the guild's rules in force, tracking ``post_ids`` (rows the caller
        has locked)."""
        ledger = cls(session, await load_config(session, guild_id), guild_id)
        await ledger.track(post_ids)
        return ledger

    @classmethod
    async def for_thread(cls, session: AsyncSession, question: Post) -> Ledger:
        """Lock a (locked) question's answers in id order and track them with it: for a change
        to the whole thread (closing, reopening, deleting)."""
        answers = await lock_answers(session, question.id)
        return await cls.start(session, question.guild_id, [question.id, *(a.id for a in answers)])

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
        counters: dict[int, CounterMove] = {}
        answer_delta: dict[int, int] = defaultdict(int)
        for post_id in ids:
            q_before, before = self._before[post_id]
            q_after, now_contrib = after[post_id]
            add_member_moves(members, before, now_contrib)
            counters[post_id] = counter_move(before, now_contrib)
            question_id = q_after if q_after is not None else q_before
            if question_id is not None and now_contrib.answer != before.answer:
                answer_delta[question_id] += now_contrib.answer - before.answer
        changed = await add_to_post_counters(self.session, counters, now)
        moved = [
            {"question": question_id, "d_answers": delta}
            for question_id, delta in sorted(answer_delta.items())
            if delta
        ]
        if moved:  # one statement run for every question, in id order
            changed = True
            self._questions.update(m["question"] for m in moved)
            await self.session.execute(_ADD_TO_ANSWER_COUNTS, moved)
        if self._questions:
            result = await self.session.execute(
                update(Post)
                .where(
                    Post.id.in_(sorted(self._questions)),
                    Post.kind == "question",
                    Post.status != _STATUS_SQL,
                )
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


# --------------------------------------------------------------------------- applying differences

#: (score, upvotes, downvotes) a post's cached counters move by.
CounterMove = tuple[int, int, int]


def counter_move(before: Contribution, after: Contribution) -> CounterMove:
    """How a post's cached counters move when its contribution goes from before to after."""
    return (
        after.score - before.score,
        after.upvotes - before.upvotes,
        after.downvotes - before.downvotes,
    )


def add_member_moves(into: dict[int, Totals], before: Contribution, after: Contribution) -> None:
    """Add to ``into`` (a defaultdict) how each member's totals move from before to after."""
    for user_id, totals in before.members.items():
        into[user_id] -= totals
    for user_id, totals in after.members.items():
        into[user_id] += totals


_POSTS = cast(Table, Post.__table__)
_ADD_TO_COUNTERS = (
    update(_POSTS)
    .where(_POSTS.c.id == bindparam("post"))
    .values(
        score=_POSTS.c.score + bindparam("d_score"),
        upvotes=_POSTS.c.upvotes + bindparam("d_up"),
        downvotes=_POSTS.c.downvotes + bindparam("d_down"),
        updated_at=bindparam("now"),
    )
)

_ADD_TO_COUNTERS_PACKED = text(
    "UPDATE posts SET score = score + j.d_score, upvotes = upvotes + j.d_up,"
    " downvotes = downvotes + j.d_down, updated_at = :now"
    " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS d_score,"
    " json_extract(value, '$[2]') AS d_up, json_extract(value, '$[3]') AS d_down"
    " FROM json_each(:rows)) AS j"
    " WHERE posts.id = j.id"
).bindparams(bindparam("now", type_=_POSTS.c.updated_at.type))

_ADD_TO_ANSWER_COUNTS = (
    update(_POSTS)
    .where(_POSTS.c.id == bindparam("question"))
    .values(answer_count=_POSTS.c.answer_count + bindparam("d_answers"))
)


async def add_to_post_counters(
    session: AsyncSession, moves: Mapping[int, CounterMove], now: datetime
) -> bool:
    """Add each post's counter moves atomically, in post id order, with one statement run for
    every moved post; True when any moved."""
    rows = [
        {"post": post_id, "d_score": d[0], "d_up": d[1], "d_down": d[2], "now": now}
        for post_id, d in sorted(moves.items())
        if any(d)
    ]
    if rows and dialect_name(session) == "sqlite":
        packed = pack((r["post"], r["d_score"], r["d_up"], r["d_down"]) for r in rows)
        await session.execute(_ADD_TO_COUNTERS_PACKED, {"rows": packed, "now": now})
    elif rows:
        await session.execute(_ADD_TO_COUNTERS, rows)
    return bool(rows)


async def apply_member_deltas(
    session: AsyncSession, guild_id: int, deltas: Mapping[int, Totals], now: datetime
) -> None:
    """Add ``deltas`` to one guild's members' cached totals (see ``upsert_member_deltas``)."""
    await upsert_member_deltas(
        session, {(guild_id, user_id): d for user_id, d in deltas.items()}, now
    )


_MEMBERS = cast(Table, Member.__table__)


async def upsert_member_deltas(
    session: AsyncSession, deltas: Mapping[tuple[int, int], Totals], now: datetime
) -> None:
    """Add ``deltas`` ((guild id, user id) -> totals) to members' cached totals atomically,
    creating missing rows, in (guild, user) order with one statement run for all.

    Members whose *public* points move are noted in ``session.info`` (``points_moved``) so the
    caller can act after the commit (point roles); anonymous points never appear there.
    """
    if not deltas:
        return
    moved = {key for key, d in deltas.items() if d.points}
    if moved:
        session.info.setdefault(POINTS_MOVED, set()).update(moved)
    if dialect_name(session) == "sqlite":
        packed = pack(
            (guild_id, user_id, *(getattr(d, name) for name in TOTAL_FIELDS))
            for (guild_id, user_id), d in sorted(deltas.items())
        )
        await session.execute(_ADD_TO_MEMBERS_PACKED, {"rows": packed, "now": now})
        return
    rows = [
        {"guild_id": guild_id, "user_id": user_id, "updated_at": now, **d.as_dict()}
        for (guild_id, user_id), d in sorted(deltas.items())
    ]
    await session.execute(built_once(session, _add_to_members), rows)


# SQLite: one step for all rows (``bot.db.packed``), as the writing thread needs.
_ADD_TO_MEMBERS_PACKED = text(
    f"INSERT INTO members (guild_id, user_id, {', '.join(TOTAL_FIELDS)}, updated_at)"
    f" SELECT {fields(2 + len(TOTAL_FIELDS))}, :now FROM json_each(:rows) WHERE true"
    " ON CONFLICT (guild_id, user_id) DO UPDATE SET "
    + ", ".join(f"{name} = {name} + excluded.{name}" for name in TOTAL_FIELDS)
    + ", updated_at = excluded.updated_at"
).bindparams(bindparam("now", type_=_MEMBERS.c.updated_at.type))


def _add_to_members(session: AsyncSession) -> Any:
    stmt = insert(session, _MEMBERS)
    set_ = {name: _MEMBERS.c[name] + stmt.excluded[name] for name in TOTAL_FIELDS}
    set_["updated_at"] = stmt.excluded.updated_at
    return stmt.on_conflict_do_update(index_elements=["guild_id", "user_id"], set_=set_)


def note_points_moved(session: AsyncSession, guild_id: int, user_ids: Iterable[int]) -> None:
    """Note members whose public points moved in this transaction (``POINTS_MOVED``); imported
    authors without an account are no members (no point roles)."""
    moved = {(guild_id, user_id) for user_id in user_ids if not is_synthetic(user_id)}
    if moved:
        session.info.setdefault(POINTS_MOVED, set()).update(moved)
