"""Every application command the production bot registers has the public surface of DESIGN.md §3.

The bot is started with its real extension list against the fake Discord, and the commands are
read back as ``qa-bot sync-commands`` would send them. Two tables say what users rely on:

- ``COMMANDS``: one row per command users invoke (a slash command or subcommand by its full
  path, e.g. ``"qa settings set"``, or a context menu by its name) with its options in order.
- ``TOP_LEVEL``: one row per top-level command: who Discord shows it to and where.

**When you add a command, add its rows here** (from DESIGN.md §3). A registered command without a
row fails, and so does a row whose command is not registered or differs from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from bot.client import EXTENSIONS
from tests.fakediscord.fixtures import BotFactory, BotHarness
from tests.fakediscord.server import FakeDiscord

# Command types.
SLASH, USER_MENU, MESSAGE_MENU = 1, 2, 3
# Option types.
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE = 3, 4, 5, 6, 7, 8
# Channel types.
FORUM = 15
# Permission bits for default_member_permissions.
MANAGE_GUILD = 1 << 5
MANAGE_THREADS = 1 << 34


@dataclass(frozen=True)
class Opt:
    name: str
    type: int
    required: bool = False
    autocomplete: bool = False
    choices: tuple[str, ...] = ()  # the choices' values, in order
    channel_types: tuple[int, ...] = ()


@dataclass(frozen=True)
class Cmd:
    path: str  # "qa settings set"; a context menu's name
    options: tuple[Opt, ...] = ()
    type: int = SLASH


@dataclass(frozen=True)
class Top:
    name: str
    type: int = SLASH
    #: The permission bits Discord requires by default to see it (None: everyone).
    default_member_permissions: int | None = None
    guild_only: bool = True


COMMANDS: tuple[Cmd, ...] = (
    # /qa (Manage Server), declared whole by cogs.admin
    Cmd("qa setup", (Opt("forum", CHANNEL, required=True, channel_types=(FORUM,)),)),
    Cmd("qa settings show"),
    Cmd(
        "qa settings set",
        (Opt("key", STRING, required=True, autocomplete=True), Opt("value", STRING, required=True)),
    ),
    Cmd("qa settings reset", (Opt("key", STRING, required=True, autocomplete=True),)),
    Cmd("qa status"),
    Cmd(
        "qa roles add", (Opt("threshold", INTEGER, required=True), Opt("role", ROLE, required=True))
    ),
    Cmd("qa roles remove", (Opt("role", ROLE, required=True),)),
    Cmd("qa roles show"),
    # asking
    Cmd("ask", (Opt("category", STRING, autocomplete=True), Opt("anonymous", BOOLEAN))),
    # answering (`question` defaults to the thread; `post` picks one of the member's bot posts)
    Cmd("answer", (Opt("anonymous", BOOLEAN), Opt("question", STRING, autocomplete=True))),
    Cmd(
        "reply",
        (
            Opt("text", STRING, required=True),
            Opt("anonymous", BOOLEAN),
            Opt("question", STRING, autocomplete=True),
        ),
    ),
    Cmd("edit", (Opt("post", STRING, autocomplete=True),)),
    Cmd("delete", (Opt("post", STRING, autocomplete=True),)),
    Cmd("Accept answer", type=MESSAGE_MENU),
    # lifecycle (`question` defaults to the thread the command is used in)
    Cmd(
        "close",
        (
            Opt("question", STRING, autocomplete=True),
            Opt("reason", STRING),
            Opt("duplicate_of", STRING, autocomplete=True),
        ),
    ),
    Cmd("reopen", (Opt("question", STRING, autocomplete=True),)),
    # discovery
    Cmd("search", (Opt("query", STRING, required=True, autocomplete=True),)),
    Cmd("unanswered", (Opt("category", STRING, autocomplete=True),)),
    Cmd(
        "notifications",
        (
            Opt("mode", STRING, choices=("on", "off")),
            Opt("preview", STRING, choices=("full", "no-text", "minimal")),
        ),
    ),
    Cmd("follow"),
    Cmd("unfollow"),
    # profiles
    Cmd("profile", (Opt("member", USER), Opt("public", BOOLEAN))),
    Cmd("leaderboard"),
    # /mod (Manage Threads), declared whole by cogs.moderation
    Cmd("mod log"),
    Cmd("mod queue"),
    Cmd("mod blocks"),
    Cmd(
        "mod link-imported",
        (Opt("handle", STRING, required=True), Opt("member", USER, required=True)),
    ),
    Cmd("mod stats", (Opt("period", INTEGER, choices=("4", "12", "52")),)),
    Cmd("Moderate post", type=MESSAGE_MENU),
    # safety resources (`dm`: the member's own opt-in to the keyword reply by DM)
    Cmd("resources", (Opt("public", BOOLEAN), Opt("dm", STRING, choices=("on", "off")))),
    # reports (any member; cogs.moderation)
    Cmd("Report", type=MESSAGE_MENU),
    # a member's own data (in servers, the DM with the bot, and as a user-installed app)
    Cmd("mydata", (Opt("action", STRING, required=True, choices=("export", "erase")),)),
    # the public archive's consent (cogs.archive)
    Cmd("privacy", (Opt("allow_by_default", BOOLEAN), Opt("be_named", BOOLEAN))),
    Cmd("Publish / unpublish", type=MESSAGE_MENU),
)

TOP_LEVEL: tuple[Top, ...] = (
    Top("qa", default_member_permissions=MANAGE_GUILD),
    Top("ask"),
    Top("answer"),
    Top("reply"),
    Top("edit"),
    Top("delete"),
    Top("Accept answer", type=MESSAGE_MENU),
    Top("close"),
    Top("reopen"),
    Top("search"),
    Top("unanswered"),
    Top("notifications", guild_only=False),  # per user: it works in the DM with the bot too
    Top("follow"),
    Top("unfollow"),
    Top("profile"),
    Top("leaderboard"),
    Top("mod", default_member_permissions=MANAGE_THREADS),
    Top("Moderate post", type=MESSAGE_MENU, default_member_permissions=MANAGE_THREADS),
    Top("resources", guild_only=False),  # the general default in the DM with the bot
    Top("Report", type=MESSAGE_MENU),
    Top("mydata", guild_only=False),  # every server's data in the DM with the bot
    Top("privacy"),  # per server: what the server's archive publishes
    Top("Publish / unpublish", type=MESSAGE_MENU),
)


# --------------------------------------------------------------------------- reading the payloads


def _opt(data: dict[str, Any]) -> Opt:
    return Opt(
        name=data["name"],
        type=int(data["type"]),
        required=bool(data.get("required", False)),
        autocomplete=bool(data.get("autocomplete", False)),
        choices=tuple(str(c["value"]) for c in data.get("choices") or ()),
        channel_types=tuple(sorted(data.get("channel_types") or ())),
    )


def _leaves(payload: dict[str, Any]) -> list[Cmd]:
    """The invocable commands of one registered command (its subcommands, if it has any)."""
    ctype = int(payload.get("type", SLASH))
    if ctype != SLASH:
        return [Cmd(payload["name"], type=ctype)]
    out: list[Cmd] = []

    def walk(path: str, options: list[dict[str, Any]]) -> None:
        subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
        if not subs:
            out.append(Cmd(path, tuple(_opt(o) for o in options)))
            return
        assert len(subs) == len(options), f"/{path} mixes subcommands and options"
        for sub in subs:
            walk(f"{path} {sub['name']}", list(sub.get("options") or []))

    walk(payload["name"], list(payload.get("options") or []))
    return out


def _described(payload: dict[str, Any], path: str) -> list[str]:
    """Problems Discord would refuse at sync: missing or over-long descriptions."""
    problems = []
    if int(payload.get("type", SLASH)) == SLASH:
        text = payload.get("description") or ""
        if not 1 <= len(text) <= 100:
            problems.append(f"/{path}: description must be 1-100 characters, is {text!r}")
    for opt in payload.get("options") or []:
        problems += _described(opt | {"type": SLASH}, f"{path} {opt['name']}")
    return problems


@pytest.fixture
async def registered(fake_discord: FakeDiscord, qa_bot: BotHarness) -> list[dict[str, Any]]:
    """The production bot's commands as synced (global; qa-bot registers no guild commands)."""
    return [c.data for c in fake_discord.commands()]


