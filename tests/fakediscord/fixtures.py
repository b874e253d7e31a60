"""Pytest fixtures: the fake Discord, the real ``QABot`` in-process, ``qa-bot run`` as a process.

Registered from ``tests/conftest.py`` (``pytest_plugins``). Every fixture that starts the fake
fails the test at teardown if the bot hit a route the fake does not know or the fake failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
import pytest
from discord.gateway import DiscordWebSocket
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fakediscord.gateway import Session
from tests.fakediscord.server import FakeDiscord

if TYPE_CHECKING:
    # Imported where used, so a half-edited bot package breaks only the end-to-end tests.
    from bot.client import QABot
    from bot.settings import Settings

#: Settings that make discord.py fast against the fake (both are production knobs).
FAST = {"guild_ready_timeout": 0.05, "reidentify_delay": 0.0, "identify_window": 0.05}
PROBE = "tests.fakediscord.probe"


#: Loggers whose ERROR records mean the bot met an unexpected failure.
ERROR_LOGGERS = ("discord", "bot", "cogs")


class ErrorLog(logging.Handler):
    """Collects ERROR records of the bot's and discord.py's loggers: unhandled exceptions in
    commands, views and listeners. The fixtures fail a test that leaves any behind."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.allowed = False
        self._logged = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._logged.set()

    async def wait(self, timeout: float = 5.0) -> list[logging.LogRecord]:  # noqa: ASYNC109
        """Until at least one ERROR record was logged; returns them."""
        async with asyncio.timeout(timeout):
            await self._logged.wait()
        return self.records

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@dataclass
class BotHarness:
    """A running in-process ``QABot`` connected to the fake."""

    bot: QABot
    fake: FakeDiscord
    settings: Settings
    engine: AsyncEngine
    task: asyncio.Task[None]
    error_log: ErrorLog = field(default_factory=ErrorLog)
    closed: bool = False

    @property
    def errors(self) -> list[logging.LogRecord]:
        """Unhandled exceptions discord.py logged so far (commands, views, listeners)."""
        return self.error_log.records

    async def wait_for_errors(self, timeout: float = 5.0) -> list[logging.LogRecord]:  # noqa: ASYNC109
        """Until the bot logged an unhandled error (call ``allow_errors`` first)."""
        return await self.error_log.wait(timeout)

    def allow_errors(self) -> None:
        """This test expects the bot to log unhandled errors; do not fail it for them."""
        self.error_log.allowed = True

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.bot.sessionmaker

    def cog(self, name: str) -> Any:
        cog = self.bot.get_cog(name)
        if cog is None:
            raise LookupError(f"the bot has no cog {name!r}")
        return cog

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=10)
        await self.engine.dispose()


async def _start_bot(
    fake: FakeDiscord,
    database_url: str,
    *,
    extensions: Sequence[str] | None,
    install_commands: bool,
    wait_ready: bool,
    overrides: dict[str, Any],
    error_log: ErrorLog,
) -> BotHarness:
    from bot.client import QABot
    from bot.db.engine import create_engine
    from bot.runtime import point_discord_at
    from bot.settings import load_settings

    settings = load_settings(
        discord_token=fake.token,
        database_url=database_url,
        discord_api_base_url=fake.api_base,
        discord_gateway_url=fake.gateway_url,
        **{**FAST, **overrides},
    )
    point_discord_at(settings)
    engine = create_engine(database_url)
    bot = QABot(settings, engine, extensions=extensions)
    await bot.login(settings.token())
    if install_commands:
        fake.install_commands(bot.tree)
    task = asyncio.create_task(bot.connect(reconnect=True), name="qa-bot-connect")
    harness = BotHarness(bot, fake, settings, engine, task, error_log)
    if wait_ready:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, task}, timeout=10, return_when="FIRST_COMPLETED")
        if ready not in done:
            ready.cancel()
            await harness.close()
            if task in done and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            raise AssertionError("the bot did not become ready against the fake within 10 s")
        # The start-up reconciliation (its re-read of vote reactions makes the stored votes
        # Discord's) is over before a test sets up votes of its own.
        try:
            async with asyncio.timeout(10):
                await bot.reconciler.wait_first_run()
        except TimeoutError:
            await harness.close()
            raise AssertionError("the start-up reconciliation did not end within 10 s") from None
        await fake.flush()
    return harness


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord with the default scene (``fake.guild``, ``.general``, ``.forum``,
    ``.owner``, ``.moderator_role``). Fails the test if an unknown route was hit."""
    fake = FakeDiscord()
    await fake.start()
    fake.build_default_scene()
    try:
        yield fake
    finally:
        await fake.stop()
    fake.assert_clean()


@pytest.fixture
def discord_urls() -> Any:
    """Restores discord.py's REST base and gateway URL after the test."""
    base = discord.http.Route.BASE
    gateway = DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.fixture
