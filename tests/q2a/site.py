"""A generated Question2Answer site, written into Q2A's own tables, and what it implies.

``generate`` makes a small site from a seed with everything the import must carry: nested
categories, named and anonymous posts (Q2A's ``name``), hidden and queued questions, answers
and comments, closed questions (a closing note) and duplicates, selected answers, up and down
votes, flags, HTML and plain-text content, view counts, edit dates, e-mail addresses and IP
addresses (which must never reach qa-bot) and a user deleted after taking part (Q2A's foreign
keys then set their posts' user to NULL and drop their votes). ``write`` inserts it with plain
SQL; ``expected_points`` says what qa-bot's default rules make of it (an oracle written from
DESIGN.md's rules, independent of the import code).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.q2a.schema import create_statements, drop_statements

EPOCH = datetime(2019, 3, 1, 9, 0, 0)
HANDLES = ("alice", "bob", "carol", "dave", "erin", "frank")
DELETED = 5  # erin
ANON_NAMES = ("Worried parent", None, "Night owl")


def email_of(handle: str) -> str:
    return f"{handle}.private@mail.example"


def ip_of(n: int) -> str:
    return f"198.51.100.{n}"


@dataclass
class QPost:
    id: int
    type: str
    parent: int | None
    user: int | None
    created: datetime
    title: str | None = None
    content: str = ""
    format: str = ""
    category: int | None = None
    selected: int | None = None
    closed_by: int | None = None
    name: str | None = None
    views: int = 0
    updated: datetime | None = None

    @property
    def kind(self) -> str:
        return self.type[0] if self.type != "NOTE" else "NOTE"

    @property
    def visible(self) -> bool:
        return self.type in ("Q", "A", "C")


@dataclass
class Site:
    posts: dict[int, QPost] = field(default_factory=dict)
    votes: dict[tuple[int, int], int] = field(default_factory=dict)  # (post, user) -> +1/-1
    flags: set[tuple[int, int]] = field(default_factory=set)
    categories: list[tuple[int, int | None, str, int]] = field(default_factory=list)
    next_id: int = 1

    def add(self, **fields: Any) -> QPost:
        post = QPost(id=self.next_id, **fields)
        self.posts[post.id] = post
        self.next_id += 1
        return post

    def question_of(self, post: QPost) -> QPost:
        while post.kind != "Q":
            assert post.parent is not None
            post = self.posts[post.parent]
        return post

    def user_of(self, post_id: int) -> int | None:
        """The post's user as Q2A has it after the deletion (NULL for the deleted user)."""
        user = self.posts[post_id].user
        return None if user == DELETED else user

    def live_votes(self) -> dict[tuple[int, int], int]:
        return {k: v for k, v in self.votes.items() if k[1] != DELETED}


def generate(seed: int = 7, questions: int = 14) -> Site:
    rng = random.Random(seed)
    site = Site()
    site.categories = [
        (1, None, "Anxiety", 1),
        (2, None, "Sleep", 2),
        (3, None, "General", 3),
        (4, 2, "Insomnia", 1),
        (5, 4, "Early waking", 1),
    ]
    day = timedelta(days=1)
    for n in range(questions):
        created = EPOCH + n * day
        user: int | None = rng.choice([1, 2, 3, 4, 5, 6, None])
        question = site.add(
            type="Q_HIDDEN" if n == 3 else "Q_QUEUED" if n == 9 else "Q",
            parent=None,
            user=user,
            created=created,
            title=f"Question {n}: how do I cope?",
            content=(
                f"<p>Question <strong>{n}</strong> body</p><ul><li>point</li></ul>"
                if n % 2
                else f"Question {n} in *plain* text"
            ),
            format="html" if n % 2 else "",
            category=rng.choice([1, 2, 3, 4, 5, None]),
            name=rng.choice(ANON_NAMES) if user is None else None,
            views=rng.randint(0, 500),
            updated=created + timedelta(hours=5) if n % 3 == 0 else None,
        )
        answers = []
        for k in range(rng.randint(0, 3)):
            a_user: int | None = rng.choice([1, 2, 3, 4, 5, 6, None])
            a_type = "A_QUEUED" if (n, k) == (5, 0) else "A"
            answer = site.add(
                type=a_type,
                parent=question.id,
                user=a_user,
                created=created + timedelta(hours=k + 1),
                content=f"<p>Answer {k} to {n}</p>" if k % 2 else f"Answer {k} to {n}",
                format="html" if k % 2 else "",
                name="Helper" if a_user is None else None,
            )
            answers.append(answer)
            if rng.random() < 0.5:
                site.add(
                    type="C",
                    parent=answer.id,
                    user=rng.choice([1, 2, 3, 4, 6]),
                    created=answer.created + timedelta(minutes=30),
                    content=f"Comment on answer {k} of {n}",
                )
        if rng.random() < 0.3:
            site.add(
                type="C",
                parent=question.id,
                user=rng.choice([1, 2, 3, 4, 6]),
                created=created + timedelta(minutes=10),
                content=f"Comment on question {n}",
            )
        eligible = [
            a for a in answers if a.type == "A" and (a.user is None or a.user != question.user)
        ]
        if eligible and n % 2 == 0:
            question.selected = rng.choice(eligible).id
        voters = [1, 2, 3, 4, 5, 6]
        for post in (question, *answers):
            for voter in rng.sample(voters, rng.randint(0, 4)):
                if voter != post.user:
                    site.votes[(post.id, voter)] = rng.choice([1, 1, 1, -1])
            if rng.random() < 0.2:
                flagger = rng.choice([v for v in voters if v != post.user and v != DELETED])
                site.flags.add((post.id, flagger))
    # One of each kind hidden or queued, whatever the draw.
    selected = {p.selected for p in site.posts.values()}
    next(p for p in site.posts.values() if p.type == "A" and p.id not in selected).type = "A_HIDDEN"
    comments = [p for p in site.posts.values() if p.type == "C"]
    comments[0].type, comments[1].type = "C_HIDDEN", "C_QUEUED"
    # Closed with a note, and closed as a duplicate of an earlier question.
    qs = [p for p in site.posts.values() if p.type == "Q"]
    note = site.add(
        type="NOTE",
        parent=qs[1].id,
        user=2,
        created=qs[1].created + timedelta(days=2),
        content="Closed: <em>off topic</em> here",
        format="html",
    )
    qs[1].closed_by = note.id
    qs[-1].closed_by = qs[0].id
    _fixed_scenarios(site, qs)
    return site


