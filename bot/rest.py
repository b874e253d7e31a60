"""Every REST request the bot makes, bounded and watched in one place.

discord.py sets no request timeout and retries a 5xx itself for up to 25 s, so ``bound_requests``
wraps its two senders (the HTTP client for the bot's own calls, the webhook adapter for
interaction responses and followups): a request with no answer within ``REST_REQUEST_TIMEOUT``
seconds (retries and rate-limit waits included) raises ``RequestTimedOut``, a 504 as far as the
callers know, so every ``except discord.HTTPException`` handles it as Discord failing (the request
may have taken effect). A 403 50013 Missing Permissions is reported to ``on_missing_permission``
with the route's guild and channel, so the moderators can be told which permission is missing
(``bot.permission_notices``). An interaction response Discord accepted is told to the
``watch_answers`` watchers (``bot.metrics``: interactions answered and their latency).

Discord's error codes the bot acts on live here too, with ``gone``: a 404 that means a channel,
thread or message was deleted behind the bot's back. 403 50001 Missing Access is never that: the
bot lost a permission, and the thing is still there.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, Final, Protocol

import aiohttp
import discord
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.gateway_turns import take_turns

UNKNOWN_CHANNEL: Final = 10003
UNKNOWN_MEMBER: Final = 10007
UNKNOWN_MESSAGE: Final = 10008
UNKNOWN_USER: Final = 10013
UNKNOWN_INTERACTION: Final = 10062
#: Opening DM channels too fast (a hold of some seconds follows).
OPENING_DMS_TOO_FAST: Final = 40003
ALREADY_ACKNOWLEDGED: Final = 40060
#: A post without a tag in a forum that requires one.
TAG_REQUIRED: Final = 40067
MISSING_ACCESS: Final = 50001
#: The user's DMs are closed to the bot.
DMS_CLOSED: Final = 50007
MISSING_PERMISSIONS: Final = 50013
THREAD_ARCHIVED: Final = 50083
THREAD_LOCKED: Final = 160005

#: Called with (guild id, channel id) of a request Discord refused with 50013.
MissingPermissionHook = Callable[[int | None, int | None], None]
#: The route of an interaction's first response (a reply, a deferral, a modal, choices).
INTERACTION_CALLBACK: Final = "/interactions/{webhook_id}/{webhook_token}/callback"


class AnswerWatcher(Protocol):
    """Told the id of each interaction whose first response Discord accepted."""

    def answered(self, interaction_id: int) -> None: ...


# The webhook adapter is one per process: every bot's watcher hears every answer, and keeps
# only those of the interactions it received. Held weakly: a closed bot's watcher goes.
_answer_watchers: weakref.WeakSet[AnswerWatcher] = weakref.WeakSet()


def watch_answers(watcher: AnswerWatcher) -> None:
    """Tell ``watcher`` of every interaction response Discord accepts from now on."""
    _answer_watchers.add(watcher)


class RequestTimedOut(discord.DiscordServerError):
    """Discord did not answer a request in time: handled as a 504 (it may have taken effect)."""

    def __init__(self, route: Route, seconds: float) -> None:
        self.response: Any = None
        self.status = 504
        self.code = 0
        self.text = f"no answer within {seconds:g} s"
        Exception.__init__(self, f"504 Gateway Timeout: {route.method} {route.path} {self.text}")


def gone(exc: BaseException) -> bool:
    """Discord says the channel, thread or message no longer exists (never 50001)."""
    return isinstance(exc, discord.NotFound) and exc.code in (UNKNOWN_CHANNEL, UNKNOWN_MESSAGE)


def _snowflake(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


class BoundedHTTPClient(HTTPClient):
    """discord.py's HTTP client with a bound on each request and a hook on 50013; its gateway
    socket gives the event loop a turn every few milliseconds (``bot.gateway_turns``)."""

    request_timeout: float = 60.0
    on_missing_permission: MissingPermissionHook | None = None

    async def request(self, route: Route, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.request_timeout):
                return await super().request(route, **kwargs)
        except TimeoutError:
            raise RequestTimedOut(route, self.request_timeout) from None
        except discord.Forbidden as exc:
            hook = self.on_missing_permission
            if exc.code == MISSING_PERMISSIONS and hook is not None:
                hook(_snowflake(route.guild_id), _snowflake(route.channel_id))
            raise

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        return take_turns(await super().ws_connect(url, compress=compress))


class BoundedWebhookAdapter(AsyncWebhookAdapter):
    """The webhook adapter (interaction responses, followups) with a bound on each request."""

    request_timeout: float = 60.0

    async def request(self, route: Route, *args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.request_timeout):
                response = await super().request(route, *args, **kwargs)
        except TimeoutError:
            raise RequestTimedOut(route, self.request_timeout) from None
        interaction_id = _snowflake(route.webhook_id)
        if route.path == INTERACTION_CALLBACK and interaction_id is not None:
            for watcher in list(_answer_watchers):
                watcher.answered(interaction_id)
        return response


def bound_requests(
    client: discord.Client, seconds: float, on_missing_permission: MissingPermissionHook
) -> None:
    """Bound every request of ``client`` to ``seconds`` and watch for 50013.

    discord.py builds its HTTP client and keeps one webhook adapter per process (a context
    variable's default), so both are given their bounded class in place.
    """
    http = client.http
    http.__class__ = BoundedHTTPClient
    assert isinstance(http, BoundedHTTPClient)
    http.request_timeout = seconds
    http.on_missing_permission = on_missing_permission
    adapter = async_context.get()
    adapter.__class__ = BoundedWebhookAdapter
    assert isinstance(adapter, BoundedWebhookAdapter)
    adapter.request_timeout = seconds
