"""Same-run baselines: the plainest code that commits the same rows, one transaction each.

* Votes (``sqlite3`` with WAL and ``synchronous=NORMAL``, or ``asyncpg`` on one connection): per
  gateway event, read the member's flags, upsert or delete the vote row, move the answer's
  counters and score, and move its author's points by the capped difference.
* Answers (``sqlite3``): per message, find the question by thread, insert the answer, bump the
  question's answer count, upsert the author's counters and points, insert the asker's outbox row.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.bench.burst import UP, Workload

GUILD = 1
PER_UP, CAP_UP, PER_DOWN, CAP_DOWN, PER_ANSWER = 20, 200, 20, 50, 40


@dataclass(frozen=True, slots=True)
class VoteEvent:
    post_id: int
    author_id: int
    user_id: int
    up_flag: bool  # the up emoji (else the down emoji)
    on: bool


def vote_events(workload: Workload, authors: Sequence[int]) -> list[VoteEvent]:
    """The gateway events of a workload (duplicates twice) on posts ``1..targets``."""
    out: list[VoteEvent] = []
    for g in workload.gestures:
        event = VoteEvent(g.target + 1, authors[g.target], g.voter + 1, g.emoji == UP, g.on)
        out.extend((event, event) if g.duplicate else (event,))
    return out


def _points(ups: int, downs: int) -> int:
    return min(ups * PER_UP, CAP_UP) - min(downs * PER_DOWN, CAP_DOWN)


VOTE_SCHEMA = (
    "CREATE TABLE posts (id BIGINT PRIMARY KEY, author_id BIGINT NOT NULL,"
    " score INTEGER NOT NULL DEFAULT 0, upvotes INTEGER NOT NULL DEFAULT 0,"
    " downvotes INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE votes (post_id BIGINT NOT NULL, user_id BIGINT NOT NULL,"
    " up BOOLEAN NOT NULL, down BOOLEAN NOT NULL, PRIMARY KEY (post_id, user_id))",
    "CREATE TABLE members (guild_id BIGINT NOT NULL, user_id BIGINT NOT NULL,"
    " points INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (guild_id, user_id))",
)


def _step(old: tuple[bool, bool], e: VoteEvent) -> tuple[bool, bool]:
    up, down = old
    return (e.on, down) if e.up_flag else (up, e.on)


def _moves(old: tuple[bool, bool], new: tuple[bool, bool]) -> tuple[int, int]:
    """How the post's up and down counts move (a vote with both flags counts as neither)."""
    up, down = (True, False), (False, True)
    return (new == up) - (old == up), (new == down) - (old == down)


