"""``python -m tests.bench.micro``: in-process micro-benchmarks against same-run baselines.

``make bench`` (``python -m tests.bench``) measures what a user lives through; these older
figures time single calls in one process and are kept for quick comparisons.

1. Vote path: one reaction gesture through the domain (``votes.set_vote``: lock, vote state,
   score, capped points, member upsert) vs the cheapest write transaction on the same database
   (one ``UPDATE`` of one row through the same unit of work).
2. Search: ``search_questions`` over a few thousand questions vs a lookup of a question by id.
3. Start-up: ``QABot`` with every cog, against the loopback fake Discord, until READY, vs a bare
   ``discord.AutoShardedClient`` on the same fake.

PostgreSQL legs run when ``QA_TEST_POSTGRES_URL`` names a server (``make bench`` starts one).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.clock import utc_now
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Post
from bot.forum import lookups, posts, questions, search, votes
from bot.forum.uow import run_in_transaction
from bot.forum.visibility import VisibleForums
from tests.db_support import drop_postgres_database, new_postgres_database

GUILD = 1
FORUM = 7
WORDS = [
    "sleep",
    "anxiety",
    "therapist",
    "panic",
    "breathing",
    "routine",
    "grief",
    "anger",
    "family",
    "work",
    "stress",
    "journal",
    "meditation",
    "boundaries",
    "trauma",
    "exercise",
    "appetite",
    "focus",
    "memory",
    "loneliness",
    "friendship",
]


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


async def _timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


async def _seed(sessionmaker: Any, questions_n: int) -> list[int]:
    ids: list[int] = []
    for i in range(questions_n):
        title = f"{WORDS[i % len(WORDS)]} and {WORDS[(i * 7) % len(WORDS)]} question {i}"
        details = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(12))
        change = await run_in_transaction(
            sessionmaker,
            lambda s, i=i, title=title, details=details: questions.create_question(
                s,
                guild_id=GUILD,
                author_id=1000 + i % 50,
                asked=questions.AskedQuestion(title=title, details=details),
                via_bot=False,
                thread_id=10_000 + i,
                message_id=10_000 + i,
                forum_id=FORUM,
            ),
        )
        ids.append(change.post.id)
        if i % 3 == 0:
            await run_in_transaction(
                sessionmaker,
                lambda s, i=i: posts.record_thread_message(
                    s,
                    guild_id=GUILD,
                    thread_id=10_000 + i,
                    message_id=500_000 + i,
                    author_id=2000 + i % 40,
                    body="Have you tried a breathing exercise with your therapist before sleep?",
                ),
            )
    return ids


async def bench_database(url: str, label: str, rounds: int) -> list[tuple[str, float, float]]:
    engine = create_engine(url)
    sm = create_sessionmaker(engine)
    try:
        ids = await _seed(sm, 2000)
        target = ids[len(ids) // 2]
        voters = iter(range(100_000, 10_000_000))

        async def one_vote() -> None:
            user = next(voters)
            await run_in_transaction(
                sm, lambda s: votes.set_vote(s, user_id=user, flag="up", on=True, post_id=target)
            )

        async def baseline_write() -> None:
            await run_in_transaction(
                sm,
                lambda s: s.execute(
                    update(Post).where(Post.id == target).values(last_activity_at=utc_now())
                ),
            )

        async def one_search() -> None:
            await run_in_transaction(
                sm,
                lambda s: search.search_questions(
                    s,
                    guild_id=GUILD,
                    visible=VisibleForums.of([FORUM]),
                    query="therapists sleeping",
                ),
            )

        async def baseline_read() -> None:
            await run_in_transaction(sm, lambda s: lookups.get_question(s, question_id=target))

        for fn in (one_vote, baseline_write, one_search, baseline_read):  # warm up
            await fn()
        vote = _median(await _timed(one_vote, rounds))
        write = _median(await _timed(baseline_write, rounds))
        found = _median(await _timed(one_search, rounds))
        read = _median(await _timed(baseline_read, rounds))
        return [
            (f"{label}: vote gesture vs one-row write", vote, write),
            (f"{label}: search (2000 questions) vs lookup by id", found, read),
        ]
    finally:
        await engine.dispose()


async def bench_startup(rounds: int) -> tuple[str, float, float]:
    import discord

    from bot.client import QABot
    from bot.runtime import point_discord_at
    from bot.settings import load_settings
    from tests.fakediscord.server import FakeDiscord

    workdir = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    template = workdir / "template.sqlite3"
    await migrate.upgrade(f"sqlite+aiosqlite:///{template}")
    qa_times: list[float] = []
    bare_times: list[float] = []
    try:
        for i in range(rounds):
            async with FakeDiscord() as fake:
                fake.build_default_scene()
                db = workdir / f"bot{i}.sqlite3"
                shutil.copyfile(template, db)
                settings = load_settings(
                    discord_token=fake.token,
                    database_url=f"sqlite+aiosqlite:///{db}",
                    discord_api_base_url=fake.api_base,
                    discord_gateway_url=fake.gateway_url,
                    guild_ready_timeout=0.05,
                    reidentify_delay=0.0,
                )
                point_discord_at(settings)

                start = time.perf_counter()
                engine = create_engine(settings.effective_database_url)
                bot = QABot(settings, engine)
                await bot.login(settings.token())
                task = asyncio.create_task(bot.connect())
                await bot.wait_until_ready()
                qa_times.append(time.perf_counter() - start)
                await bot.close()
                await asyncio.gather(task, return_exceptions=True)
                await engine.dispose()

                start = time.perf_counter()
                intents = discord.Intents.none()
                intents.guilds = True
                client = discord.AutoShardedClient(intents=intents, guild_ready_timeout=0.05)
                await client.login(fake.token)
                task = asyncio.create_task(client.connect())
                await client.wait_until_ready()
                bare_times.append(time.perf_counter() - start)
                await client.close()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return (
        "start-up to READY: QABot (all cogs) vs bare AutoShardedClient",
        _median(qa_times),
        _median(bare_times),
    )


async def main(rounds: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        await migrate.upgrade(url)
        rows += await bench_database(url, "SQLite", rounds)
    if os.environ.get("QA_TEST_POSTGRES_URL"):
        pg = await new_postgres_database()
        try:
            await migrate.upgrade(pg)
            rows += await bench_database(pg, "PostgreSQL", rounds)
        finally:
            await drop_postgres_database(pg)
    rows.append(await bench_startup(max(3, rounds // 20)))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)}  {'median':>10}  {'baseline':>10}  ratio")
    for name, value, base in rows:
        print(
            f"{name.ljust(width)}  {value * 1e3:8.2f}ms  {base * 1e3:8.2f}ms  {value / base:5.2f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=200, help="timed calls per figure")
    asyncio.run(main(parser.parse_args().rounds))
