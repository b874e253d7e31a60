"""``bot.gateway_turns``: the gateway socket lets other tasks run between frames it already holds,
the frames keep their order, and the bot's own gateway connection uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer
from discord.gateway import DiscordClientWebSocketResponse

from bot.gateway_turns import TurnTakingWebSocket, take_turns
from tests.fakediscord.fixtures import BotFactory

FRAMES = 12
#: The server, and an event set once it has sent every frame.
Sender = tuple[BaseTestServer, asyncio.Event]


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    """A WebSocket server that sends ``FRAMES`` frames back to back, then sets the event."""
    sent = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for i in range(FRAMES):
            await ws.send_str(str(i))
        sent.set()
        await ws.receive()  # until the client closes
        return ws

    app = web.Application()
    app.router.add_get("/", handler)
    async with TestServer(app) as server:
        yield server, sent


async def read_beside_a_bystander(sender: Sender, *, turns: bool) -> list[str]:
    """What happened, in order: each frame read (its text) and each step of another task
    ("other"), the frames read only once the server has sent them all (so they arrive together
    and all but the first are already buffered when read)."""
    server, sent = sender
    happened: list[str] = []
    async with aiohttp.ClientSession(ws_response_class=DiscordClientWebSocketResponse) as session:
        socket = await session.ws_connect(server.make_url("/"))
        if turns:
            socket = take_turns(socket)
            assert isinstance(socket, TurnTakingWebSocket)
            socket.slice = 0.0  # a turn before every frame (the default: every few ms of reading)
        await sent.wait()
        reading = True

        async def bystander() -> None:
            while reading:
                happened.append("other")
                await asyncio.sleep(0)

        other = asyncio.create_task(bystander())
        for _ in range(FRAMES):
            happened.append((await socket.receive()).data)
        reading = False
        await other
        await socket.close()
    return happened


def longest_run_of_frames(happened: list[str]) -> int:
    longest = run = 0
    for what in happened:
        run = 0 if what == "other" else run + 1
        longest = max(longest, run)
    return longest


async def test_other_tasks_run_between_buffered_frames_and_the_order_is_kept(
    sender: Sender,
) -> None:
    happened = await read_beside_a_bystander(sender, turns=True)
    assert [what for what in happened if what != "other"] == [str(i) for i in range(FRAMES)]
    assert longest_run_of_frames(happened) == 1


async def test_without_turns_the_buffered_frames_are_read_back_to_back(
    sender: Sender,
) -> None:
    # The control: the frames were buffered, so aiohttp's own socket returns them all without
    # letting the bystander run (what the turns are for).
    happened = await read_beside_a_bystander(sender, turns=False)
    assert [what for what in happened if what != "other"] == [str(i) for i in range(FRAMES)]
    assert longest_run_of_frames(happened) > 1


async def test_only_discords_gateway_socket_class_is_given_turns(
    sender: Sender,
) -> None:
    server, _ = sender
    async with aiohttp.ClientSession() as session:
        socket = await session.ws_connect(server.make_url("/"))
        assert type(take_turns(socket)) is aiohttp.ClientWebSocketResponse
        await socket.close()


async def test_the_bots_gateway_connections_take_turns(qa_bot_factory: BotFactory) -> None:
    # The shards open their gateway sockets through the bot's HTTP client, as this one.
    harness = await qa_bot_factory()
    socket = await harness.bot.http.ws_connect(harness.fake.gateway_url)
    assert isinstance(socket, TurnTakingWebSocket)
    await socket.close()
