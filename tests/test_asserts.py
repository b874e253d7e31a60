"""Asserts never guard a rule in product code: ``python -O`` removes them. Under ``bot/`` and
``cogs/`` only two shapes are allowed, both of which merely tell the type checker what is already
known: ``assert x is not None`` and ``assert isinstance(...)``. A rule (a guild-only command, a
post of this server, a valid state) is a real check that raises a sentence."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "cogs")


def allowed(node: ast.Assert) -> bool:
    test = node.test
    if isinstance(test, ast.Call):
        return isinstance(test.func, ast.Name) and test.func.id == "isinstance"
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
        and isinstance(test.left, ast.Name | ast.Attribute)
    )


def forbidden_asserts(source: str, name: str) -> list[str]:
    tree = ast.parse(source, filename=name)
    return [
        f"{name}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert) and not allowed(node)
    ]


def test_product_code_asserts_only_what_the_type_checker_needs() -> None:
    problems: list[str] = []
    files = [path for top in PRODUCT for path in sorted((ROOT / top).rglob("*.py"))]
    assert len(files) > 50  # the walk found the package
    for path in files:
        problems += forbidden_asserts(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    assert problems == [], "asserts that guard a rule:\n" + "\n".join(problems)


def test_the_check_catches_rule_asserts_and_spares_type_narrowing() -> None:
    source = "\n".join(
        [
            "assert guild is not None",
            "assert interaction.guild is not None",
            "assert isinstance(channel, Thread)",
            "assert guild is not None and guild.id == draft.guild_id",
            "assert a is not None and b is not None",
            "assert post.kind == 'question'",
            "assert count > 0, 'empty'",
            "assert not closed",
            "assert f(x) is not None",
        ]
    )
    found = forbidden_asserts(source, "x.py")
    assert [line.split(":")[1] for line in found] == ["4", "5", "6", "7", "8", "9"]
