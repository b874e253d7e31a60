"""Votes are state, not increments: per (post, member) an up flag and a down flag.

A reaction gesture sets or clears one flag (``set_vote``); applying it twice changes nothing.
``reconcile_votes`` sets a post's votes to exactly the reactions Discord shows (after a gap, or
when a reaction emoji is cleared). Whether a vote *counts* is decided by the rules in
``bot.forum.points`` (not a self-vote, live post, question not closed, ...), so a vote that
does not count now is still stored and counts again when that changes (a closed question
reopened). Bots' gestures are never stored, and neither are those of members who erased their
data (``/mydata erase``): their reactions count nothing afterwards.

Reaction gestures (``Reaction``, ``Clear``) arrive as plain values from the voting adapter; what
they mean is decided here: ``apply_gestures`` applies a batch of them in one transaction (the
guild's up and down emoji set flags, any other emoji is no vote; clearing an emoji's reactions
clears those flags) and says what the adapter shows on Discord afterwards: the questions whose
status line changed, and the named authors' own vote reactions, which count nothing and are
taken off (on an anonymous post the author's reaction is left alone: the public score counts it,
and removing it would single the author out).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now as utcnow
from bot.db.models import Vote
from bot.forum import prefs
from bot.forum.imported import imported_voters
from bot.forum.leaderboard import remember_display_names
from bot.forum.lookups import change
from bot.forum.point_rules import votes_count
from bot.forum.results import ReconcileResult, VoteResult
from bot.forum.settings import GuildConfig, load_config
from bot.forum.vote_batch import (
    FlagChange,
    FlagPlan,
    VotedPost,
    apply_flag_changes,
    lock_voted_posts,
    plan_flag_changes,
    write_flag_plan,
)

log = logging.getLogger(__name__)

VoteFlag = Literal["up", "down"]


def _counts(config: GuildConfig, target: VotedPost, user_id: int) -> bool:
    """Whether this member's vote on the post counts at the moment (its value aside)."""
    post = target.post
    return votes_count(config, post, target.question) and (
        user_id != post.author_id or post.anonymous
    )


async def _voted_post(
    session: AsyncSession, post_id: int | None, message_id: int | None
) -> VotedPost | None:
    """The voted post (locked) by id, else by message id; None when it or its question is gone."""
    if post_id is not None:
        voted = await lock_voted_posts(session, post_ids=[post_id])
    elif message_id is not None:
        voted = await lock_voted_posts(session, message_ids=[message_id])
    else:
        raise ValueError("give post_id or message_id")
    return next(iter(voted.values()), None)


async def set_vote(
    session: AsyncSession,
    *,
    user_id: int,
    flag: VoteFlag,
    on: bool,
    post_id: int | None = None,
    message_id: int | None = None,
    is_bot: bool = False,
    now: datetime | None = None,
) -> VoteResult | None:
    """A reaction gesture: set (``on``) or clear one flag of a member's vote on a post.

    Give the post by ``post_id`` or by its Discord ``message_id``. None when the message is no
    post, or the gesture is a bot's or an erased member's (never stored).
    """
    now = now or utcnow()
    if is_bot:
        return None
    target = await _voted_post(session, post_id, message_id)
    if target is None or await prefs.is_erased(session, user_id):
        return None
    config = await load_config(session, target.guild_id)
    applied = await apply_flag_changes(
        session,
        {target.guild_id: config},
        {target.post.id: target},
        [_set(target, flag, on, user_id)],
        now,
    )
    up, down = applied.flags[(target.post.id, user_id)]
    changed = bool(applied.changed)
    if changed:
        log.debug("vote on post %s in guild %s changed", target.post.id, target.guild_id)
    snap = await change(session, target.post.id, changed=changed)
    return VoteResult(
        post=snap.post,
        question=snap.question,
        up=up,
        down=down,
        counted=_counts(config, target, user_id) and up != down,
        changed=changed,
    )


def _set(target: VotedPost, flag: VoteFlag, on: bool, user_id: int) -> FlagChange:
    if flag == "up":
        return FlagChange(target.post.id, user_id, up=on)
    return FlagChange(target.post.id, user_id, down=on)


