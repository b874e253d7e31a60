"""The bot process on a big database (issue 21, items 3 and 4): footprint and start-up.

Both run ``qa-bot run`` on a copy of the search fixture (100,000 questions, 500,000 answers;
``tests.bench.search_fixture``), made once per invocation in a temporary directory (the bot
writes to it; the cached fixture stays as it is).

- **Start-up** (``--scenario startup``): from starting the process to the first ``/profile``
  answered (``GUILD_READY_TIMEOUT`` low, as the harness sets it), on that database and, in the
  same run, on an empty migrated one. Target: ratio <= 1.5.
- **Footprint** (``--scenario footprint``): the peak RSS (``VmHWM``) of the bot process after
  issue 18's 20,000-event burst (``tests.bench.scenario.BenchRun``, answers ingested first) on
  that database, against the peak RSS of a bare process that imports discord.py and SQLAlchemy
  and opens the engine on the same file (one connection, one query). Target: ratio <= 3.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar, Final

from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.forum import settings
from bot.forum.uow import run_in_transaction
from tests.bench.scenario import FULL, QUICK, BenchRun, ProfiledBot
from tests.bench.search_fixture import sqlite_fixture
from tests.fakediscord.server import FakeDiscord

STARTUP_TARGET: Final = 1.5
FOOTPRINT_TARGET: Final = 3.0

_BARE: Final = """
import asyncio, sys
import discord, sqlalchemy
from sqlalchemy import text
from bot.db.engine import create_engine

async def main():
    engine = create_engine(sys.argv[1])
    async with engine.connect() as connection:
        await connection.execute(text("SELECT COUNT(*) FROM members"))
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            print(int(line.split()[1]))
    await engine.dispose()

asyncio.run(main())
"""


def peak_rss_kib(pid: int) -> int:
    """``VmHWM`` (peak resident set) of a running process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def bare_rss_kib(url: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _BARE, url], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def big_copy(workdir: Path) -> str:
    """A copy of the 100,000-question fixture in ``workdir``; its SQLAlchemy URL."""
    path = workdir / "big.sqlite3"
    shutil.copyfile(sqlite_fixture(), path)
    return f"sqlite+aiosqlite:///{path}"


# --------------------------------------------------------------------------- start-up


async def startup_seconds(url: str, workdir: Path) -> float:
    """Seconds from starting ``qa-bot run`` on ``url`` to its first ``/profile`` answered."""
    async with FakeDiscord() as fake:
        fake.build_default_scene()
        assert fake.guild is not None and fake.forum is not None
        guild_id, forum_id = fake.guild.id, fake.forum.id
        member = fake.add_member(fake.guild, "early")
        await migrate.upgrade(url)
        engine = create_engine(url)
        try:
            await run_in_transaction(
                create_sessionmaker(engine),
                lambda s: settings.set_setting(s, guild_id, "forum_channel_id", forum_id),
            )
        finally:
            await engine.dispose()
        bot = ProfiledBot(fake=fake, database_url=url, cwd=workdir)
        code, output = await bot.run_command("sync-commands", "--global")
        assert code == 0, output
        start = time.perf_counter()
        await bot.start()
        try:
            await bot.wait_ready(timeout=300)
            ix = await member.slash("profile", channel=fake.general)
            await ix.message(timeout=300)
            seconds = time.perf_counter() - start
            await bot.terminate(timeout=60)
        finally:
            if bot.running:
                await bot.kill()
        return seconds


