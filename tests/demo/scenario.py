"""The scripted conversation of ``make demo`` and the transcript it prints.

A server owner sets qa-bot up on a forum; Alice asks with ``/ask``; Bob and Carol answer in the
thread; members vote with reactions; Alice accepts Bob's answer; the DMs arrive; ``/profile``
shows the points; then Dave asks anonymously, Carol answers and Dave accepts, every public line
showing "Anonymous" and never Dave. Every step waits for the bot's visible response (a message,
an edit, a DM), with a time limit, and prints what the members see. A step whose cog is not
loaded yet is printed as skipped, so the demo runs while the product grows.

Two timings are shortened so the demo takes seconds: the guild's ``notify_coalesce_seconds`` is
set to 2 with ``/qa settings set`` (shown in the transcript), and status-line edits, which the
bot spaces 5 s apart to respect Discord's rate limits, are spaced 0.1 s apart (``StatusLines``'
own knob, as the tests use it).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypeVar

from bot.client import EXTENSIONS
from bot.db import migrate
from bot.permissions import REQUIRED_PERMISSIONS
from tests.demo.render import INDENT, Renderer, wrap
from tests.fakediscord.actors import InteractionHandle, Member
from tests.fakediscord.fixtures import ERROR_LOGGERS, BotHarness, ErrorLog, _start_bot
from tests.fakediscord.model import Channel, Message
from tests.fakediscord.server import FakeDiscord

T = TypeVar("T")
Listener = Callable[..., Coroutine[Any, Any, None]]

#: Seconds a step waits for each response of the bot before the demo fails.
DEFAULT_TIMEOUT = 10.0
#: Status-line edits are spaced this far apart in the demo (5 s in production).
STATUS_LINE_INTERVAL = 0.1
#: The DM coalescing window the demo sets (60 s by default).
DEMO_COALESCE_SECONDS = 2

GUILD = "Calm Corner"
FORUM = "qa-forum"
FORUM_TAGS = ("Sleep", "Anxiety", "General")
CATEGORY = "Sleep"
TITLE = "How do I sleep better?"
DETAILS = (
    "I wake up at 3 am most nights and my mind starts racing. What helps you fall back asleep?"
)
BOB_ANSWER = (
    "Keep the same wake-up time every day, even at weekends, and get out of bed if you "
    "lie awake for more than twenty minutes: read something dull in dim light until you "
    "feel sleepy again."
)
CAROL_ANSWER = (
    "Try slow breathing: in for four counts, hold for four, out for six. "
    "It calms the racing thoughts for me."
)
SEARCH = "fall asleep"
ANON_CATEGORY = "Anxiety"
ANON_TITLE = "Is it normal to dread my first therapy session?"
ANON_DETAILS = (
    "I booked it weeks ago and now I keep thinking of cancelling. "
    "I don't want anyone here to know it's me."
)
CAROL_ANON_ANSWER = (
    "Very normal. Tell the therapist you nearly cancelled: it is a good first thing to talk "
    "about, and they hear it often."
)
HELD_CATEGORY = "General"
HELD_TITLE = "Is it okay to take a break from social media?"
HELD_DETAILS = "Scrolling makes me tense, but I worry my friends will forget me if I log off."
MOD_CHANNEL = "mods"
UP = "👍"
DOWN = "👎"


#: The title of the step in which Dave asks anonymously (no name of his in its public lines).
ANONYMOUS_STEP = "An anonymous question, answered and accepted"
#: The title of the step in which Dave reports an answer and Maya handles the report.
REPORT_STEP = "A report handled by a moderator"
#: The title of the step in which Dave's anonymous question waits for a moderator.
PREMOD_STEP = "A moderator reviews an anonymous question first"
REPORT_REASON = "This reads like medical advice."


class DemoFailure(Exception):
    """A step's expected response did not come in time (the message is one line)."""