# --------------------------------------------------------------------------- the checks


def test_the_tables_have_no_duplicates() -> None:
    keys = [(c.type, c.path) for c in COMMANDS]
    assert len(keys) == len(set(keys))
    tops = [(t.type, t.name) for t in TOP_LEVEL]
    assert len(tops) == len(set(tops))
    for cmd in COMMANDS:
        top = cmd.path.split()[0] if cmd.type == SLASH else cmd.path
        assert (cmd.type, top) in tops, f"{cmd.path!r} has no TOP_LEVEL row"


async def test_every_registered_command_has_a_row_and_every_row_is_registered(
    registered: list[dict[str, Any]],
) -> None:
    found = {(c.type, c.path) for payload in registered for c in _leaves(payload)}
    expected = {(c.type, c.path) for c in COMMANDS}
    assert sorted(found - expected) == [], "registered commands without a row in COMMANDS"
    assert sorted(expected - found) == [], "rows in COMMANDS whose command is not registered"
    tops = {(int(p.get("type", SLASH)), p["name"]) for p in registered}
    assert tops == {(t.type, t.name) for t in TOP_LEVEL}


@pytest.mark.parametrize("row", COMMANDS, ids=lambda c: c.path)
async def test_a_command_has_the_options_of_the_design(
    registered: list[dict[str, Any]], row: Cmd
) -> None:
    leaves = {(c.type, c.path): c for payload in registered for c in _leaves(payload)}
    actual = leaves.get((row.type, row.path))
    assert actual is not None, f"/{row.path} is not registered"
    assert actual.options == row.options


