"""Plain results the domain hands to cogs: frozen dataclasses, never ORM objects.

``author_id`` is kept out of every ``repr`` so that logging a result can never reveal who wrote
an anonymous post (DESIGN.md section 5); read the attribute when a DM or a permission needs it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Generic, Literal, Self, TypeVar, cast, overload

from bot.db.models import Post

PostKind = Literal["question", "answer", "comment"]
QuestionStatus = Literal["open", "answered", "solved", "closed"]
PostState = Literal["pending", "live"]

S = TypeVar("S")
T = TypeVar("T")


class Derived(ABC, Generic[T]):
    """A read-only attribute of a result computed from its attribute ``source``, declared in a
    line (``closed = IsSet("closed_at")``) rather than a property each."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    @overload
    def __get__(self, instance: None, owner: type[object]) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type[object] | None = None) -> T: ...
    def __get__(self, instance: object, owner: type[object] | None = None) -> Self | T:
        return self if instance is None else self.value(instance)

    @abstractmethod
    def value(self, instance: Any) -> T:
        """The attribute's value on ``instance``."""


class IsSet(Derived[bool]):
    """Whether the attribute ``source`` is set (not None)."""

    __slots__ = ()

    def value(self, instance: object) -> bool:
        return getattr(instance, self.source) is not None


@dataclass(frozen=True, slots=True)
class PostSnapshot:
    """A question, answer or comment as stored (a snapshot taken inside the transaction)."""

    id: int
    guild_id: int
    kind: PostKind
    question_id: int | None
    parent_id: int | None
    thread_id: int | None
    message_id: int | None
    status_message_id: int | None
    author_id: int = field(repr=False)
    anonymous: bool
    via_bot: bool
    display_name: str | None
    title: str | None
    body: str
    category: str | None
    status: QuestionStatus
    state: PostState
    closed_reason: str | None
    closed_by_moderator: bool
    duplicate_of_id: int | None
    accepted_answer_id: int | None
    score: int
    upvotes: int
    downvotes: int
    answer_count: int
    created_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None
    # A moderator's removal (restorable for a while); the remover and reason stay in the domain.
    removed_at: datetime | None = None

    deleted = IsSet("deleted_at")
    removed = IsSet("removed_at")
    closed = IsSet("closed_at")
    solved = IsSet("accepted_answer_id")

    @property
    def live(self) -> bool:
        """Posted on Discord (not a pending row), not deleted and not removed."""
        return self.state == "live" and self.deleted_at is None and self.removed_at is None

    @property
    def question_ref(self) -> int:
        """The id of the question this post belongs to (its own id for a question)."""
        return self.id if self.question_id is None else self.question_id


class VoteValue:
    """A vote's worth from its flags: +1 up, -1 down, 0 for both (they cancel out) or none."""

    __slots__ = ()
    up: bool
    down: bool

    @property
    def value(self) -> int:
        return int(self.up) - int(self.down)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionLine:
    """What a list of questions shows of each (a listing, a search): its line and its link."""

    thread_id: int | None
    message_id: int | None
    title: str
    score: int
    answer_count: int
    status: QuestionStatus
    # An accepted answer exists (``status`` says "closed" while a solved question is closed).
    solved: bool = False

    @property
    def closed(self) -> bool:
        return self.status == "closed"


def snapshot_of(cls: type[S], row: object, **given: Any) -> S:
    """A frozen snapshot ``cls`` of an ORM row, taken inside the transaction: each field is read
    from the row's attribute of the same name, unless it is ``given``."""
    taken = {f.name: getattr(row, f.name) for f in fields(cast(Any, cls)) if f.name not in given}
    return cls(**taken, **given)


def post_snapshot(row: Post) -> PostSnapshot:
    """Snapshot an ORM row into a ``PostSnapshot`` (call before the session closes)."""
    return snapshot_of(PostSnapshot, row)


@dataclass(frozen=True, slots=True)
class OnPost:
    """The outcome of an operation on a post: the post, and its question after the operation
    (the post itself for a question), so the caller can refresh the status line."""

    post: PostSnapshot
    question: PostSnapshot


@dataclass(frozen=True, slots=True)
class PostChange(OnPost):
    """The outcome of creating, editing, deleting, closing or reopening a post.

    ``created`` is False when the event was a repeat (the existing post is returned);
    ``changed`` is False when nothing was written at all. ``author_named`` is True when the
    author's display name was stored in the same transaction (``posts.name_author``).
    """

    created: bool = False
    changed: bool = True
    author_named: bool = False


@dataclass(frozen=True, slots=True)
class VoteResult(OnPost, VoteValue):
    """A member's vote on a post after a gesture.

    ``up``/``down`` are the stored flags; ``counted`` says whether the vote counts at the moment
    (not a self-vote, post live, question not closed, voting allowed on this kind of post).
    """

    up: bool
    down: bool
    counted: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class ReconcileResult(OnPost):
    """A post's votes set to exactly what Discord shows; ``changed`` counts rewritten votes."""

    changed: int


@dataclass(frozen=True, slots=True)
class AcceptResult:
    """A question's acceptance after accept/unaccept.

    ``answer`` is the accepted answer now (None after unaccepting); ``previous_answer_id`` the
    answer that was accepted before (to edit its message), None when there was none.
    """

    question: PostSnapshot
    answer: PostSnapshot | None
    previous_answer_id: int | None
    changed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    """A member's points and counters, as ``members`` caches them.

    ``points`` is public and earned (add ``GuildConfig.points_base`` to show it); ``anon_points``
    is what anonymous posts earned, shown only to the member themself.
    """

    points: int = 0
    anon_points: int = 0
    questions: int = 0
    answers: int = 0
    accepted_answers: int = 0
    upvotes_received: int = 0
    downvotes_received: int = 0


#: The names of ``Counters``' fields: the cached columns of ``members`` too.
COUNTER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counters))


@dataclass(frozen=True, slots=True)
class MemberPoints(Counters):
    """A member's cached points and counters in a guild."""

    guild_id: int
    user_id: int


@dataclass(frozen=True, slots=True)
class RecomputeResult:
    """What ``recompute_points`` had to fix (0 and 0 when every cache was right)."""

    guild_id: int
    members_fixed: int
    posts_fixed: int


@dataclass(frozen=True, slots=True)
class PointsAudit:
    """Cached points compared with a recomputation (``points.audit_points``): how many guilds and
    members were checked, how many members' totals and posts' caches differ."""

    guilds: int
    members: int
    members_off: int
    posts_off: int