async def reconcile_votes(
    session: AsyncSession,
    *,
    up_user_ids: Collection[int] | None,
    down_user_ids: Collection[int] | None,
    post_id: int | None = None,
    message_id: int | None = None,
    now: datetime | None = None,
    keep_user_ids: Collection[int] = (),
) -> ReconcileResult | None:
    """Set a post's votes to exactly the members reacting with each vote emoji now.

    ``None`` for a flag leaves that flag as stored (e.g. only the down emoji was cleared:
    ``down_user_ids=()``, ``up_user_ids=None``). The caller leaves bots out; erased members are
    left out here. The votes of ``keep_user_ids`` stay as stored (members whose live gestures
    arrived while the reactions were being read: the live path has the last word on them); it
    is read once the post is locked, so a collection that grows until then counts whole.
    Imported votes (``bot.forum.imported``) stay too, unless their member reacts now.
    None when the message is no post.
    """
    now = now or utcnow()
    target = await _voted_post(session, post_id, message_id)
    if target is None:
        return None
    pid = target.post.id
    mentioned = set(up_user_ids or ()) | set(down_user_ids or ())
    erased = await prefs.erased_among(session, mentioned)
    # Clearing a flag on every vote, then setting it for each member reacting, leaves exactly
    # those members with it.
    changes: list[FlagChange] = []
    if up_user_ids is not None:
        changes.append(FlagChange(pid, None, up=False))
        changes += [FlagChange(pid, u, up=True) for u in sorted(set(up_user_ids) - erased)]
    if down_user_ids is not None:
        changes.append(FlagChange(pid, None, down=False))
        changes += [FlagChange(pid, u, down=True) for u in sorted(set(down_user_ids) - erased)]
    # Imported votes are facts: kept unless their member reacts now (then the reaction is
    # their one vote on the post).
    imported = {u for u in await imported_voters(session, pid) if u not in mentioned}
    for user_id in sorted(set(keep_user_ids) | imported):
        # Replayed last: the member's stored flags, as they were before the changes above.
        up, down = await vote_of(session, post_id=pid, user_id=user_id)
        changes.append(
            FlagChange(
                pid,
                user_id,
                up=None if up_user_ids is None else up,
                down=None if down_user_ids is None else down,
            )
        )
    config = await load_config(session, target.guild_id)
    applied = await apply_flag_changes(
        session, {target.guild_id: config}, {pid: target}, changes, now
    )
    changed = applied.changed.get(pid, 0)
    if changed:
        log.info(
            "votes on post %s in guild %s reconciled (%d changed)", pid, target.guild_id, changed
        )
    snap = await change(session, pid, changed=bool(changed))
    return ReconcileResult(post=snap.post, question=snap.question, changed=changed)


async def vote_of(session: AsyncSession, *, post_id: int, user_id: int) -> tuple[bool, bool]:
    """A member's stored (up, down) flags on a post."""
    row = (
        await session.execute(
            select(Vote.up, Vote.down).where(Vote.post_id == post_id, Vote.user_id == user_id)
        )
    ).one_or_none()
    return (False, False) if row is None else (row.up, row.down)


async def voters(session: AsyncSession, *, post_id: int) -> dict[int, tuple[bool, bool]]:
    """Every stored vote on a post: member id -> (up, down)."""
    rows = await session.execute(
        select(Vote.user_id, Vote.up, Vote.down).where(
            and_(Vote.post_id == post_id, or_(Vote.up, Vote.down))
        )
    )
    return {row.user_id: (row.up, row.down) for row in rows}


# --------------------------------------------------------------------------- reaction gestures

#: Emoji presentation selector: "👍" and "👍️" are the same reaction to a member.
_VARIATION_SELECTOR: Final = "\ufe0f"
_CUSTOM_EMOJI: Final = re.compile(r"<a?:[A-Za-z0-9_]{1,32}:([0-9]{1,20})>")


@dataclass(frozen=True, slots=True)
class Emoji:
    """A reaction's emoji: its name (the characters of a unicode emoji) and a custom one's id."""

    name: str
    id: int | None = None


def _plain(name: str) -> str:
    return name.replace(_VARIATION_SELECTOR, "")


@functools.lru_cache(maxsize=256)
def _configured(configured: str) -> tuple[int | None, str]:
    """A configured vote emoji as (a custom emoji's id, else None; a unicode one's characters),
    parsed once: every gesture of a burst is matched against the same two settings."""
    custom = _CUSTOM_EMOJI.fullmatch(configured.strip())
    if custom is not None:
        return int(custom.group(1)), ""
    return None, _plain(configured.strip())


def emoji_matches(emoji: Emoji, configured: str) -> bool:
    """Whether a reaction's emoji is the configured one (a unicode emoji or ``<:name:id>``).

    A custom emoji is matched by id (it may be renamed), a unicode one by its characters.
    """
    custom_id, characters = _configured(configured)
    if custom_id is not None:
        return emoji.id == custom_id
    return emoji.id is None and _plain(emoji.name or "") == characters


def vote_flag(emoji: Emoji, config: GuildConfig) -> VoteFlag | None:
    """Which vote flag a reaction emoji sets in this guild, None for any other emoji."""
    if emoji_matches(emoji, config.vote_up_emoji):
        return "up"
    if emoji_matches(emoji, config.vote_down_emoji):
        return "down"
    return None


@dataclass(frozen=True, slots=True)
class Reaction:
    """A member added (``on``) or removed a reaction."""

    guild_id: int
    channel_id: int
    message_id: int
    user_id: int
    emoji: Emoji
    on: bool
    is_bot: bool
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Clear:
    """Every reaction (``emoji`` None) or every reaction of one emoji was removed."""

    guild_id: int
    channel_id: int
    message_id: int
    emoji: Emoji | None


Gesture = Reaction | Clear


@dataclass(frozen=True, slots=True)
class SetVote:
    gesture: Reaction
    flag: VoteFlag


@dataclass(frozen=True, slots=True)
class ClearVotes:
    gesture: Clear
    up: bool
    down: bool


