"""Vote flag changes applied set-based: a batch costs a handful of statements, not a few per vote.

The batch is reduced in memory first. ``lock_voted_posts`` locks the voted posts in ascending id
order (``bot.forum.post_rows``) and reads their questions; ``apply_flag_changes`` reads every
stored vote of those posts at once, replays the changes on that copy in arrival order (only
one (post, member) key's changes must keep their order, and a change to every voter of a post
keeps its place among them), and then writes only the difference:

* one ``DELETE`` run for the votes left with no flag, one upsert run for the votes whose flags
  changed;
* what each touched post contributes (``point_rules.contribution``: caps per direction, closed
  questions, self-votes, anonymous authors) computed before and after from the same votes, and
  the difference added to the posts' cached counters and to the members' totals with one
  statement run each (``bot.forum.ledger``), so the caches keep equal to a recomputation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import among, built_once, dialect_name, insert
from bot.db.models import Post, Vote
from bot.db.packed import fetch_packed, fields, pack, pack_values, packed_select
from bot.forum.ledger import (
    FACT_COLUMNS,
    CounterMove,
    add_member_moves,
    add_to_post_counters,
    counter_move,
    row_facts,
    upsert_member_deltas,
)
from bot.forum.point_rules import PostFacts, Totals, VoteFacts, contribution
from bot.forum.settings import GuildConfig

Flags = tuple[bool, bool]
VoteKey = tuple[int, int]
NO_FLAGS: Flags = (False, False)
_VOTES = cast(Table, Vote.__table__)


@dataclass(frozen=True, slots=True)
class VotedPost:
    """A voted post (locked), its question (the post itself for a question) and its guild."""

    post: PostFacts
    question: PostFacts
    guild_id: int
    message_id: int | None


@dataclass(frozen=True, slots=True)
class FlagChange:
    """Set or clear vote flags on a post: one member's (``user_id``), or every stored voter's
    (``user_id`` None). A flag given as None is left as it is."""

    post_id: int
    user_id: int | None
    up: bool | None = None
    down: bool | None = None

    def applied_to(self, flags: Flags) -> Flags:
        up, down = flags
        return (
            up if self.up is None else self.up,
            down if self.down is None else self.down,
        )


@dataclass(frozen=True, slots=True)
class FlagsApplied:
    """Per (post, member) key a change named: its flags after the batch, and per post the
    number of votes whose flags changed (posts with none left out)."""

    flags: Mapping[VoteKey, Flags]
    changed: Mapping[int, int]


async def lock_voted_posts(
    session: AsyncSession,
    *,
    post_ids: Collection[int] = (),
    message_ids: Collection[int] = (),
) -> dict[int, VotedPost]:
    """The posts named by id or by Discord message id, locked in ascending id order, by post
    id. A post whose question row is gone is left out (its votes are inert)."""
    if not post_ids and not message_ids:
        return {}
    rows = await _post_rows(session, post_ids, message_ids, lock=True)
    facts = {row.id: (row_facts(row), row) for row in rows}
    missing = {f.question_id for f, _ in facts.values() if f.question_id is not None}
    missing -= facts.keys()
    questions = {f.id: f for f, _ in facts.values()}
    if missing:
        extra = await _post_rows(session, missing, (), lock=False)
        questions.update((row.id, row_facts(row)) for row in extra)
    voted = {}
    for post_id, (post, row) in sorted(facts.items()):
        question = post if post.question_id is None else questions.get(post.question_id)
        if question is not None:
            voted[post_id] = VotedPost(post, question, row.guild_id, row.message_id)
    return voted


async def _post_rows(
    session: AsyncSession, post_ids: Collection[int], message_ids: Collection[int], *, lock: bool
) -> Sequence[Any]:
    """The facts, guild and message id of the posts named by id or message id (``lock``: for
    key share, in id order, on PostgreSQL; SQLite's transaction holds the write lock)."""
    if dialect_name(session) == "sqlite":
        return await _fact_rows(session, post_ids, message_ids)
    named = []
    if post_ids:
        named.append(among(session, Post.id, post_ids))
    if message_ids:
        named.append(among(session, Post.message_id, message_ids))
    stmt = select(*FACT_COLUMNS, Post.guild_id, Post.message_id).where(
        named[0] if len(named) == 1 else named[0] | named[1]
    )
    if lock:
        stmt = stmt.order_by(Post.id).with_for_update(key_share=True)
    return (await session.execute(stmt)).all()


# SQLite: the batch's reads and writes each one step (``bot.db.packed``: the writing thread
# must not wait for the GIL once per row while it holds the write lock).
_FACT_NAMES = (
    "id",
    "kind",
    "author_id",
    "anonymous",
    "state",
    "deleted_at",
    "removed_at",
    "question_id",
    "closed_at",
    "accepted_answer_id",
    "guild_id",
    "message_id",
)
_POSTS_PACKED = packed_select(
    _FACT_NAMES,
    "FROM posts WHERE id IN (SELECT value FROM json_each(:ids))"
    " OR message_id IN (SELECT value FROM json_each(:messages))",
)
_STORED_PACKED = packed_select(
    ("post_id", "user_id", "up", "down"),
    "FROM votes WHERE post_id IN (SELECT value FROM json_each(:posts))",
)
_DELETE_PACKED = text(
    f"DELETE FROM votes WHERE (post_id, user_id) IN (SELECT {fields(2)} FROM json_each(:gone))"
)
_UPSERT_PACKED = text(
    "INSERT INTO votes (post_id, user_id, guild_id, up, down, updated_at)"
    f" SELECT {fields(5)}, :now FROM json_each(:kept) WHERE true"
    " ON CONFLICT (post_id, user_id) DO UPDATE SET"
    " up = excluded.up, down = excluded.down, updated_at = excluded.updated_at"
).bindparams(bindparam("now", type_=Vote.__table__.c.updated_at.type))


@dataclass(frozen=True, slots=True)
class _FactRow:
    """A post's row as ``row_facts`` reads it (times only as set or not)."""

    id: int
    kind: str
    author_id: int | None
    anonymous: bool
    state: str
    deleted_at: object
    removed_at: object
    question_id: int | None
    closed_at: object
    accepted_answer_id: int | None
    guild_id: int
    message_id: int | None


async def _fact_rows(
    session: AsyncSession, post_ids: Collection[int], message_ids: Collection[int] = ()
) -> list[_FactRow]:
    params = {"ids": pack_values(post_ids), "messages": pack_values(message_ids)}
    rows = await fetch_packed(session, _POSTS_PACKED, params)
    named = [dict(zip(_FACT_NAMES, row, strict=True)) for row in rows]
    return [_FactRow(**{**values, "anonymous": bool(values["anonymous"])}) for values in named]


async def _write_votes_packed(
    session: AsyncSession,
    gone: Sequence[Mapping[str, int]],
    kept: Sequence[Mapping[str, object]],
    now: datetime,
) -> None:
    if gone:
        await session.execute(
            _DELETE_PACKED, {"gone": pack((row["post"], row["user"]) for row in gone)}
        )
    if kept:
        columns = ("post_id", "user_id", "guild_id", "up", "down")
        rows = pack([row[c] for c in columns] for row in kept)
        await session.execute(_UPSERT_PACKED, {"kept": rows, "now": now})


async def _stored_votes(
    session: AsyncSession, post_ids: Collection[int]
) -> dict[int, dict[int, Flags]]:
    """Every stored vote of the posts: post id -> member id -> flags (plain rows, no ORM)."""
    stored: dict[int, dict[int, Flags]] = {post_id: {} for post_id in post_ids}
    if dialect_name(session) == "sqlite":
        packed = await fetch_packed(session, _STORED_PACKED, {"posts": pack_values(post_ids)})
        for post_id, user_id, up, down in packed:
            stored[post_id][user_id] = (bool(up), bool(down))
        return stored
    votes = _VOTES.c
    rows = await session.execute(
        select(votes.post_id, votes.user_id, votes.up, votes.down).where(
            among(session, votes.post_id, post_ids)
        )
    )
    for post_id, user_id, up, down in rows.all():
        stored[post_id][user_id] = (up, down)
    return stored


def _replay(
    stored: Mapping[int, Mapping[int, Flags]], changes: Sequence[FlagChange]
) -> tuple[dict[int, dict[int, Flags]], dict[VoteKey, Flags]]:
    """Replay the changes in order on the stored votes: per post the votes whose flags end
    different from the stored ones, and the final flags of each key a change named."""
    current = {post_id: dict(votes) for post_id, votes in stored.items()}
    touched: dict[int, set[int]] = {post_id: set() for post_id in stored}
    named: dict[VoteKey, Flags] = {}
    for change in changes:
        votes = current[change.post_id]
        if change.user_id is None:
            for user_id, flags in votes.items():
                votes[user_id] = change.applied_to(flags)
            touched[change.post_id].update(votes)
            continue
        flags = change.applied_to(votes.get(change.user_id, NO_FLAGS))
        votes[change.user_id] = flags
        touched[change.post_id].add(change.user_id)
        named[(change.post_id, change.user_id)] = flags
    differing = {}
    for post_id, users in touched.items():
        before, after = stored[post_id], current[post_id]
        moved = {u: after[u] for u in sorted(users) if after[u] != before.get(u, NO_FLAGS)}
        if moved:
            differing[post_id] = moved
    return differing, named


def _vote_facts(
    post_id: int, stored: Mapping[int, Flags], differing: Mapping[int, Flags]
) -> tuple[list[VoteFacts], list[VoteFacts]]:
    """The votes with a value on a post before and after (only the differing ones rebuilt)."""
    before = {
        user: VoteFacts(post_id, user, up, down)
        for user, (up, down) in stored.items()
        if up != down
    }
    after = dict(before)
    for user, (up, down) in differing.items():
        if up != down:
            after[user] = VoteFacts(post_id, user, up, down)
        else:
            after.pop(user, None)
    return list(before.values()), list(after.values())


_DELETE_VOTE = delete(_VOTES).where(
    and_(_VOTES.c.post_id == bindparam("post"), _VOTES.c.user_id == bindparam("user"))
)


async def _write_votes(
    session: AsyncSession,
    voted: Mapping[int, VotedPost],
    differing: Mapping[int, Mapping[int, Flags]],
    now: datetime,
) -> None:
    """Write the votes whose flags differ from the stored ones (none left: deleted)."""
    gone: list[dict[str, int]] = []
    kept: list[dict[str, object]] = []
    for post_id, moved in sorted(differing.items()):
        for user_id, (up, down) in moved.items():
            if not up and not down:
                gone.append({"post": post_id, "user": user_id})
                continue
            kept.append(
                {
                    "post_id": post_id,
                    "user_id": user_id,
                    "guild_id": voted[post_id].guild_id,
                    "up": up,
                    "down": down,
                    "updated_at": now,
                }
            )
    if dialect_name(session) == "sqlite":
        await _write_votes_packed(session, gone, kept, now)
        return
    if gone:
        await session.execute(_DELETE_VOTE, gone)
    if kept:
        await session.execute(built_once(session, _upsert_votes), kept)


def _upsert_votes(session: AsyncSession) -> Any:
    stmt = insert(session, _VOTES)
    return stmt.on_conflict_do_update(
        index_elements=["post_id", "user_id"],
        set_={
            "up": stmt.excluded.up,
            "down": stmt.excluded.down,
            "updated_at": stmt.excluded.updated_at,
        },
    )


@dataclass(frozen=True, slots=True)
class FlagPlan:
    """What a batch of flag changes will write, decided from the stored votes: the votes whose
    flags differ, the posts' counter moves and the members' total moves (``plan_flag_changes``),
    and its outcome."""

    differing: Mapping[int, Mapping[int, Flags]]
    counters: Mapping[int, CounterMove]
    members: Mapping[tuple[int, int], Totals]
    applied: FlagsApplied


async def plan_flag_changes(
    session: AsyncSession,
    configs: Mapping[int, GuildConfig],
    voted: Mapping[int, VotedPost],
    changes: Sequence[FlagChange],
) -> FlagPlan:
    """Read the stored votes of the changed posts (of ``voted``; ``configs`` by guild) and decide
    every write: the changes replayed in order, what each post contributes before and after
    (``point_rules.contribution``). Nothing is written."""
    if not changes:
        return FlagPlan({}, {}, {}, FlagsApplied({}, {}))
    post_ids = sorted({change.post_id for change in changes})
    stored = await _stored_votes(session, post_ids)
    differing, named = _replay(stored, changes)
    counters: dict[int, CounterMove] = {}
    members: defaultdict[int, defaultdict[int, Totals]] = defaultdict(lambda: defaultdict(Totals))
    for post_id, moved in sorted(differing.items()):
        target = voted[post_id]
        config = configs[target.guild_id]
        votes_before, votes_after = _vote_facts(post_id, stored[post_id], moved)
        before = contribution(config, target.post, target.question, votes_before)
        after = contribution(config, target.post, target.question, votes_after)
        counters[post_id] = counter_move(before, after)
        add_member_moves(members[target.guild_id], before, after)
    member_moves = {
        (guild_id, user_id): delta
        for guild_id, moves in members.items()
        for user_id, delta in moves.items()
        if delta
    }
    applied = FlagsApplied(named, {post_id: len(moved) for post_id, moved in differing.items()})
    return FlagPlan(differing, counters, member_moves, applied)


async def write_flag_plan(
    session: AsyncSession, voted: Mapping[int, VotedPost], plan: FlagPlan, now: datetime
) -> FlagsApplied:
    """Write what ``plan_flag_changes`` decided: the votes, the posts' counters and the members'
    totals, back to back (no reading or deciding between them)."""
    await _write_votes(session, voted, plan.differing, now)
    await add_to_post_counters(session, plan.counters, now)
    await upsert_member_deltas(session, plan.members, now)
    return plan.applied


async def apply_flag_changes(
    session: AsyncSession,
    configs: Mapping[int, GuildConfig],
    voted: Mapping[int, VotedPost],
    changes: Sequence[FlagChange],
    now: datetime,
) -> FlagsApplied:
    """Apply the changes (to posts of ``voted``, locked; ``configs`` by guild) in order, and
    keep posts' counters and members' totals right."""
    plan = await plan_flag_changes(session, configs, voted, changes)
    return await write_flag_plan(session, voted, plan, now)
