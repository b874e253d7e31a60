"""The fake REST API (v10): a route table over ``World``, every call recorded.

Routes use discord.py's own templates (``/channels/{channel_id}/messages``), so a recorded call's
``route`` reads like discord.py's ``Route.path``. A path no route matches is answered 404 and
recorded with ``route=None``; the fixtures fail the test that caused it.
"""

from __future__ import annotations

import inspect
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from tests.fakediscord.model import (
    CATEGORY,
    FORUM,
    JSON,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    Channel,
    Command,
    Message,
)
from tests.fakediscord.recorder import Call
from tests.fakediscord.schemas import validate as schemas
from tests.fakediscord.snowflake import iso
from tests.fakediscord.world import FakeError, not_found, parse_emoji

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
Result = tuple[int, Any]  # (status, JSON body or None for an empty 204)


@dataclass
class Req:
    call: Call
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes, str | None]]

    def id(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise FakeError(404, 0, "404: Not Found") from None

    def body(self) -> JSON:
        if self.json is None:
            return {}
        if not isinstance(self.json, dict):
            raise FakeError(400, 50109, "The request body contains invalid JSON.")
        return self.json

    def int_query(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.query.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise FakeError(400, 50035, f"Invalid Form Body: {name}") from None
        if not low <= value <= high:
            raise FakeError(400, 50035, f"Invalid Form Body: {name} must be {low}..{high}")
        return value


Handler = Callable[[Req], Awaitable[Result]]


@dataclass
class Reply:
    """A response an interceptor substitutes for the route's own (faults, rate limits)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


#: Consulted in order before the route's handler, once the route is known and the token
#: checked; the first that returns a ``Reply`` answers the call instead. May be async (latency).
Interceptor = Callable[[Call], "Reply | Awaitable[Reply | None] | None"]
#: Called with every reply before it is sent; may change it or add headers (``X-RateLimit-*``).
ReplyHook = Callable[[Call, Reply], None]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    extra = dict(headers or {})
    if body is None:
        return web.Response(status=status, headers=extra)
    # Exactly "application/json": discord.py does not parse "application/json; charset=utf-8".
    extra["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=extra)


def _error_code(body: Any) -> Any:
    return body.get("code") if isinstance(body, dict) else None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


class Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, list[str], str, Handler, bool]] = []

    def add(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        self._routes.append((method, template.strip("/").split("/"), template, handler, auth))

    def routes(self) -> list[tuple[str, str]]:
        """``(method, template)`` of every route, in the order they were added."""
        return [(method, template) for method, _, template, _, _ in self._routes]

    def match(self, method: str, segments: list[str]) -> tuple[str, Handler, dict[str, str], bool]:
        """The route with the most literal segments wins (``/pins`` before ``/{message_id}``)."""
        best: tuple[int, str, Handler, dict[str, str], bool] | None = None
        for m, parts, template, handler, auth in self._routes:
            if m != method or len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            literal = 0
            for part, seg in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    if not seg:
                        break
                    params[part[1:-1]] = seg
                elif part == seg:
                    literal += 1
                else:
                    break
            else:
                if best is None or literal > best[0]:
                    best = (literal, template, handler, params, auth)
        if best is None:
            raise LookupError
        return best[1], best[2], best[3], best[4]


class Rest:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.world = fake.world
        self.router = Router()
        self.interceptors: list[Interceptor] = []
        self.reply_hooks: list[ReplyHook] = []
        #: Check every request and answer against Discord's schemas (``schemas/``).
        self.check_schemas = True
        self._register()

    # ------------------------------------------------------------------ plumbing

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path.split("?", 1)[0]
        path = raw[len(API_PREFIX) :] if raw.startswith(API_PREFIX) else raw
        segments = [unquote(s) for s in path.strip("/").split("/")]
        body, files = await self._read_body(request)
        recorder = self.fake.recorder
        call = Call(
            index=len(recorder.calls),
            method=request.method,
            path=unquote(path),
            route=None,
            params={},
            query=dict(request.query),
            json=body,
            files=files,
            time=self.fake.loop_time(),
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() in ("x-audit-log-reason", "content-type", "user-agent")
            },
        )
        recorder.calls.append(call)
        status: int
        payload: Any
        headers: dict[str, str] = {}
        request_errors: list[str] = []
        try:
            if not raw.startswith(API_PREFIX):
                if request.method == "GET" and segments and segments[0] == "attachments":
                    return self._cdn(call, segments)
                raise LookupError
            template, handler, params, auth = self.router.match(request.method, segments)
        except LookupError:
            status, payload = 404, {"message": "404: Not Found", "code": 0}
            log.error("fake discord: unknown route %s %s", request.method, call.path)
        else:
            call.route = template
            call.params = params
            if self.check_schemas:
                request_errors = schemas.check_request(call.method, template, call.query, body)
            try:
                if auth and request.headers.get("Authorization") != f"Bot {self.fake.token}":
                    raise FakeError(401, 0, "401: Unauthorized")
                substitute = await self._intercept(call)
                if substitute is None:
                    status, payload = await handler(Req(call, params, call.query, body, files))
                else:
                    status, payload = substitute.status, substitute.body
                    headers = dict(substitute.headers)
            except FakeError as exc:
                status, payload = exc.status, exc.body()
            except Exception as exc:
                # A bug in the fake (or a body it cannot read). Not a 5xx: discord.py would retry
                # those for 25 s. The fixtures fail the test on ``failed_calls``.
                call.error = traceback.format_exc()
                log.exception("fake discord: error handling %s %s", request.method, call.path)
                status = 400
                payload = {"message": f"fake discord internal error: {exc!r}", "code": 0}
        reply = Reply(status, payload, headers)
        for hook in self.reply_hooks:
            hook(call, reply)
        call.status = reply.status
        call.response = reply.body
        if self.check_schemas and call.route is not None:
            # A request refused as an invalid form body was refused as Discord would refuse it.
            refused = reply.status == 400 and _error_code(reply.body) == 50035
            call.schema_errors += [] if refused else request_errors
            call.schema_errors += schemas.check_response(
                call.method, call.route, reply.status, reply.body
            )
        recorder.signal.pulse()
        return json_response(reply.status, reply.body, reply.headers)

    async def _intercept(self, call: Call) -> Reply | None:
        for interceptor in list(self.interceptors):
            result = interceptor(call)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                return result
        return None

    async def _read_body(
        self, request: web.Request
    ) -> tuple[Any, list[tuple[str, bytes, str | None]]]:
        files: list[tuple[str, bytes, str | None]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read(decode=False)
                if part.name == "payload_json":
                    body = json.loads(bytes(data).decode())
                else:
                    filename = part.filename or part.name or "file"
                    files.append((filename, bytes(data), part.headers.get("Content-Type")))
            return body, files
        text = await request.text()
        if not text:
            return None, files
        try:
            return json.loads(text), files
        except ValueError:
            return text, files

    def _cdn(self, call: Call, segments: list[str]) -> web.Response:
        call.route = "/attachments/{channel_id}/{attachment_id}/{filename}"
        try:
            att = self.world.files[int(segments[2])]
        except (IndexError, ValueError, KeyError):
            call.status = 404
            self.fake.recorder.signal.pulse()
            return web.Response(status=404, text="not found")
        call.status = 200
        self.fake.recorder.signal.pulse()
        return web.Response(
            status=200, body=att.data, content_type=att.content_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ routes

    def _register(self) -> None:
        r = self.router.add
        # users, application, gateway
        r("GET", "/users/@me", self.get_me)
        r("GET", "/users/{user_id}", self.get_user)
        r("GET", "/users/@me/guilds", self.get_my_guilds)
        r("POST", "/users/@me/channels", self.create_dm)
        r("GET", "/oauth2/applications/@me", self.get_application)
        r("GET", "/applications/@me", self.get_application)
        r("GET", "/gateway", self.get_gateway)
        r("GET", "/gateway/bot", self.get_gateway_bot)
        # application commands
        for prefix in (
            "/applications/{application_id}/commands",
            "/applications/{application_id}/guilds/{guild_id}/commands",
        ):
            r("GET", prefix, self.list_commands)
            r("PUT", prefix, self.overwrite_commands)
            r("POST", prefix, self.create_command)
            r("GET", prefix + "/{command_id}", self.get_command)
            r("PATCH", prefix + "/{command_id}", self.edit_command)
            r("DELETE", prefix + "/{command_id}", self.delete_command)
        r(
            "GET",
            "/applications/{application_id}/guilds/{guild_id}/commands/permissions",
            self.command_permissions,
        )
        # interactions and their webhooks (no bot token on these)
        r(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            self.interaction_callback,
            auth=False,
        )
        r("POST", "/webhooks/{webhook_id}/{webhook_token}", self.followup, auth=False)
        wm = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
        r("GET", wm, self.get_webhook_message, auth=False)
        r("PATCH", wm, self.edit_webhook_message, auth=False)
        r("DELETE", wm, self.delete_webhook_message, auth=False)
        # channels
        r("GET", "/channels/{channel_id}", self.get_channel)
        r("PATCH", "/channels/{channel_id}", self.edit_channel)
        r("DELETE", "/channels/{channel_id}", self.delete_channel)
        r("POST", "/channels/{channel_id}/typing", self.typing)
        r("GET", "/channels/{channel_id}/messages", self.history)
        r("POST", "/channels/{channel_id}/messages", self.create_message)
        r("POST", "/channels/{channel_id}/messages/bulk-delete", self.bulk_delete)
        msg = "/channels/{channel_id}/messages/{message_id}"
        r("GET", msg, self.get_message)
        r("PATCH", msg, self.edit_message)
        r("DELETE", msg, self.delete_message)
        r("PUT", msg + "/reactions/{emoji}/@me", self.add_own_reaction)
        r("DELETE", msg + "/reactions/{emoji}/@me", self.remove_own_reaction)
        r("DELETE", msg + "/reactions/{emoji}/{user_id}", self.remove_user_reaction)
        r("GET", msg + "/reactions/{emoji}", self.reaction_users)
        r("DELETE", msg + "/reactions/{emoji}", self.clear_emoji)
        r("DELETE", msg + "/reactions", self.clear_reactions)
        r("POST", msg + "/threads", self.thread_from_message)
        r("GET", "/channels/{channel_id}/messages/pins", self.list_pins)
        r("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self.pin)
        r("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self.unpin)
        r("GET", "/channels/{channel_id}/pins", self.list_pins_legacy)
        r("PUT", "/channels/{channel_id}/pins/{message_id}", self.pin)
        r("DELETE", "/channels/{channel_id}/pins/{message_id}", self.unpin)
        # threads
        r("POST", "/channels/{channel_id}/threads", self.create_thread)
        r("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread)
        r("DELETE", "/channels/{channel_id}/thread-members/@me", self.leave_thread)
        r("PUT", "/channels/{channel_id}/thread-members/{user_id}", self.add_thread_member)
        r("DELETE", "/channels/{channel_id}/thread-members/{user_id}", self.remove_thread_member)
        r("GET", "/channels/{channel_id}/thread-members", self.thread_members)
        r("GET", "/channels/{channel_id}/thread-members/{user_id}", self.thread_member)
        r("GET", "/channels/{channel_id}/threads/archived/public", self.archived_threads)
        r("GET", "/guilds/{guild_id}/threads/active", self.active_threads)
        # guilds
        r("GET", "/guilds/{guild_id}", self.get_guild)
        r("GET", "/guilds/{guild_id}/channels", self.guild_channels)
        r("POST", "/guilds/{guild_id}/channels", self.create_guild_channel)
        r("GET", "/guilds/{guild_id}/roles", self.guild_roles)
        r("GET", "/guilds/{guild_id}/members", self.list_members)
        r("GET", "/guilds/{guild_id}/members/search", self.search_members)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        r("PATCH", "/guilds/{guild_id}/members/{user_id}", self.edit_member)
        r("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role)
        r("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role)

    # ------------------------------------------------------------------ users, app, gateway

    async def get_me(self, req: Req) -> Result:
        me = self.world.bot.payload()
        me.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
        return 200, me

    async def get_user(self, req: Req) -> Result:
        return 200, self.world.user_payload(req.id("user_id"))

    async def get_my_guilds(self, req: Req) -> Result:
        out = []
        for g in self.world.guilds.values():
            if self.world.bot.id in g.members:
                perms = self.world.base_permissions(g, self.world.bot.id)
                out.append(
                    {
                        "id": str(g.id),
                        "name": g.name,
                        "icon": None,
                        "banner": None,
                        "owner": False,
                        "permissions": str(perms),
                        "features": list(g.features),
                    }
                )
        return 200, out

    async def create_dm(self, req: Req) -> Result:
        user_id = int(req.body()["recipient_id"])
        return 200, self.world.channel_payload(self.world.open_dm(user_id))

    async def get_application(self, req: Req) -> Result:
        w = self.world
        return 200, {
            "id": str(w.application_id),
            "name": w.bot.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": w.bot.payload(),
            "owner": w.owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "flags_new": "0",
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(w.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "eligible_oauth2_scopes": ["applications.commands", "bot"],
        }

    async def get_gateway(self, req: Req) -> Result:
        return 200, {"url": self.fake.gateway.url}

    async def get_gateway_bot(self, req: Req) -> Result:
        gw = self.fake.gateway
        return 200, {
            "url": gw.url,
            "shards": gw.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - len(gw.identifies)),
                "reset_after": 86_400_000,
                "max_concurrency": gw.max_concurrency,
            },
        }

    # ------------------------------------------------------------------ commands

    def _command_scope(self, req: Req) -> int | None:
        if req.id("application_id") != self.world.application_id:
            raise FakeError(404, 10002, "Unknown Application")
        if "guild_id" in req.params:
            gid = req.id("guild_id")
            g = self.world.guild(gid)
            if self.world.bot.id not in g.members:
                raise FakeError(403, 50001, "Missing Access")
            return gid
        return None

    async def list_commands(self, req: Req) -> Result:
        scope = self._command_scope(req)
        return 200, [c.payload() for c in self.world.find_commands(scope)]

    async def overwrite_commands(self, req: Req) -> Result:
        scope = self._command_scope(req)
        if not isinstance(req.json, list):
            raise FakeError(400, 50035, "Invalid Form Body: expected a list of commands")
        return 200, [c.payload() for c in self.world.overwrite_commands(scope, req.json)]

    async def create_command(self, req: Req) -> Result:
        scope = self._command_scope(req)
        before = {c.id for c in self.world.commands}
        cmd = self.world.upsert_command(scope, req.body())
        return (200 if cmd.id in before else 201), cmd.payload()

    def _command(self, req: Req) -> Command:
        return self.world.command(req.id("command_id"), self._command_scope(req))

    async def get_command(self, req: Req) -> Result:
        return 200, self._command(req).payload()

    async def edit_command(self, req: Req) -> Result:
        return 200, self.world.edit_command(self._command(req), req.body()).payload()

    async def delete_command(self, req: Req) -> Result:
        self.world.delete_command(self._command(req))
        return 204, None

    async def command_permissions(self, req: Req) -> Result:
        self._command_scope(req)
        return 200, []

    # ------------------------------------------------------------------ interactions

    async def interaction_callback(self, req: Req) -> Result:
        result = self.world.interaction_callback(
            req.id("interaction_id"), req.params["interaction_token"], req.body(), req.files
        )
        if req.query.get("with_response", "").lower() in ("1", "true"):
            return 200, result
        return 204, None

    def _webhook_interaction(self, req: Req) -> Any:
        return self.world.interaction_by_token(req.id("webhook_id"), req.params["webhook_token"])

    async def followup(self, req: Req) -> Result:
        record = self._webhook_interaction(req)
        msg = self.world.followup(record, req.body(), req.files)
        if req.query.get("wait", "").lower() in ("1", "true"):
            return 200, self.world.message_payload(msg)
        return 204, None

    async def get_webhook_message(self, req: Req) -> Result:
        record = self._webhook_interaction(req)
        return 200, self.world.message_payload(
            self.world.webhook_message(record, req.params["message_id"])
        )

    async def edit_webhook_message(self, req: Req) -> Result:
        record = self._webhook_interaction(req)
        msg = self.world.webhook_message(record, req.params["message_id"])
        return 200, self.world.message_payload(
            self.world.edit_message(msg, req.body(), files=req.files)
        )

    async def delete_webhook_message(self, req: Req) -> Result:
        record = self._webhook_interaction(req)
        self.world.delete_message(self.world.webhook_message(record, req.params["message_id"]))
        return 204, None

    # ------------------------------------------------------------------ channels

    def _channel(self, req: Req) -> Channel:
        ch = self.world.channel(req.id("channel_id"))
        if ch.is_dm and self.world.bot.id not in (*ch.recipient_ids, self.world.bot.id):
            raise FakeError(403, 50001, "Missing Access")
        return ch

    def _message(self, req: Req) -> Message:
        return self.world.message(req.id("channel_id"), req.id("message_id"))

    async def get_channel(self, req: Req) -> Result:
        return 200, self.world.channel_payload(self._channel(req), for_user=self.world.bot.id)

    async def edit_channel(self, req: Req) -> Result:
        ch = self._channel(req)
        if ch.is_thread:
            self.world.update_thread(ch, req.body(), by=self.world.bot.id)
        else:
            self.world.update_channel(ch, req.body())
        return 200, self.world.channel_payload(ch, for_user=self.world.bot.id)

    async def delete_channel(self, req: Req) -> Result:
        return 200, self.world.delete_channel(self._channel(req))

    async def typing(self, req: Req) -> Result:
        self._channel(req)
        return 204, None

    async def history(self, req: Req) -> Result:
        ch = self._channel(req)
        limit = req.int_query("limit", 50, low=1, high=100)
        msgs = self.world.history(ch)  # oldest first
        if "around" in req.query:
            around = int(req.query["around"])
            older = [m for m in msgs if m.id <= around][-((limit + 1) // 2) :]
            newer = [m for m in msgs if m.id > around][: limit // 2]
            page = older + newer
        elif "after" in req.query:
            after = int(req.query["after"])
            page = [m for m in msgs if m.id > after][:limit]
        elif "before" in req.query:
            before = int(req.query["before"])
            page = [m for m in msgs if m.id < before][-limit:]
        else:
            page = msgs[-limit:]
        return 200, [self.world.rest_message_payload(m) for m in reversed(page)]

    async def create_message(self, req: Req) -> Result:
        ch = self._channel(req)
        msg = self.world.post_message(ch, self.world.bot.id, req.body(), files=req.files)
        return 200, self.world.message_payload(msg)

    async def bulk_delete(self, req: Req) -> Result:
        ch = self._channel(req)
        ids = [int(i) for i in req.body().get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise FakeError(400, 50016, "Provided too few or too many messages to delete.")
        found = [
            m
            for i in ids
            if (m := self.world.messages.get(i)) is not None
            and m.channel_id == ch.id
            and not m.deleted
        ]
        self.world.bulk_delete(ch, found)
        return 204, None

    async def get_message(self, req: Req) -> Result:
        return 200, self.world.rest_message_payload(self._message(req))

    async def edit_message(self, req: Req) -> Result:
        msg = self._message(req)
        body = req.body()
        if msg.author_id != self.world.bot.id and set(body) - {"flags"}:
            raise FakeError(403, 50005, "Cannot edit a message authored by another user")
        return 200, self.world.message_payload(self.world.edit_message(msg, body, files=req.files))

    async def delete_message(self, req: Req) -> Result:
        self.world.delete_message(self._message(req))
        return 204, None

    async def add_own_reaction(self, req: Req) -> Result:
        self.world.add_reaction(self._message(req), req.params["emoji"], self.world.bot.id)
        return 204, None

    async def remove_own_reaction(self, req: Req) -> Result:
        self.world.remove_reaction(self._message(req), req.params["emoji"], self.world.bot.id)
        return 204, None

    async def remove_user_reaction(self, req: Req) -> Result:
        self.world.remove_reaction(self._message(req), req.params["emoji"], req.id("user_id"))
        return 204, None

    async def reaction_users(self, req: Req) -> Result:
        msg = self._message(req)
        key, _ = parse_emoji(req.params["emoji"])
        limit = req.int_query("limit", 25, low=1, high=100)
        after = int(req.query.get("after", 0))
        kind = req.int_query("type", 0, low=0, high=1)  # 0 normal (the default), 1 super
        reaction = msg.reactions.get(key)
        listed = reaction.users(burst=kind == 1) if reaction is not None else []
        users = sorted(u for u in listed if u > after)[:limit]
        return 200, [self.world.user_payload(u) for u in users]

    async def clear_emoji(self, req: Req) -> Result:
        self.world.clear_emoji(self._message(req), req.params["emoji"])
        return 204, None

    async def clear_reactions(self, req: Req) -> Result:
        self.world.clear_reactions(self._message(req))
        return 204, None

    async def list_pins(self, req: Req) -> Result:
        ch = self._channel(req)
        limit = req.int_query("limit", 50, low=1, high=50)
        pins = ch.pins
        if "before" in req.query:
            pins = [(m, t) for m, t in pins if iso(t) < req.query["before"]]
        page = pins[:limit]
        return 200, {
            "items": [
                {
                    "pinned_at": iso(t),
                    "message": self.world.rest_message_payload(self.world.messages[m]),
                }
                for m, t in page
            ],
            "has_more": len(pins) > limit,
        }

    async def list_pins_legacy(self, req: Req) -> Result:
        ch = self._channel(req)
        return 200, [self.world.rest_message_payload(self.world.messages[m]) for m, _ in ch.pins]

    async def pin(self, req: Req) -> Result:
        ch = self._channel(req)
        self.world.pin(ch, self._message(req), by=self.world.bot.id)
        return 204, None

    async def unpin(self, req: Req) -> Result:
        ch = self._channel(req)
        self.world.unpin(ch, self._message(req))
        return 204, None

    # ------------------------------------------------------------------ threads

    async def create_thread(self, req: Req) -> Result:
        parent = self._channel(req)
        body = req.body()
        name = str(body.get("name") or "")
        if parent.is_forum:
            message = body.get("message")
            if not isinstance(message, dict):
                raise FakeError(400, 50035, "Invalid Form Body: message is required in a forum")
            self._require_content(message, req.files)
            thread = self.world.create_thread(
                parent,
                name=name,
                owner_id=self.world.bot.id,
                applied_tags=body.get("applied_tags") or [],
                auto_archive_duration=body.get("auto_archive_duration"),
                rate_limit_per_user=_optional_int(body.get("rate_limit_per_user")),
            )
            starter = self.world.post_message(
                thread, self.world.bot.id, message, files=req.files, message_id=thread.id
            )
            data = self.world.channel_payload(thread, for_user=self.world.bot.id)
            data["message"] = self.world.message_payload(starter)
            return 201, data
        if parent.type != TEXT:
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        ttype = int(body.get("type") or PRIVATE_THREAD)
        if ttype not in (PUBLIC_THREAD, PRIVATE_THREAD):
            raise FakeError(400, 50035, "Invalid Form Body: type")
        thread = self.world.create_thread(
            parent,
            name=name,
            owner_id=self.world.bot.id,
            type=ttype,
            auto_archive_duration=body.get("auto_archive_duration"),
            invitable=bool(body.get("invitable", True)),
        )
        return 201, self.world.channel_payload(thread, for_user=self.world.bot.id)

    def _require_content(self, message: JSON, files: list[Any]) -> None:
        keys = ("content", "embeds", "components", "sticker_ids", "poll")
        if not files and not message.get("attachments") and not any(message.get(k) for k in keys):
            raise FakeError(400, 50006, "Cannot send an empty message")

    async def thread_from_message(self, req: Req) -> Result:
        parent = self._channel(req)
        msg = self._message(req)
        if msg.thread_id is not None:
            raise FakeError(400, 160004, "A thread has already been created for this message")
        body = req.body()
        thread = self.world.create_thread(
            parent,
            name=str(body.get("name") or ""),
            owner_id=self.world.bot.id,
            thread_id=msg.id,
            auto_archive_duration=body.get("auto_archive_duration"),
        )
        msg.thread_id = thread.id
        return 201, self.world.channel_payload(thread, for_user=self.world.bot.id)

    def _thread(self, req: Req) -> Channel:
        ch = self._channel(req)
        if not ch.is_thread:
            raise FakeError(400, 50024, "Cannot execute action on this channel type")
        return ch

    async def join_thread(self, req: Req) -> Result:
        self.world.join_thread(self._thread(req), self.world.bot.id)
        return 204, None

    async def leave_thread(self, req: Req) -> Result:
        self.world.leave_thread(self._thread(req), self.world.bot.id)
        return 204, None

    async def add_thread_member(self, req: Req) -> Result:
        thread = self._thread(req)
        self.world.member(thread.guild_id or 0, req.id("user_id"))
        self.world.join_thread(thread, req.id("user_id"))
        return 204, None

    async def remove_thread_member(self, req: Req) -> Result:
        self.world.leave_thread(self._thread(req), req.id("user_id"))
        return 204, None

    async def thread_members(self, req: Req) -> Result:
        thread = self._thread(req)
        return 200, [self.world.thread_member_payload(thread, u) for u in thread.members]

    async def thread_member(self, req: Req) -> Result:
        thread = self._thread(req)
        uid = req.id("user_id")
        if uid not in thread.members:
            raise not_found("Member", 10007)
        return 200, self.world.thread_member_payload(thread, uid)

    async def archived_threads(self, req: Req) -> Result:
        parent = self._channel(req)
        limit = req.int_query("limit", 50, low=2, high=100)
        threads = [t for t in self.world.threads_of(parent) if t.archived]
        threads.sort(key=lambda t: t.archive_timestamp, reverse=True)
        if "before" in req.query:
            threads = [t for t in threads if iso(t.archive_timestamp) < req.query["before"]]
        page = threads[:limit]
        bot = self.world.bot.id
        return 200, {
            "threads": [self.world.channel_payload(t) for t in page],
            "members": [self.world.thread_member_payload(t, bot) for t in page if bot in t.members],
            "has_more": len(threads) > limit,
        }

    async def active_threads(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        threads = [
            t
            for t in self.world.channels.values()
            if t.is_thread and t.guild_id == g.id and not t.archived and not t.deleted
        ]
        bot = self.world.bot.id
        return 200, {
            "threads": [self.world.channel_payload(t) for t in threads],
            "members": [
                self.world.thread_member_payload(t, bot) for t in threads if bot in t.members
            ],
            "has_more": False,  # the spec's ThreadsResponse; every active thread is listed
        }

    # ------------------------------------------------------------------ guilds

    async def get_guild(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        data = self.world.guild_payload(g)
        # What the REST answer carries beyond the gateway's guild object (Discord's spec).
        data.update(
            home_header=None,
            region="deprecated",
            widget_channel_id=None,
            max_presences=None,
            max_stage_video_channel_users=50,
            max_video_channel_users=25,
            nsfw=False,
            incidents_data=None,
        )
        if req.query.get("with_counts", "").lower() in ("1", "true"):
            data["approximate_member_count"] = len(g.members)
            data["approximate_presence_count"] = 0
        return 200, data

    async def guild_channels(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        return 200, [
            self.world.channel_payload(self.world.channels[c])
            for c in g.channel_ids
            if not self.world.channels[c].deleted
        ]

    async def create_guild_channel(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        body = req.body()
        ctype = int(body.get("type") or TEXT)
        if ctype not in (TEXT, FORUM, CATEGORY):
            raise FakeError(400, 50035, f"Invalid Form Body: the fake has no channel type {ctype}")
        parent = self.world.channel(int(body["parent_id"])) if body.get("parent_id") else None
        ch = self.world.add_channel(
            g,
            str(body.get("name") or ""),
            type=ctype,
            parent=parent,
            topic=body.get("topic"),
            overwrites=body.get("permission_overwrites") or [],
        )
        if body.get("available_tags"):
            self.world.update_channel(ch, {"available_tags": body["available_tags"]})
        return 201, self.world.channel_payload(ch)

    async def guild_roles(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        return 200, [r.payload() for r in g.roles.values()]

    async def list_members(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        limit = req.int_query("limit", 1, low=1, high=1000)
        after = int(req.query.get("after", 0))
        ids = sorted(u for u in g.members if u > after)[:limit]
        return 200, [self.world.member_payload(g.id, u) for u in ids]

    async def search_members(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        query = req.query.get("query", "").lower()
        limit = req.int_query("limit", 1, low=1, high=1000)
        ids = [
            u
            for u in g.members
            if self.world.users[u].username.lower().startswith(query)
            or (g.members[u].nick or "").lower().startswith(query)
        ][:limit]
        return 200, [self.world.member_payload(g.id, u) for u in ids]

    async def get_member(self, req: Req) -> Result:
        gid = req.id("guild_id")
        self.world.member(gid, req.id("user_id"))
        return 200, self.world.member_payload(gid, req.id("user_id"))

    async def edit_member(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        gm = self.world.member(g.id, req.id("user_id"))
        body = req.body()
        if "nick" in body:
            gm.nick = body["nick"]
        roles = body.get("roles", gm.roles)
        self.world.set_member_roles(g, gm.user_id, [self.world.role(g.id, r).id for r in roles])
        return 200, self.world.member_payload(g.id, gm.user_id)

    async def add_member_role(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        gm = self.world.member(g.id, req.id("user_id"))
        role = self.world.role(g.id, req.id("role_id"))
        if role.id not in gm.roles:
            self.world.set_member_roles(g, gm.user_id, [*gm.roles, role.id])
        return 204, None

    async def remove_member_role(self, req: Req) -> Result:
        g = self.world.guild(req.id("guild_id"))
        gm = self.world.member(g.id, req.id("user_id"))
        role = self.world.role(g.id, req.id("role_id"))
        if role.id in gm.roles:
            self.world.set_member_roles(g, gm.user_id, [r for r in gm.roles if r != role.id])
        return 204, None
