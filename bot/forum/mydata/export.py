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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    ThreadPseudonym,
    UserPref,
    Vote,
)
from bot.forum.ledger import load_guild_facts
from bot.forum.mydata.schema import SCHEMA
from bot.forum.mydata.scope import in_scope, members_rows
from bot.forum.point_rules import TOTAL_FIELDS, member_breakdown
from bot.forum.pseudonyms import pseudonym
from bot.forum.settings import GuildConfig, load_config


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in names}


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
    "publish_consent",
]


async def _rows(
    session: AsyncSession, column: Any, user_id: int, guild_id: int | None
) -> list[Any]:
    """The rows of ``column``'s table that are the member's (``column`` names them)."""
    stmt = select(column.class_).where(*members_rows(column, user_id, guild_id))
    return list((await session.execute(stmt)).scalars())


#: The sections that list a member's rows of one table, in the export's order: the column that
#: names the member, and the fields shown (a held post shows its content besides).
_SECTIONS: Final = (
    ("follows", Follow.user_id, ("question_id", "guild_id", "created_at")),
    (
        "reports",
        Flag.reporter_id,
        ("id", "guild_id", "post_id", "reason", "status", "created_at", "resolved_at"),
    ),
    (
        "notifications",
        Notification.recipient_id,
        ("id", "guild_id", "kind", "status", "question_id", "post_id", "created_at", "sent_at"),
    ),
    (
        "held_posts",
        HeldPost.author_id,
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
    (
        "drafts",
        AskDraft.user_id,
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
    ),
    ("archive_choices", ArchivePref.user_id, ("guild_id", "by_default", "named", "updated_at")),
    (
        "blocks",
        MemberBlock.user_id,
        ("guild_id", "scope", "reason", "post_id", "created_at", "ends_at", "lifted_at"),
    ),
    (
        "moderator_actions",
        ModAction.moderator_id,
        ("id", "guild_id", "action", "post_id", "detail", "created_at"),
    ),
)


async def _sections(
    session: AsyncSession, user_id: int, guild_id: int | None
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for key, column, fields in _SECTIONS:
        out[key] = []
        for obj in await _rows(session, column, user_id, guild_id):
            entry = _row(obj, fields)
            if isinstance(obj, HeldPost):
                entry["content"] = _content(obj.payload)
            out[key].append(entry)
    return out


async def _posts(session: AsyncSession, user_id: int, guild_id: int | None) -> list[dict[str, Any]]:
    rows = await _rows(session, Post.author_id, user_id, guild_id)
    return [_row(p, _POST_FIELDS) for p in sorted(rows, key=lambda p: p.id)]


async def _votes(session: AsyncSession, user_id: int, guild_id: int | None) -> list[dict[str, Any]]:
    stmt = (
        select(Vote, Post)
        .join(Post, Post.id == Vote.post_id)
        .where(*members_rows(Vote.user_id, user_id, guild_id))
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
    members = {m.guild_id: m for m in await _rows(session, Member.user_id, user_id, guild_id)}
    guilds = set(members)
    voted = select(Vote.guild_id).where(*members_rows(Vote.user_id, user_id, guild_id))
    authored = select(Post.guild_id).where(*members_rows(Post.author_id, user_id, guild_id))
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
            .where(ThreadPseudonym.author_id == user_id, *in_scope(Post.guild_id, guild_id))
            .order_by(ThreadPseudonym.question_id)
        )
    ).all()
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
        **await _sections(session, user_id, guild_id),
    }