VoteOp = SetVote | ClearVotes


@dataclass(frozen=True, slots=True)
class GesturesApplied:
    """What a batch of gestures changed that Discord shows: ``questions`` whose status line
    (a score) changed, ``self_votes``, named authors' vote reactions on their own posts, and
    ``erased_votes``, vote reactions of members who erased their data: all count nothing."""

    questions: tuple[int, ...] = ()
    self_votes: tuple[Reaction, ...] = ()
    erased_votes: tuple[Reaction, ...] = ()


def plan(gesture: Gesture, config: GuildConfig) -> VoteOp | None:
    """The vote operation a gesture means in this guild, None when it is no vote gesture."""
    if isinstance(gesture, Reaction):
        flag = vote_flag(gesture.emoji, config)
        return None if flag is None else SetVote(gesture, flag)
    if gesture.emoji is None:
        return ClearVotes(gesture, up=True, down=True)
    flag = vote_flag(gesture.emoji, config)
    if flag is None:
        return None
    return ClearVotes(gesture, up=flag == "up", down=flag == "down")


def _flag_change(op: VoteOp, target: VotedPost) -> FlagChange:
    if isinstance(op, SetVote):
        assert isinstance(op.gesture, Reaction)
        return _set(target, op.flag, op.gesture.on, op.gesture.user_id)
    return FlagChange(
        target.post.id,
        None,
        up=False if op.up else None,
        down=False if op.down else None,
    )


@dataclass(frozen=True, slots=True)
class GesturePlan:
    """What a batch of gestures will write, decided by ``plan_gestures`` (nothing written yet),
    and what it will have changed that Discord shows."""

    voted: Mapping[int, VotedPost]
    flags: FlagPlan
    names: Mapping[int, Mapping[int, str]]
    erased: frozenset[int]
    outcome: GesturesApplied
    now: datetime


async def apply_gestures(
    session: AsyncSession, gestures: Sequence[Gesture], *, now: datetime | None = None
) -> GesturesApplied:
    """Apply reaction gestures in the order they happened, then remember the voters' names.

    Gestures that are no vote in their guild are left out, and so are bots' and erased members'
    (the latter's reactions are reported to be taken off). The batch is applied set-based
    (``bot.forum.vote_batch``): only one (post, member) key's gestures must keep their order,
    and a cleared emoji keeps its place among the gestures on its message.
    """
    return await write_gestures(session, await plan_gestures(session, gestures, now=now))


async def plan_gestures(
    session: AsyncSession, gestures: Sequence[Gesture], *, now: datetime | None = None
) -> GesturePlan:
    """``apply_gestures``'s reads and decisions, nothing written: on SQLite the vote writer
    runs them before it takes the write lock (``bot.forum.uow.Planned``)."""
    now = now or utcnow()
    configs = {
        gid: await load_config(session, gid) for gid in sorted({g.guild_id for g in gestures})
    }
    ops = [op for g in gestures if (op := plan(g, configs[g.guild_id])) is not None]
    ops.sort(key=lambda op: op.gesture.message_id)
    voted = await lock_voted_posts(session, message_ids={op.gesture.message_id for op in ops})
    by_message = {target.message_id: target for target in voted.values()}
    erased = await prefs.erased_among(
        session, {op.gesture.user_id for op in ops if isinstance(op, SetVote)}
    )
    erased_votes = [
        op.gesture
        for op in ops
        if isinstance(op, SetVote) and op.gesture.on and op.gesture.user_id in erased
    ]
    changes: list[FlagChange] = []
    self_votes: list[Reaction] = []
    names: defaultdict[int, dict[int, str]] = defaultdict(dict)
    for op in ops:
        target = by_message.get(op.gesture.message_id)
        g = op.gesture
        if target is None or target.guild_id != g.guild_id:
            continue  # no post (a message id names one post, in one guild)
        if isinstance(g, Reaction) and (g.is_bot or g.user_id in erased):
            continue
        changes.append(_flag_change(op, target))
        if isinstance(g, Reaction) and g.on:
            if g.user_id == target.post.author_id and not target.post.anonymous:
                self_votes.append(g)
            if g.display_name:
                names[g.guild_id][g.user_id] = g.display_name
    flags = await plan_flag_changes(session, configs, voted, changes)
    questions = {voted[post_id].question.id for post_id in flags.applied.changed}
    outcome = GesturesApplied(tuple(sorted(questions)), tuple(self_votes), tuple(erased_votes))
    return GesturePlan(voted, flags, names, frozenset(erased), outcome, now)


async def write_gestures(session: AsyncSession, planned: GesturePlan) -> GesturesApplied:
    """Write what ``plan_gestures`` decided: the votes, counters and totals, then the voters'
    names."""
    applied = await write_flag_plan(session, planned.voted, planned.flags, planned.now)
    if applied.changed:
        log.debug(
            "%d votes changed on %d posts", sum(applied.changed.values()), len(applied.changed)
        )
    for guild_id, seen in sorted(planned.names.items()):
        await remember_display_names(
            session, guild_id=guild_id, names=seen, now=planned.now, erased=planned.erased
        )
    return planned.outcome
