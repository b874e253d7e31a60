"""Helpers for end-to-end cog tests: a configured Q&A forum, questions asked through the fake
and the domain (no asking cog needed), and waits on what the bot has handled.

Typical use::

    solved = add_forum_tag(fake, "Solved")          # before the bot starts: in its GUILD_CREATE
    harness = await qa_bot_factory(extensions=["cogs.answering"], database_url=db_url)
    await configure_qa_guild(harness, solved_tag_id=solved)
    asked = await ask_question_directly(harness, alice)   # or native=True for a member's post
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.forum import pending_posts, questions, settings
from bot.forum.results import PostSnapshot
from bot.forum.settings import GuildConfig
from bot.transactions import run_transaction
from bot.ui.authors import author_label
from bot.workers.status_lines import question_message_embed
from tests.fakediscord.actors import Member
from tests.fakediscord.fixtures import BotHarness
from tests.fakediscord.model import Channel, Message
from tests.fakediscord.server import FakeDiscord

T = TypeVar("T")


def add_forum_tag(fake: FakeDiscord, name: str, forum: Channel | None = None) -> int:
    """Add a tag to the Q&A forum (default ``fake.forum``) and return its id; an existing tag of
    that name is reused. Call it before the bot starts, so its GUILD_CREATE carries the tag."""
    forum = forum or fake.forum
    assert forum is not None
    for tag in forum.available_tags:
        if tag.name == name:
            return tag.id
    kept: list[Any] = [{"id": str(t.id), "name": t.name} for t in forum.available_tags]
    fake.edit_channel(forum, available_tags=[*kept, name])
    return forum.tag(name).id


async def run_domain(harness: BotHarness, work: Callable[[Any], Awaitable[T]]) -> T:
    """One domain operation in its own transaction, as a cog runs it."""
    return await run_transaction(harness.bot, work)


async def configure_qa_guild(
    harness: BotHarness,
    *,
    forum: Channel | None = None,
    solved_tag_id: int | None = None,
    **overrides: Any,
) -> GuildConfig:
    """Store what ``/qa setup`` would: the Q&A forum (default ``fake.forum``), the Solved tag,
    and any other settings given by key (``min_answer_length=20``...)."""
    fake = harness.fake
    forum = forum or fake.forum
    assert forum is not None and forum.guild_id is not None
    guild_id = forum.guild_id
    values: dict[str, Any] = {"forum_channel_id": forum.id, **overrides}
    if solved_tag_id is not None:
        values["solved_tag_id"] = solved_tag_id
    config: GuildConfig | None = None
    for key, value in values.items():
        config = await run_domain(
            harness,
            lambda s, key=key, value=value: settings.set_setting(s, guild_id, key, value),
        )
    assert config is not None
    return config


@dataclass
class AskedQuestion:
    """A question that is live in the domain and has its forum thread in the fake."""

    question: PostSnapshot
    thread: Channel
    starter: Message
    asker: Member

    @property
    def id(self) -> int:
        return self.question.id


async def ask_question_directly(
    harness: BotHarness,
    asker: Member,
    title: str = "How do I calm down before an exam?",
    details: str = "My heart races and I cannot focus.",
    *,
    native: bool = False,
    tags: Iterable[str] = (),
    forum: Channel | None = None,
    anonymous: bool = False,
    display_name: str | None = None,
) -> AskedQuestion:
    """Ask a question without any cog.

    ``native=False`` does what /ask does: a pending row, a forum post by the bot whose starter
    carries the question's embed (the row's key in its footer), then the row confirmed.
    ``native=True``: ``asker`` creates the post in the forum and it is adopted (as the asking
    cog would; adopting twice is a no-op in the domain).
    ``anonymous=True`` (not native): the starter's author line is ``display_name`` or
    "Anonymous", it mentions nobody, and the asker is not added to the thread.
    """
    if anonymous and native:
        raise ValueError("a native forum post is the member's own: it cannot be anonymous")
    fake = harness.fake
    forum = forum or fake.forum
    assert forum is not None and forum.guild_id is not None
    guild_id = forum.guild_id
    tag_names = list(tags)
    if native:
        thread = await asker.create_post(forum, title, details, tags=tag_names)
        change = await run_domain(
            harness,
            lambda s: questions.create_question(
                s,
                guild_id=guild_id,
                author_id=asker.id,
                asked=questions.AskedQuestion(title=title, details=details),
                via_bot=False,
                thread_id=thread.id,
                message_id=thread.id,
                forum_id=forum.id,
                state="live",
            ),
        )
        return AskedQuestion(change.post, thread, fake.message(thread.id), asker)

    pending = await run_domain(
        harness,
        lambda s: questions.create_question(
            s,
            guild_id=guild_id,
            author_id=asker.id,
            asked=questions.AskedQuestion(
                title=title, details=details, anonymous=anonymous, display_name=display_name
            ),
            via_bot=True,
            forum_id=forum.id,
            state="pending",
        ),
    )
    world = fake.world
    thread = world.create_thread(
        forum,
        name=pending.post.title or title,
        owner_id=fake.bot_user.id,
        applied_tags=[forum.tag(t).id for t in tag_names],
    )
    embed = question_message_embed(pending.post, author_label(pending.post, asker.name))
    body: dict[str, Any] = {"embeds": [embed.to_dict()], "allowed_mentions": {"parse": []}}
    if not anonymous:
        body["content"] = f"Asked by <@{asker.id}>"
        body["allowed_mentions"]["users"] = [str(asker.id)]
    starter = world.post_message(thread, fake.bot_user.id, body, message_id=thread.id)
    if not anonymous:
        world.join_thread(thread, asker.id)
    confirmed = await run_domain(
        harness,
        lambda s: pending_posts.confirm_post(
            s, post_id=pending.post.id, message_id=starter.id, thread_id=thread.id
        ),
    )
    await fake.flush()
    return AskedQuestion(confirmed.post, thread, starter, asker)


class BotEvents:
    """Records events the bot dispatches (gateway ones or a cog's own, such as
    ``qa_thread_message``) so a test can wait until the bot has handled something.

    Create it before the gesture whose handling you wait for; ``wait_for`` looks at everything
    recorded since, so there is no race with the bot.
    """

    def __init__(self, harness: BotHarness, *names: str) -> None:
        self.bot = harness.bot
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = asyncio.Event()
        self._listeners: list[tuple[str, Callable[..., Awaitable[None]]]] = []
        for name in names:
            listener = self._recorder(name)
            self.bot.add_listener(listener, f"on_{name}")
            self._listeners.append((f"on_{name}", listener))

    def _recorder(self, name: str) -> Callable[..., Awaitable[None]]:
        async def record(*args: Any) -> None:
            self.seen.append((name, args))
            self._changed.set()
            self._changed = asyncio.Event()

        return record

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.seen if n == name]

    async def wait_for(
        self,
        name: str,
        check: Callable[..., bool] = lambda *_: True,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> tuple[Any, ...]:
        """The arguments of the first recorded ``name`` event for which ``check(*args)`` holds."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    for args in self.of(name):
                        if check(*args):
                            return args
                    await changed.wait()
        except TimeoutError:
            raise AssertionError(f"the bot dispatched no matching {name!r} in {timeout}s") from None

    def close(self) -> None:
        for event, listener in self._listeners:
            self.bot.remove_listener(listener, event)


async def thread_message_handled(events: BotEvents, message: Message) -> Any:
    """Until the answering cog has handled ``message``; returns the domain's change (or None)."""
    _, change = await events.wait_for("qa_thread_message", lambda m, _c: m.id == message.id)
    return change


async def upvote(harness: BotHarness, events: BotEvents, who: Member, message: Message) -> None:
    """``who`` reacts 👍 on ``message``; returns once the bot's vote writer has applied it."""
    await who.react(message, "👍")
    await events.wait_for(
        "raw_reaction_add", lambda p: p.message_id == message.id and p.user_id == who.id
    )
    await harness.bot.vote_writer.wait_idle()