def _spread(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def run_startup(runs: int, head: dict[str, Any]) -> dict[str, Any]:
    big, empty = [], []
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        url = big_copy(Path(tmp))
        for i in range(runs):
            print(f"startup: run {i + 1}/{runs}", file=sys.stderr)
            big.append(asyncio.run(startup_seconds(url, Path(tmp))))
            empty_url = f"sqlite+aiosqlite:///{Path(tmp) / f'empty{i}.sqlite3'}"
            empty.append(asyncio.run(startup_seconds(empty_url, Path(tmp))))
    ratios = [b / e for b, e in zip(big, empty, strict=True)]
    summary = {
        "100k questions (s)": _spread(big),
        "empty database (s)": _spread(empty),
        "ratio": _spread(ratios),
        "target": STARTUP_TARGET,
        "met": statistics.median(ratios) <= STARTUP_TARGET,
    }
    return head | {"backends": {"sqlite": summary}}


# --------------------------------------------------------------------------- footprint


class MeasuredBot(ProfiledBot):
    """The bot process whose peak RSS is read just before it is stopped."""

    peaks: ClassVar[list[int]] = []

    async def terminate(self, *args: Any, **kwargs: Any) -> int:
        if self.proc is not None and self.proc.returncode is None:
            MeasuredBot.peaks.append(peak_rss_kib(self.proc.pid))
        return await super().terminate(*args, **kwargs)


class FootprintRun(BenchRun):
    bot_class = MeasuredBot


def run_footprint(runs: int, quick: bool, head: dict[str, Any], patience: float) -> dict[str, Any]:
    bot_mib, bare_mib, notes = [], [], []
    scale = QUICK if quick else FULL
    for i in range(runs):
        print(f"footprint: run {i + 1}/{runs}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
            url = big_copy(Path(tmp))
            bare_mib.append(bare_rss_kib(url) / 1024)
            MeasuredBot.peaks = []
            figures = asyncio.run(FootprintRun(url, scale, Path(tmp), None).run(patience))
            if MeasuredBot.peaks:
                bot_mib.append(MeasuredBot.peaks[0] / 1024)
            notes.append({"events/s": figures.events_per_s, "exact": figures.exact})
    ratios = [b / e for b, e in zip(bot_mib, bare_mib, strict=False)]
    summary: dict[str, Any] = {
        "bot peak RSS (MiB)": _spread(bot_mib) if bot_mib else None,
        "bare process peak RSS (MiB)": _spread(bare_mib),
        "ratio": _spread(ratios) if ratios else None,
        "target": FOOTPRINT_TARGET,
        "met": bool(ratios) and statistics.median(ratios) <= FOOTPRINT_TARGET,
        "bursts": notes,
    }
    return head | {"scale": {"events": scale.events}, "backends": {"sqlite": summary}}


# --------------------------------------------------------------------------- the docs


def _fmt(value: Any) -> str:
    if isinstance(value, dict) and "median" in value:
        return f"{value['median']:.3g} (min {value['min']:.3g}, max {value['max']:.3g})"
    return str(value)


_ABOUT: Final = {
    "startup": """
`python -m tests.bench --scenario startup` (`tests/bench/process_bench.py`): seconds from
starting `qa-bot run` to the first `/profile` answered (`GUILD_READY_TIMEOUT` 0.05 s), on a copy
of the search fixture (100,000 questions, 500,000 answers) and, in the same run, on an empty
migrated database; the ratio is big / empty.
""",
    "footprint": """
`python -m tests.bench --scenario footprint` (`tests/bench/process_bench.py`): the peak RSS
(`VmHWM`) of `qa-bot run` after issue 18's reaction burst (answers ingested first, `/profile`
asked throughout) on a copy of the search fixture (100,000 questions, 500,000 answers), read just
before SIGTERM; the baseline is the peak RSS of a bare Python process that imports discord.py and
SQLAlchemy and opens the bot's engine on the same file (one connection, one query). The bot has
no helper processes.
""",
}


def process_markdown(kind: str, report: dict[str, Any]) -> str:
    title = {"startup": "Start-up on a big database", "footprint": "Footprint"}[kind]
    summary = report["backends"]["sqlite"]
    lines = [
        "",
        f"## {title} (issue 21)",
        _ABOUT[kind],
        f"- date: {report['date']} ({report['mode']}; {report['runs']} runs per figure,"
        " median (min, max))",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    lines += [
        f"| {k} | {_fmt(v)} |" for k, v in summary.items() if k not in ("met", "bursts", "target")
    ]
    lines.append(f"| target (ratio) | <= {summary['target']} |")
    lines.append(f"\nTarget met: {summary['met']}.")
    return "\n".join(lines) + "\n"
