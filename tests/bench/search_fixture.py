"""The search benchmark's fixture: a community of 100,000 questions and 500,000 answers.

Deterministic (one seeded ``random.Random``): the same version always yields the same rows, so
the reference ranking (``search_reference.json``) stays valid. Generated once and cached under
``.bench-cache/`` (ignored by git), keyed by ``VERSION`` and the schema's newest migration; the
migrations build the schema (FTS5 table and triggers included) and plain ``sqlite3`` bulk-inserts
the rows, the triggers filling the index as they do for the bot.

The text is drawn from a vocabulary built to give each query class its frequency:

- ``COMMON`` words (real English, not stop words) occur in about a third of all posts
  (and in about one title in ten): "very common" terms;
- filler pseudo-words follow a Zipf law over ``VOCABULARY`` ranks: a word of rank 800-1,600
  occurs in about a thousand posts ("mid-frequency"), one of rank 20,000-36,000 in a few dozen
  ("rare");
- two-word queries pair words of rank ~200-400 (each in thousands of posts).

Questions live in three forums (``FORUMS``); the benchmark's reader sees ``VISIBLE`` (not the
third). A few questions are closed, deleted or pending, a few answers deleted.
"""

from __future__ import annotations

import importlib
import itertools
import os
import random
import shutil
import sqlite3
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from bot.db import migrate

VERSION: Final = 1
SEED: Final = 21
GUILD: Final = 1
FORUMS: Final = (7, 8, 9)
VISIBLE: Final = frozenset({7, 8})
CACHE: Final = Path(__file__).resolve().parents[2] / ".bench-cache"

COMMON: Final = ("help", "feel", "time", "people", "think", "really")
VOCABULARY: Final = 40_000
_START: Final = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Size:
    questions: int
    answers: int


FULL_SIZE: Final = Size(questions=100_000, answers=500_000)


