"""Answering in Discord: thread messages, ``/answer``, ``/edit``, ``/delete``, "Accept answer".

- **Thread messages.** Every message in a thread is handed to ``posts.record_thread_message``,
  which decides: answer, comment, or nothing (bots' messages are never posts, so the echo of a
  message the bot itself just sent - which may arrive before its REST reply - never becomes one;
  a repeated event returns the post already stored). A forum post's starter message is the
  question itself and is left to the asking cog. After each message the cog dispatches
  ``qa_thread_message`` (message, change or None) for whoever follows the conversation.
- **/answer** opens a modal; on submit the answer is stored ``pending``, the bot posts it in the
  thread (an embed naming the author, the pending row's key in its footer) and confirms the row
  with the message's id. If Discord refuses, the pending row is discarded; if the outcome is
  unknown (a 5xx), the row stays for reconciliation to complete from the message Discord holds.
- **/edit** and **/delete** act on what the bot posted for the member in this thread (their /ask
  question, /answer answers, /reply replies): the ``post`` option picks one (autocomplete lists
  them; a message link or id works too), and without it the member's latest such post is meant -
  the one they most likely want to fix. Deleting a question deletes its thread (the question's
  title and words are the asker's; the answers in it were deleted with it in the domain).
- **"Accept answer"** (message context menu): the asker or a moderator accepts; the thread gets
  the guild's Solved tag (other tags kept, at most five applied: the last other tag makes room),
  the answer gets the bot's ✅ reaction, and a short notice with a jump link is posted and pinned
  in the thread. Accepting another answer moves the ✅ and edits the notice (found among the
  thread's pins, else its recent messages).
- **An accepted answer deleted in Discord** (by its author or a moderator): the lifecycle cog
  applies the delete and dispatches ``qa_synced``; when the question is then no longer solved,
  the Solved tag and the notice go, as after /delete.
- **Names.** Without the members intent, the leaderboard and DMs name a member by the display
  name last seen (``members.display_name``): it is stored with a new post (a thread message that
  became one, an /answer), in the same transaction, and only when it differs from the name this
  process last stored for the member - never for an anonymous post, whose author nothing may tie
  to a name.

Refusals are ``ForumError`` sentences answered ephemerally by ``bot.errors``. Every interaction
is answered at once (a modal or a prompt after one short transaction) or deferred before
Discord REST work.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import handle_interaction_error
from bot.forum import (
    acceptance,
    deletion,
    edits,
    leaderboard,
    lookups,
    pending_posts,
    posts,
    text_rules,
)
from bot.forum.errors import InvalidState, NotFound
from bot.forum.results import AcceptResult, PostChange, PostSnapshot
from bot.forum.settings import GuildConfig
from bot.guilds import actor_is_moderator, guild_config
from bot.transactions import run_transaction
from bot.ui import embeds, emoji
from bot.ui.authors import author_label, shown_author
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import accepted_notice, answer_embed, question_message_embed
from bot.ui.text import (
    AUTOCOMPLETE_CHOICE_NAME,
    AUTOCOMPLETE_CHOICES,
    escape,
    jump_url,
    label,
    one_line,
    truncate_markdown,
)
from bot.ui.views import confirm

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: The domain's session, as ``run_transaction`` hands it (cogs import no SQLAlchemy).
Session = Any

#: Discord applies at most this many tags to one forum post.
APPLIED_TAGS_MAX: Final = 5
#: How far back in a thread a notice that could not be pinned is looked for.
NOTICE_HISTORY: Final = 100
MODAL_TIMEOUT: Final = 15 * 60.0
#: How many members' last stored display names are kept in memory (the oldest are forgotten).
NAMES_REMEMBERED: Final = 10_000
#: The ``qa_synced`` kinds in which an answer may have been deleted.
DELETE_KINDS: Final = frozenset({"delete", "bulk_delete"})
#: Messages members write; system messages (pins, joins, thread starters) are no posts.
THREAD_MESSAGE_TYPES: Final = (discord.MessageType.default, discord.MessageType.reply)

ANONYMOUS_NOT_YET: Final = "Anonymous answers are not available yet."
NOT_A_QUESTION_THREAD: Final = "Use this inside a question's thread."
NOTHING_OF_YOURS: Final = (
    "The bot has posted nothing for you in this thread. Your own messages you can edit or "
    "delete in Discord directly."
)
NOT_ONE_OF_YOURS: Final = "That is not one of your posts in this thread; pick one from the list."
DISCORD_TROUBLE: Final = (
    "The thread could not be fully updated (the bot may be missing a permission there); "
    "a server manager can run /qa setup to check."
)

_KIND_LABELS: Final = {"question": "Question", "answer": "Answer", "comment": "Reply"}
_TRAILING_ID = re.compile(r"([0-9]{1,20})\D*$")


def _kind_label(post: PostSnapshot) -> str:
    return _KIND_LABELS.get(post.kind, "Post")


def _choice_name(post: PostSnapshot) -> str:
    text = post.title if post.kind == "question" else post.body
    return label(f"{_kind_label(post)}: {one_line(text or '')}", AUTOCOMPLETE_CHOICE_NAME)


def _pick(own: list[PostSnapshot], raw: str | None) -> PostSnapshot:
    """The post ``raw`` names among the member's own (a post id from the autocomplete, or a
    message link or id); their latest when ``raw`` is empty."""
    if raw is None or not raw.strip():
        return own[-1]
    match = _TRAILING_ID.search(raw.strip())
    wanted = int(match.group(1)) if match else None
    for post in own:
        if wanted is not None and wanted in (post.id, post.message_id):
            return post
    raise NotFound(NOT_ONE_OF_YOURS)


class _StoredNames:
    """The display name this process last stored per (guild, member), bounded: a name already
    stored costs no write. Another path (a vote, /leaderboard) may store a newer one meanwhile;
    the next name that differs from this memory is stored again."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._names: OrderedDict[tuple[int, int], str] = OrderedDict()

    def unstored(self, guild_id: int, member: discord.abc.User) -> str | None:
        """The member's display name when it is not the one last stored, else None."""
        name = member.display_name
        return None if self._names.get((guild_id, member.id)) == name else name

    def stored(self, guild_id: int, user_id: int, name: str) -> None:
        key = (guild_id, user_id)
        self._names[key] = name
        self._names.move_to_end(key)
        while len(self._names) > self.limit:
            self._names.popitem(last=False)


