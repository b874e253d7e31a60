"""The leak scanner: does anything the bot showed or logged name a member who posted anonymously?

An anonymous scenario runs the real bot against the fake Discord with the log capture installed,
then scans everything for the author's identity and fails on any hit::

    from tests.leaks import Identity, LeakScanner

    async def test_anonymous_flows(leak_logs, db_url, fake_discord, qa_bot_factory):
        user = fake_discord.world.add_user("zqvortle", global_name="Yssbrandt")
        ghost = fake_discord.add_member(fake_discord.guild, "zqvortle", user=user,
                                        nick="Klypthora")
        ...  # every anonymous flow: ask, answer, reply, accept, votes, DMs, lists...
        await settle(harness)
        scan = LeakScanner(fake_discord, leak_logs, Identity.of(fake_discord, ghost))
        assert scan.hits() == []

``leak_logs`` (a fixture, or ``with capture_logs() as logs:``) must be installed before the bot
starts. The scan reads the fake at the moment ``hits()`` is called: call it at the end, after
``await settle(harness)`` (background edits done) and the awaited DMs. ``scan.report()`` is the
hits one per line, for the assertion message; ``scan.excluded`` the requests left out and why.

**The identity** is a user id, matched as a whole number (``123`` in ``<@123>``, ``"123"``,
``qa:accept:123``, never inside ``91234``), and names (username, global name, nickname), matched
case-insensitively as substrings. Choose names that collide with no ordinary word and contain
no Markdown characters (``escape_markdown`` would split them): ``zqvortle``, not ``Sam_Lee``;
names shorter than 4 characters are refused (they would match everywhere).

**What is scanned**

* ``rest``: every REST request the bot sent to the fake, answered or refused: the JSON body
  (``payload_json`` of a multipart request), the text of uploaded files, the query string, the
  ``X-Audit-Log-Reason`` header, and the path of every request but a GET (a write aimed at the
  author, such as adding them to a thread or giving them a role, shows; a GET fetching them
  shows nobody).
* ``message``: every message stored in the fake, as Discord would show it (content, embeds,
  components, author, mentions, ``interaction_metadata``: a public response to the author's
  own command names them), deleted ones too. The fake keeps a message's latest state only;
  earlier versions were PATCH requests, which ``rest`` scans.
* ``channel``: every guild channel and thread name, every thread's owner and member list (the
  author added to a thread, or owning it, is a public tell).
* ``log``: every log record of the run (the capture's root handler at DEBUG, with the levels
  ``bot.logs.set_levels("DEBUG")`` gives, so ``discord.*`` stays at INFO as in production):
  the message, the formatted exception and stack, and any ``extra=`` attributes. The fake's own
  loggers (``tests.fakediscord``, aiohttp's server) are left out: they are not the bot.

**What is excluded** (only the author sees it; ``scan.excluded`` lists the requests):

* requests to the author's DM channel with the bot, and the request opening it
  (``POST /users/@me/channels`` with their id);
* responses to the author's own interactions that only the author sees: an ephemeral
  (flags 64) callback, followup or edit of an ephemeral response, a modal, autocomplete
  choices; identified by the interaction id or token of an interaction the author started;
* messages in the author's DM channel and ephemeral messages visible only to the author.

A hit (``Hit``) says where it was found (``POST /channels/1/messages json.embeds[0].author.name``,
``message 42 in #thread-name (deleted) content``, ``log cogs.answering DEBUG``) and which token
matched (``id 123`` or ``name 'zqvortle'``), with an excerpt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.logs import DISCORD_LOGGERS, QUIET_LOGGERS, set_levels
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import Channel, InteractionRecord, Message
from tests.fakediscord.recorder import Call
from tests.fakediscord.server import FakeDiscord

#: Loggers of the fake Discord itself (the server side), not of the bot.
FAKE_LOGGERS = ("tests.fakediscord", "aiohttp.access", "aiohttp.server", "aiohttp.web")
#: Attributes every ``LogRecord`` has; anything else came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
}
EPHEMERAL = 1 << 6
_EXCERPT = 50


async def settle(harness: BotHarness, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until the bot's background edits are done (votes, status lines, point roles) and the
    fake has written every frame: call it before ``hits()``, so no late edit escapes the scan.
    DMs are the notifier's: wait for the ones the scenario expects (``fake.dms_to``). Set
    ``bot.status_lines.coalescer.interval`` and ``bot.role_sync.coalescer.interval`` to 0
    first, or this waits out their cool-downs (seconds)."""
    bot = harness.bot
    async with asyncio.timeout(timeout):
        await bot.vote_writer.wait_idle()
        await bot.status_lines.wait_idle()
        await bot.role_sync.wait_idle()
        await harness.fake.flush()


