"""Every REST call the bot makes has fault coverage: a new call site fails this test until it is
entered in ``tests/rest_inventory.py`` with the class of call it is (an interaction response, a
thread post, a DM...), and every class names the end-to-end fault tests that cover it.

Which method names make a REST request is read from discord.py's own source, not typed by hand:
the methods of ``HTTPClient`` and of the webhook adapter that call ``request``, then every
coroutine (or async iterator) of the user-facing models (``abc``, ``Message``, ``Thread``,
``Interaction``, ``Webhook``, ``Guild``, ``Member``...) that reaches one of them through
``.http`` / ``adapter``, directly or through another such method of its own object.

A call site is a call of such a name under ``bot/`` (outside the domain and the database layer,
which never touch Discord) and ``cogs/`` whose coroutine is used: awaited, iterated with
``async for``, returned, or handed to another call (``discord_step(..., thread.edit(...))``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import discord

from tests.rest_inventory import CLASSES, INVENTORY, NOT_REST

ROOT = Path(__file__).resolve().parent.parent
DISCORD = Path(discord.__file__).parent
#: Where discord.py's requests are issued, and the classes that issue them.
REQUESTERS = (("http.py", "HTTPClient"), ("webhook/async_.py", "AsyncWebhookAdapter"))
#: The models a bot calls methods on (``client.py``: the Client's own methods, not transitively:
#: its ``start`` logs in, which is start-up, not a call a command makes).
MODELS = (
    "abc.py",
    "message.py",
    "channel.py",
    "threads.py",
    "interactions.py",
    "webhook/async_.py",
    "guild.py",
    "member.py",
    "user.py",
    "reaction.py",
    "role.py",
    "emoji.py",
    "automod.py",
    "client.py",
)
SKIPPED_LAYERS = ("bot/forum", "bot/db")


def _methods(tree: ast.AST) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield node.name, item


def _parse(relative: str) -> ast.Module:
    return ast.parse((DISCORD / relative).read_text("utf-8"))


@cache
def request_methods() -> frozenset[str]:
    """``HTTPClient`` / webhook adapter methods that send a request."""
    names: set[str] = set()
    for relative, owner in REQUESTERS:
        for cls, method in _methods(_parse(relative)):
            if cls == owner and any(
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr == "request"
                for n in ast.walk(method)
            ):
                names.add(method.name)
    return frozenset(names)


def _through_http(node: ast.AST) -> bool:
    """``<...>.http.<request>`` or ``adapter.<request>`` (called or aliased)."""
    if not isinstance(node, ast.Attribute) or node.attr not in request_methods():
        return False
    owner = node.value
    if isinstance(owner, ast.Attribute):
        return owner.attr in ("http", "_http", "adapter")
    return isinstance(owner, ast.Name) and owner.id in ("http", "adapter")


def _on_self(node: ast.Attribute) -> bool:
    owner = node.value
    if isinstance(owner, ast.Attribute):
        owner = owner.value
    return isinstance(owner, ast.Name) and owner.id == "self"


@cache
def rest_method_names() -> frozenset[str]:
    """Names of discord.py's model methods that make a REST request."""
    coroutines: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for relative in MODELS:
        for _cls, method in _methods(_parse(relative)):
            if isinstance(method, ast.AsyncFunctionDef) or any(
                isinstance(n, ast.Yield) for n in ast.walk(method)
            ):
                coroutines.append((relative, method))
    names = {m.name for _r, m in coroutines if any(_through_http(n) for n in ast.walk(m))}
    grown = True
    while grown:
        grown = False
        for relative, method in coroutines:
            if method.name in names or relative == "client.py":
                continue
            if any(
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in names
                and _on_self(n.func)
                for n in ast.walk(method)
            ):
                names.add(method.name)
                grown = True
    return frozenset(names)


def _tail(node: ast.Attribute) -> str:
    """``interaction.response.send_message`` -> ``response.send_message``; a call's result as
    the receiver -> ``(...).edit``."""
    owner = node.value
    if isinstance(owner, ast.Attribute):
        return f"{owner.attr}.{node.attr}"
    if isinstance(owner, ast.Name):
        return f"{owner.id}.{node.attr}"
    return f"(...).{node.attr}"


