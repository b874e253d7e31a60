"""Fault injection: what Discord does on a bad day, on demand.

REST (matched by method and route template, path glob or regex, as ``fake.wait_for_call``)::

    fake.faults.fail("POST", "/channels/{channel_id}/messages", status=500, times=2)
    fake.faults.fail("POST", "/channels/{channel_id}/messages", code=50007)  # 403 DMs closed
    fake.faults.fail("GET", "/channels/{channel_id}/messages/{message_id}", code=10008)  # 404
    fake.faults.fail("POST", "/channels/{channel_id}/messages", status=502, lost_response=True)
    fake.faults.rate_limit("PATCH", "/channels/{channel_id}", retry_after=0.5)  # one 429
    fake.faults.delay("GET", "/channels/{channel_id}", 0.2)                 # latency (real s)
    gate = fake.faults.hold("POST", "/channels/{channel_id}/messages")      # until released
    await gate.arrived(); ...; gate.release()

Gateway::

    fake.faults.duplicate_next_event("MESSAGE_CREATE")   # delivered twice (two sequence numbers)
    fake.faults.reorder_next_events(2)                   # the next two arrive in reverse order
    fake.faults.invalidate_session(resumable=False)      # op 9: the client IDENTIFYs afresh
    await fake.faults.drop_connection()                  # TCP cut: the client RESUMEs
    fake.faults.go_silent()                              # a zombie connection (no ACK, no event)

``code`` alone picks Discord's status and message (``KNOWN_ERRORS``); ``status`` alone (500, 502,
503, 504) answers ``{"message": "500: Internal Server Error", "code": 0}``. ``times=None`` keeps a
fault until ``cancel()``. A fault with ``lost_response=True`` lets the request take effect and
then loses the answer, as a gateway timeout does after the backend committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakediscord.model import JSON
from tests.fakediscord.ratelimits import too_many_requests
from tests.fakediscord.recorder import Call, route_matcher
from tests.fakediscord.rest import Reply

if TYPE_CHECKING:
    from tests.fakediscord.gateway import Session
    from tests.fakediscord.server import FakeDiscord

#: JSON error code -> (HTTP status, Discord's message).
KNOWN_ERRORS: dict[int, tuple[int, str]] = {
    10003: (404, "Unknown Channel"),
    10004: (404, "Unknown Guild"),
    10007: (404, "Unknown Member"),
    10008: (404, "Unknown Message"),
    10013: (404, "Unknown User"),
    10015: (404, "Unknown Webhook"),
    10062: (404, "Unknown interaction"),
    40060: (400, "Interaction has already been acknowledged."),
    50001: (403, "Missing Access"),
    50007: (403, "Cannot send messages to this user"),
    50013: (403, "Missing Permissions"),
    50027: (401, "Invalid Webhook Token"),
    50035: (400, "Invalid Form Body"),
    50083: (400, "Thread is archived"),
    130000: (503, "API resource is currently overloaded. Try again a little later"),
    160005: (400, "Thread is locked"),
}
STATUS_TEXT = {
    400: "400: Bad Request",
    401: "401: Unauthorized",
    403: "403: Forbidden",
    404: "404: Not Found",
    500: "500: Internal Server Error",
    502: "502: Bad Gateway",
    503: "503: Service Unavailable",
    504: "504: Gateway Timeout",
    524: "524: A timeout occurred",
}

Route = str | re.Pattern[str] | None
Where = Callable[[Call], bool] | None


@dataclass
class _Matcher:
    method: str | None
    route: Route
    where: Where
    times: int | None
    hits: list[Call] = field(default_factory=list)
    cancelled: bool = False

    def __post_init__(self) -> None:
        self._match = route_matcher(self.method, self.route)

    @property
    def remaining(self) -> int | None:
        """Calls still to be hit (None: until cancelled)."""
        return None if self.times is None else max(0, self.times - len(self.hits))

    @property
    def active(self) -> bool:
        return not self.cancelled and (self.times is None or len(self.hits) < self.times)

    def matches(self, call: Call) -> bool:
        return self.active and self._match(call) and (self.where is None or self.where(call))

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Fault(_Matcher):
    """The next ``times`` matching calls are answered with ``reply``."""

    reply: Reply = field(default_factory=lambda: Reply(500))
    lost_response: bool = False

    def answer(self) -> Reply:
        return Reply(self.reply.status, self.reply.body, dict(self.reply.headers))


@dataclass
class Latency(_Matcher):
    """Matching calls wait ``seconds`` (real time) before the fake handles them; ``cancel()``
    also ends the waits in progress."""

    seconds: float = 0.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    def cancel(self) -> None:
        self.cancelled = True
        self._stop.set()

    async def wait(self, call: Call) -> None:
        self.hits.append(call)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), self.seconds)


@dataclass
class Hold(_Matcher):
    """Matching calls wait in the fake until ``release()``; ``arrived()`` waits for them."""

    fake: FakeDiscord | None = None
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def release(self) -> None:
        """Let every held call (and later ones) through."""
        self.cancelled = True
        self._released.set()

    async def arrived(self, count: int = 1, *, timeout: float = 5.0) -> list[Call]:  # noqa: ASYNC109
        """Until ``count`` calls are held; returns them."""
        assert self.fake is not None
        return await self.fake.wait_until(
            lambda: self.hits[:count] if len(self.hits) >= count else None,
            timeout=timeout,
            what=f"{count} call(s) to {self.method} {self.route} to arrive",
        )

    async def wait(self, call: Call) -> None:
        self.hits.append(call)
        if self.fake is not None:
            self.fake.recorder.signal.pulse()
        await self._released.wait()


@dataclass
class EventFault:
    """A gateway delivery fault; ``taken`` holds what it intercepted so far."""

    kind: str
    names: frozenset[str] | None
    count: int
    order: list[int] | None = None
    copies: int = 2
    taken: list[tuple[Session, str, JSON]] = field(default_factory=list)
    done: bool = False

    def wants(self, name: str) -> bool:
        return not self.done and (self.names is None or name in self.names)


class Faults:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.faults: list[Fault] = []
        self.latencies: list[Latency] = []
        self.holds: list[Hold] = []
        self.event_faults: list[EventFault] = []
        self._lost: dict[int, Fault] = {}
        fake.rest.interceptors.append(self._intercept)
        fake.rest.reply_hooks.append(self._lose_response)
        fake.gateway.dispatch_hooks.append(self._on_dispatch)

    # ------------------------------------------------------------------ REST faults

    def fail(
        self,
        method: str | None,
        route: Route,
        *,
        status: int | None = None,
        code: int | None = None,
        message: str | None = None,
        times: int | None = 1,
        where: Where = None,
        retry_after: float = 0.1,
        is_global: bool = False,
        lost_response: bool = False,
        body: Any = None,
    ) -> Fault:
        """Answer the next ``times`` matching calls with an error instead of handling them.

        ``code`` alone takes Discord's status and message for it; a 429 gets the rate-limit
        body and headers (``retry_after``, ``is_global``); ``body`` replaces the JSON entirely.
        """
        if status is None:
            status = KNOWN_ERRORS[code][0] if code in KNOWN_ERRORS else 500
        if status == 429:
            reply = too_many_requests(retry_after, is_global=is_global)
        else:
            if code is None:
                code = 0
            if message is None:
                known = KNOWN_ERRORS.get(code)
                message = known[1] if known else STATUS_TEXT.get(status, f"{status}: Error")
            reply = Reply(status, {"message": message, "code": code})
        if body is not None:
            reply.body = body
        fault = Fault(method, route, where, times, reply=reply, lost_response=lost_response)
        self.faults.append(fault)
        return fault

    def rate_limit(
        self,
        method: str | None,
        route: Route,
        *,
        retry_after: float = 0.1,
        times: int | None = 1,
        is_global: bool = False,
        via: bool = True,
        where: Where = None,
    ) -> Fault:
        """429 for the next ``times`` calls. ``via=False``: a Cloudflare-style 429 without the
        ``Via`` header, which discord.py raises at once instead of retrying."""
        reply = too_many_requests(retry_after, is_global=is_global, via=via)
        fault = Fault(method, route, where, times, reply=reply)
        self.faults.append(fault)
        return fault

    def delay(
        self,
        method: str | None,
        route: Route,
        seconds: float,
        *,
        times: int | None = None,
        where: Where = None,
    ) -> Latency:
        """Latency: matching calls wait ``seconds`` of real time before being handled."""
        latency = Latency(method, route, where, times, seconds=seconds)
        self.latencies.append(latency)
        return latency

    def hold(
        self, method: str | None, route: Route, *, times: int | None = None, where: Where = None
    ) -> Hold:
        """Matching calls wait in the fake until ``release()`` (deterministic latency)."""
        gate = Hold(method, route, where, times, fake=self.fake)
        self.holds.append(gate)
        return gate

    async def _intercept(self, call: Call) -> Reply | None:
        for gate in list(self.holds):
            if not gate.released and gate.matches(call):
                await gate.wait(call)
        for latency in list(self.latencies):
            if latency.matches(call):
                await latency.wait(call)
        for fault in self.faults:
            if fault.matches(call):
                fault.hits.append(call)
                if fault.lost_response:
                    self._lost[call.index] = fault
                    return None
                return fault.answer()
        return None

    def _lose_response(self, call: Call, reply: Reply) -> None:
        fault = self._lost.pop(call.index, None)
        if fault is not None:
            answer = fault.answer()
            reply.status, reply.body, reply.headers = answer.status, answer.body, answer.headers

    # ------------------------------------------------------------------ gateway faults

    def duplicate_next_event(
        self, name: str | Sequence[str] | None, *, times: int = 1, copies: int = 2
    ) -> EventFault:
        """The next ``times`` dispatches named ``name`` are each delivered ``copies`` times, each
        copy with its own sequence number (as after an at-least-once redelivery)."""
        fault = EventFault("duplicate", _names(name), times, copies=copies)
        self.event_faults.append(fault)
        return fault

    def reorder_next_events(
        self,
        n: int,
        *,
        names: str | Sequence[str] | None = None,
        order: Sequence[int] | None = None,
    ) -> EventFault:
        """Hold the next ``n`` dispatches (of ``names``, default any) and deliver them in
        ``order`` (indexes into the held events; default reversed) once all ``n`` are held."""
        if n < 2:
            raise ValueError("reordering needs at least two events")
        chosen = list(order) if order is not None else list(range(n - 1, -1, -1))
        if sorted(chosen) != list(range(n)):
            raise ValueError(f"order must be a permutation of 0..{n - 1}")
        fault = EventFault("reorder", _names(names), n, order=chosen)
        self.event_faults.append(fault)
        return fault

    def release_events(self) -> None:
        """Deliver, in their arrival order, events a reorder fault still holds."""
        for fault in self.event_faults:
            if fault.kind == "reorder" and not fault.done:
                fault.done = True
                for session, name, payload in fault.taken:
                    self._deliver(session, name, payload)

    def _on_dispatch(self, session: Session, name: str, payload: JSON) -> bool:
        for fault in self.event_faults:
            if not fault.wants(name):
                continue
            if fault.kind == "duplicate":
                fault.taken.append((session, name, payload))
                fault.done = len(fault.taken) >= fault.count
                for _ in range(fault.copies):
                    self._deliver(session, name, payload)
                return True
            fault.taken.append((session, name, payload))
            if len(fault.taken) >= fault.count:
                fault.done = True
                assert fault.order is not None
                for index in fault.order:
                    self._deliver(*fault.taken[index])
            return True
        return False

    def _deliver(self, session: Session, name: str, payload: JSON) -> None:
        if not session.invalid:
            self.fake.gateway.send_dispatch(session, name, payload, hooks=False)

    def invalidate_session(self, shard_id: int = 0, *, resumable: bool = False) -> None:
        """op 9 INVALID_SESSION: unless ``resumable``, the session ends and the client must
        IDENTIFY again (events in between are lost)."""
        self.fake.gateway.invalidate(shard_id, resumable=resumable)

    async def drop_connection(self, shard_id: int = 0, *, code: int | None = None) -> None:
        """Cut the shard's connection (no close frame unless ``code``): the client RESUMEs."""
        await self.fake.gateway.drop(shard_id, code=code)

    def go_silent(self, shard_id: int = 0) -> None:
        """The shard's connection turns zombie: heartbeats go unanswered and no frame reaches the
        client, until the client gives up on it (``heartbeat_timeout``) and RESUMEs on a new one,
        which gets the events it missed."""
        conn = self.fake.gateway.session_for(shard_id).conn
        if conn is None:
            raise LookupError(f"shard {shard_id} has no open connection")
        conn.silent = True

    def reconnect(self, shard_id: int = 0) -> None:
        """op 7 RECONNECT: the client closes and RESUMEs."""
        self.fake.gateway.reconnect(shard_id)

    # ------------------------------------------------------------------ all of them

    def clear(self) -> None:
        """Cancel every fault, release every held call and deliver held events (the fake does
        this when it stops, so no held request delays the server's shutdown)."""
        for matcher in [*self.faults, *self.latencies]:
            matcher.cancel()
        for gate in self.holds:
            gate.release()
        self.release_events()
        for fault in self.event_faults:
            fault.done = True


def _names(name: str | Sequence[str] | None) -> frozenset[str] | None:
    if name is None:
        return None
    if isinstance(name, str):
        return frozenset([name])
    return frozenset(name)


__all__ = [
    "KNOWN_ERRORS",
    "EventFault",
    "Fault",
    "Faults",
    "Hold",
    "Latency",
]