class EventLog:
    """Records events the bot dispatches (``qa_thread_message``, ``raw_reaction_add``) so the
    demo knows the bot has received a gesture before it waits on the bot's work."""

    def __init__(self, harness: BotHarness, *names: str) -> None:
        self.bot = harness.bot
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Event()
        self._listeners: list[tuple[str, Listener]] = []
        for name in names:
            listener = self._recorder(name)
            self.bot.add_listener(listener, f"on_{name}")
            self._listeners.append((f"on_{name}", listener))

    def _recorder(self, name: str) -> Listener:
        async def record(*args: Any) -> None:
            self.seen.append((name, args))
            self._changed.set()
            self._changed = asyncio.Event()

        return record

    async def wait_for(self, name: str, check: Callable[..., bool], count: int = 1) -> None:
        """Until ``count`` recorded ``name`` events satisfy ``check`` (no time limit: the
        caller bounds it)."""
        while True:
            changed = self._changed
            if sum(1 for n, args in self.seen if n == name and check(*args)) >= count:
                return
            await changed.wait()

    def close(self) -> None:
        for event, listener in self._listeners:
            self.bot.remove_listener(listener, event)


@dataclass
class Cast:
    owner: Member
    alice: Member
    bob: Member
    carol: Member
    dave: Member
    maya: Member
    general: Channel
    forum: Channel
    mods: Channel


@dataclass
class Thread:
    """The question as it lives in the fake: its thread and starter message."""

    channel: Channel
    starter: Message
    answers: dict[str, Message] = field(default_factory=dict)


@dataclass
class StepResult:
    title: str
    skipped: str | None = None


