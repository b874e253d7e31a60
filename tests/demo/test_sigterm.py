"""The demo's flows against ``qa-bot run`` as a real process, stopped with SIGTERM: the process
exits 0 and its log has no ERROR record and no traceback (nothing was cut short holding a
database session, no task was left behind).

The SIGTERM comes while a command's transaction is in flight: the test holds SQLite's write lock
from outside, Dave asks for /profile (the bot answers "thinking"; its read never waits for the
lock, but remembering Dave's display name, a write, does), the signal is sent, and the lock is
let go once the bot says it is shutting down. The bot finishes the command (Dave gets his
profile, his name is stored) before it closes."""

from __future__ import annotations

import asyncio
import io
import re
import signal
import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.client import EXTENSIONS
from tests.demo.scenario import Demo
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotProcess, ErrorLog
from tests.fakediscord.model import Message
from tests.fakediscord.server import FakeDiscord

#: A log record at ERROR or CRITICAL, as ``bot.logs`` formats it.
ERROR_RECORD = re.compile(r"^\S+ \S+ (ERROR|CRITICAL)\s", re.M)


def command_names(fake: FakeDiscord) -> set[str]:
    """Every command the fake knows, subcommands by their qualified name ("qa setup")."""
    names: set[str] = set()

    def walk(prefix: str, options: list[dict[str, object]]) -> None:
        for option in options:
            if option.get("type") in (1, 2):  # a subcommand or a subcommand group
                name = f"{prefix} {option['name']}"
                names.add(name)
                walk(name, option.get("options", []))  # type: ignore[arg-type]

    for command in fake.commands():
        names.add(command.name)
        walk(command.name, command.data.get("options", []))
    return names


class ProcessDemo(Demo):
    """The demo against ``qa-bot run``: commands synced with ``qa-bot sync-commands`` first,
    stopped with SIGTERM at the end. The bot's production settings stay (status lines are
    edited at most every 5 s); the waits are on what members see."""

    def __init__(self, out: io.StringIO, cwd: Path) -> None:
        super().__init__(out)
        self.cwd = cwd
        self.process: BotProcess
        self.database: str | None = None
        self.exit_code: int | None = None
        self.last_reply: Message | None = None

    async def start_bot(self, url: str, error_log: ErrorLog) -> None:
        self.database = make_url(url).database
        self.process = BotProcess(fake=self.fake, database_url=url, cwd=self.cwd)
        code, output = await self.process.run_command("sync-commands", "--global")
        assert code == 0, output
        await self.process.start()
        await self.process.wait_ready()

    async def stop_bot(self) -> None:
        if self.process.running:
            self.exit_code = await self.process.terminate(signal.SIGTERM)

    async def _play(self) -> None:
        await super()._play()
        await self._sigterm_during_a_transaction()

    async def _sigterm_during_a_transaction(self) -> None:
        assert self.database is not None and self.process.proc is not None
        lock = sqlite3.connect(
            self.database, timeout=10, isolation_level=None, check_same_thread=False
        )
        try:
            await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
            ix = await self.cast.dave.slash("profile", channel=self.cast.general)
            assert await ix.deferred(timeout=self.timeout)  # its transaction comes next
            self.process.proc.send_signal(signal.SIGTERM)
            await self.process.wait_for_output("SIGTERM received")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        self.last_reply = await ix.message(timeout=self.timeout)
        self.exit_code = await self.process.wait()

    def loaded_extensions(self) -> Collection[str]:
        return EXTENSIONS

    def has_command(self, name: str) -> bool:
        return name in command_names(self.fake)

    async def handled(self, message: Message) -> None:
        return None  # the step goes on to wait for what the bot shows

    async def votes_counted(self, votes: Sequence[tuple[Member, Message, str, str]]) -> None:
        return None  # the step goes on to wait for what the bot shows


@pytest.mark.slow
async def test_sigterm_after_the_demo_flows_exits_0_without_errors(
    tmp_path: Path, discord_urls: object
) -> None:
    out = io.StringIO()
    demo = ProcessDemo(out, tmp_path)
    result = await demo.run()
    log = demo.process.output
    transcript = out.getvalue()
    assert result == 0, f"{transcript}\n--- qa-bot run ---\n{log}"
    assert transcript.rstrip().splitlines()[-1] == "demo done: all 11 steps played."
    assert demo.exit_code == 0, log
    assert "Traceback" not in log
    assert ERROR_RECORD.findall(log) == [], log
    assert "SIGTERM received: shutting down" in log and log.rstrip().endswith("stopped")
    assert re.search(r"\d+ objects made at set-up frozen out of the collector", log), log
    # The command the signal came in the middle of was finished before the bot closed.
    assert demo.last_reply is not None and "Points" in str(demo.last_reply.embeds)