def _used(call: ast.Call, parent: ast.AST) -> bool:
    """The call's coroutine (or iterator) is used, not a plain synchronous call: awaited,
    iterated, returned, kept (assigned, chosen by a conditional, put in a collection) or
    handed to another call."""
    if isinstance(parent, ast.AsyncFor):
        return parent.iter is call
    if isinstance(parent, ast.Call):
        return call in parent.args
    return isinstance(
        parent,
        ast.Await
        | ast.Lambda
        | ast.Return
        | ast.keyword
        | ast.IfExp
        | ast.Assign
        | ast.AnnAssign
        | ast.NamedExpr
        | ast.Starred
        | ast.List
        | ast.Tuple
        | ast.ListComp
        | ast.GeneratorExp,
    )


def call_sites(source: str, module: str) -> set[str]:
    """``module:qualname:receiver.method`` for every REST call in ``source``."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    rest = rest_method_names()
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in rest and not _through_http(node.func):
            continue
        if isinstance(node.func.value, ast.Constant) or not _used(node, parents[node]):
            continue
        scope: list[str] = []
        at: ast.AST = node
        while at in parents:
            at = parents[at]
            if isinstance(at, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                scope.append(at.name)
        found.add(f"{module}:{'.'.join(reversed(scope)) or '<module>'}:{_tail(node.func)}")
    return found


def product_call_sites() -> set[str]:
    found: set[str] = set()
    for top in ("bot", "cogs"):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(SKIPPED_LAYERS):
                continue
            module = relative.removesuffix(".py").replace("/", ".")
            found |= call_sites(path.read_text("utf-8"), module)
    return found


def _test_functions(relative: str) -> set[str]:
    tree = ast.parse((ROOT / relative).read_text("utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and node.name.startswith("test_")
    }


def test_discord_py_names_are_read_from_its_source() -> None:
    rest = rest_method_names()
    for name in (
        "send",
        "edit",
        "delete",
        "fetch_message",
        "create_thread",
        "add_reaction",
        "remove_reaction",
        "send_message",
        "defer",
        "edit_message",
        "send_modal",
        "create_dm",
        "edit_original_response",
        "add_tags",
        "history",
        "add_roles",
        "reply",
        "pin",
        "create_tag",
        "archived_threads",
    ):
        assert name in rest, name
    assert "get_reaction_users" in request_methods()
    for name in ("get_channel", "get_partial_message", "is_done", "to_dict", "wait_for"):
        assert name not in rest, name


def test_every_rest_call_site_is_in_the_inventory() -> None:
    sites = product_call_sites()
    assert len(sites) > 100  # the walk found the bot's calls
    missing = sorted(sites - INVENTORY.keys())
    assert missing == [], (
        "REST call sites without fault coverage: add each to tests/rest_inventory.py with "
        "its class (and cover the class in an end-to-end fault test):\n" + "\n".join(missing)
    )


def test_the_inventory_lists_no_call_site_that_is_gone() -> None:
    stale = sorted(INVENTORY.keys() - product_call_sites())
    assert stale == [], "inventory entries whose call site is gone:\n" + "\n".join(stale)


def test_every_class_is_covered_by_fault_tests_that_exist() -> None:
    used = set(INVENTORY.values())
    assert used - {NOT_REST} <= CLASSES.keys(), used - CLASSES.keys()
    for name, coverage in CLASSES.items():
        assert name in used, f"class {name!r} has no call site"
        assert coverage.tests, f"class {name!r} names no fault test"
        for test in coverage.tests:
            relative, _, function = test.partition("::")
            assert function in _test_functions(relative), f"{name}: {test} does not exist"


def test_a_new_call_site_is_caught() -> None:
    source = (
        "async def tell(interaction, thread, log):\n"
        "    await interaction.response.send_message('hi')\n"
        "    log.info(', '.join(['a']))\n"
        "    await discord_step('lock', thread.edit(locked=True), post_id=1)\n"
        "    async for m in thread.history(limit=1):\n"
        "        pass\n"
        "    await interaction.client.http.get_reaction_users(1, 2, 'x', limit=1)\n"
        "    thread.get_partial_message(1)\n"
        "    edit = thread.edit(archived=True) if lock else None\n"
        "    await asyncio.gather(*[m.delete() for m in messages])\n"
    )
    assert call_sites(source, "cogs.x") == {
        "cogs.x:tell:response.send_message",
        "cogs.x:tell:thread.edit",
        "cogs.x:tell:thread.history",
        "cogs.x:tell:http.get_reaction_users",
        "cogs.x:tell:m.delete",
    }
