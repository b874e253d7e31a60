"""The README's guide for server owners stays true: every process setting of ``bot.settings``
and every per-server key of ``bot.forum.settings`` is explained, and the Commands table marks
as available exactly the commands the production bot registers.

(The invite link's permissions are checked by ``test_readme_permissions``; the ``make demo``
excerpt by ``tests/demo/test_demo.py``.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.forum import categories
from bot.forum import settings as guild_settings
from bot.settings import Settings
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.server import FakeDiscord

README = Path(__file__).resolve().parents[1] / "README.md"
SLASH = 1


def section(title: str, level: int = 2) -> str:
    text = README.read_text(encoding="utf-8")
    hashes = "#" * level
    match = re.search(
        rf"^{hashes} {re.escape(title)}\n(.*?)(?=^#{{1,{level}}} |\Z)", text, re.S | re.M
    )
    assert match, f"README.md has no {hashes} {title!r} section"
    return match.group(1)


def first_cells(table: str) -> list[str]:
    """The first cell of every body row of the Markdown tables in ``table``."""
    rows = [line for line in table.splitlines() if line.startswith("|")]
    cells = [row.split("|")[1].strip() for row in rows]
    return [c for c in cells if c and not set(c) <= {"-"}]


def test_every_process_setting_is_explained() -> None:
    documented = " ".join(first_cells(section("The process: `.env`", level=3)))
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in documented, f"README's Settings lack {name.upper()}"
    example = (README.parent / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert re.search(rf"^#? ?{name.upper()}=", example, re.M), f".env.example lacks {name}"


def test_every_per_server_setting_is_explained() -> None:
    documented = " ".join(first_cells(section("Each server: `/qa settings`", level=3)))
    for key in [*guild_settings.public_keys(), categories.SETTING_KEY]:
        assert f"`{key}`" in documented, f"README's /qa settings table lacks {key}"


def command_rows() -> list[tuple[list[str], bool]]:
    """(command paths named in the row, whether it is marked available) per Commands row."""
    rows = [line for line in section("Commands").splitlines() if line.startswith("| ")]
    out = []
    for row in rows[1:]:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        names = re.findall(r"`/([a-z][a-z -]*)`", cells[0]) + re.findall(r"\*\*(.+?)\*\*", cells[0])
        out.append((names, cells[-1].startswith("yes")))
    return out


def registered_paths(payloads: list[dict[str, Any]]) -> set[str]:
    """Every invocable command: slash commands by their full path, context menus by name."""
    paths: set[str] = set()

    def walk(path: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (1, 2)]  # subcommands and their groups
        if not subs:
            paths.add(path)
        for sub in subs:
            walk(f"{path} {sub['name']}", list(sub.get("options") or []))

    for payload in payloads:
        if int(payload.get("type", SLASH)) != SLASH:
            paths.add(payload["name"])
        else:
            walk(payload["name"], list(payload.get("options") or []))
    return paths


async def test_the_commands_table_marks_what_the_bot_registers(
    fake_discord: FakeDiscord, qa_bot: BotHarness
) -> None:
    registered = registered_paths([c.data for c in fake_discord.commands()])
    available = {name for names, yes in command_rows() if yes for name in names}
    planned = {name for names, yes in command_rows() if not yes for name in names}
    assert sorted(registered - available - planned) == [], "registered but not in README"
    assert sorted(registered & planned) == [], "registered but marked 'not yet' in README"
    assert sorted(available - registered) == [], "marked available in README, not registered"
