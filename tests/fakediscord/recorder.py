"""What the fake saw and sent, and event-based waiting on it (no sleeps anywhere)."""

from __future__ import annotations

import asyncio
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.fakediscord.model import JSON

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait on the fake ran out of time; the message says what was awaited and what was seen."""


@dataclass
class Call:
    """One REST request the bot made."""

    index: int
    method: str
    path: str  # e.g. /channels/123/messages (after the /api/v10 prefix)
    route: str | None  # template, e.g. /channels/{channel_id}/messages; None = unknown route
    params: dict[str, str]  # path parameters by template name
    query: dict[str, str]
    json: Any  # parsed JSON body (``payload_json`` for multipart), None without a body
    files: list[tuple[str, bytes, str | None]]  # (filename, data, content type)
    time: float  # event-loop time when the request arrived
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0  # filled in when the response is sent
    response: Any = None
    error: str | None = None  # an exception inside the fake while handling it
    #: where the request or the answer breaks Discord's published schemas (``schemas/``)
    schema_errors: list[str] = field(default_factory=list)

    def id(self, name: str) -> int:
        """A path parameter as an int (``call.id("channel_id")``)."""
        return int(self.params[name])

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        return f"<Call #{self.index} {self.method} {self.path} -> {self.status}>"


@dataclass
class DispatchedEvent:
    """One gateway DISPATCH the fake sent (or, with ``session_id`` None, had no session for)."""

    index: int
    name: str
    data: JSON
    shard_id: int | None
    session_id: str | None
    seq: int | None
    time: float

    def __repr__(self) -> str:
        return f"<Event #{self.index} {self.name} shard={self.shard_id} s={self.seq}>"


class Signal:
    """Wakes every waiter whenever anything changes; waiters re-check their condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = self._event
                    result = check()
                    if result:
                        return result
                    await event.wait()
        except TimeoutError:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {describe()}") from None


def route_matcher(
    method: str | None, route: str | re.Pattern[str] | None
) -> Callable[[Call], bool]:
    """Match a call by method and by route template, glob on the path, or compiled regex."""

    def match(call: Call) -> bool:
        if method is not None and method != "*" and call.method != method.upper():
            return False
        if route is None:
            return True
        if isinstance(route, re.Pattern):
            return route.search(call.path) is not None
        if "{" in route:
            return call.route == route
        return fnmatch.fnmatchcase(call.path, route)

    return match


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.events: list[DispatchedEvent] = []
        self.signal = Signal()
        self._consumed_calls: set[int] = set()
        self._consumed_events: set[int] = set()

    @property
    def unknown_calls(self) -> list[Call]:
        return [c for c in self.calls if c.route is None]

    @property
    def failed_calls(self) -> list[Call]:
        """Calls on which the fake itself raised (a bug in the fake or an unexpected body)."""
        return [c for c in self.calls if c.error is not None]

    @property
    def schema_violations(self) -> list[Call]:
        """Calls whose request or answer breaks Discord's schemas (see ``schemas/validate.py``)."""
        return [c for c in self.calls if c.schema_errors]

    def find_calls(
        self,
        method: str | None = None,
        route: str | re.Pattern[str] | None = None,
        *,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
    ) -> list[Call]:
        match = route_matcher(method, route)
        return [
            c for c in self.calls[since:] if c.status and match(c) and (where is None or where(c))
        ]

    def find_events(
        self,
        name: str | None = None,
        *,
        where: Callable[[DispatchedEvent], bool] | None = None,
        since: int = 0,
        delivered_only: bool = True,
    ) -> list[DispatchedEvent]:
        return [
            e
            for e in self.events[since:]
            if (name is None or e.name == name)
            and (not delivered_only or e.session_id is not None)
            and (where is None or where(e))
        ]

    async def wait_for_call(
        self,
        method: str | None,
        route: str | re.Pattern[str] | None,
        *,
        where: Callable[[Call], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Call:
        """The first matching call not yet returned by an earlier ``wait_for_call``."""

        def check() -> Call | None:
            for c in self.find_calls(method, route, where=where, since=since):
                if c.index not in self._consumed_calls:
                    self._consumed_calls.add(c.index)
                    return c
            return None

        def describe() -> str:
            recent = ", ".join(f"{c.method} {c.path} -> {c.status}" for c in self.calls[-8:])
            return f"a {method or 'any'} call to {route!r}; last calls: [{recent}]"

        return await self.signal.wait_for(check, timeout=timeout, describe=describe)

    async def wait_for_event(
        self,
        name: str | None,
        *,
        where: Callable[[DispatchedEvent], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> DispatchedEvent:
        """The first matching sent event not yet returned by an earlier ``wait_for_event``."""

        def check() -> DispatchedEvent | None:
            for e in self.find_events(name, where=where, since=since):
                if e.index not in self._consumed_events:
                    self._consumed_events.add(e.index)
                    return e
            return None

        def describe() -> str:
            recent = ", ".join(f"{e.name}(s={e.seq})" for e in self.events[-8:])
            return f"gateway event {name!r}; last events: [{recent}]"

        return await self.signal.wait_for(check, timeout=timeout, describe=describe)
