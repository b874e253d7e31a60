"""The import rules of DESIGN.md section 1, checked on the AST of every source file.

- ``bot/forum`` (the domain) and ``bot/db`` never import discord.
- ``cogs/`` builds no SQL: no sqlalchemy or database driver, no ORM models, no ``execute``,
  no SQL text.
- ``bot/ui`` (presentation) imports no sqlalchemy or database driver.
- ``bot/web`` (the public archive) imports no discord, no cog, no presentation for Discord and
  builds no SQL: it reads through ``bot.forum``.
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
    Rule(
        "bot/web",
        ("discord", "cogs", "bot.ui", "bot.client", "bot.runtime", "bot.db.models"),
        "the web archive imports no discord and builds no SQL: it calls bot.forum",
        forbid_sql=True,
    ),
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
    assert {"app.py", "pages.py"} <= {p.name for p in source_files("bot/web")}


# --------------------------------------------------------------------------- the checker itself

_DOMAIN = next(r for r in RULES if r.layer == "bot/forum" and r.banned_modules == ("discord",))
_COGS = next(r for r in RULES if r.layer == "cogs")
_WEB = next(r for r in RULES if r.layer == "bot/web")
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


def test_checker_catches_discord_and_sql_in_the_web_layer() -> None:
    here = ROOT / "bot" / "web" / "x.py"
    assert violations("import discord", here, _WEB)
    assert violations("from bot.db.models import Post", here, _WEB)
    assert violations("async def f(s):\n    await s.execute(q)", here, _WEB)
    assert violations("Q = 'SELECT id FROM posts'", here, _WEB)
    assert violations("from bot.forum import publishing", here, _WEB) == []


def test_relative_imports_resolve_against_the_package() -> None:
    tree = ast.parse("from ..ui import embeds\nfrom . import errors")
    found = {m for _, m in imported_modules(tree, ROOT / "bot" / "forum" / "x.py")}
    assert {"bot.ui", "bot.ui.embeds", "bot.forum", "bot.forum.errors"} <= found
    init = {
        m for _, m in imported_modules(ast.parse("from . import x"), ROOT / "cogs" / "__init__.py")
    }
    assert "cogs.x" in init


# --------------------------------------------------------------------------- the import graph
#
# DESIGN.md section 1: no import circles (``TYPE_CHECKING`` imports count: they are how a circle
# hides), cogs never import each other (a flow across features goes through a bot-owned service
# or an event), and no cog imports sqlalchemy. ``graph_problems`` checks any tree laid out like
# this one, so the same check is run on a small planted tree that must fail.

PACKAGES = ("bot", "cogs")


def tree_modules(root: Path) -> dict[str, Path]:
    """Every Python module under ``root``'s packages, by dotted name."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that importing ``name`` runs: itself, or the nearest package above."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _package_of(name: str, path: Path) -> list[str]:
    package = name.split(".")
    if path.name != "__init__.py":
        package.pop()
    return package


