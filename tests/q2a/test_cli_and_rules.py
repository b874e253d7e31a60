"""``qa-bot import-q2a`` as a real process (its refusals are one sentence, exit code 2) and
the pure rules: categories flattened onto forum tags, the users file, Q2A's HTML."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db.q2a_source import SourceCategory
from bot.forum.q2a_rules import UserMapError, flatten_categories, read_user_map, to_markdown
from tests.bot.test_cli import _run
from tests.q2a.site import generate, write


async def test_a_dry_run_on_the_real_command_line(q2a_url: str, tmp_path: Path) -> None:
    await write(q2a_url, generate())
    db = f"sqlite+aiosqlite:///{tmp_path / 'qa.sqlite3'}"
    args = ["import-q2a", "--from", q2a_url, "--guild", "42", "--dry-run"]

    refused = _run(args, {"DATABASE_URL": db}, tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        "qa-bot: The database is not at qa-bot's newest schema: run `qa-bot migrate` first "
        "(a dry run writes nothing)."
    )
    assert _run(["migrate"], {"DATABASE_URL": db}, tmp_path).returncode == 0
    done = _run(args, {"DATABASE_URL": db}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Dry run: nothing was written." in done.stdout
    assert "questions" in done.stdout and "votes" in done.stdout

    users = tmp_path / "users.csv"
    users.write_text("alice,1001\nbob,twelve\n", encoding="utf-8")
    bad = _run([*args, "--users", str(users)], {"DATABASE_URL": db}, tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "qa-bot: Line 2 of the users file has no Discord id."


def test_categories_flatten_to_top_levels_within_the_tag_limit() -> None:
    nested = [
        SourceCategory(1, None, "Sleep", 1),
        SourceCategory(2, 1, "Insomnia", 1),
        SourceCategory(3, 2, "Early waking", 1),
        SourceCategory(4, None, "A very long category name indeed", 2),
    ]
    plan = flatten_categories(nested, existing=["sleep"])
    assert plan.names == {1: "sleep", 2: "sleep", 3: "sleep", 4: "A very long category"}
    assert plan.new == ["A very long category"] and plan.overflow == []

    many = [SourceCategory(n, None, f"Topic {n}", n) for n in range(1, 23)]
    plan = flatten_categories(many, existing=[])
    assert len(plan.new) == 19  # 20 tags, one of them Solved
    assert plan.overflow == ["Topic 20", "Topic 21", "Topic 22"]
    assert plan.names[20] is None and plan.names[19] == "Topic 19"


def test_the_users_file() -> None:
    assert read_user_map("handle,discord_id\nalice, 1001\n\nbob,1002\n") == {
        "alice": 1001,
        "bob": 1002,
    }
    with pytest.raises(UserMapError, match=r"Line 2 of the users file has no Discord id\."):
        read_user_map("alice,1001\nbob,-3\n")
    with pytest.raises(UserMapError, match=r"Line 1 of the users file needs handle,discord_id\."):
        read_user_map("alice\n")


def test_html_and_plain_text_become_discord_markdown() -> None:
    html = '<p>Try <strong>this</strong>:</p><ul><li>one</li></ul><a href="https://x.test">x</a>'
    assert to_markdown(html, "html") == "Try **this**:\n\n- one\n\n[x](https://x.test)"
    assert to_markdown("  Already *Markdown*  ", "") == "Already *Markdown*"
