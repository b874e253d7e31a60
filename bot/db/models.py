"""ORM models: the data model of DESIGN.md section 2.

One ``posts`` table holds questions, answers and comments, like Q2A. Votes are state per
(post, user), never increments. ``members`` caches points that a recomputation from ``posts`` and
``votes`` must always reproduce. ``notifications`` is the DM outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.archive import ArchivePref as ArchivePref  # re-exported, like Base
from bot.db.base import Base as Base  # re-exported: the models' users import it from here
from bot.db.base import (
    Counter,
    GuildRecord,
    NowOnInsert,
    NowOnWrite,
    OffByDefault,
    PostKey,
    PostRecord,
    Snowflake,
    SnowflakeKey,
)
from bot.db.types import DATED_ONLY

POST_KINDS = ("question", "answer", "comment")
QUESTION_STATUSES = ("open", "answered", "solved", "closed")
POST_STATES = ("pending", "live")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed", "undeliverable", "cancelled")


class GuildSetting(Base):
    """One per-guild override of a typed default (``bot.forum.settings``); JSON value."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[SnowflakeKey]
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[NowOnWrite]


class Category(GuildRecord, Base):
    """A guild's question category; each is a tag of the guild's Q&A forum."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("guild_id", "name", name="uq_categories_guild_name"),)

    name: Mapped[str] = mapped_column(String(100))
    tag_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Chosen for the public archive (``bot.forum.publishing``): its questions may be published.
    archived: Mapped[OffByDefault]
    created_at: Mapped[NowOnInsert]


class Post(GuildRecord, Base):
    """A question, answer or comment; at most one row per Discord message."""

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("kind IN ('question', 'answer', 'comment')", name="kind"),
        CheckConstraint("status IN ('open', 'answered', 'solved', 'closed')", name="status"),
        CheckConstraint("state IN ('pending', 'live')", name="state"),
        CheckConstraint("answer_count >= 0", name="answer_count_nonnegative"),
        # Question by thread; answers of a question by score; unanswered questions of a guild.
        Index("ix_posts_thread_kind", "thread_id", "kind"),
        Index("ix_posts_question_score", "question_id", "kind", "score"),
        Index(
            "ix_posts_unanswered",
            "guild_id",
            "created_at",
            postgresql_where=text(
                "kind = 'question' AND answer_count = 0 AND status = 'open' AND deleted_at IS NULL"
            ),
            sqlite_where=text(
                "kind = 'question' AND answer_count = 0 AND status = 'open' AND deleted_at IS NULL"
            ),
        ),
        Index("ix_posts_guild_author", "guild_id", "author_id"),
        Index("ix_posts_guild_kind_activity", "guild_id", "kind", "last_activity_at"),
        Index("ix_posts_guild_kind_created", "guild_id", "kind", "created_at", **DATED_ONLY),
    )

    kind: Mapped[str] = mapped_column(String(16))
    # The question an answer or comment belongs to (NULL for questions).
    question_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # The post a comment comments on (the question or an answer); for answers the question.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    thread_id: Mapped[Snowflake | None]
    # The forum channel the question's thread lives in: reads show a member only the questions
    # of forums they can view.
    forum_id: Mapped[Snowflake | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # The message showing the status line: the starter (/ask) or the bot's first reply (native).
    status_message_id: Mapped[Snowflake | None]
    author_id: Mapped[Snowflake]
    anonymous: Mapped[OffByDefault]
    # Posted by the bot on the author's behalf (/ask, /answer, /reply): the message is the bot's.
    via_bot: Mapped[OffByDefault]
    display_name: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="open")
    state: Mapped[str] = mapped_column(String(16), default="live")
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_by_moderator: Mapped[OffByDefault]
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    # One accepted answer per question, by construction: a single column.
    accepted_answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL")
    )
    score: Mapped[Counter]
    upvotes: Mapped[Counter]
    downvotes: Mapped[Counter]
    answer_count: Mapped[Counter]
    # Reconciliation: the newest thread message id the bot has processed.
    last_seen_message_id: Mapped[Snowflake | None]
    created_at: Mapped[NowOnInsert]
    updated_at: Mapped[NowOnWrite]
    last_activity_at: Mapped[NowOnInsert]
    closed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # A moderator's removal: hidden everywhere, restorable within the restore window.
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[Snowflake | None]
    removal_reason: Mapped[str | None] = mapped_column(Text)
    # The author's own archive choice for this post: True, False, or None (their default holds).
    publish_consent: Mapped[bool | None] = mapped_column(Boolean)


class Vote(PostRecord, Base):
    """A member's vote on a post: state (up flag, down flag), value = up - down."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_guild_user", "guild_id", "user_id"),)

    user_id: Mapped[SnowflakeKey]
    guild_id: Mapped[Snowflake]
    up: Mapped[OffByDefault]
    down: Mapped[OffByDefault]
    updated_at: Mapped[NowOnWrite]


