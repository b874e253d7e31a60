"""Guild and user installs in the bot's DM: a guild install reaches members of a guild the bot
is in; someone who shares no guild needs the app installed to their account and a command
declared for user installs (``integration_types`` 1)."""

from __future__ import annotations

import pytest

from tests.fakediscord.actors import GestureRefused
from tests.fakediscord.server import FakeDiscord


def _command(name: str, integration_types: list[int]) -> dict[str, object]:
    return {
        "name": name,
        "description": name,
        "type": 1,
        "contexts": [0, 1, 2],
        "integration_types": integration_types,
    }


async def test_dm_commands_follow_guild_and_user_installs(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    assert fake.guild is not None
    fake.install_commands([_command("guildy", [0]), _command("everywhere", [0, 1])])
    member = fake.add_member(fake.guild, "member")
    ix = await member.slash("guildy", channel=fake.dm_channel(member))
    assert ix.payload["authorizing_integration_owners"] == {"0": "0"}

    stranger = fake.add_user("stranger")
    for name in ("guildy", "everywhere"):
        with pytest.raises(GestureRefused, match="has not installed"):
            await stranger.slash(name, channel=fake.dm_channel(stranger))
    fake.install_app(stranger)
    with pytest.raises(GestureRefused, match="has not installed"):
        await stranger.slash("guildy", channel=fake.dm_channel(stranger))  # no user install
    ix = await stranger.slash("everywhere", channel=fake.dm_channel(stranger))
    assert ix.payload["authorizing_integration_owners"] == {"1": str(stranger.id)}
    assert ix.payload["context"] == 1 and "member" not in ix.payload
