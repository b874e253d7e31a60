"""The fake gateway: WebSocket sessions, sequence numbers, RESUME replay, shard routing.

One ``Session`` per IDENTIFY. A session numbers every DISPATCH it is given and keeps them in a
buffer; while its connection is down, events still go into the buffer, so a RESUME replays
exactly what the client missed. An INVALID_SESSION (or a close with 1000/1001) ends the session:
events meant for that shard are then lost until the client IDENTIFYs again, as on Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakediscord.model import (
    INTENT_GUILD_MEMBERS,
    INTENT_MESSAGE_CONTENT,
    JSON,
    PRIVILEGED_INTENTS,
)
from tests.fakediscord.recorder import DispatchedEvent, Recorder
from tests.fakediscord.world import EventData, World

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

BUFFER_LIMIT = 5000

#: Consulted with every DISPATCH before it is numbered; a hook that returns True keeps the event
#: and sends it later itself with ``send_dispatch(..., hooks=False)`` (faults: duplicates, order).
DispatchHook = Callable[["Session", str, JSON], bool]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass
class GatewayClose:
    """A connection ended: who closed it and with which code (None = dropped, no close frame)."""

    session_id: str | None
    shard_id: int | None
    code: int | None
    by_client: bool
    time: float


@dataclass
class Identify:
    """An IDENTIFY the fake accepted or refused, at ``time`` (the fake's loop clock)."""

    shard: tuple[int, int]
    intents: int
    payload: JSON
    session_id: str | None  # None when refused
    close_code: int | None = None
    time: float = 0.0
    #: Refused with op 9 INVALID_SESSION: it broke the session-start rate of its bucket.
    too_soon: bool = False


@dataclass
class Session:
    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    buffer: list[tuple[int, str]] = field(default_factory=list)  # (seq, frame text)
    conn: Connection | None = None
    invalid: bool = False
    resumes: int = 0
    replayed: list[int] = field(default_factory=list)  # seqs sent again on RESUME
    ack_heartbeats: bool = True

    def next_frame(self, name: str, data: JSON) -> tuple[int, str]:
        self.seq += 1
        frame = _dumps({"op": OP_DISPATCH, "t": name, "s": self.seq, "d": data})
        self.buffer.append((self.seq, frame))
        if len(self.buffer) > BUFFER_LIMIT:
            del self.buffer[: len(self.buffer) - BUFFER_LIMIT]
        return self.seq, frame


class Connection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, index: int) -> None:
        self.ws = ws
        self.request = request
        self.index = index
        self.session: Session | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.heartbeats = 0
        self.query = dict(request.query)
        self.path = request.path
        self.closed = False
        self.silent = False  # a zombie connection: frames and heartbeat ACKs are lost (faults)
        self.close_record: GatewayClose | None = None
        self.writer = asyncio.create_task(self._write(), name=f"fake-gateway-writer-{index}")

    async def _write(self) -> None:
        while True:
            frame = await self.queue.get()
            try:
                if frame is None:
                    return
                if not self.ws.closed:
                    await self.ws.send_str(frame)
            except Exception:  # the peer went away mid-write: stop writing, keep draining
                self.closed = True
            finally:
                self.queue.task_done()

    def send(self, obj: Any) -> None:
        self.send_text(_dumps(obj))

    def send_text(self, text: str) -> None:
        if not self.closed and not self.silent:
            self.queue.put_nowait(text)

    async def close(self, code: int) -> None:
        """Close with a close frame after everything queued has been written."""
        if self.closed:
            return
        self.closed = True
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.writer
        with contextlib.suppress(Exception):
            await self.ws.close(code=code)

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (a network drop)."""
        self.closed = True
        self.queue.put_nowait(None)
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Gateway:
    def __init__(self, world: World, recorder: Recorder, *, token: str) -> None:
        self.world = world
        self.recorder = recorder
        self.token = token
        self.url = "ws://127.0.0.1/gateway"
        self.resume_url = "ws://127.0.0.1/gateway-resume"
        self.heartbeat_interval_ms = 41250
        self.recommended_shards = 1
        #: ``session_start_limit.max_concurrency`` of ``GET /gateway/bot``: the buckets
        #: (``shard_id % max_concurrency``) sessions start in.
        self.max_concurrency = 1
        #: When set, one session start per bucket in this many seconds; an IDENTIFY sooner is
        #: answered op 9 INVALID_SESSION (d false), as Discord does. None: not enforced.
        self.session_start_window: float | None = None
        self.sessions: dict[str, Session] = {}
        self.current: dict[int, Session] = {}  # shard id -> the session receiving its events
        self.connections: list[Connection] = []
        self.closes: list[GatewayClose] = []
        self.identifies: list[Identify] = []
        self.resume_attempts: list[JSON] = []
        self.presence_updates: list[JSON] = []
        self.waiting_handshakes = 0
        self.dispatch_hooks: list[DispatchHook] = []
        self._gate = asyncio.Event()
        self._gate.set()

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    # ------------------------------------------------------------------ test controls

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Hold every new connection before HELLO until the block ends."""
        self._gate.clear()
        try:
            yield
        finally:
            self._gate.set()

    def session_for(self, shard_id: int = 0) -> Session:
        try:
            return self.current[shard_id]
        except KeyError:
            raise LookupError(f"no live gateway session for shard {shard_id}") from None

    def live_sessions(self) -> list[Session]:
        return [s for s in self.current.values() if s.conn is not None and not s.invalid]

    async def drop(self, shard_id: int = 0, *, code: int | None = None) -> None:
        """Drop the shard's connection: no close frame (code None) or a close with ``code``."""
        conn = self.session_for(shard_id).conn
        if conn is None:
            raise LookupError(f"shard {shard_id} has no open connection")
        self._closed(conn, code, by_client=False)
        if code is None:
            conn.abort()
        else:
            await conn.close(code)

    def reconnect(self, shard_id: int = 0) -> None:
        """Send op 7 RECONNECT: the client closes and RESUMEs."""
        conn = self.session_for(shard_id).conn
        if conn is None:
            raise LookupError(f"shard {shard_id} has no open connection")
        conn.send({"op": OP_RECONNECT, "d": None})

    def invalidate(self, shard_id: int = 0, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; unless resumable, the session and its buffer are gone."""
        session = self.session_for(shard_id)
        if not resumable:
            self._end_session(session)
        if session.conn is not None:
            session.conn.send({"op": OP_INVALID_SESSION, "d": resumable})

    def silence(self, shard_id: int = 0, silent: bool = True) -> None:
        """Stop (or resume) answering the shard's heartbeats."""
        self.session_for(shard_id).ack_heartbeats = not silent

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every queued frame has been written to its socket."""
        async with asyncio.timeout(timeout):
            for conn in list(self.connections):
                if not conn.closed:
                    await conn.queue.join()

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001)

    # ------------------------------------------------------------------ dispatch

    def emit(
        self,
        name: str,
        data: EventData,
        *,
        guild_id: int | None,
        intent: int | None,
        content_exempt: bool | None = None,
    ) -> None:
        sent = False
        for shard_id, session in list(self.current.items()):
            if session.invalid:
                continue
            if self.world.shard_of(guild_id, session.shard_count) != shard_id:
                continue
            if intent is not None and not session.intents & intent:
                continue
            payload = data(session.intents) if callable(data) else data
            if content_exempt is False and not session.intents & INTENT_MESSAGE_CONTENT:
                payload = {**payload, "content": "", "embeds": [], "attachments": []}
                payload["components"] = []
                payload.pop("poll", None)
            self.send_dispatch(session, name, payload)
            sent = True
        if not sent:
            self._record(name, data(0) if callable(data) else data, None, None)

    def send_dispatch(
        self, session: Session, name: str, payload: JSON, *, hooks: bool = True
    ) -> int | None:
        """Number, buffer and send one DISPATCH (None: a dispatch hook kept it)."""
        if hooks and any(hook(session, name, payload) for hook in list(self.dispatch_hooks)):
            return None
        seq, frame = session.next_frame(name, payload)
        if session.conn is not None:
            session.conn.send_text(frame)
        self._record(name, payload, session, seq)
        return seq

    def _record(self, name: str, data: JSON, session: Session | None, seq: int | None) -> None:
        self.recorder.events.append(
            DispatchedEvent(
                index=len(self.recorder.events),
                name=name,
                data=data,
                shard_id=session.shard_id if session else None,
                session_id=session.id if session else None,
                seq=seq,
                time=self.time(),
            )
        )
        self.recorder.signal.pulse()

    def _end_session(self, session: Session) -> None:
        session.invalid = True
        if self.current.get(session.shard_id) is session:
            del self.current[session.shard_id]
        self.recorder.signal.pulse()

    # ------------------------------------------------------------------ the socket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = Connection(ws, request, len(self.connections))
        self.connections.append(conn)
        self.waiting_handshakes += 1
        self.recorder.signal.pulse()
        try:
            await self._gate.wait()
        finally:
            self.waiting_handshakes -= 1
        if conn.query.get("encoding", "json") != "json":
            self._closed(conn, 4002, by_client=False)
            await conn.close(4002)
            return ws
        conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        self._closed(conn, 4002, by_client=False)
                        await conn.close(4002)
                        break
                    await self._on_frame(conn, frame)
                elif msg.type == WSMsgType.BINARY:
                    self._closed(conn, 4002, by_client=False)
                    await conn.close(4002)
                    break
        finally:
            self._closed(conn, ws.close_code, by_client=True)
            conn.closed = True
            conn.queue.put_nowait(None)
        return ws

    def _closed(self, conn: Connection, code: int | None, *, by_client: bool) -> None:
        session = conn.session
        if conn.close_record is not None:
            return
        record = GatewayClose(
            session_id=session.id if session else None,
            shard_id=session.shard_id if session else None,
            code=code,
            by_client=by_client,
            time=self.time(),
        )
        conn.close_record = record
        self.closes.append(record)
        if session is not None and session.conn is conn:
            session.conn = None
            # Discord ends a session the client closed normally; other closes may RESUME.
            if by_client and code in (1000, 1001):
                self._end_session(session)
        self.recorder.signal.pulse()

    async def _on_frame(self, conn: Connection, frame: JSON) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            if conn.session is None or conn.session.ack_heartbeats:
                conn.send({"op": OP_HEARTBEAT_ACK})
            self.recorder.signal.pulse()
            return
        if op == OP_IDENTIFY:
            await self._identify(conn, data or {})
            return
        if op == OP_RESUME:
            await self._resume(conn, data or {})
            return
        if conn.session is None:
            self._closed(conn, 4003, by_client=False)
            await conn.close(4003)  # Not authenticated
            return
        if op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data or {})
            return
        if op == OP_REQUEST_GUILD_MEMBERS:
            self._members_chunk(conn.session, data or {})
            return
        if op == OP_VOICE_STATE_UPDATE:
            return
        self._closed(conn, 4001, by_client=False)
        await conn.close(4001)  # Unknown opcode

    async def _identify(self, conn: Connection, data: JSON) -> None:
        shard = data.get("shard") or [0, 1]
        shard_id, shard_count = int(shard[0]), int(shard[1])
        raw_intents = data.get("intents")
        intents = int(raw_intents) if raw_intents is not None else 0
        record = Identify((shard_id, shard_count), intents, data, None, time=self.time())
        self.identifies.append(record)
        code = None
        if data.get("token") != self.token:
            code = 4004  # Authentication failed
        elif conn.session is not None:
            code = 4005  # Already authenticated
        elif shard_count < 1 or not 0 <= shard_id < shard_count:
            code = 4010  # Invalid shard
        elif raw_intents is None:
            code = 4013  # Invalid intent(s)
        elif intents & PRIVILEGED_INTENTS & ~self.world.portal_intents:
            code = 4014  # Disallowed intent(s)
        if code is not None:
            record.close_code = code
            self._closed(conn, code, by_client=False)
            await conn.close(code)
            return
        if self._too_soon(record):
            record.too_soon = True
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            self.recorder.signal.pulse()
            return
        old = self.current.get(shard_id)
        if old is not None:
            self._end_session(old)
        session = Session(
            id=secrets.token_hex(16),
            shard_id=shard_id,
            shard_count=shard_count,
            intents=intents,
        )
        record.session_id = session.id
        self.sessions[session.id] = session
        self.current[shard_id] = session
        session.conn = conn
        conn.session = session
        world = self.world
        guilds = [g for g in world.guilds.values() if world.shard_of(g.id, shard_count) == shard_id]
        ready: JSON = {
            "v": 10,
            "user": world.bot.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.resume_url,
            "session_type": "normal",
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": [],
            "auth_session_id_hash": "",
        }
        if "shard" in data:
            ready["shard"] = [shard_id, shard_count]
        self.send_dispatch(session, "READY", ready)
        for g in guilds:
            self.send_dispatch(
                session, "GUILD_CREATE", world.guild_create_payload(g, intents=session.intents)
            )

    def bucket(self, shard_id: int) -> int:
        """The session-start bucket of a shard (``shard_id % max_concurrency``)."""
        return shard_id % self.max_concurrency

    def _too_soon(self, record: Identify) -> bool:
        """Whether a session started in ``record``'s bucket less than the window before it."""
        window = self.session_start_window
        if window is None:
            return False
        bucket = self.bucket(record.shard[0])
        return any(
            earlier.session_id is not None
            and self.bucket(earlier.shard[0]) == bucket
            and record.time - earlier.time < window
            for earlier in self.identifies
            if earlier is not record
        )

    async def _resume(self, conn: Connection, data: JSON) -> None:
        self.resume_attempts.append(dict(data))
        if data.get("token") != self.token:
            self._closed(conn, 4004, by_client=False)
            await conn.close(4004)
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        seq = int(seq) if seq is not None else 0
        oldest = session.buffer[0][0] if session and session.buffer else 1
        if (
            session is None
            or session.invalid
            or conn.session is not None
            or seq > session.seq
            or seq + 1 < oldest
        ):
            conn.send({"op": OP_INVALID_SESSION, "d": False})
            return
        previous = session.conn
        if previous is not None and previous is not conn:
            self._closed(previous, 4000, by_client=False)
            previous.session = None
            await previous.close(4000)
        session.conn = conn
        conn.session = session
        session.resumes += 1
        for s, frame in session.buffer:
            if s > seq:
                conn.send_text(frame)
                session.replayed.append(s)
        self.send_dispatch(session, "RESUMED", {})

    def _members_chunk(self, session: Session, data: JSON) -> None:
        gid = int(data["guild_id"]) if data.get("guild_id") else None
        guild = self.world.guilds.get(gid or 0)
        if guild is None:
            return
        query = str(data.get("query") or "")
        limit = int(data.get("limit") or 0)
        wanted = {int(u) for u in data.get("user_ids") or []}
        if not query and not wanted and not session.intents & INTENT_GUILD_MEMBERS:
            return
        members = []
        for uid in guild.members:
            user = self.world.users[uid]
            if wanted and uid not in wanted:
                continue
            # Discord matches the query's start against usernames and nicknames.
            nick = guild.members[uid].nick or ""
            if query and not (
                user.username.lower().startswith(query.lower())
                or nick.lower().startswith(query.lower())
            ):
                continue
            members.append(self.world.member_payload(guild.id, uid))
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted if u not in guild.members],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        self.send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)