def sqlite_votes(path: Path, events: Sequence[VoteEvent]) -> float:
    """Votes per second committed by plain ``sqlite3``."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for ddl in VOTE_SCHEMA:
        db.execute(ddl)
    db.executemany(
        "INSERT INTO posts (id, author_id) VALUES (?, ?)",
        sorted({(e.post_id, e.author_id) for e in events}),
    )
    start = time.perf_counter()
    for e in events:
        db.execute("BEGIN IMMEDIATE")
        row = db.execute(
            "SELECT up, down FROM votes WHERE post_id = ? AND user_id = ?", (e.post_id, e.user_id)
        ).fetchone()
        old = (bool(row[0]), bool(row[1])) if row else (False, False)
        new = _step(old, e)
        if new != old:
            if new == (False, False):
                db.execute(
                    "DELETE FROM votes WHERE post_id = ? AND user_id = ?", (e.post_id, e.user_id)
                )
            else:
                db.execute(
                    "INSERT INTO votes VALUES (?, ?, ?, ?) ON CONFLICT (post_id, user_id)"
                    " DO UPDATE SET up = excluded.up, down = excluded.down",
                    (e.post_id, e.user_id, *new),
                )
            du, dd = _moves(old, new)
            ups, downs = db.execute(
                "UPDATE posts SET upvotes = upvotes + ?, downvotes = downvotes + ?,"
                " score = score + ? WHERE id = ? RETURNING upvotes, downvotes",
                (du, dd, du - dd, e.post_id),
            ).fetchone()
            delta = _points(ups, downs) - _points(ups - du, downs - dd)
            db.execute(
                "INSERT INTO members (guild_id, user_id, points) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET points = points + excluded.points",
                (GUILD, e.author_id, delta),
            )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(events) / elapsed


async def asyncpg_votes(dsn: str, events: Sequence[VoteEvent]) -> float:
    """Votes per second committed by plain ``asyncpg``, one transaction per vote."""
    import asyncpg

    db = await asyncpg.connect(dsn)
    try:
        for ddl in VOTE_SCHEMA:
            await db.execute(ddl)
        await db.executemany(
            "INSERT INTO posts (id, author_id) VALUES ($1, $2)",
            sorted({(e.post_id, e.author_id) for e in events}),
        )
        start = time.perf_counter()
        for e in events:
            async with db.transaction():
                row = await db.fetchrow(
                    "SELECT up, down FROM votes WHERE post_id = $1 AND user_id = $2",
                    e.post_id,
                    e.user_id,
                )
                old = (row["up"], row["down"]) if row else (False, False)
                new = _step(old, e)
                if new == old:
                    continue
                if new == (False, False):
                    await db.execute(
                        "DELETE FROM votes WHERE post_id = $1 AND user_id = $2",
                        e.post_id,
                        e.user_id,
                    )
                else:
                    await db.execute(
                        "INSERT INTO votes VALUES ($1, $2, $3, $4) ON CONFLICT (post_id, user_id)"
                        " DO UPDATE SET up = excluded.up, down = excluded.down",
                        e.post_id,
                        e.user_id,
                        *new,
                    )
                du, dd = _moves(old, new)
                counts = await db.fetchrow(
                    "UPDATE posts SET upvotes = upvotes + $1, downvotes = downvotes + $2,"
                    " score = score + $3 WHERE id = $4 RETURNING upvotes, downvotes",
                    du,
                    dd,
                    du - dd,
                    e.post_id,
                )
                assert counts is not None
                ups, downs = counts["upvotes"], counts["downvotes"]
                await db.execute(
                    "INSERT INTO members (guild_id, user_id, points) VALUES ($1, $2, $3)"
                    " ON CONFLICT (guild_id, user_id)"
                    " DO UPDATE SET points = members.points + excluded.points",
                    GUILD,
                    e.author_id,
                    _points(ups, downs) - _points(ups - du, downs - dd),
                )
        elapsed = time.perf_counter() - start
    finally:
        await db.close()
    return len(events) / elapsed


ANSWER_SCHEMA = (
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, guild_id BIGINT NOT NULL, kind TEXT NOT NULL,"
    " question_id BIGINT, thread_id BIGINT, message_id BIGINT UNIQUE, author_id BIGINT NOT NULL,"
    " body TEXT NOT NULL, answer_count INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,"
    " last_activity_at TEXT NOT NULL)",
    "CREATE INDEX ix_posts_thread_kind ON posts (thread_id, kind)",
    "CREATE TABLE members (guild_id BIGINT NOT NULL, user_id BIGINT NOT NULL,"
    " points INTEGER NOT NULL DEFAULT 0, answers INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (guild_id, user_id))",
    "CREATE TABLE notifications (id INTEGER PRIMARY KEY, user_id BIGINT NOT NULL,"
    " kind TEXT NOT NULL, post_id BIGINT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL)",
)


@dataclass(frozen=True, slots=True)
class AnswerMessage:
    thread_id: int
    message_id: int
    author_id: int
    body: str


def sqlite_answers(path: Path, askers: dict[int, int], messages: Sequence[AnswerMessage]) -> float:
    """Answers per second written by plain ``sqlite3``; ``askers`` maps thread id to asker."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for ddl in ANSWER_SCHEMA:
        db.execute(ddl)
    now = "2026-01-01T00:00:00"
    db.executemany(
        "INSERT INTO posts (guild_id, kind, thread_id, message_id, author_id, body, created_at,"
        " last_activity_at) VALUES (?, 'question', ?, ?, ?, '', ?, ?)",
        [(GUILD, thread, thread, asker, now, now) for thread, asker in askers.items()],
    )
    start = time.perf_counter()
    for m in messages:
        db.execute("BEGIN IMMEDIATE")
        qid, asker = db.execute(
            "SELECT id, author_id FROM posts WHERE thread_id = ? AND kind = 'question'",
            (m.thread_id,),
        ).fetchone()
        answer = db.execute(
            "INSERT INTO posts (guild_id, kind, question_id, thread_id, message_id, author_id,"
            " body, created_at, last_activity_at) VALUES (?, 'answer', ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (GUILD, qid, m.thread_id, m.message_id, m.author_id, m.body, now, now),
        ).fetchone()[0]
        db.execute(
            "UPDATE posts SET answer_count = answer_count + 1, last_activity_at = ? WHERE id = ?",
            (now, qid),
        )
        db.execute(
            "INSERT INTO members (guild_id, user_id, points, answers) VALUES (?, ?, ?, 1)"
            " ON CONFLICT (guild_id, user_id) DO UPDATE SET points = points + excluded.points,"
            " answers = answers + 1",
            (GUILD, m.author_id, PER_ANSWER),
        )
        db.execute(
            "INSERT INTO notifications (user_id, kind, post_id, status, created_at)"
            " VALUES (?, 'answer', ?, 'pending', ?)",
            (asker, answer, now),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return len(messages) / elapsed
