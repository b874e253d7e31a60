"""A generated community whose health figures are known: the questions and answers of one
guild, inserted straight into ``posts``, and the figures computed from the same specs in plain
Python (``expected``), independently of the SQL under test.

Shared by the domain tests (``tests/bot/forum/test_health_stats.py``), the end-to-end
``/mod stats`` test, the chart test, the benchmark's reference and ``docs/stats-chart.png``.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.models import Post

NOW = datetime(2030, 3, 4, 12, 0, tzinfo=UTC)
CATEGORIES = ("Sleep", "Anxiety", "Work")


@dataclass(frozen=True, slots=True)
class AnswerSpec:
    after: timedelta
    score: int
    author: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    at: datetime
    author: int
    category: str | None
    answers: list[AnswerSpec] = field(default_factory=list)
    accepted: int | None = None  # index into answers
    anonymous: bool = False
    removed: bool = False
    title: str = ""


def generated(seed: int = 25, *, weeks: int = 12, now: datetime = NOW) -> list[QuestionSpec]:
    """A seeded community over ``weeks`` weeks before ``now`` (plus a few older questions): its
    volume grows, and "Work" is answered less and less in the later weeks."""
    rng = random.Random(seed)
    specs: list[QuestionSpec] = []
    start = now - timedelta(weeks=weeks)
    at = start - timedelta(days=3)
    for n in itertools.count():
        # Questions come faster as the weeks go by: the volume grows.
        share = (at - start) / (now - start)
        at += timedelta(minutes=rng.randint(100, 500) * (1.5 - min(max(share, 0.0), 1.0)))
        if at >= now - timedelta(minutes=5):
            break
        category = rng.choice([*CATEGORIES, None])
        late = at > start + (now - start) / 2
        neglected = category == "Work" and late
        answers = []
        for _ in range(0 if neglected and rng.random() < 0.7 else rng.choice([0, 1, 1, 2, 3, 4])):
            after = timedelta(minutes=rng.choice([3, 11, 45, 90, 600, 1500, 3000]))
            if at + after < now:
                answers.append(
                    AnswerSpec(
                        after,
                        rng.choice([-1, 0, 0, 1, 2]),
                        rng.randint(500, 540),
                        deleted=rng.random() < 0.05,
                    )
                )
        accepted = 0 if answers and not answers[0].deleted and rng.random() < 0.3 else None
        specs.append(
            QuestionSpec(
                at,
                author=rng.randint(100, 160),
                category=category,
                answers=answers,
                accepted=accepted,
                anonymous=rng.random() < 0.2,
                removed=rng.random() < 0.03,
                title=f"Question {n}",
            )
        )
    return specs


async def insert(
    sessionmaker: async_sessionmaker[AsyncSession],
    guild_id: int,
    specs: list[QuestionSpec],
    *,
    forum_id: int | None = None,
    thread_ids: itertools.count[int] | None = None,
) -> list[int]:
    """Insert the community's posts; returns the questions' ids in ``specs`` order."""
    threads = thread_ids or itertools.count(10**12 * (1 + guild_id % 10**6))
    ids: list[int] = []
    async with sessionmaker() as session, session.begin():
        for spec in specs:
            thread = next(threads)
            question = _post(
                guild_id,
                "question",
                spec.author,
                spec.at,
                forum_id=forum_id,
                thread_id=thread,
                message_id=thread,
                title=spec.title or "Question",
                category=spec.category,
                anonymous=spec.anonymous,
                answer_count=sum(not a.deleted for a in spec.answers),
                status="open" if not any(not a.deleted for a in spec.answers) else "answered",
                removed_at=spec.at if spec.removed else None,
            )
            session.add(question)
            await session.flush()
            rows = [
                _post(
                    guild_id,
                    "answer",
                    a.author,
                    spec.at + a.after,
                    question_id=question.id,
                    parent_id=question.id,
                    thread_id=thread,
                    score=a.score,
                    deleted_at=spec.at + a.after if a.deleted else None,
                )
                for a in spec.answers
            ]
            session.add_all(rows)
            await session.flush()
            if spec.accepted is not None:
                question.accepted_answer_id = rows[spec.accepted].id
                question.status = "solved"
            ids.append(question.id)
    return ids


def _post(guild_id: int, kind: str, author: int, at: datetime, **values: Any) -> Post:
    return Post(
        guild_id=guild_id,
        kind=kind,
        author_id=author,
        created_at=at,
        updated_at=at,
        last_activity_at=at,
        body="text",
        **values,
    )


@dataclass(frozen=True, slots=True)
class Expected:
    questions: int
    answered: int
    answered_24h: int
    answers: int
    accepted: int
    askers: int
    answerers: int
    median_seconds: float | None
    p90_seconds: float | None


def expected(specs: list[QuestionSpec], starts: datetime, ends: datetime) -> Expected:
    """The figures of ``[starts, ends)`` computed from the specs in plain Python."""
    asked = [s for s in specs if starts <= s.at < ends and not s.removed]
    delays: list[float] = []
    answered = day = answers = accepted = 0
    for spec in asked:
        live = [a for a in spec.answers if not a.deleted]
        answers += len(live)
        accepted += spec.accepted is not None
        answered += spec.accepted is not None or any(a.score > 0 for a in live)
        if live:
            first = min(a.after for a in live).total_seconds()
            delays.append(first)
            day += first <= 86_400
    answerers = {
        a.author
        for s in specs
        for a in s.answers
        if not a.deleted and starts <= s.at + a.after < ends
    }
    ordered = sorted(delays)
    return Expected(
        questions=len(asked),
        answered=answered,
        answered_24h=day,
        answers=answers,
        accepted=accepted,
        askers=len({s.author for s in asked}),
        answerers=len(answerers),
        median_seconds=statistics.median(ordered) if ordered else None,
        p90_seconds=ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None,
    )