def _fixed_scenarios(site: Site, qs: list[QPost]) -> None:
    """For linking carol (3) to alice's member: both vote on one post (collapse to one), and
    carol votes on a post of alice's (a self-vote once linked)."""
    target = next(p for p in qs[2:-1] if p.user not in (1, 3, None, DELETED))
    site.votes[(target.id, 1)] = 1
    site.votes[(target.id, 3)] = -1
    own = next(p for p in qs[2:-1] if p.user == 1) if any(p.user == 1 for p in qs[2:-1]) else None
    if own is None:
        own = qs[2]
        own.user = 1
        own.name = None
    site.votes[(own.id, 3)] = 1
    site.votes.pop((own.id, 1), None)
    anonymous = next(p for p in qs[3:-1] if p not in (target, own))
    anonymous.user, anonymous.name = None, "Worried parent"


async def write(url: str, site: Site) -> None:
    """Create Q2A's tables and fill them with ``site``; then delete user erin as Q2A does."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET sql_notes = 0"))  # no warning per table not there
            for statement in drop_statements():
                await conn.execute(text(statement))
            for statement in create_statements():
                await conn.execute(text(statement))
            for n, handle in enumerate(HANDLES, start=1):
                await conn.execute(
                    text(
                        "INSERT INTO qa_users (userid, created, createip, email, handle, level, "
                        "loggedin, loginip, writeip) VALUES (:id, :t, INET6_ATON(:ip), :email, "
                        ":handle, 0, :t, INET6_ATON(:ip), INET6_ATON(:ip))"
                    ),
                    {
                        "id": n,
                        "t": EPOCH,
                        "ip": ip_of(n),
                        "email": email_of(handle),
                        "handle": handle,
                    },
                )
                await conn.execute(
                    text(
                        "INSERT INTO qa_userpoints (userid, points, bonus, aupvotes) "
                        "VALUES (:id, :points, :bonus, 2)"
                    ),
                    {"id": n, "points": 100 + 37 * n, "bonus": 50 if n == 2 else 0},
                )
            for cat_id, parent, title, position in site.categories:
                await conn.execute(
                    text(
                        "INSERT INTO qa_categories (categoryid, parentid, title, tags, position) "
                        "VALUES (:id, :parent, :title, :slug, :pos)"
                    ),
                    {
                        "id": cat_id,
                        "parent": parent,
                        "title": title,
                        "slug": title.lower().replace(" ", "-"),
                        "pos": position,
                    },
                )
            for post in site.posts.values():
                await conn.execute(
                    text(
                        "INSERT INTO qa_posts (postid, type, parentid, categoryid, userid, "
                        "createip, lastip, views, format, created, updated, title, content, "
                        "name, notify) VALUES (:id, :type, :parent, :cat, :user, INET6_ATON(:ip), "
                        "INET6_ATON(:ip), :views, :format, :created, :updated, :title, "
                        ":content, :name, :notify)"
                    ),
                    {
                        "id": post.id,
                        "type": post.type,
                        "parent": post.parent,
                        "cat": post.category,
                        "user": post.user,
                        "ip": ip_of(100 + post.id % 50),
                        "views": post.views,
                        "format": post.format,
                        "created": post.created,
                        "updated": post.updated,
                        "title": post.title,
                        "content": post.content,
                        "name": post.name,
                        "notify": email_of(HANDLES[post.user - 1]) if post.user else None,
                    },
                )
            for post in site.posts.values():
                if post.selected or post.closed_by:
                    await conn.execute(
                        text(
                            "UPDATE qa_posts SET selchildid = :s, closedbyid = :c "
                            "WHERE postid = :id"
                        ),
                        {"s": post.selected, "c": post.closed_by, "id": post.id},
                    )
            for (post_id, user), vote in site.votes.items():
                await conn.execute(
                    text(
                        "INSERT INTO qa_uservotes (postid, userid, vote, flag) "
                        "VALUES (:p, :u, :v, :f)"
                    ),
                    {"p": post_id, "u": user, "v": vote, "f": int((post_id, user) in site.flags)},
                )
            for post_id, user in site.flags - site.votes.keys():
                await conn.execute(
                    text(
                        "INSERT INTO qa_uservotes (postid, userid, vote, flag) "
                        "VALUES (:p, :u, 0, 1)"
                    ),
                    {"p": post_id, "u": user},
                )
            await conn.execute(text("DELETE FROM qa_users WHERE userid = :id"), {"id": DELETED})
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Rules:
    """qa-bot's default point rules (DESIGN.md section 3)."""

    ask: int = 20
    answer: int = 40
    q_up: int = 10
    q_down: int = 10
    q_cap_up: int = 100
    q_cap_down: int = 30
    a_up: int = 20
    a_down: int = 20
    a_cap_up: int = 200
    a_cap_down: int = 50
    accepted: int = 300
    accepting: int = 30