class Member(Base):
    """Cached points and counters of a member in a guild (a recomputation must agree)."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_guild_points", "guild_id", "points"),)

    guild_id: Mapped[SnowflakeKey]
    user_id: Mapped[SnowflakeKey]
    # Public points earned (the guild's starting points are added when shown).
    points: Mapped[Counter]
    # Points earned through anonymous posts: the author's alone, in no public total.
    anon_points: Mapped[Counter]
    questions: Mapped[Counter]
    answers: Mapped[Counter]
    accepted_answers: Mapped[Counter]
    upvotes_received: Mapped[Counter]
    downvotes_received: Mapped[Counter]
    display_name: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[NowOnWrite]


class Notification(GuildRecord, Base):
    """The DM outbox: written in the same transaction as the event that causes it."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'undeliverable', 'cancelled')",
            name="status",
        ),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_recipient_question", "recipient_id", "question_id"),
    )

    recipient_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[Counter]
    next_attempt_at: Mapped[NowOnInsert]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_message_id: Mapped[Snowflake | None]
    created_at: Mapped[NowOnInsert]
    sent_at: Mapped[datetime | None]


class Follow(Base):
    """A member following a question (new answers DM them)."""

    __tablename__ = "follows"

    question_id: Mapped[PostKey]
    user_id: Mapped[SnowflakeKey]
    guild_id: Mapped[Snowflake]
    created_at: Mapped[NowOnInsert]


class ThreadPseudonym(Base):
    """An anonymous author's pseudonym in one question thread, "Member <number>": numbered in
    order of their first anonymous post there (``bot.forum.pseudonyms``), never from their id."""

    __tablename__ = "thread_pseudonyms"
    __table_args__ = (
        UniqueConstraint("question_id", "number", name="uq_thread_pseudonyms_question_number"),
    )

    question_id: Mapped[PostKey]
    author_id: Mapped[SnowflakeKey]
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[NowOnInsert]


class UserPref(Base):
    """A user's own preferences and markers, across guilds (DMs are per user)."""

    __tablename__ = "user_prefs"

    user_id: Mapped[SnowflakeKey]
    notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    dms_closed_at: Mapped[datetime | None]
    dm_channel_id: Mapped[Snowflake | None]
    # Erased members leave a marker: their reactions count nothing afterwards.
    erased_at: Mapped[datetime | None]
    # Opted in to receive the server's safety resources by DM (never sent unasked otherwise).
    resources_dm: Mapped[OffByDefault]
    # What a DM shows: 'full', 'no-text' or 'minimal' (``bot.forum.prefs.DM_PREVIEWS``).
    dm_preview: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    updated_at: Mapped[NowOnWrite]


class Flag(GuildRecord, Base):
    """A member's report of a post to the moderators. One open report per member and post; a
    dismissed or actioned one leaves room for a new report."""

    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'dismissed', 'actioned')", name="status"),
        Index(
            "uq_flags_open_post_reporter",
            "post_id",
            "reporter_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_flags_guild_status", "guild_id", "status"),
    )

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    reporter_id: Mapped[Snowflake]
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[NowOnInsert]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[Snowflake | None]


class ReportCard(PostRecord, Base):
    """The message in the moderator channel that gathers the open reports of one post."""

    __tablename__ = "report_cards"

    guild_id: Mapped[Snowflake]
    channel_id: Mapped[Snowflake]
    message_id: Mapped[Snowflake | None]
    created_at: Mapped[NowOnInsert]
    updated_at: Mapped[NowOnWrite]


