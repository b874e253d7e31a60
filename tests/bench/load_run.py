"""One run of the load benchmark (issue 20, item 4): the fake Discord (this process) and
``qa-bot run`` (its own process) on a real database, ten servers (``tests.bench.load``).

1. Each server's settings are stored as ``/qa setup`` leaves them (its own Q&A forum) before the
   bot starts; one asker per server turns DMs off (``/notifications mode:off``); the questions and
   the answers the reactions target are posted and committed.
2. The load: the reaction events and the new answer messages, back to back over the bot's
   WebSocket (``tests.bench.burst.drive_load``), while members of the servers in turn run
   ``/profile`` (0.25 s apart): the acknowledgement and full-answer latencies are kept. Timed
   until every answer, vote and point the fake's world implies is committed.
3. SIGTERM; the stored votes, answers, points and "new answer" outbox rows are compared with a
   recomputation from the fake's world, and ``points.recompute_points`` must have nothing to fix.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import settings
from bot.forum.uow import run_in_transaction
from tests.bench.burst import drive_load
from tests.bench.load import (
    LoadScale,
    Server,
    build_servers,
    differences,
    expected_state,
    plan,
    recompute_fixes,
    seed,
    stored_state,
)
from tests.bench.scenario import Reader
from tests.fakediscord.fixtures import BotProcess
from tests.fakediscord.server import FakeDiscord

#: Discord's deadline for the first response to an interaction.
ACK_DEADLINE = 3.0


@dataclass
class LoadFigures:
    reaction_events: int = 0
    answer_messages: int = 0
    # From the first event sent until every answer, vote and point is committed.
    seconds: float | None = None
    events_per_s: float = 0.0
    command_acks: list[float] = field(default_factory=list)
    command_answers: list[float] = field(default_factory=list)
    acks_late: int = 0  # acknowledged after Discord's 3 s
    unanswered: int = 0  # no acknowledgement or no answer within 15 s
    vote_rows: int = 0
    answer_rows: int = 0
    new_answer_rows: int = 0
    exact: bool = False
    exactness_notes: list[str] = field(default_factory=list)
    exit_code: int | None = None


class LoadRun:
    def __init__(self, url: str, scale: LoadScale, workdir: Path) -> None:
        self.url = url
        self.scale = scale
        self.workdir = workdir
        self.fake = FakeDiscord()
        self.reader = Reader(url)
        self.figures = LoadFigures()
        self.servers: list[Server] = []

    async def _until(self, sql: str, expected: list[tuple[Any, ...]]) -> None:
        if not await self.reader.until(sql, expected, self.patience):
            got = await self.reader.rows(sql)
            raise AssertionError(f"{sql} gave {got}, not {expected}, in {self.patience:.0f} s")

    async def run(self, patience: float) -> LoadFigures:
        self.patience = patience
        async with self.fake:
            self.servers = build_servers(self.fake, self.scale)
            await self._prepare_database()
            bot = self.bot = BotProcess(fake=self.fake, database_url=self.url, cwd=self.workdir)
            code, output = await bot.run_command("sync-commands", "--global")
            assert code == 0, output
            await self.reader.open()
            try:
                await bot.start()
                await bot.wait_ready(timeout=120)
                for server in self.servers:
                    ix = await server.quiet.slash(
                        "notifications", {"mode": "off"}, channel=server.general
                    )
                    await ix.message(timeout=30)
                await seed(self.servers, self.scale, self._until)
                await self._load()
                self.figures.exit_code = await bot.terminate(timeout=60)
                await self._check_exact()
            finally:
                if bot.running:
                    await bot.kill()
                await self.reader.close()
        return self.figures

    async def _prepare_database(self) -> None:
        await migrate.upgrade(self.url)
        engine = create_engine(self.url)
        try:
            for server in self.servers:
                await run_in_transaction(
                    create_sessionmaker(engine),
                    lambda s, g=server.guild.id, f=server.forum.id: settings.set_setting(
                        s, g, "forum_channel_id", f
                    ),
                )
        finally:
            await engine.dispose()

    async def _load(self) -> None:
        load = plan(self.servers, self.scale)
        f = self.figures
        stop = asyncio.Event()
        commands = asyncio.create_task(self._commands(stop))
        start = time.perf_counter()
        try:
            driven = await drive_load(
                self.fake, load.messages, load.voters, load.workload, posts=load.posts
            )
            f.reaction_events, f.answer_messages = driven.reaction_events, len(driven.posted)
            expected = expected_state(self.fake, self.servers, self._quiet())
            answers = [(len(expected.answers),)]
            await self._until("SELECT COUNT(*) FROM posts WHERE kind = 'answer'", answers)
            votes_sql = (
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN up THEN 1 ELSE 0 END), 0) FROM votes"
            )
            ups = sum(up for up, _ in expected.votes.values())
            points_sql = "SELECT COALESCE(SUM(points), 0) FROM members"
            await self._until(votes_sql, [(len(expected.votes), ups)])
            await self._until(points_sql, [(sum(expected.points.values()),)])
            f.seconds = time.perf_counter() - start
            f.events_per_s = (f.reaction_events + f.answer_messages) / f.seconds
        finally:
            stop.set()
            await commands

    async def _commands(self, stop: asyncio.Event) -> None:
        """``/profile`` by a member of each server in turn, until the load is committed."""
        f = self.figures
        n = 0
        while not stop.is_set():
            server = self.servers[n % len(self.servers)]
            n += 1
            start = time.perf_counter()
            ix = await server.voters[0].slash("profile", channel=server.general)
            try:
                await ix.response(timeout=15)
                ack = time.perf_counter() - start
                f.command_acks.append(ack)
                f.acks_late += ack > ACK_DEADLINE
                await ix.message(timeout=15)
                f.command_answers.append(time.perf_counter() - start)
            except AssertionError:
                f.unanswered += 1
            pause = asyncio.ensure_future(stop.wait())
            await asyncio.wait([pause], timeout=0.25)
            pause.cancel()

    def _quiet(self) -> set[int]:
        return {server.quiet.id for server in self.servers}

    async def _check_exact(self) -> None:
        f = self.figures
        expected = expected_state(self.fake, self.servers, self._quiet())
        stored = await stored_state(self.reader.rows)
        f.vote_rows, f.answer_rows = len(stored.votes), len(stored.answers)
        f.new_answer_rows = sum(stored.new_answer_dms.values())
        f.exactness_notes += differences(expected, stored)
        engine = create_engine(self.url)
        try:
            guilds = [server.guild.id for server in self.servers]
            fixed = await recompute_fixes(create_sessionmaker(engine), guilds)
        finally:
            await engine.dispose()
        if fixed:
            f.exactness_notes.append(f"recompute fixed {fixed} cached scores or points")
        f.exact = not f.exactness_notes and f.seconds is not None
