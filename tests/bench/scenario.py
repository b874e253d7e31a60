"""One run of the user-level benchmark: the fake Discord (this process) and ``qa-bot run`` (its own
process) on a real database.

1. Members create ``threads`` native forum posts (adopted as questions), then post ``answers``
   thread messages back to back; timed until every answer is committed (answers, counters and
   outbox rows are written in the answer's own transaction). The outbox is then left to drain.
2. The reaction burst (``tests.bench.burst``) on ``targets`` of those answers while the author of
   the first one asks for ``/profile`` again and again; timed until every vote and point is
   committed, then confirmed through ``/profile``.
3. SIGTERM; the stored votes and points are checked against the workload and against
   ``points.recompute_points`` (which must have nothing to fix).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import points, settings
from bot.forum.uow import run_in_transaction
from tests.bench.baselines import PER_ANSWER, AnswerMessage, _points
from tests.bench.burst import Workload, drive_reactions, reaction_workload
from tests.bench.load import ANSWER, poll_until
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.model import Channel, Message
from tests.fakediscord.server import FakeDiscord

POINTS_ASK, POINTS_BASE = 20, 100
LONGEST = re.compile(r"longest[^\n]*", re.I)


@dataclass(frozen=True)
class Scale:
    answers: int
    threads: int
    events: int
    targets: int
    voters: int
    distinct_keys: int
    answerers: int


FULL = Scale(2000, 20, 20_000, 200, 2000, 7000, 100)
QUICK = Scale(200, 20, 2000, 20, 200, 700, 20)


def workload_for(scale: Scale) -> Workload:
    """The reaction workload of a scale (the same in every run and in the baselines)."""
    return reaction_workload(
        targets=scale.targets,
        voters=scale.voters,
        events=scale.events,
        distinct_keys=scale.distinct_keys,
    )


@dataclass
class RunFigures:
    answers_per_s: float = 0.0
    outbox_rows: int = 0
    outbox_drain_s: float | None = None
    events: int = 0
    events_per_s: float = 0.0
    distinct_keys: int = 0
    most_active: int = 0
    duplicates: int = 0
    vote_rows: int = 0
    member_rows: int = 0
    profile_latencies: list[float] = field(default_factory=list)
    profile_acks: list[float] = field(default_factory=list)
    profile_unanswered: int = 0
    profile_confirmed: bool = False
    exact: bool = False
    exactness_notes: list[str] = field(default_factory=list)
    exit_code: int | None = None
    longest_lines: list[str] = field(default_factory=list)


class Reader:
    """Reads the bot's database from outside: SQLite read-only (WAL readers never wait), or one
    asyncpg connection."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self._pg: Any = None

    async def open(self) -> None:
        if self.url.get_backend_name() == "postgresql":
            import asyncpg

            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = await asyncpg.connect(dsn)

    async def close(self) -> None:
        if self._pg is not None:
            await self._pg.close()

    def _sqlite(self, sql: str) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.url.database}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self._pg is not None:
            return [tuple(r) for r in await self._pg.fetch(sql)]
        return await asyncio.to_thread(self._sqlite, sql)

    async def until(self, sql: str, expected: list[tuple[Any, ...]], timeout: float) -> bool:  # noqa: ASYNC109
        return await poll_until(self.rows, sql, expected, timeout)


class ProfiledBot(BotProcess):
    """``qa-bot run`` under cProfile (the statistics are written when the process exits)."""

    profile_out: Path | None = None

    @property
    def executable(self) -> str:
        if self.profile_out is None:
            return super().executable
        script = self.cwd / "qa-bot-profiled"
        script.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m cProfile -o "{self.profile_out}" -m bot "$@"\n'
        )
        script.chmod(0o755)
        return str(script)


def _bool_sum(column: str) -> str:
    return f"COALESCE(SUM(CASE WHEN {column} THEN 1 ELSE 0 END), 0)"