def _alive(site: Site, post: QPost) -> bool:
    return post.visible and site.question_of(post).visible


def expected_scores(site: Site, identity: Mapping[int, object] | None = None) -> dict[int, int]:
    """Each imported question's and answer's score by Q2A id, under qa-bot's rules."""
    scores: dict[int, int] = {}
    for post_id, votes in _votes_by_post(site, identity).items():
        post = site.posts[post_id]
        counts = _alive(site, post) and site.question_of(post).closed_by is None
        scores[post_id] = sum(votes.values()) if counts and post.kind in "QA" else 0
    return scores


def _votes_by_post(
    site: Site, identity: Mapping[int, object] | None
) -> dict[int, dict[object, int]]:
    """Votes per post and voter identity: the member a user is (``identity``), collapsing two
    users who are one member (the first vote in user order stays) and dropping self-votes."""
    who = dict(identity or {})
    by_post: dict[int, dict[object, int]] = defaultdict(dict)
    for (post_id, user), vote in sorted(site.live_votes().items()):
        voter = who.get(user, user)
        author = site.user_of(post_id)
        if author is not None and who.get(author, author) == voter:
            continue
        by_post[post_id].setdefault(voter, vote)
    return by_post


def expected_points(
    site: Site, identity: Mapping[int, object] | None = None, rules: Rules = Rules()
) -> dict[object, int]:
    """Each named author's earned points (public, base excluded) by identity."""
    who = dict(identity or {})
    points: dict[object, int] = defaultdict(int)
    votes = _votes_by_post(site, identity)
    for post in site.posts.values():
        user = site.user_of(post.id)
        if post.kind not in "QA" or not _alive(site, post):
            continue
        question = site.question_of(post)
        asker = site.user_of(question.id)
        if post.kind == "A" and question.selected == post.id and asker is not None:
            points[who.get(asker, asker)] += rules.accepting
        if user is None:
            continue
        me = who.get(user, user)
        earned = rules.ask if post.kind == "Q" else rules.answer
        if question.closed_by is None:
            ups = sum(v > 0 for v in votes.get(post.id, {}).values())
            downs = sum(v < 0 for v in votes.get(post.id, {}).values())
            if post.kind == "Q":
                earned += min(ups * rules.q_up, rules.q_cap_up) - min(
                    downs * rules.q_down, rules.q_cap_down
                )
            else:
                earned += min(ups * rules.a_up, rules.a_cap_up) - min(
                    downs * rules.a_down, rules.a_cap_down
                )
        points[me] += earned
        if post.kind == "A" and question.selected == post.id:
            points[me] += rules.accepted
    return dict(points)