@dataclass(frozen=True)
class Identity:
    """Who must not be named: a user id and the names Discord shows for them."""

    user_id: int
    names: tuple[str, ...]

    @classmethod
    def of(cls, fake: FakeDiscord, member: Member) -> Identity:
        """The member's id, username, global name and (in their guild) nickname."""
        user = fake.world.users[member.id]
        names = [user.username, user.global_name]
        if member.guild is not None:
            names.append(member.guild.members[member.id].nick)
        return cls(member.id, tuple(n for n in names if n))

    def __post_init__(self) -> None:
        for name in self.names:
            if len(name) < 4:
                raise ValueError(f"{name!r} is too short to scan for without false hits")


@dataclass(frozen=True)
class Hit:
    source: str  # "rest" | "message" | "channel" | "log"
    where: str
    token: str  # "id 123" or "name 'zqvortle'"
    excerpt: str

    def __str__(self) -> str:
        return f"[{self.source}] {self.where}: {self.token} in {self.excerpt!r}"


class LogCapture(logging.Handler):
    """Every log record of the bot during a run (see ``capture_logs``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(FAKE_LOGGERS):
            self.records.append(record)


@contextlib.contextmanager
def capture_logs(level: str = "DEBUG") -> Iterator[LogCapture]:
    """A root handler at DEBUG with the levels production sets for ``LOG_LEVEL=level``
    (``bot.logs.set_levels``), restored afterwards."""
    names = ["", *DISCORD_LOGGERS, *QUIET_LOGGERS]
    saved = {name: logging.getLogger(name).level for name in names}
    capture = LogCapture()
    root = logging.getLogger()
    root.addHandler(capture)
    set_levels(level)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, value in saved.items():
            logging.getLogger(name).setLevel(value)


@pytest.fixture
def leak_logs() -> Iterator[LogCapture]:
    """The bot's log records of this test at DEBUG (request it before the bot starts)."""
    with capture_logs() as capture:
        yield capture