class Demo:
    """Runs the scripted conversation against the real bot and prints the transcript."""

    def __init__(
        self,
        out: TextIO,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        extensions: Sequence[str] | None = None,
        extra_extensions: Sequence[str] = (),
    ) -> None:
        """``extensions``: what the bot loads (default: production's ``EXTENSIONS``), plus
        ``extra_extensions`` (cogs not registered yet)."""
        self.out = out
        self.timeout = timeout
        base = EXTENSIONS if extensions is None else extensions
        self.extensions = tuple(dict.fromkeys([*base, *extra_extensions]))
        self.results: list[StepResult] = []
        self._step = 0
        self._step_title = ""
        # Set in ``run``.
        self.fake: FakeDiscord
        self.harness: BotHarness
        self.render: Renderer
        self.cast: Cast
        self.events: EventLog
        self.thread: Thread | None = None
        self.anonymous_thread: Thread | None = None
        self.mod_channel_set = False

    # ------------------------------------------------------------------ output

    def say(self, line: str = "") -> None:
        print(line, file=self.out, flush=True)

    def show(self, message: Message, *, who: str | None = None) -> None:
        """Print a message as the member(s) who can see it see it."""
        channel = self.fake.world.channels[message.channel_id]
        if message.visible_to is not None:
            where = f"(only {self.render.name(message.visible_to)} sees)"
        elif channel.guild_id is None:
            recipients = [u for u in channel.recipient_ids if u != self.fake.bot_user.id]
            where = f"DM to {self.render.name(recipients[0]) if recipients else who}"
        else:
            where = self.render.place(channel)
        for line in self.render.message(message, where=where):
            self.say(line)

    def gesture(self, member: Member, where: Channel | str, action: str) -> None:
        place = where if isinstance(where, str) else self.render.place(where)
        self.say(f"{place}  [{member.name}] {action}")

    def note(self, text: str) -> None:
        self.say(f"{INDENT}· {text}")

    # ------------------------------------------------------------------ waiting

    async def expect(self, what: str, work: Awaitable[T]) -> T:
        """``work``'s result, or a DemoFailure naming ``what`` after the step's time limit."""
        try:
            return await asyncio.wait_for(work, self.timeout)
        except (TimeoutError, AssertionError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            logging.getLogger(__name__).warning("waiting for %s: %s", what, detail)
            raise DemoFailure(
                f"step {self._step} ({self._step_title}): {what} did not come within "
                f"{self.timeout:g} s"
            ) from None

    async def until(self, what: str, check: Callable[[], T | None]) -> T:
        """Until ``check()`` is truthy in the fake's state (re-checked on every change)."""
        return await self.expect(
            what, self.fake.wait_until(check, timeout=self.timeout + 1, what=what)
        )

    async def reply(self, ix: InteractionHandle, what: str) -> Message:
        return await self.expect(what, ix.message(timeout=self.timeout + 1))

    async def dm(self, member: Member, count: int, what: str) -> Message:
        """The ``count``-th DM the bot sent ``member`` (waits for it)."""

        def check() -> Message | None:
            dms = [m for m in self.fake.dms_to(member) if m.author_id == self.fake.bot_user.id]
            return dms[count - 1] if len(dms) >= count else None

        return await self.until(what, check)

    # ------------------------------------------------------------------ availability

    def loaded_extensions(self) -> Collection[str]:
        return self.harness.bot.extensions.keys()

    def loaded(self, extension: str) -> bool:
        return extension in self.loaded_extensions()

    def has_command(self, name: str) -> bool:
        tree = self.harness.bot.tree
        return any(c.qualified_name == name for c in tree.walk_commands()) or any(
            c.name == name for c in tree.get_commands()
        )

    def missing(self, *needs: str) -> str | None:
        """Why a step cannot run: the first of its needs (an extension ``cogs.x`` or a command
        name) that the bot does not have."""
        for need in needs:
            ok = self.loaded(need) if need.startswith("cogs.") else self.has_command(need)
            if not ok:
                kind = "the extension" if need.startswith("cogs.") else "the command"
                return f"{kind} {need} is not loaded"
        return None

    async def step(
        self,
        title: str,
        play: Callable[[], Awaitable[None]],
        *,
        needs: Sequence[str] = (),
        after: Sequence[str] = (),
    ) -> None:
        """Print the step's heading, then play it, or say why it is skipped: a missing cog or
        command (``needs``), or an earlier step it builds on that was skipped (``after``)."""
        self._step += 1
        self._step_title = title
        self.say()
        self.say(f"── {self._step}. {title} ──")
        reason = self.missing(*needs)
        if reason is not None:
            self.say(f"(skipped: not available yet: {reason})")
        else:
            skipped = {r.title for r in self.results if r.skipped}
            blocked = next((a for a in after if a in skipped), None)
            if blocked is not None:
                reason = f"it builds on step “{blocked}”"
                self.say(f"(skipped: {reason})")
        self.results.append(StepResult(title, reason))
        if reason is None:
            await play()

    # ------------------------------------------------------------------ the run

    async def run(self, database: Path | None = None) -> int:
        """Play the whole demo; 0 when every step that ran got its responses, else 1.
        ``database``: a new SQLite file to keep (default: a throwaway one)."""
        with tempfile.TemporaryDirectory(prefix="qa-bot-demo-") as tmp:
            url = f"sqlite+aiosqlite:///{database or Path(tmp) / 'demo.sqlite3'}"
            await migrate.upgrade(url)
            error_log = ErrorLog()
            for name in ERROR_LOGGERS:
                logging.getLogger(name).addHandler(error_log)
            self.fake = FakeDiscord()
            await self.fake.start()
            try:
                return await self._run(url, error_log)
            finally:
                await self.fake.stop()
                for name in ERROR_LOGGERS:
                    logging.getLogger(name).removeHandler(error_log)

    async def _run(self, url: str, error_log: ErrorLog) -> int:
        self.render = Renderer(self.fake)
        self.cast = self._build_scene()
        await self.start_bot(url, error_log)
        failure: str | None = None
        try:
            self._introduce()
            await self._play()
        except DemoFailure as exc:
            failure = str(exc)
        finally:
            await self.stop_bot()
        problems = [*self.fake.problems()]
        if error_log.records:
            problems.append("the bot logged errors:\n" + error_log.report())
        if failure is None and problems:
            failure = "; ".join(p.splitlines()[0] for p in problems)
            logging.getLogger(__name__).error("%s", "\n".join(problems))
        self.say()
        if failure is not None:
            self.say(f"demo FAILED: {failure}")
            return 1
        skipped = [r for r in self.results if r.skipped]
        ran = len(self.results) - len(skipped)
        if skipped:
            names = ", ".join(f"“{r.title}”" for r in skipped)
            self.say(f"demo done: {ran} steps played, {len(skipped)} skipped ({names}).")
        else:
            self.say(f"demo done: all {ran} steps played.")
        return 0

    # ------------------------------------------------------------------ the bot

    async def start_bot(self, url: str, error_log: ErrorLog) -> None:
        """The real bot in this process, connected to the fake, on the database at ``url``."""
        self.harness = await _start_bot(
            self.fake,
            url,
            extensions=self.extensions,
            install_commands=True,
            wait_ready=True,
            # The demo ignores a developer's .env and sharding variables: one process, one
            # shard, the fake's URLs and the throwaway database.
            overrides={"_env_file": None, "shard_count": None, "shard_ids": None},
            error_log=error_log,
        )
        self.harness.bot.status_lines.coalescer.interval = STATUS_LINE_INTERVAL
        self.events = EventLog(self.harness, "qa_thread_message", "raw_reaction_add")

    async def stop_bot(self) -> None:
        self.events.close()
        await self.harness.close()

    async def handled(self, message: Message) -> None:
        """Until the bot has handled a member's message in the question's thread."""
        await self.events.wait_for("qa_thread_message", lambda m, _c, i=message.id: m.id == i)

    async def votes_counted(self, votes: Sequence[tuple[Member, Message, str, str]]) -> None:
        """Until the bot has received every reaction of ``votes`` and applied them all."""
        for member, message, emoji, _what in votes:
            await self.expect(
                f"the bot's receipt of {member.name}'s {emoji}",
                self.events.wait_for(
                    "raw_reaction_add",
                    lambda p, m=member.id, i=message.id: p.user_id == m and p.message_id == i,
                ),
            )
        await self.expect("the votes to be counted", self.harness.bot.vote_writer.wait_idle())

    # ------------------------------------------------------------------ the scene

    def _build_scene(self) -> Cast:
        fake = self.fake
        guild = fake.add_guild(GUILD, owner="Olivia")
        fake.guild = guild
        general = fake.add_text_channel(guild, "general")
        forum = fake.add_forum(guild, FORUM, tags=list(FORUM_TAGS))
        fake.general, fake.forum = general, forum
        # The bot joined with the invite link of the README: its role has exactly the
        # permissions of that link.
        for role in guild.roles.values():
            if role.managed and role.bot_id == fake.bot_user.id:
                role.permissions = REQUIRED_PERMISSIONS.value
        members = {n: fake.add_member(guild, n) for n in ("Alice", "Bob", "Carol", "Dave")}
        # Maya moderates (Manage Threads); only moderators and the bot see #mods.
        moderators = fake.add_role(guild, "Moderators", perms=["manage_threads"])
        maya = fake.add_member(guild, "Maya", roles=[moderators])
        bot_role = next(r for r in guild.roles.values() if r.bot_id == fake.bot_user.id)
        everyone = guild.roles[guild.id]
        mods = fake.add_text_channel(
            guild,
            MOD_CHANNEL,
            overwrites=[
                fake.overwrite(everyone, deny=["view_channel"]),
                fake.overwrite(moderators, allow=["view_channel"]),
                fake.overwrite(bot_role, allow=["view_channel"]),
            ],
        )
        return Cast(
            owner=fake.owner_of(guild),
            alice=members["Alice"],
            bob=members["Bob"],
            carol=members["Carol"],
            dave=members["Dave"],
            maya=maya,
            general=general,
            forum=forum,
            mods=mods,
        )

    def _introduce(self) -> None:
        self.say("qa-bot demo: the real bot against a fake Discord on this machine, with a")
        self.say("throwaway SQLite database. What each member sees:")
        self.say(
            f"{INDENT}server “{GUILD}”: #general, the forum #{FORUM} "
            f"(tags {', '.join(FORUM_TAGS)}) and #{MOD_CHANNEL} (moderators only)"
        )
        self.say(f"{INDENT}members: Olivia (the owner), Alice, Bob, Carol, Dave, Maya (moderator)")
        self.say(f"{INDENT}extensions loaded: {', '.join(sorted(self.loaded_extensions()))}")

    async def _play(self) -> None:
        await self.step("Olivia sets up the Q&A forum", self._setup, needs=["qa setup"])
        await self.step(
            "Alice asks a question with /ask",
            self._ask,
            needs=["ask"],
            after=["Olivia sets up the Q&A forum"],
        )
        await self.step(
            "Bob and Carol answer in the thread",
            self._answer,
            needs=["cogs.answering"],
            after=["Alice asks a question with /ask"],
        )
        await self.step(
            "Members vote with reactions",
            self._vote,
            needs=["cogs.voting"],
            after=["Bob and Carol answer in the thread"],
        )
        await self.step(
            "Alice accepts Bob's answer",
            self._accept,
            needs=["Accept answer"],
            after=["Bob and Carol answer in the thread"],
        )
        await self.step(
            "Points: /profile",
            self._profiles,
            needs=["profile"],
            after=["Alice asks a question with /ask"],
        )
        await self.step(
            "Dave finds it with /search",
            self._search,
            needs=["search"],
            after=["Alice asks a question with /ask"],
        )
        await self.step(
            "The thread as everyone sees it now",
            self._show_thread,
            after=["Alice asks a question with /ask"],
        )
        await self.step(
            ANONYMOUS_STEP,
            self._anonymous,
            needs=["ask", "cogs.answering", "Accept answer"],
            after=["Olivia sets up the Q&A forum"],
        )
        await self.step(
            REPORT_STEP,
            self._report,
            needs=["Report", "mod log"],
            after=["Bob and Carol answer in the thread"],
        )
        await self.step(
            PREMOD_STEP,
            self._premod,
            needs=["ask", "mod log"],
            after=["Olivia sets up the Q&A forum"],
        )

    # ------------------------------------------------------------------ steps

    async def _setup(self) -> None:
        cast = self.cast
        self.gesture(cast.owner, cast.general, f"/qa setup forum:#{FORUM}")
        ix = await cast.owner.slash("qa setup", {"forum": cast.forum}, channel=cast.general)
        self.show(await self.reply(ix, "the /qa setup report"))
        if not self.loaded("cogs.notifications"):
            return
        self.gesture(
            cast.owner,
            cast.general,
            f"/qa settings set key:notify_coalesce_seconds value:{DEMO_COALESCE_SECONDS}",
        )
        self.note(
            f"for the demo: further DMs about one question are gathered for "
            f"{DEMO_COALESCE_SECONDS} s instead of 60 s"
        )
        ix = await cast.owner.slash(
            "qa settings set",
            {"key": "notify_coalesce_seconds", "value": str(DEMO_COALESCE_SECONDS)},
            channel=cast.general,
        )
        self.show(await self.reply(ix, "the /qa settings set confirmation"))

    async def _ask(self) -> None:
        cast = self.cast
        self.gesture(cast.alice, cast.general, f"/ask category:{CATEGORY}")
        ix = await cast.alice.slash("ask", {"category": CATEGORY}, channel=cast.general)
        modal = await self.expect("the “Ask a question” form", ix.modal(timeout=self.timeout + 1))
        labels = ", ".join(f.label for f in modal.fields)
        self.say(f"(only Alice sees) a form “{modal.title}” with the fields {labels}")
        self.gesture(cast.alice, "(only Alice sees)", "fills in the form and sends it:")
        for line in (f"Title: {TITLE}", f"Details: {DETAILS}"):
            for wrapped in wrap(line, INDENT, INDENT * 2):
                self.say(wrapped)
        done = await ix.submit_modal({"title": TITLE, "details": DETAILS})
        confirmation = await self.reply(done, "the confirmation that the question is posted")
        threads = await self.until(
            "the question's forum post", lambda: self.fake.threads_in(cast.forum) or None
        )
        channel = threads[0]
        starter = self.fake.message(channel.id)
        self.thread = Thread(channel, starter)
        self.say(f"New post in #{FORUM}: “{channel.name}”, tags: {self._tags(channel)}")
        self.show(starter)
        if starter.reactions:
            self.note("qa-bot's own reactions under the question show members how to vote")
        self.show(confirmation)

    async def _answer(self) -> None:
        thread = self._thread()
        cast = self.cast
        notify = self.loaded("cogs.notifications")
        for count, (member, text) in enumerate(
            ((cast.bob, BOB_ANSWER), (cast.carol, CAROL_ANSWER)), start=1
        ):
            message = await member.send(thread.channel, text)
            thread.answers[member.name] = message
            self.show(message)
            await self.expect(
                f"the bot's handling of {member.name}'s message", self.handled(message)
            )
            line = await self.status_line(f"{count} answer")
            self.note(f"qa-bot updates the question's status line: {line}")
            if notify:
                self.show(await self.dm(cast.alice, count, f"DM {count} to Alice (the asker)"))

    async def _vote(self) -> None:
        thread = self._thread()
        cast = self.cast
        question = thread.starter
        bob_answer, carol_answer = thread.answers["Bob"], thread.answers["Carol"]
        votes: list[tuple[Member, Message, str, str]] = [
            (cast.bob, question, UP, "Alice's question"),
            (cast.carol, question, UP, "Alice's question"),
            (cast.dave, question, UP, "Alice's question"),
            (cast.alice, bob_answer, UP, "Bob's answer"),
            (cast.carol, bob_answer, UP, "Bob's answer"),
            (cast.dave, bob_answer, UP, "Bob's answer"),
            (cast.bob, carol_answer, UP, "Carol's answer"),
            (cast.dave, carol_answer, DOWN, "Carol's answer"),
            (cast.bob, bob_answer, UP, "his own answer"),
        ]
        for member, message, emoji, what in votes:
            self.gesture(member, thread.channel, f"reacts {emoji} on {what}")
            await member.react(message, emoji)
        await self.votes_counted(votes)
        await self.until(
            "the removal of Bob's vote on his own answer",
            lambda: cast.bob.id not in bob_answer.reaction_users(UP) or None,
        )
        self.note(
            "qa-bot removes Bob's 👍 from his own answer: a vote on your own post counts nothing"
        )
        line = await self.status_line("▲ 3")
        self.note(f"qa-bot updates the question's status line: {line}")
        for name, message in (
            ("Alice's question", question),
            ("Bob's answer", bob_answer),
            ("Carol's answer", carol_answer),
        ):
            self.note(f"{name} now shows {self.render.reaction_counts(message)}")
        self.note("(the counts include qa-bot's own 👍 and 👎; the score counts members' votes)")

    async def _accept(self) -> None:
        thread = self._thread()
        cast = self.cast
        bob_answer = thread.answers["Bob"]
        self.gesture(cast.alice, thread.channel, "Apps › Accept answer (on Bob's answer)")
        ix = await cast.alice.context_menu("Accept answer", bob_answer)
        self.show(await self.reply(ix, "the confirmation of the accept"))
        await self.until(
            "the Solved tag on the thread", lambda: "Solved" in self.render.tags(thread.channel)
        )
        notice = await self.expect(
            "the accepted-answer notice in the thread",
            self.fake.wait_for_message(
                thread.channel,
                where=lambda m: any("accepted" in (e.get("description") or "") for e in m.embeds),
                after=bob_answer,
                timeout=self.timeout + 1,
            ),
        )
        await self.until(
            "the ✅ on Bob's answer",
            lambda: self.fake.bot_user.id in bob_answer.reaction_users("✅") or None,
        )
        self.note(f"the thread's tags are now: {self._tags(thread.channel)}")
        self.note("qa-bot marks Bob's answer with ✅ and pins a notice:")
        self.show(notice)
        line = await self.status_line("Solved")
        self.note(f"qa-bot updates the question's status line: {line}")
        if self.loaded("cogs.notifications"):
            self.show(await self.dm(cast.bob, 1, "the DM to Bob about the accepted answer"))

    async def _profiles(self) -> None:
        cast = self.cast
        for member in (cast.bob, cast.alice):
            self.gesture(member, cast.general, "/profile")
            ix = await member.slash("profile", channel=cast.general)
            self.show(await self.reply(ix, f"{member.name}'s profile"))

    async def _search(self) -> None:
        cast = self.cast
        self.gesture(cast.dave, cast.general, f"/search query:{SEARCH}")
        ix = await cast.dave.slash("search", {"query": SEARCH}, channel=cast.general)
        self.show(await self.reply(ix, "the /search results"))

    async def _show_thread(self) -> None:
        thread = self._thread()
        self.say(f"#{FORUM} › “{thread.channel.name}”, tags: {self._tags(thread.channel)}")
        for message in self.fake.messages_in(thread.channel):
            self.show(message)

    async def _anonymous(self) -> None:
        """Dave asks with ``/ask anonymous:true`` and no display name: only he sees his command,
        the form and the bot's replies; the post, Carol's answer, the accept notice and the
        thread name nobody. Dave still gets the DM for the answer and accepts it."""
        cast = self.cast
        mine = f"(only {cast.dave.name} sees)"
        self.gesture(cast.dave, mine, f"/ask category:{ANON_CATEGORY} anonymous:true")
        ix = await cast.dave.slash(
            "ask", {"category": ANON_CATEGORY, "anonymous": True}, channel=cast.general
        )
        modal = await self.expect("the “Ask a question” form", ix.modal(timeout=self.timeout + 1))
        labels = ", ".join(f.label for f in modal.fields)
        self.say(f"{mine} a form “{modal.title}” with the fields {labels}")
        self.gesture(cast.dave, mine, "fills in the form, leaves the name empty, sends it:")
        for line in (f"Title: {ANON_TITLE}", f"Details: {ANON_DETAILS}"):
            for wrapped in wrap(line, INDENT, INDENT * 2):
                self.say(wrapped)
        before = {t.id for t in self.fake.threads_in(cast.forum)}
        done = await ix.submit_modal(
            {"title": ANON_TITLE, "details": ANON_DETAILS, "display_name": ""}
        )
        confirmation = await self.reply(done, "the confirmation that the question is posted")
        threads = await self.until(
            "the anonymous question's forum post",
            lambda: [t for t in self.fake.threads_in(cast.forum) if t.id not in before] or None,
        )
        channel = threads[0]
        starter = self.fake.message(channel.id)
        thread = self.anonymous_thread = Thread(channel, starter)
        self.say(f"New post in #{FORUM}: “{channel.name}”, tags: {self._tags(channel)}")
        self.show(starter)
        self.note("the question is qa-bot's own post: no mention, the asker is not in the thread")
        self.show(confirmation)

        notify = self.loaded("cogs.notifications")
        dave_dms, carol_dms = self.bot_dms(cast.dave), self.bot_dms(cast.carol)
        answer = await cast.carol.send(channel, CAROL_ANON_ANSWER)
        thread.answers["Carol"] = answer
        self.show(answer)
        await self.expect("the bot's handling of Carol's message", self.handled(answer))
        line = await self.status_line("1 answer", thread)
        self.note(f"qa-bot updates the question's status line: {line}")
        if notify:
            self.show(
                await self.dm(cast.dave, dave_dms + 1, "the DM to Dave (the anonymous asker)")
            )

        self.gesture(cast.dave, mine, "Apps › Accept answer (on Carol's answer)")
        ix = await cast.dave.context_menu("Accept answer", answer)
        self.show(await self.reply(ix, "the confirmation of the accept"))
        await self.until(
            "the Solved tag on the thread", lambda: "Solved" in self.render.tags(channel)
        )
        notice = await self.expect(
            "the accepted-answer notice in the thread",
            self.fake.wait_for_message(
                channel,
                where=lambda m: any("accepted" in (e.get("description") or "") for e in m.embeds),
                after=answer,
                timeout=self.timeout + 1,
            ),
        )
        self.note(f"the thread's tags are now: {self._tags(channel)}")
        self.show(notice)
        line = await self.status_line("Solved", thread)
        self.note(f"qa-bot updates the question's status line: {line}")
        if notify:
            self.show(
                await self.dm(
                    cast.carol, carol_dms + 1, "the DM to Carol about the accepted answer"
                )
            )

    async def set_setting(self, key: str, value: str, shown: str) -> None:
        """Olivia changes a setting with /qa settings set; the transcript shows her reply."""
        cast = self.cast
        self.gesture(cast.owner, cast.general, f"/qa settings set key:{key} value:{shown}")
        ix = await cast.owner.slash(
            "qa settings set", {"key": key, "value": value}, channel=cast.general
        )
        self.show(await self.reply(ix, f"the /qa settings set {key} confirmation"))

    async def set_mod_channel(self) -> None:
        """#mods becomes the moderator channel (once)."""
        if not self.mod_channel_set:
            await self.set_setting("mod_channel_id", str(self.cast.mods.id), f"#{MOD_CHANNEL}")
            self.mod_channel_set = True

    async def _report(self) -> None:
        """Dave reports Carol's answer with the Report menu (a reason in a form); the report
        card appears in #mods; Maya dismisses the report from the card."""
        thread = self._thread()
        cast = self.cast
        await self.set_mod_channel()
        answer = thread.answers["Carol"]
        mine = f"(only {cast.dave.name} sees)"
        self.gesture(cast.dave, mine, "Apps › Report (on Carol's answer)")
        ix = await cast.dave.context_menu("Report", answer)
        modal = await self.expect("the report form", ix.modal(timeout=self.timeout + 1))
        labels = ", ".join(f.label for f in modal.fields)
        self.say(f"{mine} a form “{modal.title}” with the field {labels}")
        self.gesture(cast.dave, mine, f"answers “{REPORT_REASON}” and sends it")
        done = await ix.submit_modal({modal.fields[0].custom_id: REPORT_REASON})
        self.show(await self.reply(done, "the thanks for the report"))
        (card,) = await self.until(
            "the report card in #mods", lambda: self.fake.messages_in(cast.mods) or None
        )
        self.note("the moderators get a report card (it names neither the author nor Dave):")
        self.show(card)
        self.gesture(cast.maya, cast.mods, "clicks Dismiss")
        dismiss = next(
            c["custom_id"] for c in card.walk_components() if c.get("label") == "Dismiss"
        )
        ix = await cast.maya.click(card, dismiss)
        await self.expect("the card's update", ix.response(timeout=self.timeout + 1))
        await self.until("the card marked handled", lambda: "Handled" in card.embed_text() or None)
        self.note("qa-bot marks the card handled; /mod log lists the dismissal:")
        self.show(card)
        self.gesture(cast.maya, cast.general, "/mod log")
        ix = await cast.maya.slash("mod log", channel=cast.general)
        self.show(await self.reply(ix, "the moderation log"))

    async def _premod(self) -> None:
        """Olivia turns pre-moderation of anonymous posts on; Dave's next anonymous question
        waits in #mods, where Maya approves it: the post appears exactly as /ask makes it, the
        card says who decided, and Dave gets the DM. The card never names Dave."""
        cast = self.cast
        await self.set_mod_channel()
        await self.set_setting("premod_anonymous", "on", "on")
        mine = f"(only {cast.dave.name} sees)"
        self.gesture(cast.dave, mine, f"/ask category:{HELD_CATEGORY} anonymous:true")
        ix = await cast.dave.slash(
            "ask", {"category": HELD_CATEGORY, "anonymous": True}, channel=cast.general
        )
        await self.expect("the “Ask a question” form", ix.modal(timeout=self.timeout + 1))
        self.gesture(cast.dave, mine, "fills in the form, leaves the name empty, sends it:")
        for line in (f"Title: {HELD_TITLE}", f"Details: {HELD_DETAILS}"):
            for wrapped in wrap(line, INDENT, INDENT * 2):
                self.say(wrapped)
        before = {t.id for t in self.fake.threads_in(cast.forum)}
        cards = len(self.fake.messages_in(cast.mods))
        done = await ix.submit_modal(
            {"title": HELD_TITLE, "details": HELD_DETAILS, "display_name": ""}
        )
        self.show(await self.reply(done, "the answer that the question waits for review"))
        card = await self.until(
            "the card in #mods",
            lambda: (self.fake.messages_in(cast.mods)[cards:] or [None])[0],
        )
        self.note("nothing is posted in the forum yet; the moderators get a card:")
        self.show(card)

        dave_dms = self.bot_dms(cast.dave)
        self.gesture(cast.maya, cast.mods, "clicks Approve")
        approve = next(
            c["custom_id"] for c in card.walk_components() if c.get("label") == "Approve"
        )
        ix = await cast.maya.click(card, approve)
        approved = await self.reply(ix, "the confirmation of the approval")
        threads = await self.until(
            "the approved question's forum post",
            lambda: [t for t in self.fake.threads_in(cast.forum) if t.id not in before] or None,
        )
        channel = threads[0]
        self.say(f"New post in #{FORUM}: “{channel.name}”, tags: {self._tags(channel)}")
        self.show(self.fake.message(channel.id))
        self.show(approved)
        await self.until("the card showing the decision", lambda: not card.components or None)
        self.note("qa-bot updates the card: the decision replaces the buttons")
        self.show(card)
        self.show(await self.dm(cast.dave, dave_dms + 1, "the DM to Dave about the approval"))

    # ------------------------------------------------------------------ helpers

    def _thread(self) -> Thread:
        assert self.thread is not None  # the steps run after /ask (``after=``)
        return self.thread

    def bot_dms(self, member: Member) -> int:
        """How many DMs the bot has sent ``member`` so far."""
        return sum(1 for m in self.fake.dms_to(member) if m.author_id == self.fake.bot_user.id)

    def _tags(self, channel: Channel) -> str:
        return ", ".join(self.render.tags(channel)) or "none"

    async def status_line(self, expected: str, thread: Thread | None = None) -> str:
        """The question's status line once it contains ``expected`` (Alice's question unless
        ``thread`` says which)."""
        thread = thread or self._thread()

        def current() -> str:
            for embed in self.fake.message(thread.starter.id).embeds:
                for f in embed.get("fields", []):
                    if f.get("name") == "Status":
                        return str(f.get("value", ""))
            return ""

        return await self.until(
            f"a status line showing “{expected}”",
            lambda: current() if expected in current() else None,
        )
