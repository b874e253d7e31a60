"""A question's thread over its life: ``/close``, ``/reopen``, and Discord's own edits, deletes
and renames kept in the database.

- **/close [question] [reason] [duplicate_of]** (the asker or a moderator; the domain decides).
  ``question`` defaults to the thread the command is used in. The bot posts a closing message
  (who closed it, the duplicated question's link, the reason), re-renders the status line, links
  the duplicate from the original's thread when the original is open, then archives the thread -
  and locks it when a moderator closed it, so only moderators can post there.
- **/reopen [question]**: archived threads take no commands, so a closed question is picked in
  the ``question`` option (autocomplete lists the guild's closed questions). The bot unarchives
  and unlocks the thread, posts a short reopening message and refreshes the status line.
- **A message in a closed thread.** Discord unarchives an unlocked thread when a member writes in
  it; the domain keeps the message as a comment. The bot tells the member once (per member and
  question, remembered while it runs) that the question is closed, and archives the thread again.
- **Discord's own changes.** A member's message edited -> the post's text (its kind never
  changes; only when the event carries the content); a message deleted, bulk deleted or a thread
  deleted -> the posts are soft-deleted and their points undone by the domain (a deleted starter
  message deletes its question); a thread renamed -> the question's title (a name the bot itself
  set after /edit is already the title, so nothing loops). The status line is refreshed after a
  change that can move it (a delete, a rename). A member leaving the guild changes nothing.
  After each, the cog dispatches ``qa_synced`` (kind, the event, the domain's changes) for
  whoever follows the stored posts.

Edits of the bot's status line in an archived thread are made by ``bot.workers.status_lines`` (it
unarchives, edits and archives again). Refusals are ``ForumError`` sentences answered
ephemerally by ``bot.errors``.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum import deletion, edits, lookups, questions, text_rules, title_search
from bot.forum.errors import NotFound, ValidationError
from bot.forum.results import PostChange, PostSnapshot
from bot.guilds import actor_is_moderator, guild_config
from bot.transactions import run_transaction
from bot.ui import emoji
from bot.ui.closing import closed_notice, closing_text, duplicate_link_text, reopening_text
from bot.ui.mentions import NO_PINGS
from bot.ui.text import (
    AUTOCOMPLETE_CHOICE_NAME,
    AUTOCOMPLETE_CHOICES,
    jump_url,
    label,
)

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: Messages members write; system messages (pins, joins) are no posts.
MEMBER_MESSAGE_TYPES: Final = (discord.MessageType.default, discord.MessageType.reply)
#: How many (question, member) pairs already told that a question is closed are remembered.
TOLD_MAX: Final = 10_000

NO_QUESTION_HERE: Final = (
    "This is not a question's thread: use the command in one, or pick a question in the "
    "`question` option."
)
PICK_A_QUESTION: Final = "Pick the question from the list (or use the command in its thread)."
PICK_THE_ORIGINAL: Final = "Pick the question it duplicates from the list in `duplicate_of`."
DISCORD_TROUBLE: Final = (
    "The thread could not be fully updated (the bot may be missing a permission there); "
    "a server manager can run /qa setup to check."
)

_QUESTION_ID = re.compile(r"#?([0-9]{1,18})")
# A thread given as a mention or a link instead of a question id.
_THREAD_REF = re.compile(r"(?:<#|/channels/[0-9]+/)([0-9]{15,20})")


# --------------------------------------------------------------------------- what the bot says


def _choice_name(question_id: int, title: str) -> str:
    suffix = f" (#{question_id})"
    return label(title, AUTOCOMPLETE_CHOICE_NAME - len(suffix)) + suffix


# --------------------------------------------------------------------------- small helpers


@dataclass(frozen=True, slots=True)
class Renamed:
    """A thread's new name as Discord announced it (what ``qa_synced`` reports for a rename)."""

    guild_id: int
    thread_id: int
    name: str


