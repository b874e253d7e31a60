"""``export_member``: everything stored about a member, as a plain dict for a JSON file.

The export goes to the member alone, so their anonymous posts are in it, marked. It never names
another member behind an anonymous post: a vote on someone else's anonymous (or deleted or
removed) post gives the post id only; reports give the member's own reason and status, never
other reporters; blocks give scope and times, never the moderator; notifications give kind,
status and ids, never the DM's text (built from posts others may have written anonymously).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    AskDraft,
    Flag,
    Follow,
    HeldPost,
    Member,
    MemberBlock,
    ModAction,
    Notification,
    Post,
    ThreadPseudonym,
    UserPref,
    Vote,
)
from bot.forum.ledger import load_guild_facts
from bot.forum.mydata.schema import SCHEMA
from bot.forum.point_rules import TOTAL_FIELDS, member_breakdown
from bot.forum.pseudonyms import pseudonym
from bot.forum.settings import GuildConfig, load_config


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in names}


def _scoped(column: Any, guild_id: int | None) -> list[ColumnElement[bool]]:
    return [] if guild_id is None else [column == guild_id]


_POST_FIELDS: Final = [
    "id",
    "guild_id",
    "kind",
    "question_id",
    "parent_id",
    "thread_id",
    "message_id",
    "anonymous",
    "via_bot",
    "display_name",
    "title",
    "body",
    "category",
    "status",
    "score",
    "accepted_answer_id",
    "created_at",
    "updated_at",
    "closed_at",
    "deleted_at",
    "removed_at",
    "removal_reason",
]


async def _rows(session: AsyncSession, model: Any, *where: Any) -> list[Any]:
    stmt = select(model).where(*where)
    return list((await session.execute(stmt)).scalars())


async def _posts(session: AsyncSession, user_id: int, guild_id: int | None) -> list[dict[str, Any]]:
    where = [Post.author_id == user_id, *_scoped(Post.guild_id, guild_id)]
    rows = await _rows(session, Post, *where)
    return [_row(p, _POST_FIELDS) for p in sorted(rows, key=lambda p: p.id)]


async def _votes(session: AsyncSession, user_id: int, guild_id: int | None) -> list[dict[str, Any]]:
    stmt = (
        select(Vote, Post)
        .join(Post, Post.id == Vote.post_id)
        .where(Vote.user_id == user_id, *_scoped(Vote.guild_id, guild_id))
        .order_by(Vote.post_id)
    )
    out = []
    for vote, post in (await session.execute(stmt)).all():
        entry = _row(vote, ("post_id", "guild_id", "up", "down", "updated_at"))
        public = not post.anonymous and post.deleted_at is None and post.removed_at is None
        if public:
            entry.update(_row(post, ("kind", "question_id", "message_id")))
        out.append(entry)
    return out


async def _points(
    session: AsyncSession, user_id: int, guild_id: int | None
) -> list[dict[str, Any]]:
    members = {
        m.guild_id: m
        for m in await _rows(
            session, Member, Member.user_id == user_id, *_scoped(Member.guild_id, guild_id)
        )
    }
    guilds = set(members)
    voted = select(Vote.guild_id).where(Vote.user_id == user_id, *_scoped(Vote.guild_id, guild_id))
    authored = select(Post.guild_id).where(
        Post.author_id == user_id, *_scoped(Post.guild_id, guild_id)
    )
    guilds |= set((await session.execute(voted.union(authored))).scalars())
    out = []
    for gid in sorted(guilds):
        config = await load_config(session, gid)
        posts, votes = await load_guild_facts(session, gid)
        by_post = member_breakdown(config, posts, votes, user_id)
        member = members.get(gid)
        out.append(
            {
                "guild_id": gid,
                "display_name": member.display_name if member else None,
                "cached": _row(member, TOTAL_FIELDS) if member else dict.fromkeys(TOTAL_FIELDS, 0),
                "by_post": [
                    {"post_id": post_id, **{k: v for k, v in t.as_dict().items() if v}}
                    for post_id, t in by_post.items()
                ],
                "rules": _point_rules(config),
            }
        )
    return out


def _point_rules(config: GuildConfig) -> dict[str, Any]:
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if f.name.startswith("points_") or "_vote_cap_" in f.name
    }


def _content(payload: str) -> Mapping[str, Any] | str:
    try:
        loaded = json.loads(payload)
    except ValueError:
        return payload
    return loaded if isinstance(loaded, dict) else payload


async def export_member(
    session: AsyncSession, *, user_id: int, guild_id: int | None
) -> dict[str, Any]:
    """Everything stored about ``user_id`` in one server, or in every server (``None``)."""
    pref = await session.get(UserPref, user_id)
    pseudonyms = (
        await session.execute(
            select(ThreadPseudonym.question_id, ThreadPseudonym.number)
            .join(Post, Post.id == ThreadPseudonym.question_id)
            .where(ThreadPseudonym.author_id == user_id, *_scoped(Post.guild_id, guild_id))
            .order_by(ThreadPseudonym.question_id)
        )
    ).all()
    follows = await _rows(
        session, Follow, Follow.user_id == user_id, *_scoped(Follow.guild_id, guild_id)
    )
    reports = await _rows(
        session, Flag, Flag.reporter_id == user_id, *_scoped(Flag.guild_id, guild_id)
    )
    notes = await _rows(
        session,
        Notification,
        Notification.recipient_id == user_id,
        *_scoped(Notification.guild_id, guild_id),
    )
    held = await _rows(
        session, HeldPost, HeldPost.author_id == user_id, *_scoped(HeldPost.guild_id, guild_id)
    )
    drafts = await _rows(
        session, AskDraft, AskDraft.user_id == user_id, *_scoped(AskDraft.guild_id, guild_id)
    )
    blocks = await _rows(
        session,
        MemberBlock,
        MemberBlock.user_id == user_id,
        *_scoped(MemberBlock.guild_id, guild_id),
    )
    actions = await _rows(
        session,
        ModAction,
        ModAction.moderator_id == user_id,
        *_scoped(ModAction.guild_id, guild_id),
    )
    return {
        "schema": SCHEMA,
        "user_id": user_id,
        "scope": "every server" if guild_id is None else guild_id,
        "posts": await _posts(session, user_id, guild_id),
        "pseudonyms": [{"question_id": q, "pseudonym": pseudonym(n)} for q, n in pseudonyms],
        "votes": await _votes(session, user_id, guild_id),
        "points": await _points(session, user_id, guild_id),
        "preferences": _row(
            pref, ("notifications", "dms_closed_at", "dm_channel_id", "erased_at", "resources_dm")
        )
        if pref
        else None,
        "follows": [_row(f, ("question_id", "guild_id", "created_at")) for f in follows],
        "reports": [
            _row(r, ("id", "guild_id", "post_id", "reason", "status", "created_at", "resolved_at"))
            for r in reports
        ],
        "notifications": [
            _row(
                n,
                (
                    "id",
                    "guild_id",
                    "kind",
                    "status",
                    "question_id",
                    "post_id",
                    "created_at",
                    "sent_at",
                ),
            )
            for n in notes
        ],
        "held_posts": [
            {
                **_row(
                    h,
                    (
                        "id",
                        "guild_id",
                        "kind",
                        "question_id",
                        "anonymous",
                        "status",
                        "reason",
                        "post_id",
                        "created_at",
                        "decided_at",
                    ),
                ),
                "content": _content(h.payload),
            }
            for h in held
        ],
        "drafts": [
            _row(
                d,
                (
                    "id",
                    "guild_id",
                    "title",
                    "details",
                    "category",
                    "anonymous",
                    "display_name",
                    "created_at",
                    "expires_at",
                    "outcome",
                ),
            )
            for d in drafts
        ],
        "blocks": [
            _row(
                b, ("guild_id", "scope", "reason", "post_id", "created_at", "ends_at", "lifted_at")
            )
            for b in blocks
        ],
        "moderator_actions": [
            _row(a, ("id", "guild_id", "action", "post_id", "detail", "created_at"))
            for a in actions
        ],
    }
