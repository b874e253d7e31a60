"""The point rules, defined once as pure functions of a guild's posts and votes.

The rules (Q2A's defaults, each a per-guild setting in ``GuildConfig``):

* A live question earns its author ``points_ask``; a live answer ``points_answer``. Comments earn
  nothing and their votes count nothing. A post is *live* when it was posted (not a pending row)
  and is neither deleted nor removed (hidden by a moderator or by reports); an answer or comment
  of a question that is not live is not live either.
* A vote's value is ``up - down`` (both flags set = 0). A vote *counts* when the post is live,
  its question is not closed, the post is an answer (or a question while ``question_voting``
  is on), and the voter is not the author. On an anonymous post the author's own vote counts
  in the post's public score but earns the post nothing (DESIGN.md section 5).
* Vote points per post, capped per post and per direction as Q2A does:
  ``min(ups * per_up, cap_up) - min(downs * per_down, cap_down)``, i.e. on a question at most
  +100 from up votes and at most -30 from down votes, on an answer +200 and -50.
* ``points_vote_cast`` goes to the voter for each counting vote (0 by default), and for the
  anonymous author's own vote on their anonymous post too, to their public points, exactly as
  anyone's reaction: no public number behaves differently for the author.
* The accepted answer (live, of a live question) earns its author ``points_accepted`` and the
  asker ``points_accepting`` - whoever clicked accept. Accepting an answer you wrote yourself is
  refused (``bot.forum.acceptance``), so an accept is between two members and pays both sides,
  each side's share by that post's own rule (an anonymous side's privately); only a moderator's
  accept can join an asker to their own (anonymous) answer, and it pays the same, so no public
  figure differs from the two-member case.
* What an anonymous post earns goes to its author's ``anon_points``, never ``points``, and it
  counts in no public counter (questions, answers, accepted answers, votes received).

``contribution`` is what one post adds to its members' totals and to the cached counters;
``compute_points`` and ``compute_post_caches`` apply it to a whole guild. The same function
serves every event (``bot.forum.ledger``) and the full rebuild (``points.recompute_points``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.forum.results import COUNTER_FIELDS, Counters, PostKind, QuestionStatus, VoteValue
from bot.forum.settings import GuildConfig

# --------------------------------------------------------------------------- facts and totals


@dataclass(frozen=True, slots=True)
class PostFacts:
    """What the rules need to know about a post."""

    id: int
    kind: PostKind
    author_id: int = field(repr=False)
    anonymous: bool
    # Posted (not pending), not deleted and not removed by a moderator.
    live: bool
    question_id: int | None = None
    # Questions only: closed now, and the accepted answer.
    closed: bool = False
    accepted_answer_id: int | None = None


@dataclass(frozen=True, slots=True)
class VoteFacts(VoteValue):
    post_id: int
    user_id: int
    up: bool
    down: bool


@dataclass(frozen=True, slots=True)
class Totals(Counters):
    """A member's points and counters (or a difference of them), to add up."""

    @classmethod
    def of(cls, row: Any) -> Totals:
        """The counters of anything that has them as attributes (a ``members`` row)."""
        return Totals(**{n: getattr(row, n) for n in TOTAL_FIELDS})

    def __add__(self, other: Totals) -> Totals:
        return Totals(**{n: getattr(self, n) + getattr(other, n) for n in TOTAL_FIELDS})

    def __sub__(self, other: Totals) -> Totals:
        return Totals(**{n: getattr(self, n) - getattr(other, n) for n in TOTAL_FIELDS})

    def __bool__(self) -> bool:
        return any(getattr(self, n) for n in TOTAL_FIELDS)

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in TOTAL_FIELDS}


TOTAL_FIELDS = COUNTER_FIELDS
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
            if own and not post.anonymous:
                continue
            score += value
            upvotes += value > 0
            downvotes += value < 0
            if config.points_vote_cast:
                members[vote.user_id] += Totals(points=config.points_vote_cast)
            if own:
                continue
            ups += value > 0
            downs += value < 0

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

    if post.kind == "answer" and question.accepted_answer_id == post.id:
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


def votes_by_post(votes: Iterable[VoteFacts]) -> dict[int, list[VoteFacts]]:
    by_post: dict[int, list[VoteFacts]] = defaultdict(list)
    for vote in votes:
        by_post[vote.post_id].append(vote)
    return by_post


def _contributions(
    config: GuildConfig, posts: Iterable[PostFacts], votes: Iterable[VoteFacts]
) -> tuple[dict[int, PostFacts], dict[int, Contribution]]:
    by_id = {post.id: post for post in posts}
    by_post = votes_by_post(votes)
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


def member_breakdown(
    config: GuildConfig, posts: Iterable[PostFacts], votes: Iterable[VoteFacts], user_id: int
) -> dict[int, Totals]:
    """What each post of a guild adds to one member (posts adding nothing left out): how
    their points were earned, post by post."""
    _, contributions = _contributions(config, posts, votes)
    return {
        post_id: contrib.members[user_id]
        for post_id, contrib in sorted(contributions.items())
        if user_id in contrib.members
    }


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