async def _remember_author(
    session: Session, post: PostSnapshot, name: str | None, *, new: bool
) -> bool:
    """Store the display name of a new post's author (in the post's transaction); never for an
    anonymous post. True when it was handed to the domain."""
    if name is None or not new or post.anonymous:
        return False
    await leaderboard.remember_display_names(
        session, guild_id=post.guild_id, names={post.author_id: name}
    )
    return True


# --------------------------------------------------------------------------- modals


class _Modal(discord.ui.Modal):
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[QABot], error: Exception, /
    ) -> None:
        await handle_interaction_error(interaction, error)

    def _field(
        self,
        text: str,
        *,
        custom_id: str,
        max_length: int,
        default: str | None = None,
        paragraph: bool = True,
        required: bool = True,
        placeholder: str | None = None,
    ) -> discord.ui.TextInput[_Modal]:
        """Add a labelled text input and return it (its ``value`` once submitted)."""
        field: discord.ui.TextInput[_Modal] = discord.ui.TextInput(
            custom_id=custom_id,
            style=discord.TextStyle.paragraph if paragraph else discord.TextStyle.short,
            max_length=max_length,
            default=default,
            required=required,
            placeholder=placeholder,
        )
        self.add_item(discord.ui.Label(text=text, component=field))
        return field