class ModAction(GuildRecord, Base):
    """The audit trail: one row per moderator action (remove, restore, block, unblock, approve,
    reject, dismiss, close, setting). It names the moderator and the post, never the author of
    an anonymous post; ``post_id`` is no foreign key, so the trail outlives a purged post."""

    __tablename__ = "mod_actions"
    __table_args__ = (Index("ix_mod_actions_guild_id", "guild_id", "id"),)

    moderator_id: Mapped[Snowflake]
    action: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[int | None] = mapped_column(BigInteger)
    # The reason given, a setting's key, a block's scope and length: never the author.
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[NowOnInsert]


class MemberBlock(GuildRecord, Base):
    """A moderator's block of a member: from posting anonymously, or through the bot at all,
    until ``ends_at`` (NULL: until lifted). The block names the member to the bot only; a
    moderator acting through a post never learns who it was."""

    __tablename__ = "member_blocks"
    __table_args__ = (
        CheckConstraint("scope IN ('anonymous', 'all')", name="scope"),
        Index("ix_member_blocks_guild_user", "guild_id", "user_id"),
    )

    user_id: Mapped[Snowflake]
    scope: Mapped[str] = mapped_column(String(16))
    # The post the block was made through (the moderator's handle on the member).
    post_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[Snowflake]
    created_at: Mapped[NowOnInsert]
    ends_at: Mapped[datetime | None]
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[Snowflake | None]


class HeldPost(GuildRecord, Base):
    """A post the bot holds for pre-moderation: what /ask, /answer or /reply would publish,
    waiting in the moderator channel for Approve or Reject."""

    __tablename__ = "held_posts"
    __table_args__ = (
        CheckConstraint("kind IN ('question', 'answer', 'comment')", name="kind"),
        CheckConstraint("status IN ('waiting', 'approved', 'rejected')", name="status"),
        Index("ix_held_posts_guild_status", "guild_id", "status"),
    )

    author_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(16))
    # The question an answer or comment waits to join (NULL for a question).
    question_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    # What the post would publish (title, body, category, anonymous, display name...) as JSON.
    payload: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[OffByDefault]
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    card_channel_id: Mapped[Snowflake | None]
    card_message_id: Mapped[Snowflake | None]
    # The post it became once approved.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    created_at: Mapped[NowOnInsert]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[Snowflake | None]
    reason: Mapped[str] = mapped_column(Text, default="")


class AskDraft(GuildRecord, Base):
    """A question held by the similar-questions gate of /ask until the asker posts it anyway
    or cancels; it expires (15 minutes) and survives a restart."""

    __tablename__ = "ask_drafts"
    __table_args__ = (
        CheckConstraint("outcome IN ('posted', 'cancelled')", name="outcome"),
        Index("ix_ask_drafts_expires_at", "expires_at"),
    )

    user_id: Mapped[Snowflake]
    title: Mapped[str] = mapped_column(String(400))
    details: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(100))
    anonymous: Mapped[OffByDefault]
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[NowOnInsert]
    expires_at: Mapped[datetime]
    # Set once, when the asker posts it anyway ('posted') or cancels ('cancelled').
    consumed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class DepartedGuild(Base):
    """A server that removed the bot (or was missing from its shard's READY): its data is
    purged once the server's retention has passed, and the row deleted if the bot returns."""

    __tablename__ = "departed_guilds"

    guild_id: Mapped[SnowflakeKey]
    departed_at: Mapped[datetime]


class ReconcileRun(Base):
    """A server's last reconciliation run (``bot.forum.reconcile``): counts only."""

    __tablename__ = "reconcile_runs"

    guild_id: Mapped[SnowflakeKey]
    finished_at: Mapped[datetime]
    questions_scanned: Mapped[int] = mapped_column(Integer)
    messages_backfilled: Mapped[int] = mapped_column(Integer)
    votes_backfilled: Mapped[int] = mapped_column(Integer)
    requests_used: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    complete: Mapped[bool] = mapped_column(Boolean)


class ReconcileRepage(Base):
    """A question whose messages up to ``through_message_id`` await a re-page (edits, deletes)."""

    __tablename__ = "reconcile_repages"

    question_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    through_message_id: Mapped[Snowflake]
