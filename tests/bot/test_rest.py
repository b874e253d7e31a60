"""``bot.rest``: which of Discord's answers mean "deleted", and a timeout as a 504."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord
from discord.http import Route

from bot.rest import RequestTimedOut, gone


def error(kind: type[discord.HTTPException], status: int, code: int) -> discord.HTTPException:
    response: Any = SimpleNamespace(status=status, reason="")
    return kind(response, {"message": "x", "code": code})


def test_only_unknown_channel_and_unknown_message_mean_deleted() -> None:
    assert gone(error(discord.NotFound, 404, 10003))
    assert gone(error(discord.NotFound, 404, 10008))
    assert not gone(error(discord.Forbidden, 403, 50001))  # Missing Access: a lost permission
    assert not gone(error(discord.Forbidden, 403, 50013))
    assert not gone(error(discord.NotFound, 404, 10062))  # an interaction, not a message
    assert not gone(TimeoutError())


def test_a_timeout_is_a_504_every_handler_of_discord_errors_catches() -> None:
    exc = RequestTimedOut(Route("GET", "/channels/{channel_id}", channel_id=1), 2.5)
    assert isinstance(exc, discord.DiscordServerError) and isinstance(exc, discord.HTTPException)
    assert (exc.status, exc.code) == (504, 0)
    assert "2.5 s" in str(exc) and "/channels/{channel_id}" in str(exc)