def pseudo_words(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct made-up lower-case words (consonant-vowel syllables ending in a
    consonant, so stemming leaves them alone)."""
    consonants, vowels, endings = "bdfgklmnprtvz", "aiou", "kdpt"
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        word += rng.choice(endings)
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


class Vocabulary:
    """Filler words with Zipf frequencies, and the common words."""

    def __init__(self, rng: random.Random) -> None:
        self.words = pseudo_words(VOCABULARY, rng)
        weights = [1.0 / rank for rank in range(1, VOCABULARY + 1)]
        self._cumulative = list(itertools.accumulate(weights))

    def rank(self, rank: int) -> str:
        """The filler word of ``rank`` (1: the most frequent)."""
        return self.words[rank - 1]

    def text(self, rng: random.Random, length: int, common_p: float) -> str:
        total = self._cumulative[-1]
        cumulative = self._cumulative
        tokens = [self.words[bisect_left(cumulative, rng.random() * total)] for _ in range(length)]
        for word in COMMON:
            if rng.random() < common_p:
                tokens.insert(rng.randrange(len(tokens) + 1), word)
        return " ".join(tokens)


def _stamp(minutes: int) -> str:
    return (_START + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _rows(size: Size, rng: random.Random) -> itertools.chain[tuple[Any, ...]]:
    """Every post as an insert tuple (``_INSERT``'s columns): each question, then its answers."""
    vocabulary = Vocabulary(rng)
    shares = [rng.random() for _ in range(size.questions)]
    scale = size.answers / sum(shares)
    counts = [int(s * scale) for s in shares]
    for i in range(size.answers - sum(counts)):
        counts[i % size.questions] += 1

    def posts() -> itertools.chain[tuple[Any, ...]]:
        return itertools.chain.from_iterable(_question(i, counts[i]) for i in range(size.questions))

    def _question(i: int, answers: int) -> list[tuple[Any, ...]]:
        qid = 1 + i + sum_before[i]
        stamp = _stamp(i * 5)
        roll = rng.random()
        status = "closed" if roll < 0.04 else ("answered" if answers else "open")
        state = "pending" if 0.04 <= roll < 0.05 else "live"
        deleted = stamp if 0.05 <= roll < 0.06 else None
        forum = FORUMS[0] if rng.random() < 0.6 else FORUMS[1 if rng.random() < 0.75 else 2]
        score = int(rng.paretovariate(1.3)) - 1
        title = vocabulary.text(rng, rng.randint(4, 9), 0.1)
        rows: list[tuple[Any, ...]] = [
            (
                qid,
                "question",
                None,
                10_000 + i,
                1_000 + i % 5_000,
                title,
                vocabulary.text(rng, rng.randint(15, 45), 0.35),
                status,
                state,
                score,
                answers,
                stamp,
                deleted,
                forum,
            )
        ]
        for k in range(answers):
            gone = stamp if rng.random() < 0.02 else None
            rows.append(
                (
                    qid + 1 + k,
                    "answer",
                    qid,
                    10_000 + i,
                    1_000 + (i + k * 7) % 5_000,
                    None,
                    vocabulary.text(rng, rng.randint(8, 35), 0.35),
                    "open",
                    "live",
                    int(rng.paretovariate(1.5)) - 1,
                    0,
                    stamp,
                    gone,
                    forum,
                )
            )
        return rows

    sum_before = list(itertools.accumulate(counts, initial=0))
    return posts()


_INSERT: Final = """
    INSERT INTO posts (id, guild_id, kind, question_id, thread_id, author_id, title, body,
                       status, state, score, answer_count, created_at, updated_at,
                       last_activity_at, deleted_at, forum_id, message_id)
    VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _insert(path: Path, size: Size) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        rng = random.Random(SEED)
        with connection:
            connection.executemany(
                _INSERT,
                (
                    (
                        pid,
                        kind,
                        qid,
                        thread,
                        author,
                        title,
                        body,
                        status,
                        state,
                        score,
                        answers,
                        stamp,
                        stamp,
                        stamp,
                        deleted,
                        forum,
                        1_000_000 + pid,
                    )
                    for (
                        pid,
                        kind,
                        qid,
                        thread,
                        author,
                        title,
                        body,
                        status,
                        state,
                        score,
                        answers,
                        stamp,
                        deleted,
                        forum,
                    ) in _rows(size, rng)
                ),
            )
            connection.execute("INSERT INTO posts_search (posts_search) VALUES ('optimize')")
    finally:
        connection.close()
    _analyze(path)


def _older_fixture(name: str) -> Path | None:
    """The newest cached fixture of the same version and size under an older migration."""
    prefix, _, rest = name.partition(f"-m{_head()}-")
    older = sorted(
        p
        for p in CACHE.glob(f"{prefix}-m[0-9][0-9][0-9][0-9]-{rest}")
        if p.name.split("-m")[1][:4] < _head()
    )
    return older[-1] if older else None


def _analyze(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute("ANALYZE")
    finally:
        connection.close()


def _head() -> str:
    versions = Path(migrate.__file__).with_name("migrations") / "versions"
    return max(p.stem.split("_")[0] for p in versions.glob("[0-9]*.py"))


def sqlite_fixture(size: Size = FULL_SIZE) -> Path:
    """The cached fixture database file (generated on first use: a few minutes)."""
    CACHE.mkdir(exist_ok=True)
    name = f"search-v{VERSION}-m{_head()}-{size.questions}q-{size.answers}a.sqlite3"
    path = CACHE / name
    if path.exists():
        return path
    partial = path.with_suffix(f".{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    older = _older_fixture(name)
    if older is not None:
        # The same rows under an older schema: copied and migrated (a rebuild of the search
        # index takes well under a minute, generating the rows a few).
        shutil.copyfile(older, partial)
        migrate.upgrade_sync(f"sqlite+aiosqlite:///{partial}")
        _analyze(partial)
    else:
        migrate.upgrade_sync(f"sqlite+aiosqlite:///{partial}")
        _insert(partial, size)
    partial.replace(path)
    for lock in CACHE.glob(f"{partial.name}*.lock"):
        lock.unlink()
    return path


_COLUMNS: Final = (
    "id, guild_id, kind, question_id, thread_id, author_id, title, body, status, state, score,"
    " answer_count, created_at, updated_at, last_activity_at, deleted_at, forum_id, message_id"
)
_STAMPED: Final = (12, 13, 14, 15)


def _parse(stamp: str | None) -> datetime | None:
    return None if stamp is None else datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")


def _thread_search_fill() -> str:
    """Migration 0014's statement filling ``thread_search`` from ``posts``."""
    module = importlib.import_module("bot.db.migrations.versions.0014_thread_keyed_search")
    fill: str = module.POSTGRES_FILL
    return fill


async def load_postgres(url: str, size: Size = FULL_SIZE, batch: int = 20_000) -> None:
    """Fill the empty PostgreSQL database ``url`` with the fixture: migrations, then the cached
    SQLite fixture's posts copied in (``COPY``; the generated search column and its GIN index
    are built by PostgreSQL as for the bot; the threads' words filled at once), then
    ``ANALYZE``."""
    import asyncpg
    from sqlalchemy.engine import make_url

    await migrate.upgrade(url)
    source = sqlite3.connect(f"file:{sqlite_fixture(size)}?mode=ro", uri=True)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        # Each thread's words are filled once after the copy, as migration 0014 fills them,
        # rather than row by row by the insert trigger.
        await connection.execute("ALTER TABLE posts DISABLE TRIGGER thread_search_insert")
        cursor = source.execute(f"SELECT {_COLUMNS} FROM posts ORDER BY id")
        columns = [c.strip() for c in _COLUMNS.split(",")]
        while rows := cursor.fetchmany(batch):
            records = [
                tuple(_parse(v) if i in _STAMPED else v for i, v in enumerate(row)) for row in rows
            ]
            await connection.copy_records_to_table("posts", records=records, columns=columns)
        await connection.execute("ALTER TABLE posts ENABLE TRIGGER thread_search_insert")
        await connection.execute(_thread_search_fill())
        await connection.execute("ANALYZE posts")
        await connection.execute("ANALYZE thread_search")
    finally:
        await connection.close()
        source.close()
