"""Applied votes per second through ``votes.apply_gestures`` on a fresh database.

A measurement, not a test: 20 questions with 10 answers each, ~2,000 voters, and a fixed
stream of reaction gestures (adds, removes and duplicates of the up and down emoji) applied
in batches through the unit of work, as the vote writer does. Prints gestures/s and checks
that the cached points equal a recomputation at the end.

    .venv/bin/python scripts/measure_vote_path.py [--gestures 20000] [--batch 500] [--profile]
    PYTHONPATH=. scripts/with-test-postgres .venv/bin/python scripts/measure_vote_path.py --postgres
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import points, posts, questions, votes
from bot.forum.uow import run_in_transaction

GUILD = 1
FORUM = 7
UP = votes.Emoji("👍")
DOWN = votes.Emoji("👎")


async def _seed(sm: object) -> list[int]:
    """20 questions with 10 answers each; the answers' message ids."""
    answers = []
    for q in range(20):
        await run_in_transaction(
            sm,  # type: ignore[arg-type]
            lambda s, q=q: questions.create_question(
                s,
                guild_id=GUILD,
                author_id=100 + q,
                title=f"question {q}",
                via_bot=False,
                thread_id=10_000 + q,
                message_id=10_000 + q,
                forum_id=FORUM,
            ),
        )
        for a in range(10):
            message_id = 100_000 + q * 100 + a
            await run_in_transaction(
                sm,  # type: ignore[arg-type]
                lambda s, q=q, a=a, m=message_id: posts.record_thread_message(
                    s,
                    guild_id=GUILD,
                    thread_id=10_000 + q,
                    message_id=m,
                    author_id=200 + (q * 10 + a) % 150,
                    body="an answer",
                ),
            )
            answers.append(message_id)
    return answers


def _gestures(messages: list[int], n: int) -> list[votes.Gesture]:
    rng = random.Random(18)
    out: list[votes.Gesture] = []
    for _ in range(n):
        out.append(
            votes.Reaction(
                guild_id=GUILD,
                channel_id=10_000,
                message_id=rng.choice(messages),
                user_id=1_000 + rng.randrange(2_000),
                emoji=UP if rng.random() < 0.7 else DOWN,
                on=rng.random() < 0.75,
                is_bot=False,
            )
        )
    return out


async def main(args: argparse.Namespace) -> None:
    if args.postgres:
        from tests.db_support import new_postgres_database

        url = await new_postgres_database()
    else:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='qa-votes-')) / 'votes.sqlite3'}"
    await migrate.upgrade(url)
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    try:
        gestures = _gestures(await _seed(sm), args.gestures)
        profile = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        if profile is not None:
            profile.enable()
        held: list[float] = []
        for i in range(0, len(gestures), args.batch):
            chunk = gestures[i : i + args.batch]
            began = time.perf_counter()
            await run_in_transaction(sm, lambda s, chunk=chunk: votes.apply_gestures(s, chunk))
            held.append(time.perf_counter() - began)
        if profile is not None:
            profile.disable()
        elapsed = time.perf_counter() - start
        print(
            f"{len(gestures)} gestures in batches of {args.batch}: {elapsed:.2f} s, "
            f"{len(gestures) / elapsed:,.0f} gestures/s; per batch median "
            f"{statistics.median(held) * 1000:.1f} ms, max {max(held) * 1000:.1f} ms"
        )
        drift = await run_in_transaction(sm, lambda s: points.recompute_points(s, guild_id=GUILD))
        print(f"recompute_points differences: {drift}")
        if profile is not None:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile_lines)
    finally:
        await engine.dispose()
        if args.postgres:
            from tests.db_support import drop_postgres_database

            await drop_postgres_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gestures", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--postgres", action="store_true", help="the test cluster (scripts/with-test-postgres)"
    )
    parser.add_argument("--profile-lines", type=int, default=40)
    asyncio.run(main(parser.parse_args()))
