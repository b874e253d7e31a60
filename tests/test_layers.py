"""The import rules of DESIGN.md section 1, checked on the AST of every source file.

- ``bot/forum`` (the domain) and ``bot/db`` never import discord.
- ``cogs/`` builds no SQL: no sqlalchemy or database driver, no ORM models, no ``execute``,
  no SQL text.
- ``bot/ui`` (presentation) imports no sqlalchemy or database driver.
- Imports point down only: the domain and the database layer import no cog, no presentation and
  not the client; the database layer does not import the domain.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

DB_DRIVERS = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg", "psycopg2")


@dataclass(frozen=True)
class Rule:
    layer: str  # a folder relative to the repository root
    banned_modules: tuple[str, ...]
    why: str
    forbid_sql: bool = False


RULES = (
    Rule("bot/forum", ("discord",), "the domain never imports discord"),
    Rule("bot/db", ("discord",), "the database layer never imports discord"),
    Rule(
        "bot/forum",
        ("cogs", "bot.ui", "bot.client", "bot.__main__"),
        "imports point down: the domain knows no adapter",
    ),
    Rule(
        "bot/db",
        ("cogs", "bot.ui", "bot.client", "bot.forum", "bot.__main__"),
        "imports point down: the database layer knows no domain or adapter",
    ),
    Rule(
        "cogs",
        (*DB_DRIVERS, "bot.db.models", "bot.db.dialect"),
        "cogs build no SQL: they call bot.forum",
        forbid_sql=True,
    ),
    Rule("bot/ui", DB_DRIVERS, "presentation does not touch the database"),
    Rule("bot/ui", ("cogs", "bot.client"), "imports point down: presentation knows no cog"),
)

# SQL as it is written by hand; upper-case keywords only, so ordinary sentences do not match.
SQL_TEXT = re.compile(
    r"\b(SELECT\b[\s\S]+\bFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX)|DROP\s+TABLE|ALTER\s+TABLE)\b"
)
SESSION_SQL_METHODS = {"execute", "exec_driver_sql", "scalar", "scalars", "stream"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(tree: ast.AST, path: Path) -> Iterator[tuple[int, str]]:
    """Every module a file imports, statically or via importlib/__import__ with a literal."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}" if module else alias.name
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(first, ast.Constant):
                yield node.lineno, str(first.value)


def _matches(module: str, banned: str) -> bool:
    return module == banned or module.startswith(banned + ".")


def violations(source: str, path: Path, rule: Rule) -> list[str]:
    tree = ast.parse(source, filename=str(path))
    found: list[str] = []
    where = path.relative_to(ROOT)
    for line, module in imported_modules(tree, path):
        for banned in rule.banned_modules:
            if _matches(module, banned):
                found.append(f"{where}:{line} imports {module} ({rule.why})")
    if rule.forbid_sql:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in SESSION_SQL_METHODS:
                    found.append(f"{where}:{node.lineno} calls .{node.func.attr}() ({rule.why})")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL_TEXT.search(node.value)
            ):
                found.append(f"{where}:{node.lineno} holds SQL text ({rule.why})")
    return sorted(set(found))


def source_files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.layer}:{r.banned_modules[0]}")
def test_layer_rule(rule: Rule) -> None:
    problems: list[str] = []
    for path in source_files(rule.layer):
        problems += violations(path.read_text(encoding="utf-8"), path, rule)
    assert problems == []


def test_the_layers_exist_and_are_walked() -> None:
    forum = {p.name for p in source_files("bot/forum")}
    assert {"__init__.py", "settings.py", "notifications.py", "errors.py"} <= forum
    assert "models.py" in {p.name for p in source_files("bot/db")}
    assert (ROOT / "cogs" / "__init__.py").exists()
    assert (ROOT / "bot" / "ui" / "__init__.py").exists()


# --------------------------------------------------------------------------- the checker itself

_DOMAIN = next(r for r in RULES if r.layer == "bot/forum" and r.banned_modules == ("discord",))
_COGS = next(r for r in RULES if r.layer == "cogs")
_UI = next(r for r in RULES if r.layer == "bot/ui" and "sqlalchemy" in r.banned_modules)
_DB_DOWN = next(r for r in RULES if r.layer == "bot/db" and "bot.forum" in r.banned_modules)


@pytest.mark.parametrize(
    "source",
    [
        "import discord",
        "import discord.ext.commands",
        "import discord as d",
        "from discord import Embed",
        "from discord.ext import commands",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import discord",
        "def f():\n    import discord\n",
        "import importlib\nimportlib.import_module('discord.ui')",
        "__import__('discord')",
    ],
)
def test_checker_catches_discord_in_the_domain(source: str) -> None:
    assert violations(source, ROOT / "bot" / "forum" / "x.py", _DOMAIN)


@pytest.mark.parametrize(
    "source",
    [
        "import discordant_lib",  # another package whose name starts alike
        "from bot.forum import errors",
        "from . import errors",
        "x = 'discord'",
    ],
)
def test_checker_allows_clean_domain_code(source: str) -> None:
    assert violations(source, ROOT / "bot" / "forum" / "x.py", _DOMAIN) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sqlalchemy",
        "import sqlalchemy as sa",
        "from sqlalchemy import select, text",
        "from sqlalchemy.ext.asyncio import AsyncSession",
        "import asyncpg",
        "from bot.db.models import Post",
        "from bot.db import models",
        "from ..bot.db import dialect",
        "async def f(session):\n    await session.execute(q)",
        "async def f(conn):\n    await conn.exec_driver_sql('x')",
        "q = 'SELECT id FROM posts WHERE guild_id = 1'",
        "q = '''UPDATE posts\n SET score = 0'''",
        "q = 'DELETE FROM votes'",
        "q = 'INSERT INTO flags VALUES (1)'",
    ],
)
def test_checker_catches_sql_in_cogs(source: str) -> None:
    assert violations(source, ROOT / "cogs" / "x.py", _COGS)


@pytest.mark.parametrize(
    "source",
    [
        "from bot.forum import questions",
        "from bot.db.engine import create_sessionmaker",
        "msg = 'Select an answer from the list to accept it.'",
        "msg = 'Update your settings with /qa settings set.'",
        "async def f(sm):\n    async with sm.begin() as session:\n        return session",
    ],
)
def test_checker_allows_clean_cog_code(source: str) -> None:
    assert violations(source, ROOT / "cogs" / "x.py", _COGS) == []


def test_checker_catches_sqlalchemy_in_ui_and_upward_imports() -> None:
    assert violations("from sqlalchemy import select", ROOT / "bot" / "ui" / "x.py", _UI)
    assert violations("import aiosqlite", ROOT / "bot" / "ui" / "x.py", _UI)
    assert violations("import discord", ROOT / "bot" / "ui" / "x.py", _UI) == []
    assert violations("from bot.forum import settings", ROOT / "bot" / "db" / "x.py", _DB_DOWN)
    assert violations("from ..forum import prefs", ROOT / "bot" / "db" / "x.py", _DB_DOWN)
    assert violations("from .types import PK", ROOT / "bot" / "db" / "x.py", _DB_DOWN) == []


def test_relative_imports_resolve_against_the_package() -> None:
    tree = ast.parse("from ..ui import embeds\nfrom . import errors")
    found = {m for _, m in imported_modules(tree, ROOT / "bot" / "forum" / "x.py")}
    assert {"bot.ui", "bot.ui.embeds", "bot.forum", "bot.forum.errors"} <= found
    init = {
        m for _, m in imported_modules(ast.parse("from . import x"), ROOT / "cogs" / "__init__.py")
    }
    assert "cogs.x" in init