class AnswerModal(_Modal):
    def __init__(self, cog: Answering, *, question_id: int) -> None:
        super().__init__(title="Your answer", timeout=MODAL_TIMEOUT)
        self.cog = cog
        self.question_id = question_id
        self.answer = self._field(
            "Answer",
            custom_id="answer",
            max_length=text_rules.BODY_MAX,
            placeholder="Share what you know or what helped you",
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await self.cog.post_answer(interaction, self.question_id, self.answer.value)


class EditPostModal(_Modal):
    def __init__(self, cog: Answering, post: PostSnapshot) -> None:
        what = _kind_label(post)
        super().__init__(title=f"Edit your {what.lower()}", timeout=MODAL_TIMEOUT)
        self.cog = cog
        self.post = post
        self.text = self._field(
            what, custom_id="answer", max_length=text_rules.BODY_MAX, default=post.body
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await self.cog.edit_post(interaction, self.post, self.text.value)


class EditQuestionModal(_Modal):
    def __init__(self, cog: Answering, question: PostSnapshot) -> None:
        super().__init__(title="Edit your question", timeout=MODAL_TIMEOUT)
        self.cog = cog
        self.question = question
        self.question_title = self._field(
            "Title",
            custom_id="title",
            max_length=text_rules.TITLE_MAX,
            default=question.title,
            paragraph=False,
        )
        self.details = self._field(
            "Details",
            custom_id="details",
            max_length=text_rules.DETAILS_MAX,
            default=question.body or None,
            required=False,
        )

    async def on_submit(self, interaction: discord.Interaction[QABot], /) -> None:  # type: ignore[override]
        await self.cog.edit_question(
            interaction, self.question, self.question_title.value, self.details.value or ""
        )


# --------------------------------------------------------------------------- the cog


class Answering(commands.Cog):
    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._names = _StoredNames(NAMES_REMEMBERED)
        self.accept_menu: app_commands.ContextMenu = app_commands.guild_only(
            app_commands.ContextMenu(name="Accept answer", callback=self.accept_answer)
        )

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.accept_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.accept_menu.name, type=self.accept_menu.type)

    # ------------------------------------------------------------------ helpers

    def _request_status(self, question_id: int) -> None:
        """Ask for the question's status line to be re-rendered (``bot.workers.status_lines``)."""
        self.bot.status_lines.request(question_id)

    def _message(self, guild_id: int, channel_id: int, message_id: int) -> discord.PartialMessage:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        return channel.get_partial_message(message_id)

    async def _thread(self, guild: discord.Guild, thread_id: int) -> discord.Thread | None:
        thread = guild.get_thread(thread_id)
        if thread is not None:
            return thread
        try:
            channel = await guild.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        return channel if isinstance(channel, discord.Thread) else None

    async def _tidy(self, what: str, step: Awaitable[object], *, post_id: int) -> bool:
        """Run one Discord step of a change the domain already made; False if Discord refused
        (logged with ids). A message or thread that is already gone counts as done."""
        try:
            await step
        except discord.NotFound:
            return True
        except discord.HTTPException as exc:
            log.warning(
                "could not %s for post %s (status %s, code %s)", what, post_id, exc.status, exc.code
            )
            return False
        return True

    async def _question_here(self, interaction: discord.Interaction[QABot]) -> PostSnapshot:
        """The question of the thread the interaction is in; refuses anywhere else."""
        guild_id, thread_id = interaction.guild_id, interaction.channel_id
        question = None
        if guild_id is not None and thread_id is not None:
            question = await run_transaction(
                self.bot,
                lambda s: lookups.find_question_by_thread(
                    s, thread_id=thread_id, guild_id=guild_id
                ),
            )
        if question is None or not question.live:
            raise NotFound(NOT_A_QUESTION_THREAD)
        return question

    async def _own_posts(self, interaction: discord.Interaction[QABot]) -> list[PostSnapshot]:
        """What the bot posted for the member in this thread (empty outside a question's)."""
        guild_id, thread_id = interaction.guild_id, interaction.channel_id
        if guild_id is None or thread_id is None:
            return []
        author_id = interaction.user.id
        return await run_transaction(
            self.bot,
            lambda s: lookups.bot_posts_of_author(
                s, guild_id=guild_id, thread_id=thread_id, author_id=author_id
            ),
        )

    # ------------------------------------------------------------------ thread messages

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild
        channel = message.channel
        if (
            guild is None
            or message.type not in THREAD_MESSAGE_TYPES
            or not isinstance(channel, discord.Thread | discord.PartialMessageable)
            or message.id == channel.id  # a forum post's starter: the question itself
        ):
            return
        reference = message.reference
        reply_to = (
            reference.message_id
            if message.type is discord.MessageType.reply and reference is not None
            else None
        )
        author = message.author
        name = None if author.bot else self._names.unstored(guild.id, author)

        async def record(s: Session) -> tuple[PostChange | None, bool]:
            change = await posts.record_thread_message(
                s,
                guild_id=guild.id,
                thread_id=channel.id,
                message_id=message.id,
                author_id=author.id,
                body=message.content,
                reply_to_message_id=reply_to,
                author_is_bot=author.bot,
            )
            named = change is not None and await _remember_author(
                s, change.post, name, new=change.created
            )
            return change, named

        change, named = await run_transaction(self.bot, record)
        if named and name is not None:
            self._names.stored(guild.id, author.id, name)
        if change is not None and change.created and change.post.kind == "answer":
            self._request_status(change.question.id)
        self.bot.dispatch("qa_thread_message", message, change)

    # ------------------------------------------------------------------ /answer

    @app_commands.command(name="answer", description="Answer this thread's question")
    @app_commands.guild_only()
    @app_commands.describe(anonymous="Answer without your name showing")
    async def answer(
        self, interaction: discord.Interaction[QABot], anonymous: bool = False
    ) -> None:
        if anonymous:
            raise InvalidState(ANONYMOUS_NOT_YET)
        question = await self._question_here(interaction)
        await interaction.response.send_modal(AnswerModal(self, question_id=question.id))

    async def post_answer(
        self, interaction: discord.Interaction[QABot], question_id: int, text: str
    ) -> None:
        """The modal was submitted: pending row, the bot's message, then the row confirmed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id
        assert guild_id is not None  # guild_only
        author = interaction.user
        pending = (
            await run_transaction(
                self.bot,
                lambda s: posts.post_answer(
                    s,
                    guild_id=guild_id,
                    question_id=question_id,
                    author_id=author.id,
                    body=text,
                    state="pending",
                ),
            )
        ).post
        assert pending.thread_id is not None
        channel = self.bot.get_partial_messageable(pending.thread_id, guild_id=guild_id)
        embed = answer_embed(pending.body, author_label(pending, author.display_name), pending.id)
        try:
            message = await channel.send(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            if exc.status < 500:  # refused: nothing was posted
                await run_transaction(
                    self.bot, lambda s: pending_posts.discard_pending_post(s, post_id=pending.id)
                )
            else:  # unknown: reconciliation completes the row from what Discord holds
                log.warning("answer %s may not be posted (status %s)", pending.id, exc.status)
            raise
        name = self._names.unstored(guild_id, author)

        async def confirm(s: Session) -> tuple[PostChange, bool]:
            change = await pending_posts.confirm_post(s, post_id=pending.id, message_id=message.id)
            named = await _remember_author(s, change.post, name, new=change.changed)
            return change, named

        change, named = await run_transaction(self.bot, confirm)
        if named and name is not None:
            self._names.stored(guild_id, author.id, name)
        self._request_status(change.question.id)
        self.bot.notifier.wake()  # the answer's DMs are queued: send them now
        await interaction.followup.send(
            f"{emoji.SUCCESS} Your answer is posted: {message.jump_url}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    # ------------------------------------------------------------------ /edit

    async def _own_post(
        self, interaction: discord.Interaction[QABot], raw: str | None
    ) -> PostSnapshot:
        mine = await self._own_posts(interaction)
        if not mine:
            await self._question_here(interaction)  # the better sentence outside a question
            raise NotFound(NOTHING_OF_YOURS)
        return _pick(mine, raw)

    async def _own_post_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        mine = await self._own_posts(interaction)
        typed = current.strip().lower()
        choices = [
            app_commands.Choice(name=_choice_name(post), value=str(post.id))
            for post in reversed(mine)
        ]
        return [c for c in choices if typed in c.name.lower()][:AUTOCOMPLETE_CHOICES]

    @app_commands.command(
        name="edit", description="Edit your question or answer that the bot posted in this thread"
    )
    @app_commands.guild_only()
    @app_commands.describe(post="Which of your posts here (default: your latest one)")
    async def edit(self, interaction: discord.Interaction[QABot], post: str | None = None) -> None:
        target = await self._own_post(interaction, post)
        modal: discord.ui.Modal = (
            EditQuestionModal(self, target)
            if target.kind == "question"
            else EditPostModal(self, target)
        )
        await interaction.response.send_modal(modal)

    @edit.autocomplete("post")
    async def edit_post_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._own_post_choices(interaction, current)

    async def edit_post(
        self, interaction: discord.Interaction[QABot], post: PostSnapshot, text: str
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        author = interaction.user
        change = await run_transaction(
            self.bot, lambda s: edits.edit_post(s, post_id=post.id, actor_id=author.id, body=text)
        )
        edited = change.post
        what = _kind_label(edited).lower()
        if not change.changed:
            await interaction.followup.send(
                f"Your {what} already says that.", ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        assert edited.thread_id is not None and edited.message_id is not None
        message = self._message(edited.guild_id, edited.thread_id, edited.message_id)
        embed = answer_embed(edited.body, author_label(edited, author.display_name), edited.id)
        shown = await self._tidy(
            "edit the message",
            message.edit(embed=embed, allowed_mentions=NO_PINGS),
            post_id=edited.id,
        )
        text_out = f"{emoji.SUCCESS} Your {what} is updated: {message.jump_url}"
        await interaction.followup.send(
            text_out if shown else f"{text_out}\n{DISCORD_TROUBLE}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def edit_question(
        self,
        interaction: discord.Interaction[QABot],
        question: PostSnapshot,
        title: str,
        details: str,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None
        author = interaction.user
        change = await run_transaction(
            self.bot,
            lambda s: edits.edit_question(
                s, question_id=question.id, actor_id=author.id, title=title, details=details
            ),
        )
        edited = change.post
        if not change.changed:
            await interaction.followup.send(
                "Your question already says that.", ephemeral=True, allowed_mentions=NO_PINGS
            )
            return
        assert edited.thread_id is not None and edited.message_id is not None
        shown = True
        if edited.title != question.title:
            thread = await self._thread(guild, edited.thread_id)
            if thread is not None:
                shown &= await self._tidy(
                    "rename the thread", thread.edit(name=edited.title or ""), post_id=edited.id
                )
        starter = self._message(edited.guild_id, edited.thread_id, edited.message_id)
        embed = question_message_embed(edited, author_label(edited, author.display_name))
        shown &= await self._tidy(
            "edit the question's message",
            starter.edit(embed=embed, allowed_mentions=NO_PINGS),
            post_id=edited.id,
        )
        text_out = f"{emoji.SUCCESS} Your question is updated: {starter.jump_url}"
        await interaction.followup.send(
            text_out if shown else f"{text_out}\n{DISCORD_TROUBLE}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    # ------------------------------------------------------------------ /delete

    @app_commands.command(
        name="delete",
        description="Delete your question or answer that the bot posted in this thread",
    )
    @app_commands.guild_only()
    @app_commands.describe(post="Which of your posts here (default: your latest one)")
    async def delete(
        self, interaction: discord.Interaction[QABot], post: str | None = None
    ) -> None:
        target = await self._own_post(interaction, post)
        if target.kind == "question":
            title = truncate_markdown(escape(one_line(target.title or "")), 200)
            prompt = (
                f"Delete your question “{title}”? Its thread and every answer in it will be "
                "removed. This cannot be undone."
            )
        else:
            what = _kind_label(target).lower()
            prompt = f"Delete your {what}? It is removed from the thread and no longer counts."
        view = await confirm(interaction, prompt, confirm_label="Delete", destructive=True)
        decided = view.interaction
        if view.value is not True or decided is None:
            if decided is not None:
                await decided.edit_original_response(content="Nothing was deleted.", view=None)
            else:
                await interaction.edit_original_response(content="Nothing was deleted.", view=None)
            return
        guild = interaction.guild
        assert guild is not None
        if target.kind == "question":
            await self._delete_question(guild, decided, target)
        else:
            await self._delete_post(guild, decided, target)

    @delete.autocomplete("post")
    async def delete_post_choices(
        self, interaction: discord.Interaction[QABot], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._own_post_choices(interaction, current)

    async def _delete_question(
        self, guild: discord.Guild, decided: discord.Interaction[QABot], question: PostSnapshot
    ) -> None:
        await run_transaction(
            self.bot,
            lambda s: deletion.delete_question(
                s, question_id=question.id, actor_id=decided.user.id
            ),
        )
        # Answer first: the prompt lives in the thread about to go.
        await decided.edit_original_response(
            content=f"{emoji.SUCCESS} Your question is deleted; its thread is being removed.",
            view=None,
        )
        assert question.thread_id is not None
        thread = await self._thread(guild, question.thread_id)
        if thread is not None and not await self._tidy(
            "delete the thread", thread.delete(), post_id=question.id
        ):
            await decided.followup.send(DISCORD_TROUBLE, ephemeral=True, allowed_mentions=NO_PINGS)

    async def _delete_post(
        self, guild: discord.Guild, decided: discord.Interaction[QABot], post: PostSnapshot
    ) -> None:
        question_id = post.question_ref
        before = await run_transaction(self.bot, lambda s: lookups.get_post(s, question_id))
        change = await run_transaction(
            self.bot,
            lambda s: deletion.delete_post(s, post_id=post.id, actor_id=decided.user.id),
        )
        assert post.thread_id is not None and post.message_id is not None
        message = self._message(guild.id, post.thread_id, post.message_id)
        done = await self._tidy("delete the message", message.delete(), post_id=post.id)
        question = change.question
        if before.accepted_answer_id == post.id and question.accepted_answer_id is None:
            done &= await self._clear_acceptance(guild, question, was=post.id)
        self._request_status(question.id)
        text = f"{emoji.SUCCESS} Your {_kind_label(post).lower()} is deleted."
        await decided.edit_original_response(
            content=text if done else f"{text}\n{DISCORD_TROUBLE}", view=None
        )

    async def _clear_acceptance(
        self, guild: discord.Guild, question: PostSnapshot, *, was: int
    ) -> bool:
        """The accepted answer ``was`` is gone: drop the Solved tag and the notice, if they show
        it (another answer may have been accepted meanwhile)."""
        if question.thread_id is None:
            return True
        config = await guild_config(self.bot, guild.id)
        done = True
        thread = await self._thread(guild, question.thread_id)
        if thread is not None:
            done &= await self._tidy(
                "remove the Solved tag",
                self._set_solved_tag(thread, config, solved=False),
                post_id=was,
            )
        channel = self.bot.get_partial_messageable(question.thread_id, guild_id=guild.id)
        notice = await self._find_notice(channel)
        if notice is not None:
            done &= await self._tidy("delete the notice", notice.delete(), post_id=was)
        return done

    @commands.Cog.listener()
    async def on_qa_synced(self, kind: str, event: object, changes: list[PostChange]) -> None:
        """Answers deleted in Discord (the lifecycle cog applied the deletes): a question left
        without its accepted answer loses the Solved tag and the notice. The bot's own /delete
        was already tidied (its echo changes nothing, so it is skipped here)."""
        if kind not in DELETE_KINDS:
            return
        deleted: dict[int, int] = {}  # question id -> a deleted answer's id (for the logs)
        for c in changes:
            if c.changed and c.post.kind == "answer" and c.question.live and not c.question.solved:
                deleted.setdefault(c.question.id, c.post.id)
        for question_id, answer_id in sorted(deleted.items()):
            question = await run_transaction(
                self.bot, functools.partial(lookups.get_post, post_id=question_id)
            )
            if question.solved or not question.live:
                continue  # another answer was accepted meanwhile, or the question is gone
            guild = self.bot.get_guild(question.guild_id)
            if guild is not None:
                await self._clear_acceptance(guild, question, was=answer_id)

    # ------------------------------------------------------------------ Accept answer

    async def accept_answer(
        self, interaction: discord.Interaction[QABot], message: discord.Message
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild = interaction.guild
        assert guild is not None  # guild_only
        actor = interaction.user
        config = await guild_config(self.bot, guild.id)
        moderator = actor_is_moderator(actor, guild, config)
        result = await run_transaction(
            self.bot,
            lambda s: acceptance.accept_answer(
                s, actor_id=actor.id, is_moderator=moderator, message_id=message.id
            ),
        )
        answer = result.answer
        assert answer is not None and answer.thread_id is not None
        shown = await self._show_acceptance(guild, config, result, message)
        self._request_status(result.question.id)
        link = jump_url(guild.id, answer.thread_id, answer.message_id)
        text = (
            f"{emoji.SUCCESS} You accepted [this answer]({link})."
            if result.changed
            else f"[This answer]({link}) is already the accepted one."
        )
        await interaction.followup.send(
            text if shown else f"{text}\n{DISCORD_TROUBLE}",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    async def _show_acceptance(
        self,
        guild: discord.Guild,
        config: GuildConfig,
        result: AcceptResult,
        target: discord.Message,
    ) -> bool:
        """Make the thread show the acceptance: ✅ moved, Solved tag, the notice. Idempotent,
        so accepting the accepted answer again repairs what is missing."""
        answer = result.answer
        assert answer is not None and answer.thread_id is not None
        assert answer.message_id is not None
        done = True
        previous_id = result.previous_answer_id
        if previous_id is not None and previous_id != answer.id:
            previous = await run_transaction(self.bot, lambda s: lookups.get_post(s, previous_id))
            if previous.thread_id is not None and previous.message_id is not None:
                old = self._message(guild.id, previous.thread_id, previous.message_id)
                done &= await self._tidy(
                    "remove the old mark",
                    old.remove_reaction(emoji.ACCEPTED, discord.Object(id=self._me())),
                    post_id=previous_id,
                )
        marked = self._message(guild.id, answer.thread_id, answer.message_id)
        done &= await self._tidy(
            "mark the answer", marked.add_reaction(emoji.ACCEPTED), post_id=answer.id
        )
        thread = await self._thread(guild, answer.thread_id)
        if thread is not None:
            done &= await self._tidy(
                "apply the Solved tag",
                self._set_solved_tag(thread, config, solved=True),
                post_id=answer.id,
            )
        # Who wrote it, as its message shows: the bot's embed names them, else the message's author.
        shown = shown_author(target) if answer.via_bot else None
        answerer = author_label(answer, shown, target.author.display_name)
        done &= await self._tidy(
            "post the notice",
            self._post_notice(guild.id, answer, answerer),
            post_id=answer.id,
        )
        return done

    def _me(self) -> int:
        me = self.bot.user
        assert me is not None  # the bot is logged in while it handles events
        return me.id

    async def _set_solved_tag(
        self, thread: discord.Thread, config: GuildConfig, *, solved: bool
    ) -> None:
        forum = thread.parent
        if config.solved_tag_id is None or not isinstance(forum, discord.ForumChannel):
            return
        tag = forum.get_tag(config.solved_tag_id)
        if tag is None:
            log.warning("the Solved tag of guild %s is gone from its forum", thread.guild.id)
            return
        applied = thread.applied_tags
        if any(t.id == tag.id for t in applied) == solved:
            return
        others = [t for t in applied if t.id != tag.id]
        wanted = [*others[: APPLIED_TAGS_MAX - 1], tag] if solved else others
        await thread.edit(applied_tags=wanted)

    def _is_notice(self, message: discord.Message) -> bool:
        if message.author.id != self._me() or len(message.embeds) != 1:
            return False
        embed = message.embeds[0]
        return (
            embed.colour is not None
            and embed.colour.value == embeds.COLOUR_SOLVED
            and (embed.description or "").startswith(f"{emoji.SOLVED} [")
            and embeds.parse_footer_key(embed) is None
        )

    async def _find_notice(self, channel: discord.PartialMessageable) -> discord.Message | None:
        """The thread's acceptance notice: among its pins, else among its recent messages."""
        try:
            async for pinned in channel.pins(limit=50):
                if self._is_notice(pinned):
                    return pinned
            async for recent in channel.history(limit=NOTICE_HISTORY):
                if self._is_notice(recent):
                    return recent
        except discord.HTTPException as exc:
            log.warning(
                "could not look for the notice in thread %s (status %s)", channel.id, exc.status
            )
        return None

    async def _post_notice(self, guild_id: int, answer: PostSnapshot, answerer: str) -> None:
        assert answer.thread_id is not None and answer.message_id is not None
        embed = accepted_notice(jump_url(guild_id, answer.thread_id, answer.message_id), answerer)
        channel = self.bot.get_partial_messageable(answer.thread_id, guild_id=guild_id)
        notice = await self._find_notice(channel)
        if notice is not None:
            if notice.embeds[0].description != embed.description:
                await notice.edit(embed=embed, allowed_mentions=NO_PINGS)
            return
        notice = await channel.send(embed=embed, allowed_mentions=NO_PINGS)
        await self._tidy("pin the notice", notice.pin(), post_id=answer.id)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Answering(bot))
