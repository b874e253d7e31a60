"""The README's invite link asks Discord for exactly the permissions the bot needs.

``bot.permissions.REQUIRED_PERMISSIONS`` is the one place they are declared; /qa setup reports
the ones missing in the forum by their labels. When a later change adds a permission, this test
fails until the README's link, integer and list follow.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.permissions import PERMISSION_LABELS, REQUIRED_PERMISSIONS, missing_permissions

README = Path(__file__).resolve().parents[1] / "README.md"
INVITE_URL = re.compile(r"https://discord\.com/(?:api/)?oauth2/authorize\?[^\s)`>\"]+")


def _invite_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Invite the bot\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## Invite the bot' section"
    return match.group(1)


def test_the_invite_link_asks_for_the_required_permissions_and_scopes() -> None:
    urls = INVITE_URL.findall(_invite_section())
    assert urls, "the invite section has no OAuth2 authorize link"
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        assert query.get("permissions") == [str(REQUIRED_PERMISSIONS.value)], url
        scopes = set(" ".join(query.get("scope", [])).split())
        assert scopes == {"bot", "applications.commands"}, url
        assert query.get("client_id"), url


def test_the_readme_names_the_integer_and_every_permission() -> None:
    section = " ".join(_invite_section().split())
    integers = {int(n) for n in re.findall(r"\b\d{6,}\b", section)}
    assert integers == {REQUIRED_PERMISSIONS.value}
    for label in missing_permissions(discord.Permissions.none()):
        assert label in section, f"the invite section does not name {label}"


def test_the_required_integer_is_the_documented_one() -> None:
    # The number in the issue and the README; change all three together.
    assert REQUIRED_PERMISSIONS.value == 292326337616


def test_every_required_permission_has_a_label() -> None:
    labelled = discord.Permissions(**dict.fromkeys(PERMISSION_LABELS, True))
    assert REQUIRED_PERMISSIONS.is_subset(labelled)
    assert len(missing_permissions(discord.Permissions.none())) == len(
        [name for name in PERMISSION_LABELS if getattr(REQUIRED_PERMISSIONS, name)]
    )


@pytest.mark.parametrize(
    ("have", "missing"),
    [
        (REQUIRED_PERMISSIONS, []),
        (discord.Permissions.all(), []),
        (
            discord.Permissions(
                REQUIRED_PERMISSIONS.value & ~discord.Permissions.view_channel.flag
            ),
            ["View Channel"],
        ),
        (
            discord.Permissions(
                REQUIRED_PERMISSIONS.value
                & ~discord.Permissions.manage_roles.flag
                & ~discord.Permissions.send_messages.flag
            ),
            ["Send Messages (Create Posts)", "Manage Roles"],
        ),
    ],
)
def test_missing_permissions_names_what_is_lacking(
    have: discord.Permissions, missing: list[str]
) -> None:
    assert missing_permissions(have) == missing