class BenchRun:
    #: The bot process's class (a subclass may look at the process before it stops).
    bot_class: type[ProfiledBot] = ProfiledBot

    def __init__(self, url: str, scale: Scale, workdir: Path, profile_out: Path | None) -> None:
        self.url = url
        self.scale = scale
        self.workdir = workdir
        self.profile_out = profile_out
        self.fake = FakeDiscord()
        self.reader = Reader(url)
        self.figures = RunFigures()
        self.guild_id = 0

    async def run(self, patience: float) -> RunFigures:
        async with self.fake:
            fake = self.fake.build_default_scene()
            self.guild_id = fake.guild.id
            s = self.scale
            askers = [fake.add_member(fake.guild, f"asker{i}") for i in range(s.threads)]
            answerers = [fake.add_member(fake.guild, f"helper{i}") for i in range(s.answerers)]
            voters = [fake.add_member(fake.guild, f"voter{i}").id for i in range(s.voters)]
            await self._prepare_database()
            bot = self.bot_class(fake=fake, database_url=self.url, cwd=self.workdir)
            bot.profile_out = self.profile_out
            code, output = await bot.run_command("sync-commands", "--global")
            assert code == 0, output
            await self.reader.open()
            try:
                await bot.start()
                await bot.wait_ready(timeout=120)
                threads = await self._questions(askers, patience)
                answers = await self._ingest(threads, answerers, patience)
                await self._burst(answers, voters, askers, answerers, patience)
                self.figures.exit_code = await bot.terminate(timeout=60)
                self.figures.longest_lines = LONGEST.findall(bot.output)[-3:]
                await self._check_exact(answers, voters, askers, answerers)
            finally:
                if bot.running:
                    await bot.kill()
                await self.reader.close()
        return self.figures

    async def _prepare_database(self) -> None:
        await migrate.upgrade(self.url)
        engine = create_engine(self.url)
        try:
            await run_in_transaction(
                create_sessionmaker(engine),
                lambda session: settings.set_setting(
                    session, self.guild_id, "forum_channel_id", self.fake.forum.id
                ),
            )
        finally:
            await engine.dispose()

    async def _questions(self, askers: list[Member], patience: float) -> list[Channel]:
        threads = [
            await a.create_post(self.fake.forum, f"How do I sleep before exam {i}?", "I lie awake.")
            for i, a in enumerate(askers)
        ]
        ok = await self.reader.until(
            f"SELECT COUNT(*) FROM posts WHERE kind = 'question' AND guild_id = {self.guild_id}",
            [(len(threads),)],
            patience,
        )
        assert ok, "the questions were not adopted in time"
        return threads

    def _answer_messages(
        self, threads: list[Channel], answerers: list[Member]
    ) -> list[AnswerMessage]:
        """What the ingestion sends (message ids are the fake's; 0 until sent)."""
        return [
            AnswerMessage(
                threads[i % len(threads)].id,
                0,
                answerers[i % len(answerers)].id,
                ANSWER.format(i),
            )
            for i in range(self.scale.answers)
        ]

    async def _ingest(
        self, threads: list[Channel], answerers: list[Member], patience: float
    ) -> list[Message]:
        by_id = {a.id: a for a in answerers}
        channels = {t.id: t for t in threads}
        start = time.perf_counter()
        sent = [
            await by_id[m.author_id].send(channels[m.thread_id], m.body)
            for m in self._answer_messages(threads, answerers)
        ]
        ok = await self.reader.until(
            f"SELECT COUNT(*) FROM posts WHERE kind = 'answer' AND guild_id = {self.guild_id}",
            [(len(sent),)],
            patience,
        )
        assert ok, "the answers were not committed in time"
        self.figures.answers_per_s = len(sent) / (time.perf_counter() - start)
        self.figures.outbox_rows = (await self.reader.rows("SELECT COUNT(*) FROM notifications"))[
            0
        ][0]
        drain = time.perf_counter()
        if await self.reader.until(
            "SELECT COUNT(*) FROM notifications WHERE status IN ('pending', 'sending')",
            [(0,)],
            patience,
        ):
            self.figures.outbox_drain_s = time.perf_counter() - drain
        return sent

    def _expected_points(
        self, workload: Workload, authors: list[int], askers: list[Member], answerers: list[Member]
    ) -> dict[int, int]:
        expected: Counter[int] = Counter()
        for a in askers:
            expected[a.id] += POINTS_ASK
        for i in range(self.scale.answers):
            expected[answerers[i % len(answerers)].id] += PER_ANSWER
        for target, author in enumerate(authors):
            expected[author] += _points(*workload.counts(target))
        return dict(expected)

    async def _burst(
        self,
        answers: list[Message],
        voters: list[int],
        askers: list[Member],
        answerers: list[Member],
        patience: float,
    ) -> None:
        workload = workload_for(self.scale)
        targets = answers[: self.scale.targets]
        authors = [m.author_id for m in targets]
        expected = self._expected_points(workload, authors, askers, answerers)
        marker = next(a for a in answerers if a.id == authors[0])
        f = self.figures
        f.distinct_keys, f.most_active, f.duplicates = (
            workload.distinct_keys,
            workload.most_active,
            workload.duplicates,
        )
        ups = sum(up for up, _ in workload.final.values())
        downs = sum(down for _, down in workload.final.values())
        state_sql = (
            f"SELECT COUNT(*), {_bool_sum('up')}, {_bool_sum('down')} FROM votes UNION ALL "
            f"SELECT 0, COALESCE(SUM(points), 0), 0 FROM members WHERE guild_id = "
            f"{self.guild_id}"
        )
        final_state = [
            (len(workload.final), ups, downs),
            (0, sum(expected.values()), 0),
        ]
        stop = asyncio.Event()
        poller = asyncio.create_task(self._profile_loop(marker, stop))
        start = time.perf_counter()
        try:
            f.events = await drive_reactions(self.fake, targets, voters, workload)
            if await self.reader.until(state_sql, final_state, patience):
                f.events_per_s = f.events / (time.perf_counter() - start)
            else:
                got = await self.reader.rows(state_sql)
                f.exactness_notes.append(
                    f"votes not all committed within {patience:.0f} s: {got}, want {final_state}"
                )
        finally:
            stop.set()
            await poller
        shown = await self._profile_points(marker)
        f.profile_confirmed = shown == POINTS_BASE + expected[marker.id]
        f.vote_rows = len(workload.final)
        f.member_rows = len(expected)
        self._expected = (workload, authors, expected)

    async def _profile_loop(self, marker: Member, stop: asyncio.Event) -> None:
        f = self.figures
        f.profile_unanswered += await profile_loop(
            self.fake, marker, stop, f.profile_acks, f.profile_latencies
        )

    async def _profile_points(self, marker: Member) -> int | None:
        ix = await marker.slash("profile", channel=self.fake.general)
        message = await ix.message(timeout=15)
        for embed in message.embeds:
            for fld in embed.get("fields", []):
                if fld.get("name") == "Points":
                    return int(str(fld["value"]).replace(",", ""))
        return None

    async def _check_exact(
        self,
        answers: list[Message],
        voters: list[int],
        askers: list[Member],
        answerers: list[Member],
    ) -> None:
        workload, _, expected = self._expected
        notes = self.figures.exactness_notes
        post_of = dict(
            await self.reader.rows(
                f"SELECT message_id, id FROM posts WHERE guild_id = {self.guild_id}"
            )
        )
        want_votes = {
            (post_of[answers[t].id], voters[v]): (up, down)
            for (t, v), (up, down) in workload.final.items()
        }
        got_votes = {
            (p, u): (bool(up), bool(down))
            for p, u, up, down in await self.reader.rows(
                "SELECT post_id, user_id, up, down FROM votes"
            )
        }
        if got_votes != want_votes:
            notes.append(f"votes differ: {len(set(got_votes.items()) ^ set(want_votes.items()))}")
        got_points = dict(
            await self.reader.rows(
                f"SELECT user_id, points FROM members WHERE guild_id = {self.guild_id}"
            )
        )
        got_points = {user: p for user, p in got_points.items() if p or user in expected}
        if got_points != expected:
            notes.append(
                f"points differ for {sum(got_points.get(k) != v for k, v in expected.items())}"
            )
        engine = create_engine(self.url)
        try:
            fixed = await run_in_transaction(
                create_sessionmaker(engine),
                lambda session: points.recompute_points(session, self.guild_id),
            )
        finally:
            await engine.dispose()
        if fixed.members_fixed or fixed.posts_fixed:
            notes.append(
                f"recompute fixed {fixed.members_fixed} members, {fixed.posts_fixed} posts"
            )
        self.figures.exact = not notes and self.figures.events_per_s > 0


async def profile_loop(
    fake: FakeDiscord,
    marker: Member,
    stop: asyncio.Event,
    acks: list[float],
    answers: list[float],
) -> int:
    """``marker`` runs ``/profile`` in #general every quarter second until ``stop``: the seconds
    to each acknowledgement and full answer go to ``acks`` and ``answers``; returns how many
    were not answered within 15 s."""
    unanswered = 0
    while not stop.is_set():
        start = time.perf_counter()
        ix = await marker.slash("profile", channel=fake.general)
        try:
            await ix.response(timeout=15)
            acks.append(time.perf_counter() - start)
            await ix.message(timeout=15)
            answers.append(time.perf_counter() - start)
        except AssertionError:
            unanswered += 1
        with_pause = asyncio.ensure_future(stop.wait())
        await asyncio.wait([with_pause], timeout=0.25)
        with_pause.cancel()
    return unanswered


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]
