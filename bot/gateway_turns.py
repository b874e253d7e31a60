"""The gateway's reader lets the rest of the bot run between frames (issue 18: commands during a
reaction burst).

discord.py reads its gateway in one loop (``Client.connect``: ``await ws.poll_event()`` again and
again), and aiohttp's ``receive`` returns a frame already buffered without suspending. When a
burst begins, one read of the socket buffers hundreds of events, which discord.py then parses
back to back (a reaction event builds a ``Member``) without giving the event loop a turn: a
transaction in flight (each statement a hop to the driver's thread and back to the loop) and a
slash command then get one step per few hundred events: SQLite's write lock was held for
seconds, and a command's own steps waited as long.

``TurnTakingWebSocket`` is the gateway socket whose ``receive`` lets the event loop run once
(``asyncio.sleep(0)``) every ``FRAMES_PER_TURN`` frames. The frames are still read one after
the other by the one gateway loop, so the events keep the gateway's order (the vote writer
relies on it); only the other tasks get their turns in between. The bot's HTTP client
(``bot.rest.BoundedHTTPClient.ws_connect``) gives every socket it opens this class.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import aiohttp
from discord.gateway import DiscordClientWebSocketResponse

#: Frames the gateway reads before the event loop runs its other ready tasks once. A reaction
#: event costs 0.05-0.7 ms to parse, so a turn comes every few milliseconds at most.
FRAMES_PER_TURN: Final = 4


class TurnTakingWebSocket(DiscordClientWebSocketResponse):
    """discord.py's gateway socket, giving the event loop a turn every few frames."""

    frames_per_turn: int = FRAMES_PER_TURN
    _frames_since_turn: int = 0

    # aiohttp's signature (its overloads are typed by the socket's decode flag: Any here).
    async def receive(self, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        if self._frames_since_turn >= self.frames_per_turn:
            self._frames_since_turn = 0
            await asyncio.sleep(0)
        self._frames_since_turn += 1
        return await super().receive(timeout)


def take_turns(socket: aiohttp.ClientWebSocketResponse) -> aiohttp.ClientWebSocketResponse:
    """``socket`` as a ``TurnTakingWebSocket`` (discord.py's own gateway socket class only: any
    other is returned as it is)."""
    if type(socket) is DiscordClientWebSocketResponse:
        socket.__class__ = TurnTakingWebSocket
    return socket
