"""``qa-bot web`` as a process: it serves beside a running bot on the same SQLite file (the
one-``run``-per-file guard does not apply to it), and its pages answer."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.db import sqlite_guard

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_qa_bot_web_serves_while_the_bot_holds_the_file(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DISCORD_TOKEN": ""}
    with sqlite_guard.hold(db_url):  # a bot's `qa-bot run` holds the file
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "web", "--port", str(port), "--name", "Calm Corner",
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
            assert f"http://127.0.0.1:{port}/" in line.decode()
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/") as response:
                    assert response.status == 200
                    assert "<h1>Calm Corner</h1>" in await response.text()
                async with http.post(f"http://127.0.0.1:{port}/") as response:
                    assert response.status == 405
        finally:
            process.terminate()
            await process.wait()