class _Remembered:
    """A bounded set: the oldest entries are forgotten past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[int, int], None] = OrderedDict()

    def add(self, item: tuple[int, int]) -> bool:
        """Remember ``item``; False if it was already remembered."""
        if item in self._items:
            return False
        self._items[item] = None
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
        return True


def _question_id(raw: str, refusal: str) -> int:
    match = _QUESTION_ID.fullmatch(raw.strip())
    if match is None:
        raise ValidationError(refusal)
    return int(match.group(1))


# --------------------------------------------------------------------------- the cog


class Lifecycle(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._told = _Remembered(TOLD_MAX)

    # ------------------------------------------------------------------ helpers

    def _request_status(self, question_id: int) -> None:
        self.bot.status_lines.request(question_id)

    async def _refresh_status_now(self, question_id: int) -> None:
        """The status line shown before the thread is archived (no edits wasted on it later)."""
        await self.bot.status_lines.refresh_now(question_id)

    async def _thread(self, guild: discord.Guild, thread_id: int) -> discord.Thread | None:
        """The thread, from the cache or Discord (archived threads are not cached)."""
        thread = guild.get_thread(thread_id)
        if thread is not None:
            return thread
        try:
            channel = await guild.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        except discord.HTTPException as exc:
            log.warning("could not fetch thread %s (status %s)", thread_id, exc.status)
            return None
        return channel if isinstance(channel, discord.Thread) else None

    async def _step(self, what: str, step: Awaitable[object], *, question_id: int) -> bool:
        """One Discord step after the domain changed; False if Discord refused (logged with
        ids). A message or thread already gone counts as done."""
        try:
            await step
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning(
                "could not %s for question %s (status %s, code %s)",
                what,
                question_id,
                exc.status,
                exc.code,
            )
            return False
        return True

    def _send(self, guild_id: int, thread_id: int, content: str) -> Awaitable[discord.Message]:
        channel = self.bot.get_partial_messageable(thread_id, guild_id=guild_id)
        return channel.send(content, allowed_mentions=NO_PINGS)

    async def _still_closed(self, question_id: int) -> bool:
        try:
            question = await run_transaction(
                self.bot, lambda s: lookups.get_question(s, question_id=question_id)
            )
        except NotFound:
            return False
        return question.closed

    async def _archive(
        self, thread: discord.Thread | None, question: PostSnapshot, *, lock: bool
    ) -> bool:
        """Archive a closed question's thread (and lock it); nothing to do when it already is."""
        if thread is None:
            return True
        if thread.archived and (thread.locked or not lock):
            return True
        edit = thread.edit(archived=True, locked=True) if lock else thread.edit(archived=True)
        return await self._step("archive the thread", edit, question_id=question.id)

    async def _target(self, interaction: discord.Interaction[QABot], raw: str | None) -> int:
        """The question an option names (an id from the autocomplete, or a thread's mention or
        link), else the question of the thread the command is used in."""
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        text = (raw or "").strip()
        thread_id: int | None = None
        if text:
            ref = _THREAD_REF.search(text)
            if ref is None:
                return _question_id(text, PICK_A_QUESTION)
            thread_id = int(ref.group(1))
        else:
            thread_id = interaction.channel_id
        if thread_id is None:
            raise NotFound(NO_QUESTION_HERE)
        found = await run_transaction(
            self.bot,
            lambda s: lookups.find_question_by_thread(s, thread_id=thread_id, guild_id=guild_id),
        )
        if found is None:
            raise NotFound(NO_QUESTION_HERE if not text else PICK_A_QUESTION)
        return found.id

    async def _reply(
        self, interaction: discord.Interaction[QABot], text: str, *, done: bool = True
    ) -> None:
        await interaction.followup.send(
            text if done else f"{text}\n{DISCORD_TROUBLE}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    # ------------------------------------------------------------------ /close

    @app_commands.command(name="close", description="Close a question: it takes no new answers")
    @app_commands.guild_only()
    @app_commands.describe(
        question="The question to close (default: this thread's)",
        reason="Why it is closed (shown in the thread)",
        duplicate_of="The question this one duplicates",
    )
    async def close(
        self,
        interaction: discord.Interaction[QABot],
        question: str | None = None,
        reason: app_commands.Range[str, 1, text_rules.CLOSE_REASON_MAX] | None = None,
        duplicate_of: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None  # guild_only
        actor = interaction.user
        config = await guild_config(self.bot, guild.id)
        moderator = actor_is_moderator(actor, guild, config)
        question_id = await self._target(interaction, question)
        original_id = (
            _question_id(duplicate_of, PICK_THE_ORIGINAL)
            if duplicate_of and duplicate_of.strip()
            else None
        )
        change = await run_transaction(
            self.bot,
            lambda s: questions.close_question(
                s,
                question_id=question_id,
                actor_id=actor.id,
                is_moderator=moderator,
                reason=reason,
                duplicate_of_id=original_id,
                guild_id=guild.id,
            ),
        )
        closed = change.question
        assert closed.thread_id is not None  # a live question has its thread
        link = jump_url(guild.id, closed.thread_id)
        if not change.changed:
            # Already closed: make sure the thread shows it (a repair after a failed step).
            thread = await self._thread(guild, closed.thread_id)
            done = await self._archive(thread, closed, lock=closed.closed_by_moderator)
            await self._reply(interaction, f"That question is already closed: {link}", done=done)
            return
        log.info(
            "question %s closed in guild %s (interaction %s)", closed.id, guild.id, interaction.id
        )
        done = await self._show_closed(guild, closed)
        await self._reply(interaction, f"{emoji.SUCCESS} The question is closed: {link}", done=done)

    async def _show_closed(self, guild: discord.Guild, closed: PostSnapshot) -> bool:
        """The closing message, the status line, the duplicate's link, then the archive."""
        assert closed.thread_id is not None
        original: PostSnapshot | None = None
        original_id = closed.duplicate_of_id
        if original_id is not None:
            original = await run_transaction(self.bot, lambda s: lookups.get_post(s, original_id))
        done = await self._step(
            "post the closing message",
            self._send(guild.id, closed.thread_id, closing_text(closed, original)),
            question_id=closed.id,
        )
        await self._refresh_status_now(closed.id)
        if original is not None and original.live and not original.closed:
            assert original.thread_id is not None
            done &= await self._step(
                "link the duplicate from the original",
                self._send(guild.id, original.thread_id, duplicate_link_text(closed)),
                question_id=original.id,
            )
        thread = await self._thread(guild, closed.thread_id)
        done &= await self._archive(thread, closed, lock=closed.closed_by_moderator)
        return done

    @close.autocomplete("question")
    async def close_question_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, include_closed=False)

    @close.autocomplete("duplicate_of")
    async def duplicate_of_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(
            interaction, current, exclude_id=await self._question_being_closed(interaction)
        )

    async def _question_being_closed(self, interaction: discord.Interaction[QABot]) -> int | None:
        """The question the ``question`` option (or the thread) names, None when unclear."""
        raw = getattr(interaction.namespace, "question", None)
        try:
            return await self._target(interaction, raw if isinstance(raw, str) else None)
        except (NotFound, ValidationError):
            return None

    async def _choices(
        self,
        interaction: discord.Interaction[QABot],
        current: str,
        *,
        include_closed: bool = True,
        closed_only: bool = False,
        exclude_id: int | None = None,
    ) -> list[app_commands.Choice[str]]:
        guild_id = interaction.guild_id
        if guild_id is None:
            return []
        found = await run_transaction(
            self.bot,
            lambda s: title_search.title_matches(
                s,
                guild_id=guild_id,
                prefix=current,
                limit=AUTOCOMPLETE_CHOICES,
                include_closed=include_closed,
                closed_only=closed_only,
                exclude_id=exclude_id,
            ),
        )
        return [
            app_commands.Choice(name=_choice_name(m.question_id, m.title), value=str(m.question_id))
            for m in found[:AUTOCOMPLETE_CHOICES]
        ]

    # ------------------------------------------------------------------ /reopen

    @app_commands.command(name="reopen", description="Reopen a closed question")
    @app_commands.guild_only()
    @app_commands.describe(question="The closed question to reopen (default: this thread's)")
    async def reopen(
        self, interaction: discord.Interaction[QABot], question: str | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None  # guild_only
        actor = interaction.user
        config = await guild_config(self.bot, guild.id)
        moderator = actor_is_moderator(actor, guild, config)
        question_id = await self._target(interaction, question)
        change = await run_transaction(
            self.bot,
            lambda s: questions.reopen_question(
                s,
                question_id=question_id,
                actor_id=actor.id,
                is_moderator=moderator,
                guild_id=guild.id,
            ),
        )
        reopened = change.question
        assert reopened.thread_id is not None
        link = jump_url(guild.id, reopened.thread_id)
        if not change.changed:
            await self._reply(interaction, f"That question is not closed: {link}")
            return
        log.info(
            "question %s reopened in guild %s (interaction %s)",
            reopened.id,
            guild.id,
            interaction.id,
        )
        done = True
        thread = await self._thread(guild, reopened.thread_id)
        if thread is not None and (thread.archived or thread.locked):
            done &= await self._step(
                "unarchive the thread",
                thread.edit(archived=False, locked=False),
                question_id=reopened.id,
            )
        done &= await self._step(
            "post the reopening message",
            self._send(guild.id, reopened.thread_id, reopening_text(moderator)),
            question_id=reopened.id,
        )
        self._request_status(reopened.id)
        await self._reply(
            interaction, f"{emoji.SUCCESS} The question is open again: {link}", done=done
        )

    @reopen.autocomplete("question")
    async def reopen_question_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._choices(interaction, current, closed_only=True)

    # ------------------------------------------------------------------ closed threads

    @commands.Cog.listener()
    async def on_qa_thread_message(
        self, message: discord.Message, change: PostChange | None
    ) -> None:
        """A member wrote in a closed question's thread (the answering cog stored it as a
        comment): tell them once, and archive the thread again."""
        guild = message.guild
        if guild is None or change is None or not change.created or message.author.bot:
            return
        question = change.question
        if not question.closed or question.thread_id is None:
            return
        author = message.author
        config = await guild_config(self.bot, guild.id)
        if not actor_is_moderator(author, guild, config) and self._told.add(
            (question.id, author.id)
        ):
            await self._step(
                "tell a member the question is closed",
                message.reply(
                    closed_notice(question), mention_author=False, allowed_mentions=NO_PINGS
                ),
                question_id=question.id,
            )
        if not await self._still_closed(question.id):
            return
        channel = message.channel
        thread = (
            channel
            if isinstance(channel, discord.Thread)
            else await self._thread(guild, question.thread_id)
        )
        if thread is not None:
            # Whatever Discord's cache says, the member's message unarchived it.
            await self._step(
                "archive the thread again", thread.edit(archived=True), question_id=question.id
            )

    # ------------------------------------------------------------------ Discord's own changes

    def _synced(self, kind: str, payload: object, changes: list[PostChange | None]) -> None:
        """Tell whoever follows the stored posts (and tests) that a Discord change was applied:
        ``qa_synced`` (kind, the raw event, the domain's changes; None for no post)."""
        self.bot.dispatch("qa_synced", kind, payload, [c for c in changes if c is not None])

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        message = payload.message
        if (
            payload.guild_id is None
            or "content" not in payload.data
            or message.author.bot  # the bot's own posts change through its commands
            or message.type not in MEMBER_MESSAGE_TYPES
        ):
            return
        body = payload.data["content"]
        change = await run_transaction(
            self.bot, lambda s: edits.edit_message(s, message_id=payload.message_id, body=body)
        )
        # An edit moves no score, answer count or mark: the status line stays as it is.
        self._synced("edit", payload, [change])

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if payload.guild_id is None:
            return
        change = await self._delete_message(payload.message_id)
        self._refresh_after([change])
        self._synced("delete", payload, [change])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if payload.guild_id is None:
            return
        # Oldest first: a thread's starter (its question) before the answers in it.
        changes = [await self._delete_message(m) for m in sorted(payload.message_ids)]
        self._refresh_after(changes)
        self._synced("bulk_delete", payload, changes)

    async def _delete_message(self, message_id: int) -> PostChange | None:
        return await run_transaction(
            self.bot, lambda s: deletion.delete_message(s, message_id=message_id)
        )

    def _refresh_after(self, changes: list[PostChange | None]) -> None:
        """Status lines of the questions that changed and still exist (each once)."""
        questions_changed = {
            c.question.id for c in changes if c is not None and c.changed and c.question.live
        }
        for question_id in sorted(questions_changed):
            self._request_status(question_id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        change = await run_transaction(
            self.bot, lambda s: deletion.delete_thread(s, thread_id=payload.thread_id)
        )
        self._synced("thread_delete", payload, [change])

    @commands.Cog.listener()
    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        # A cached thread: discord.py hands a copy of it as it was.
        if before.name != after.name:
            await self._renamed(Renamed(after.guild.id, after.id, after.name))

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        # An uncached thread (an archived one): no ``on_thread_update``, and no earlier name to
        # compare with, so the domain compares with the stored title. (A cached thread's
        # ``payload.thread`` is updated in place before listeners run: not a "before".)
        name = payload.data.get("name")
        if payload.thread is None and isinstance(name, str):
            await self._renamed(Renamed(payload.guild_id, payload.thread_id, name))

    async def _renamed(self, event: Renamed) -> None:
        change: PostChange | None = None
        try:
            change = await run_transaction(
                self.bot,
                lambda s: edits.rename_question_by_thread(
                    s, thread_id=event.thread_id, name=event.name, guild_id=event.guild_id
                ),
            )
        except ValidationError:
            log.info(
                "thread %s in guild %s renamed to no valid title; the question keeps its title",
                event.thread_id,
                event.guild_id,
            )
        self._refresh_after([change])
        self._synced("rename", event, [change])


async def setup(bot: QABot) -> None:
    await bot.add_cog(Lifecycle(bot))