@pytest.mark.parametrize("row", TOP_LEVEL, ids=lambda t: t.name)
async def test_a_top_level_command_is_shown_to_whom_the_design_says(
    registered: list[dict[str, Any]], row: Top
) -> None:
    payload = next(
        p for p in registered if p["name"] == row.name and int(p.get("type", SLASH)) == row.type
    )
    perms = payload.get("default_member_permissions")
    assert (int(perms) if perms is not None else None) == row.default_member_permissions
    contexts = payload.get("contexts")
    guild_only = payload.get("dm_permission") is False or contexts == [0]
    assert guild_only == row.guild_only


async def test_every_description_is_within_discords_limits(
    registered: list[dict[str, Any]],
) -> None:
    problems = [msg for payload in registered for msg in _described(payload, payload["name"])]
    assert problems == []


QA_PATHS = sorted(c.path for c in COMMANDS if c.type == SLASH and c.path.split()[0] == "qa")


@pytest.mark.parametrize(
    "extensions",
    [("cogs.admin",), tuple(reversed(EXTENSIONS)), EXTENSIONS],
    ids=["admin alone", "reversed order", "production order"],
)
async def test_qa_has_all_its_subcommands_with_admin_alone_and_in_any_load_order(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory, extensions: tuple[str, ...]
) -> None:
    await qa_bot_factory(extensions=list(extensions))
    (qa,) = [c.data for c in fake_discord.commands() if c.data["name"] == "qa"]
    assert sorted(c.path for c in _leaves(qa)) == QA_PATHS


async def test_no_cog_but_admin_declares_any_part_of_qa(
    fake_discord: FakeDiscord, qa_bot_factory: BotFactory
) -> None:
    await qa_bot_factory(extensions=[e for e in EXTENSIONS if e != "cogs.admin"])
    names = {c.data["name"] for c in fake_discord.commands()}
    assert not {n for n in names if n == "qa" or n.startswith("qa-")}
    assert names == {t.name for t in TOP_LEVEL} - {"qa"}
