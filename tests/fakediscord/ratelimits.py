"""Discord's rate limits: per-route buckets and the global limit, answered as Discord answers.

Every routed reply carries ``Via: 1.1 google`` (discord.py retries a 429 only with it) and the
bucket headers ``X-RateLimit-Limit / -Remaining / -Reset / -Reset-After / -Bucket``, so discord.py's
own bucket logic engages: it waits before a request it knows would be refused. A request over a
limit is answered 429 with ``Retry-After``, ``X-RateLimit-Scope`` (``user`` or ``global``),
``X-RateLimit-Global`` for the global limit, and ``{"message", "retry_after", "global"}``.

Defaults never get in an ordinary test's way: a generous bucket (1000 requests per second per
route and top-level resource) and no global limit. Tests switch limits on::

    fake.ratelimits.limit("POST", "/channels/{channel_id}/messages", limit=5, window=5.0)
    fake.ratelimits.set_global(limit=50, window=1.0)      # Discord's 50 requests per second

Buckets count per top-level resource (``channel_id``, ``guild_id``, ``webhook_id`` + token,
interaction), as on Discord; routes given the same ``bucket=`` name share one limit. Interaction
callbacks and webhooks are not bound by the global limit.

Opening DM channels has a limit of its own, apart from the buckets: Discord refuses a bot that
opens new DM channels too fast with 403 and JSON code 40003 ("You are opening direct messages
too fast."), not a 429, and publishes neither the rate nor a ``Retry-After``. Off by default;
``fake.ratelimits.limit_dm_opens(limit=10, window=10.0)`` refuses the ``limit + 1``-th new DM
channel within a window (re-opening a DM channel that exists is not counted).
Windows are measured on ``clock``
(monotonic; ``clock.advance(s)`` ends a window at once; ``scaled_discord_sleep`` speeds it up;
``clock.freeze()`` stops it, so that only ``advance`` and discord.py's own waits end a window).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.fakediscord.clock import ScaledClock
from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

VIA = "1.1 google"
MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
#: Routes Discord keeps out of the global limit (interaction responses and their webhooks).
EXEMPT_FROM_GLOBAL = ("/interactions/", "/webhooks/")
OPEN_DM_ROUTE = "/users/@me/channels"
#: Discord's JSON error code for a bot opening new DM channels too fast (a 403).
OPENING_DMS_TOO_FAST = 40003


@dataclass(frozen=True)
class BucketSpec:
    """``limit`` requests per ``window`` seconds; routes with the same ``name`` share a bucket."""

    limit: int
    window: float
    name: str | None = None

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0:
            raise ValueError("a bucket needs limit >= 1 and window > 0")


@dataclass
class Window:
    start: float
    count: int = 0


def _ceil_ms(seconds: float) -> float:
    """Round up to the millisecond, so a client that waits this long finds the bucket reset."""
    return max(0.0, math.ceil(seconds * 1000 - 1e-6) / 1000)


class RateLimits:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.clock = ScaledClock()
        #: Off: no limits and no bucket headers (``Via`` stays on every reply).
        self.enabled = True
        #: The bucket of every route without its own ``limit``.
        self.default = BucketSpec(limit=1000, window=1.0)
        #: The global limit (None: off). ``set_global()`` switches on Discord's 50 per second.
        self.global_spec: BucketSpec | None = None
        #: Calls answered 429 by a rate limit (not by an injected fault).
        self.limited: list[Call] = []
        #: New DM channels allowed per window (None: no limit); see ``limit_dm_opens``.
        self.dm_open_spec: BucketSpec | None = None
        #: DM-channel opens refused with 40003.
        self.dm_opens_refused: list[Call] = []
        self._dm_opens: Window | None = None
        self._routes: dict[tuple[str, str], BucketSpec] = {}
        self._windows: dict[tuple[str, tuple[str, ...]], Window] = {}
        self._global: Window | None = None
        self._headers: dict[int, dict[str, str]] = {}
        fake.rest.interceptors.append(self._intercept)
        fake.rest.reply_hooks.append(self._add_headers)

    # ------------------------------------------------------------------ configuration

    def limit(
        self,
        method: str,
        route: str,
        *,
        limit: int,
        window: float,
        bucket: str | None = None,
    ) -> BucketSpec:
        """A per-route bucket for ``method`` + route template (e.g. ``/channels/{channel_id}``)."""
        spec = BucketSpec(limit, window, bucket)
        self._routes[(method.upper(), route)] = spec
        return spec

    def set_global(self, limit: int = 50, window: float = 1.0) -> BucketSpec:
        """Switch the global limit on (Discord's default: 50 requests per second)."""
        self.global_spec = BucketSpec(limit, window, "global")
        self._global = None
        return self.global_spec

    def limit_dm_opens(self, limit: int = 10, window: float = 10.0) -> BucketSpec:
        """Refuse (403, 40003) new DM channels beyond ``limit`` per ``window`` seconds."""
        self.dm_open_spec = BucketSpec(limit, window, "dm opens")
        self._dm_opens = None
        return self.dm_open_spec

    def clear_global(self) -> None:
        self.global_spec = None
        self._global = None

    def reset(self) -> None:
        """Forget every window: all buckets full again."""
        self._windows.clear()
        self._global = None
        self._dm_opens = None

    def bucket_hash(self, method: str, route: str) -> str:
        """The ``X-RateLimit-Bucket`` value a route's replies carry."""
        return self._hash(self._name(method.upper(), route))

    # ------------------------------------------------------------------ the REST hooks

    def _name(self, method: str, route: str) -> str:
        spec = self._routes.get((method, route))
        if spec is not None and spec.name is not None:
            return spec.name
        return f"{method} {route}"

    @staticmethod
    def _hash(name: str) -> str:
        return hashlib.sha256(name.encode()).hexdigest()[:32]

    def _intercept(self, call: Call) -> Reply | None:
        if not self.enabled or call.route is None:
            return None
        now = self.clock.time()
        route_spec = self._routes.get((call.method, call.route), self.default)
        name = self._name(call.method, call.route)
        key = (name, tuple(call.params.get(p, "") for p in MAJOR_PARAMETERS))
        window = self._windows.get(key)
        if window is None or now >= window.start + route_spec.window:
            window = self._windows[key] = Window(now)
        if self.global_spec is not None and not call.route.startswith(EXEMPT_FROM_GLOBAL):
            spec = self.global_spec
            glob = self._global
            if glob is None or now >= glob.start + spec.window:
                glob = self._global = Window(now)
            if glob.count >= spec.limit:
                return self._too_many(call, glob.start + spec.window - now, is_global=True)
        else:
            glob = None
        if window.count >= route_spec.limit:
            headers = self._bucket_headers(route_spec, window, name, now)
            headers["X-RateLimit-Scope"] = "user"
            return self._too_many(call, window.start + route_spec.window - now, headers=headers)
        if self._opens_too_fast(call, now):
            self.dm_opens_refused.append(call)
            return Reply(
                403,
                {"message": "You are opening direct messages too fast.", "code": 40003},
                {},
            )
        window.count += 1
        if glob is not None:
            glob.count += 1
        self._headers[call.index] = self._bucket_headers(route_spec, window, name, now)
        return None

    def _opens_too_fast(self, call: Call, now: float) -> bool:
        """Whether this request opens a new DM channel over ``dm_open_spec`` (counted if not)."""
        spec = self.dm_open_spec
        if spec is None or call.method != "POST" or call.route != OPEN_DM_ROUTE:
            return False
        recipient = (call.json or {}).get("recipient_id")
        if recipient is None or int(recipient) in self.fake.world.dm_channels:
            return False
        opens = self._dm_opens
        if opens is None or now >= opens.start + spec.window:
            opens = self._dm_opens = Window(now)
        if opens.count >= spec.limit:
            return True
        opens.count += 1
        return False

    def _bucket_headers(
        self, spec: BucketSpec, window: Window, name: str, now: float
    ) -> dict[str, str]:
        reset_after = _ceil_ms(window.start + spec.window - now)
        reset_at = time.time() + self.clock.to_real(reset_after)
        return {
            "X-RateLimit-Limit": str(spec.limit),
            "X-RateLimit-Remaining": str(max(0, spec.limit - window.count)),
            "X-RateLimit-Reset": f"{reset_at:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self._hash(name),
        }

    def _too_many(
        self,
        call: Call,
        retry_after: float,
        *,
        is_global: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        self.limited.append(call)
        return too_many_requests(retry_after, is_global=is_global, headers=headers)

    def _add_headers(self, call: Call, reply: Reply) -> None:
        reply.headers.setdefault("Via", VIA)
        for name, value in self._headers.pop(call.index, {}).items():
            reply.headers.setdefault(name, value)


def too_many_requests(
    retry_after: float,
    *,
    is_global: bool = False,
    headers: dict[str, str] | None = None,
    via: bool = True,
) -> Reply:
    """A 429 as Discord sends it. ``via=False`` leaves ``Via`` empty: discord.py then takes the
    429 for a Cloudflare ban and raises instead of retrying."""
    retry_after = _ceil_ms(retry_after)
    out = dict(headers or {})
    out["Retry-After"] = str(max(1, math.ceil(retry_after)))
    out["Via"] = VIA if via else ""
    if is_global:
        out["X-RateLimit-Global"] = "true"
        out["X-RateLimit-Scope"] = "global"
    else:
        out.setdefault("X-RateLimit-Scope", "user")
    body = {
        "message": "You are being rate limited.",
        "code": 0,  # Discord's spec requires it (RatelimitedResponse is an Error)
        "retry_after": retry_after,
        "global": is_global,
    }
    return Reply(429, body, out)


__all__ = ["OPENING_DMS_TOO_FAST", "VIA", "BucketSpec", "RateLimits", "too_many_requests"]
