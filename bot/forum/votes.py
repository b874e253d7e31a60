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

import logging
import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now as utcnow
from bot.db.dialect import insert
from bot.db.models import Post, Vote
from bot.forum import prefs
from bot.forum.leaderboard import remember_display_names
from bot.forum.ledger import Ledger, facts_of
from bot.forum.lookups import change
from bot.forum.point_rules import votes_count
from bot.forum.post_rows import load_post, post_id_by_message
from bot.forum.results import ReconcileResult, VoteResult
from bot.forum.settings import GuildConfig, load_config

log = logging.getLogger(__name__)

VoteFlag = Literal["up", "down"]


async def _resolve(
    session: AsyncSession, post_id: int | None, message_id: int | None
) -> int | None:
    if post_id is not None:
        return post_id
    if message_id is None:
        raise ValueError("give post_id or message_id")
    return await post_id_by_message(session, message_id)


async def _vote_target(
    session: AsyncSession, post_id: int
) -> tuple[Post, Post, GuildConfig] | None:
    """The voted post, its question and its guild's config; None when either post is gone.

    Only the voted post is locked; its question is read, not locked (see ``uow``).
    """
    post = await load_post(session, post_id, lock=True)
    if post is None:
        return None
    question = post
    if post.question_id is not None:
        loaded = await load_post(session, post.question_id)
        if loaded is None:
            return None
        question = loaded
    return post, question, await load_config(session, post.guild_id)


async def _flags(session: AsyncSession, post_id: int, user_id: int) -> tuple[bool, bool]:
    row = (
        await session.execute(
            select(Vote.up, Vote.down).where(Vote.post_id == post_id, Vote.user_id == user_id)
        )
    ).one_or_none()
    return (False, False) if row is None else (row.up, row.down)


async def _store_votes(
    session: AsyncSession,
    config: GuildConfig,
    post: Post,
    flags: dict[int, tuple[bool, bool]],
    now: datetime,
) -> None:
    """Store each member's flags on a post (a vote with no flag set is removed) and settle the
    points they move."""
    ledger = Ledger(session, config, post.guild_id)
    await ledger.track([post.id])
    cleared = [user for user, (up, down) in flags.items() if not up and not down]
    kept = [
        {
            "post_id": post.id,
            "user_id": user,
            "guild_id": post.guild_id,
            "up": up,
            "down": down,
            "updated_at": now,
        }
        for user, (up, down) in sorted(flags.items())
        if up or down
    ]
    if cleared:
        await session.execute(
            delete(Vote)
            .where(Vote.post_id == post.id, Vote.user_id.in_(cleared))
            .execution_options(synchronize_session=False)
        )
    if kept:
        stmt = insert(session, Vote).values(kept)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Vote.post_id, Vote.user_id],
                set_={
                    "up": stmt.excluded.up,
                    "down": stmt.excluded.down,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
        )
    await ledger.settle(now)


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
    resolved = await _resolve(session, post_id, message_id)
    if resolved is None or await prefs.is_erased(session, user_id):
        return None
    target = await _vote_target(session, resolved)
    if target is None:
        return None
    post, question, config = target
    up, down = before = await _flags(session, post.id, user_id)
    if flag == "up":
        up = on
    else:
        down = on
    changed = (up, down) != before
    if changed:
        await _store_votes(session, config, post, {user_id: (up, down)}, now)
        log.debug("vote on post %s in guild %s changed", post.id, post.guild_id)
    counted = votes_count(config, facts_of(post), facts_of(question)) and (
        user_id != post.author_id or post.anonymous
    )
    snap = await change(session, post.id, changed=changed)
    return VoteResult(
        post=snap.post,
        question=snap.question,
        up=up,
        down=down,
        counted=counted and up != down,
        changed=changed,
    )