def bot_database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty SQLite file for the bot under test."""
    path = tmp_path / "qa-bot-e2e.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


BotFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def qa_bot_factory(
    fake_discord: FakeDiscord, bot_database_url: str, discord_urls: Any
) -> AsyncIterator[BotFactory]:
    """``await make(extensions=None, install_commands=True, wait_ready=True, database_url=...,
    **settings)`` starts a ``QABot`` against the fake (``wait_ready``: until it is ready and its
    start-up reconciliation has ended); every bot made is closed at teardown."""
    made: list[BotHarness] = []
    error_log = ErrorLog()
    for name in ERROR_LOGGERS:
        logging.getLogger(name).addHandler(error_log)

    async def make(
        *,
        extensions: Sequence[str] | None = None,
        install_commands: bool = True,
        wait_ready: bool = True,
        database_url: str | None = None,
        **overrides: Any,
    ) -> BotHarness:
        harness = await _start_bot(
            fake_discord,
            database_url or bot_database_url,
            extensions=extensions,
            install_commands=install_commands,
            wait_ready=wait_ready,
            overrides=overrides,
            error_log=error_log,
        )
        made.append(harness)
        return harness

    try:
        yield make
    finally:
        # Errors logged while closing (work cut short by the shutdown) do not count.
        for name in ERROR_LOGGERS:
            logging.getLogger(name).removeHandler(error_log)
        for harness in reversed(made):
            await harness.close()
    if error_log.records and not error_log.allowed:
        pytest.fail(
            "the bot logged unhandled errors (call harness.allow_errors() if expected):\n"
            + error_log.report(),
            pytrace=False,
        )


@pytest.fixture
async def qa_bot(qa_bot_factory: BotFactory) -> BotHarness:
    """The production ``QABot`` (its real cogs), ready, commands installed in the fake."""
    return await qa_bot_factory()


@pytest.fixture
async def probe_bot(qa_bot_factory: BotFactory) -> BotHarness:
    """``QABot`` with only the test-only probe extension (tests of the fake itself)."""
    return await qa_bot_factory(extensions=[PROBE])


# ---------------------------------------------------------------------- the bot as a process


@dataclass
class BotProcess:
    """``qa-bot run`` in its own process, pointed at the fake by environment variables."""

    fake: FakeDiscord
    database_url: str
    cwd: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    proc: asyncio.subprocess.Process | None = None
    output: str = ""
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def executable(self) -> str:
        return str(Path(sys.executable).with_name("qa-bot"))

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "SHARD_", "DEV_GUILD"))
            and k not in ("DATABASE_URL", "DATA_DIR", "LOG_LEVEL")
        }
        env.update(
            DISCORD_TOKEN=self.fake.token,
            DATABASE_URL=self.database_url,
            DATA_DIR=str(self.cwd),
            DISCORD_API_BASE_URL=self.fake.api_base,
            DISCORD_GATEWAY_URL=self.fake.gateway_url,
            GUILD_READY_TIMEOUT=str(FAST["guild_ready_timeout"]),
            REIDENTIFY_DELAY=str(FAST["reidentify_delay"]),
            IDENTIFY_WINDOW=str(FAST["identify_window"]),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env_overrides)
        return env

    async def start(self, *args: str) -> None:
        """Start ``qa-bot run`` (extra CLI ``args`` appended)."""
        if self.running:
            raise RuntimeError("the bot process is already running")
        self.output = ""
        self.proc = await asyncio.create_subprocess_exec(
            self.executable,
            "run",
            *args,
            cwd=self.cwd,
            env=self.env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(self.proc))

    async def run_command(self, *args: str, timeout: float = 60.0) -> tuple[int, str]:  # noqa: ASYNC109
        """Run another ``qa-bot`` command (``sync-commands`` ...) to its end with this process's
        environment; returns its exit code and output."""
        proc = await asyncio.create_subprocess_exec(
            self.executable,
            *args,
            cwd=self.cwd,
            env=self.env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return proc.returncode, out.decode(errors="replace")

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            self.output += line.decode(errors="replace")
            self._notify()
        await proc.wait()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        self.fake.recorder.signal.pulse()  # wakes ``wait_ready`` when the process exits

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

    async def wait_ready(
        self,
        shards: Sequence[int] = (0,),
        *,
        since_identify: int | None = None,
        timeout: float = 20.0,  # noqa: ASYNC109
    ) -> list[Session]:
        """Until each shard has a live session (READY and GUILD_CREATEs on the wire)."""
        floor = since_identify if since_identify is not None else 0
        gateway = self.fake.gateway

        def check() -> list[Session] | None:
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"qa-bot run exited ({self.proc.returncode}):\n{self.output}")
            ids = {i.session_id for i in gateway.identifies[floor:] if i.session_id}
            out = []
            for shard in shards:
                s = gateway.current.get(shard)
                if s is None or s.id not in ids or s.conn is None:
                    return None
                out.append(s)
            return out

        try:
            sessions = await self.fake.wait_until(
                check, timeout=timeout, what=f"qa-bot run to connect shards {list(shards)}"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- qa-bot output ---\n{self.output}") from None
        await self.fake.flush()
        return sessions

    async def wait_for_output(self, pattern: str, *, timeout: float = 10.0) -> re.Match[str]:  # noqa: ASYNC109
        regex = re.compile(pattern)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._changed
                    m = regex.search(self.output)
                    if m:
                        return m
                    if not self.running and (self._reader is None or self._reader.done()):
                        raise AssertionError(f"process ended without {pattern!r}:\n{self.output}")
                    await event.wait()
        except TimeoutError:
            raise AssertionError(f"no {pattern!r} in the output:\n{self.output}") from None

    async def wait(self, *, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await self._reader
        return code

    async def terminate(self, sig: int = signal.SIGTERM, *, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """Send ``sig`` and wait for the exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        return await self.wait(timeout=timeout)

    async def kill(self) -> int:
        return await self.terminate(signal.SIGKILL)

    async def restart(self, *args: str) -> None:
        """Stop with SIGTERM (if running) and start again on the same database."""
        if self.running:
            await self.terminate()
        await self.start(*args)


@pytest.fixture
async def bot_process(
    fake_discord: FakeDiscord, bot_database_url: str, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    """A not-yet-started ``qa-bot run`` process against the fake (``await p.start()``,
    ``await p.wait_ready()``, ``await p.terminate()``); killed at teardown if still running."""
    process = BotProcess(fake=fake_discord, database_url=bot_database_url, cwd=tmp_path)
    try:
        yield process
    finally:
        if process.running:
            with contextlib.suppress(ProcessLookupError, TimeoutError):
                await process.kill()


__all__ = [
    "FAST",
    "PROBE",
    "BotFactory",
    "BotHarness",
    "BotProcess",
    "ErrorLog",
    "bot_database_url",
    "bot_process",
    "discord_urls",
    "fake_discord",
    "probe_bot",
    "qa_bot",
    "qa_bot_factory",
]
