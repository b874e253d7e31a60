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
from typing import cast

from sqlalchemy import Table, and_, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert
from bot.db.models import Post, Vote
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
    named = []
    if post_ids:
        named.append(Post.id.in_(sorted(set(post_ids))))
    if message_ids:
        named.append(Post.message_id.in_(sorted(set(message_ids))))
    rows = (
        await session.execute(
            select(*FACT_COLUMNS, Post.guild_id, Post.message_id)
            .where(named[0] if len(named) == 1 else named[0] | named[1])
            .order_by(Post.id)
            .with_for_update(key_share=True)
        )
    ).all()
    facts = {row.id: (row_facts(row), row) for row in rows}
    missing = {f.question_id for f, _ in facts.values() if f.question_id is not None}
    missing -= facts.keys()
    questions = {f.id: f for f, _ in facts.values()}
    if missing:
        extra = await session.execute(select(*FACT_COLUMNS).where(Post.id.in_(sorted(missing))))
        questions.update((f.id, f) for f in map(row_facts, extra))
    voted = {}
    for post_id, (post, row) in facts.items():
        question = post if post.question_id is None else questions.get(post.question_id)
        if question is not None:
            voted[post_id] = VotedPost(post, question, row.guild_id, row.message_id)
    return voted


async def _stored_votes(
    session: AsyncSession, post_ids: Collection[int]
) -> dict[int, dict[int, Flags]]:
    """Every stored vote of the posts: post id -> member id -> flags (plain rows, no ORM)."""
    stored: dict[int, dict[int, Flags]] = {post_id: {} for post_id in post_ids}
    votes = _VOTES.c
    rows = await session.execute(
        select(votes.post_id, votes.user_id, votes.up, votes.down).where(
            votes.post_id.in_(sorted(post_ids))
        )
    )
    for post_id, user_id, up, down in rows:
        stored[post_id][user_id] = (up, down)
    return stored


def _replay(
    stored: Mapping[int, Mapping[int, Flags]], changes: Sequence[FlagChange]
) -> tuple[dict[int, dict[int, Flags]], dict[VoteKey, Flags]]:
    """The votes of each post after the changes in order, and the flags of each named key."""
    current = {post_id: dict(votes) for post_id, votes in stored.items()}
    named: dict[VoteKey, Flags] = {}
    for change in changes:
        votes = current[change.post_id]
        if change.user_id is None:
            for user_id, flags in votes.items():
                votes[user_id] = change.applied_to(flags)
            continue
        flags = change.applied_to(votes.get(change.user_id, NO_FLAGS))
        votes[change.user_id] = flags
        named[(change.post_id, change.user_id)] = flags
    return current, named


def _vote_facts(post_id: int, votes: Mapping[int, Flags]) -> list[VoteFacts]:
    return [VoteFacts(post_id, user, up, down) for user, (up, down) in votes.items() if up != down]


_DELETE_VOTE = delete(_VOTES).where(
    and_(_VOTES.c.post_id == bindparam("post"), _VOTES.c.user_id == bindparam("user"))
)


async def _write_votes(
    session: AsyncSession,
    voted: Mapping[int, VotedPost],
    stored: Mapping[int, Mapping[int, Flags]],
    current: Mapping[int, Mapping[int, Flags]],
    now: datetime,
) -> dict[int, int]:
    """Write the votes that differ from the stored ones; per post how many changed."""
    gone: list[dict[str, int]] = []
    kept: list[dict[str, object]] = []
    changed: dict[int, int] = {}
    for post_id in sorted(current):
        before = stored[post_id]
        for user_id, flags in sorted(current[post_id].items()):
            if flags == before.get(user_id, NO_FLAGS):
                continue
            changed[post_id] = changed.get(post_id, 0) + 1
            if flags == NO_FLAGS:
                gone.append({"post": post_id, "user": user_id})
            else:
                kept.append(
                    {
                        "post_id": post_id,
                        "user_id": user_id,
                        "guild_id": voted[post_id].guild_id,
                        "up": flags[0],
                        "down": flags[1],
                        "updated_at": now,
                    }
                )
    if gone:
        await session.execute(_DELETE_VOTE, gone)
    if kept:
        stmt = insert(session, _VOTES)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["post_id", "user_id"],
                set_={
                    "up": stmt.excluded.up,
                    "down": stmt.excluded.down,
                    "updated_at": stmt.excluded.updated_at,
                },
            ),
            kept,
        )
    return changed


async def apply_flag_changes(
    session: AsyncSession,
    configs: Mapping[int, GuildConfig],
    voted: Mapping[int, VotedPost],
    changes: Sequence[FlagChange],
    now: datetime,
) -> FlagsApplied:
    """Apply the changes (to posts of ``voted``, locked; ``configs`` by guild) in order, and
    keep posts' counters and members' totals right."""
    post_ids = sorted({change.post_id for change in changes})
    stored = await _stored_votes(session, post_ids)
    current, named = _replay(stored, changes)
    changed = await _write_votes(session, voted, stored, current, now)
    counters: dict[int, CounterMove] = {}
    members: defaultdict[int, defaultdict[int, Totals]] = defaultdict(lambda: defaultdict(Totals))
    for post_id in sorted(changed):
        target = voted[post_id]
        config = configs[target.guild_id]
        before = contribution(
            config, target.post, target.question, _vote_facts(post_id, stored[post_id])
        )
        after = contribution(
            config, target.post, target.question, _vote_facts(post_id, current[post_id])
        )
        counters[post_id] = counter_move(before, after)
        add_member_moves(members[target.guild_id], before, after)
    await add_to_post_counters(session, counters, now)
    await upsert_member_deltas(
        session,
        {
            (guild_id, user_id): delta
            for guild_id, moves in members.items()
            for user_id, delta in moves.items()
            if delta
        },
        now,
    )
    return FlagsApplied(named, changed)
