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
(``asyncio.sleep(0)``) when ``SLICE`` seconds have passed since its last turn. The frames are
still read one after the other by the one gateway loop, so the events keep the gateway's order
(the vote writer relies on it); only the other tasks get their turns in between. The bot's
HTTP client (``bot.rest.BoundedHTTPClient.ws_connect``) gives every socket it opens this class.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final

import aiohttp
from discord.gateway import DiscordClientWebSocketResponse

#: How long the gateway may read frames back to back (seconds) before the event loop runs its
#: other ready tasks once. Each turn costs the gateway their steps, so a longer slice lets it
#: keep up with a burst; a transaction's statement waits up to two slices for its turns.
SLICE: Final = 0.005


class TurnTakingWebSocket(DiscordClientWebSocketResponse):
    """discord.py's gateway socket, giving the event loop a turn every ``slice`` seconds."""

    slice: float = SLICE
    _last_turn: float = 0.0

    # aiohttp's signature (its overloads are typed by the socket's decode flag: Any here).
    async def receive(self, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        if time.perf_counter() - self._last_turn >= self.slice:
            await asyncio.sleep(0)
            self._last_turn = time.perf_counter()
        return await super().receive(timeout)


def take_turns(socket: aiohttp.ClientWebSocketResponse) -> aiohttp.ClientWebSocketResponse:
    """``socket`` as a ``TurnTakingWebSocket`` (discord.py's own gateway socket class only: any
    other is returned as it is)."""
    if type(socket) is DiscordClientWebSocketResponse:
        socket.__class__ = TurnTakingWebSocket
    return socket