class LeakScanner:
    """Scans the fake and the captured logs for ``identity``; ``hits()`` lists what it found."""

    def __init__(self, fake: FakeDiscord, logs: LogCapture, identity: Identity) -> None:
        self.fake = fake
        self.logs = logs
        self.identity = identity
        self._id = re.compile(rf"(?<!\d){identity.user_id}(?!\d)")
        #: Requests left out as seen only by the author, with the reason, after ``hits()``.
        self.excluded: list[tuple[Call, str]] = []

    # ------------------------------------------------------------------ the whole scan

    def hits(self) -> list[Hit]:
        return [*self.rest_hits(), *self.message_hits(), *self.channel_hits(), *self.log_hits()]

    def report(self) -> str:
        return "\n".join(str(h) for h in self.hits()) or "no hits"

    # ------------------------------------------------------------------ matching

    def match(self, text: str) -> list[tuple[str, str]]:
        """(token, excerpt) for each identity token found in ``text``."""
        out: list[tuple[str, str]] = []
        m = self._id.search(text)
        if m:
            out.append((f"id {self.identity.user_id}", _excerpt(text, m.start(), m.end())))
        folded = text.casefold()
        for name in self.identity.names:
            at = folded.find(name.casefold())
            if at >= 0:
                out.append((f"name {name!r}", _excerpt(text, at, at + len(name))))
        return out

    def _scan(self, source: str, where: str, value: Any) -> list[Hit]:
        hits = []
        for path, text in _leaves(value, ""):
            for token, excerpt in self.match(text):
                hits.append(Hit(source, f"{where} {path}".rstrip(), token, excerpt))
        return hits

    # ------------------------------------------------------------------ REST

    def rest_hits(self) -> list[Hit]:
        self.excluded = []
        hits: list[Hit] = []
        for call in list(self.fake.recorder.calls):
            reason = self.only_author_sees(call)
            if reason is not None:
                self.excluded.append((call, reason))
                continue
            where = f"{call.method} {call.path}"
            if call.method != "GET":
                hits += self._scan("rest", where, {"path": call.path})
            if call.query:
                hits += self._scan("rest", where, {"query": call.query})
            if call.json is not None:
                hits += self._scan("rest", where, {"json": call.json})
            for name, data, _type in call.files:
                text = data.decode("utf-8", errors="replace")
                hits += self._scan("rest", where, {f"file {name!r}": text})
            for key, value in call.headers.items():
                if key.lower() == "x-audit-log-reason":
                    reason_text = urllib.parse.unquote(value)
                    hits += self._scan("rest", where, {"X-Audit-Log-Reason": reason_text})
        return hits

    def only_author_sees(self, call: Call) -> str | None:
        """Why only the author sees what ``call`` sent, or None (it is scanned)."""
        world = self.fake.world
        uid = self.identity.user_id
        dm = world.dm_channels.get(uid)
        if dm is not None and call.params.get("channel_id") == str(dm):
            return "the author's DM channel"
        body = call.json if isinstance(call.json, dict) else {}
        if call.route == "/users/@me/channels" and str(body.get("recipient_id")) == str(uid):
            return "opening the author's DM channel"
        record = self._interaction_of(call)
        if record is None or record.user_id != uid:
            return None
        if self._private_response(call, record):
            return "a response to the author's interaction only they see"
        return None

    def _interaction_of(self, call: Call) -> InteractionRecord | None:
        world = self.fake.world
        if "interaction_id" in call.params:
            return world.interactions.get(int(call.params["interaction_id"]))
        if "webhook_token" in call.params:
            return world.interactions_by_token.get(call.params["webhook_token"])
        return None

    def _private_response(self, call: Call, record: InteractionRecord) -> bool:
        body = call.json if isinstance(call.json, dict) else {}
        uid = self.identity.user_id
        if "interaction_id" in call.params:  # the callback
            kind = int(body.get("type") or 0)
            data = body.get("data") or {}
            if kind in (8, 9):  # autocomplete choices, a modal: shown to the one user
                return True
            if kind in (4, 5):
                return bool(int(data.get("flags") or 0) & EPHEMERAL)
            if kind in (6, 7) and record.message_id is not None:
                target = self.fake.world.messages.get(record.message_id)
                return target is not None and target.visible_to == uid
            return False
        message = self._webhook_target(call, record)
        if message is not None:
            return message.visible_to == uid
        return bool(int(body.get("flags") or 0) & EPHEMERAL)

    def _webhook_target(self, call: Call, record: InteractionRecord) -> Message | None:
        messages = self.fake.world.messages
        mid = call.params.get("message_id")
        if mid == "@original":
            return messages.get(record.original_message_id or 0)
        if mid is not None:
            return messages.get(int(mid))
        if isinstance(call.response, dict) and "id" in call.response:
            return messages.get(int(call.response["id"]))
        return None

    # ------------------------------------------------------------------ the fake's state

    def message_hits(self) -> list[Hit]:
        world = self.fake.world
        uid = self.identity.user_id
        dm = world.dm_channels.get(uid)
        hits: list[Hit] = []
        for msg in list(world.messages.values()):
            if msg.channel_id == dm or msg.visible_to == uid:
                continue
            where = f"message {msg.id} in {self._channel_label(msg.channel_id)}"
            if msg.deleted:
                where += " (deleted)"
            if msg.visible_to is not None:
                where += f" (ephemeral to {msg.visible_to})"
            hits += self._scan("message", where, world.message_payload(msg))
        return hits

    def channel_hits(self) -> list[Hit]:
        uid = self.identity.user_id
        hits: list[Hit] = []
        for channel in list(self.fake.world.channels.values()):
            if channel.is_dm:
                continue
            where = f"channel {channel.id}"
            hits += self._scan("channel", where, {"name": channel.name})
            if channel.is_thread:
                if channel.owner_id == uid:
                    hits.append(Hit("channel", where, f"id {uid}", "the owner of"))
                if uid in channel.members:
                    hits.append(Hit("channel", where, f"id {uid}", "a member of"))
        return hits

    def _channel_label(self, channel_id: int) -> str:
        channel: Channel | None = self.fake.world.channels.get(channel_id)
        if channel is None:
            return f"channel {channel_id}"
        return f"#{channel.name or channel_id} ({channel_id})"

    # ------------------------------------------------------------------ logs

    def log_hits(self) -> list[Hit]:
        hits: list[Hit] = []
        formatter = logging.Formatter()
        for record in list(self.logs.records):
            where = f"log {record.name} {record.levelname}"
            texts: dict[str, Any] = {"message": record.getMessage()}
            if record.exc_info:
                texts["exception"] = formatter.formatException(record.exc_info)
            elif record.exc_text:
                texts["exception"] = record.exc_text
            if record.stack_info:
                texts["stack"] = record.stack_info
            for key, value in vars(record).items():
                if key not in _RECORD_ATTRS:
                    texts[f"extra {key}"] = value if isinstance(value, str | int) else repr(value)
            hits += self._scan("log", where, texts)
        return hits


def _leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every string and integer in a JSON-like value, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key)
            yield from _leaves(item, sub)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield path, str(value)


def _excerpt(text: str, start: int, end: int) -> str:
    lo, hi = max(0, start - _EXCERPT), min(len(text), end + _EXCERPT)
    return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")


__all__ = [
    "FAKE_LOGGERS",
    "Hit",
    "Identity",
    "LeakScanner",
    "LogCapture",
    "capture_logs",
    "leak_logs",
    "settle",
]