async def reconcile_votes(
    session: AsyncSession,
    *,
    up_user_ids: Collection[int] | None,
    down_user_ids: Collection[int] | None,
    post_id: int | None = None,
    message_id: int | None = None,
    now: datetime | None = None,
) -> ReconcileResult | None:
    """Set a post's votes to exactly the members reacting with each vote emoji now.

    ``None`` for a flag leaves that flag as stored (e.g. only the down emoji was cleared:
    ``down_user_ids=()``, ``up_user_ids=None``). The caller leaves bots out; erased members are
    left out here. None when the message is no post.
    """
    now = now or utcnow()
    resolved = await _resolve(session, post_id, message_id)
    if resolved is None:
        return None
    target = await _vote_target(session, resolved)
    if target is None:
        return None
    post, _question, config = target
    wanted_up = None if up_user_ids is None else set(up_user_ids)
    wanted_down = None if down_user_ids is None else set(down_user_ids)
    mentioned = (wanted_up or set()) | (wanted_down or set())
    erased = await prefs.erased_among(session, mentioned) if mentioned else set()
    if wanted_up is not None:
        wanted_up -= erased
    if wanted_down is not None:
        wanted_down -= erased

    rows = await session.execute(
        select(Vote.user_id, Vote.up, Vote.down).where(Vote.post_id == post.id)
    )
    stored = {row.user_id: (row.up, row.down) for row in rows}
    updates: dict[int, tuple[bool, bool]] = {}
    for user in sorted(stored.keys() | (mentioned - erased)):
        old_up, old_down = stored.get(user, (False, False))
        new_up = old_up if wanted_up is None else user in wanted_up
        new_down = old_down if wanted_down is None else user in wanted_down
        if (new_up, new_down) != (old_up, old_down):
            updates[user] = (new_up, new_down)
    if updates:
        await _store_votes(session, config, post, updates, now)
        log.info(
            "votes on post %s in guild %s reconciled (%d changed)",
            post.id,
            post.guild_id,
            len(updates),
        )
    snap = await change(session, post.id, changed=bool(updates))
    return ReconcileResult(post=snap.post, question=snap.question, changed=len(updates))


async def vote_of(session: AsyncSession, *, post_id: int, user_id: int) -> tuple[bool, bool]:
    """A member's stored (up, down) flags on a post."""
    return await _flags(session, post_id, user_id)


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


def emoji_matches(emoji: Emoji, configured: str) -> bool:
    """Whether a reaction's emoji is the configured one (a unicode emoji or ``<:name:id>``).

    A custom emoji is matched by id (it may be renamed), a unicode one by its characters.
    """
    custom = _CUSTOM_EMOJI.fullmatch(configured.strip())
    if custom is not None:
        return emoji.id == int(custom.group(1))
    return emoji.id is None and _plain(emoji.name or "") == _plain(configured.strip())


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


async def _apply(session: AsyncSession, op: VoteOp) -> VoteResult | ReconcileResult | None:
    g = op.gesture
    if isinstance(op, SetVote):
        assert isinstance(g, Reaction)
        return await set_vote(
            session,
            user_id=g.user_id,
            flag=op.flag,
            on=g.on,
            message_id=g.message_id,
            is_bot=g.is_bot,
        )
    return await reconcile_votes(
        session,
        message_id=g.message_id,
        up_user_ids=() if op.up else None,
        down_user_ids=() if op.down else None,
    )


async def apply_gestures(session: AsyncSession, gestures: Sequence[Gesture]) -> GesturesApplied:
    """Apply reaction gestures in the order they happened, then remember the voters' names.

    Gestures that are no vote in their guild are left out. Only one message's gestures must
    keep their order: grouping them by message (a stable sort) keeps it and takes each post's
    row lock once.
    """
    configs = {
        gid: await load_config(session, gid) for gid in sorted({g.guild_id for g in gestures})
    }
    ops = [op for g in gestures if (op := plan(g, configs[g.guild_id])) is not None]
    ops.sort(key=lambda op: op.gesture.message_id)
    questions: set[int] = set()
    self_votes: list[Reaction] = []
    reacting = {op.gesture.user_id for op in ops if isinstance(op, SetVote) and op.gesture.on}
    erased = await prefs.erased_among(session, reacting)
    erased_votes = [
        op.gesture
        for op in ops
        if isinstance(op, SetVote) and op.gesture.on and op.gesture.user_id in erased
    ]
    names: defaultdict[int, dict[int, str]] = defaultdict(dict)
    for op in ops:
        result = await _apply(session, op)
        if result is None:
            continue
        g = op.gesture
        if isinstance(result, VoteResult):
            assert isinstance(g, Reaction)
            if g.on and g.user_id == result.post.author_id and not result.post.anonymous:
                self_votes.append(g)
            if g.display_name and g.on:
                names[g.guild_id][g.user_id] = g.display_name
            moved = result.changed
        else:
            moved = result.changed > 0
        if moved:
            questions.add(result.question.id)
    for guild_id, seen in sorted(names.items()):
        await remember_display_names(session, guild_id=guild_id, names=seen)
    return GesturesApplied(tuple(sorted(questions)), tuple(self_votes), tuple(erased_votes))