def import_edges(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The modules of ours that ``name`` imports (target -> first line), wherever the import
    stands: at the top, in a function, or under ``if TYPE_CHECKING``."""
    edges: dict[str, int] = {}

    def add(target: str | None, line: int) -> None:
        if target is not None and target != name:
            edges.setdefault(target, line)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_known(alias.name, modules), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(name, path)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                add(submodule if submodule in modules else _known(module, modules), node.lineno)
    return edges


def import_graph(root: Path) -> dict[str, dict[str, int]]:
    modules = tree_modules(root)
    return {name: import_edges(name, path, modules) for name, path in modules.items()}


def import_circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def _feature(module: str) -> str | None:
    """The cog feature a module belongs to: ``cogs.answering._cog`` -> ``answering``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "cogs" and len(parts) > 1 else None


def graph_problems(root: Path) -> list[str]:
    graph = import_graph(root)
    problems = [f"import circle: {' -> '.join(group)}" for group in import_circles(graph)]
    modules = tree_modules(root)
    for name, path in modules.items():
        feature = _feature(name)
        if feature is None:
            continue
        for target, line in graph[name].items():
            other = _feature(target)
            if other is not None and other != feature:
                problems.append(f"{name}:{line} imports {target} (cogs never import each other)")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            absolute = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                absolute = [node.module]
            for module in absolute:
                if _matches(module, "sqlalchemy"):
                    problems.append(f"{name}:{node.lineno} imports {module} (cogs call bot.forum)")
    return sorted(set(problems))


def test_the_import_graph_has_no_circle_no_cog_to_cog_import_and_no_sql_in_cogs() -> None:
    assert graph_problems(ROOT) == []


def test_the_import_graph_is_walked() -> None:
    graph = import_graph(ROOT)
    assert "bot.client" in graph and "bot.forum.questions" in graph
    assert "bot.forum.errors" in graph["bot.guilds"]
    assert any(target.startswith("bot.forum") for target in graph["bot.transactions"])


def _plant(root: Path, files: dict[str, str]) -> None:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")


def test_the_graph_check_reports_a_planted_circle_a_cog_to_cog_import_and_sql(
    tmp_path: Path,
) -> None:
    _plant(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/a.py": "from bot.b import thing\n",
            # the circle closes only under TYPE_CHECKING, the way circles hide
            "bot/b.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import a\n"
            ),
            "bot/c.py": "from . import a\n",  # imports into the circle, is not part of it
            "cogs/__init__.py": "",
            "cogs/answering/__init__.py": "",
            "cogs/answering/_cog.py": "from cogs.voting import Voting\nfrom . import texts\n",
            "cogs/answering/texts.py": "",
            "cogs/voting.py": "from sqlalchemy import select\n",
        },
    )
    assert graph_problems(tmp_path) == sorted(
        [
            "import circle: bot.a -> bot.b",
            "cogs.answering._cog:1 imports cogs.voting (cogs never import each other)",
            "cogs.voting:1 imports sqlalchemy (cogs call bot.forum)",
        ]
    )


def test_the_graph_check_passes_a_clean_planted_tree(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/forum/__init__.py": "",
            "bot/forum/errors.py": "",
            "bot/forum/posts.py": "from bot.forum.errors import Refused\n",
            "cogs/__init__.py": "",
            "cogs/answering/__init__.py": "from ._cog import setup\n",
            "cogs/answering/_cog.py": "from bot.forum import posts\nfrom . import texts\n",
            "cogs/answering/texts.py": "",
        },
    )
    assert graph_problems(tmp_path) == []


# --------------------------------------------------------------------------- room sizes
#
# A module a reader can hold in mind: at most 450 lines, no class over 250 (issue 13). Reached by
# splitting along subjects, so the numbers are a floor for readability, not a goal.

MODULE_LINES = 450
CLASS_LINES = 250


def size_problems(root: Path) -> list[str]:
    problems: list[str] = []
    for path in tree_modules(root).values():
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(root)
        lines = len(source.splitlines())
        if lines > MODULE_LINES:
            problems.append(f"{where}: {lines} lines (at most {MODULE_LINES})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > CLASS_LINES:
                    problems.append(
                        f"{where}: class {node.name} {size} lines (at most {CLASS_LINES})"
                    )
    return sorted(problems)


def test_no_module_or_class_is_oversized() -> None:
    assert size_problems(ROOT) == []


def test_the_size_check_reports_an_oversized_module_and_class(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(CLASS_LINES))
    _plant(
        tmp_path,
        {"bot/__init__.py": "", "bot/big.py": f"class Big:\n{body}\n" + "\n" * MODULE_LINES},
    )
    assert size_problems(tmp_path) == [
        f"bot/big.py: {CLASS_LINES + 1 + MODULE_LINES} lines (at most {MODULE_LINES})",
        f"bot/big.py: class Big {CLASS_LINES + 1} lines (at most {CLASS_LINES})",
    ]
