"""Acceptance on Discord: "Accept answer" shown in the thread (the ✅ moved, the Solved tag, the
pinned notice), and taken off again when the accepted answer is deleted."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Final

import discord

from bot.forum import acceptance, lookups
from bot.forum.results import AcceptResult, PostChange, PostSnapshot
from bot.forum.settings import GuildConfig
from bot.guilds import acting, guild_config
from bot.posting_rights import check_can_act
from bot.threads import discord_step, fetch_thread, partial_message, with_trouble
from bot.transactions import run_transaction
from bot.ui import embeds, emoji
from bot.ui.authors import author_label, shown_author
from bot.ui.mentions import NO_PINGS
from bot.ui.questions import accepted_notice
from bot.ui.text import jump_url

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

#: Discord applies at most this many tags to one forum post.
APPLIED_TAGS_MAX: Final = 5
#: How far back in a thread a notice that could not be pinned is looked for.
NOTICE_HISTORY: Final = 100
#: The ``qa_synced`` kinds in which an answer may have been deleted.
DELETE_KINDS: Final = frozenset({"delete", "bulk_delete"})


async def accept_answer(
    bot: QABot, interaction: discord.Interaction[QABot], message: discord.Message
) -> None:
    """The member accepts the answer ``message`` (the domain decides whether they may)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    await check_can_act(bot, interaction, message.channel.id)
    actor = await acting(bot, interaction)
    guild = actor.guild
    result = await run_transaction(
        bot,
        lambda s: acceptance.accept_answer(
            s, answer_ref=acceptance.PostRef(message_id=message.id), actor=actor.actor
        ),
    )
    answer = result.answer
    assert answer is not None
    assert answer.thread_id is not None
    shown = await _show_acceptance(bot, guild, actor.config, result, message)
    bot.status_lines.request(result.question.id)
    link = jump_url(guild.id, answer.thread_id, answer.message_id)
    text = (
        f"{emoji.SUCCESS} You accepted [this answer]({link})."
        if result.changed
        else f"[This answer]({link}) is already the accepted one."
    )
    await interaction.followup.send(
        with_trouble(text, shown), ephemeral=True, allowed_mentions=NO_PINGS
    )


async def _show_acceptance(
    bot: QABot,
    guild: discord.Guild,
    config: GuildConfig,
    result: AcceptResult,
    target: discord.Message,
) -> bool:
    """Make the thread show the acceptance: ✅ moved, Solved tag, the notice. Idempotent, so
    accepting the accepted answer again repairs what is missing."""
    answer = result.answer
    assert answer is not None
    assert answer.thread_id is not None
    assert answer.message_id is not None
    done = True
    previous_id = result.previous_answer_id
    if previous_id is not None and previous_id != answer.id:
        previous = await run_transaction(bot, lambda s: lookups.get_post(s, previous_id))
        if previous.thread_id is not None and previous.message_id is not None:
            old = partial_message(bot, guild.id, previous.thread_id, previous.message_id)
            done &= await discord_step(
                "remove the old mark",
                old.remove_reaction(emoji.ACCEPTED, discord.Object(id=_me(bot))),
                post_id=previous_id,
            )
    marked = partial_message(bot, guild.id, answer.thread_id, answer.message_id)
    done &= await discord_step(
        "mark the answer", marked.add_reaction(emoji.ACCEPTED), post_id=answer.id
    )
    thread = await fetch_thread(guild, answer.thread_id)
    if thread is not None:
        done &= await discord_step(
            "apply the Solved tag",
            _set_solved_tag(thread, config, solved=True),
            post_id=answer.id,
        )
    # Who wrote it, as its message shows: the bot's embed names them, else the message's author.
    shown = shown_author(target) if answer.via_bot else None
    answerer = author_label(answer, shown, target.author.display_name)
    done &= await discord_step(
        "post the notice", _post_notice(bot, guild.id, answer, answerer), post_id=answer.id
    )
    return done


async def clear_acceptance(
    bot: QABot, guild: discord.Guild, question: PostSnapshot, *, was: int
) -> bool:
    """The accepted answer ``was`` is gone: drop the Solved tag and the notice, if they show it
    (another answer may have been accepted meanwhile)."""
    if question.thread_id is None:
        return True
    config = await guild_config(bot, guild.id)
    done = True
    thread = await fetch_thread(guild, question.thread_id)
    if thread is not None:
        done &= await discord_step(
            "remove the Solved tag", _set_solved_tag(thread, config, solved=False), post_id=was
        )
    channel = bot.get_partial_messageable(question.thread_id, guild_id=guild.id)
    notice = await _find_notice(bot, channel)
    if notice is not None:
        done &= await discord_step("delete the notice", notice.delete(), post_id=was)
    return done


async def after_synced_deletes(bot: QABot, kind: str, changes: list[PostChange]) -> None:
    """Answers deleted in Discord (the lifecycle cog applied the deletes): a question left
    without its accepted answer loses the Solved tag and the notice. The bot's own /delete was
    already tidied (its echo changes nothing, so it is skipped here)."""
    if kind not in DELETE_KINDS:
        return
    deleted: dict[int, int] = {}  # question id -> a deleted answer's id (for the logs)
    for c in changes:
        if c.changed and c.post.kind == "answer" and c.question.live and not c.question.solved:
            deleted.setdefault(c.question.id, c.post.id)
    for question_id, answer_id in sorted(deleted.items()):
        question = await run_transaction(
            bot, functools.partial(lookups.get_post, post_id=question_id)
        )
        if question.solved or not question.live:
            continue  # another answer was accepted meanwhile, or the question is gone
        guild = bot.get_guild(question.guild_id)
        if guild is not None:
            await clear_acceptance(bot, guild, question, was=answer_id)


def _me(bot: QABot) -> int:
    me = bot.user
    assert me is not None  # the bot is logged in while it handles events
    return me.id


async def _set_solved_tag(thread: discord.Thread, config: GuildConfig, *, solved: bool) -> None:
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


def _is_notice(bot: QABot, message: discord.Message) -> bool:
    if message.author.id != _me(bot) or len(message.embeds) != 1:
        return False
    embed = message.embeds[0]
    return (
        embed.colour is not None
        and embed.colour.value == embeds.COLOUR_SOLVED
        and (embed.description or "").startswith(f"{emoji.SOLVED} [")
        and embeds.parse_footer_key(embed) is None
    )


async def _find_notice(bot: QABot, channel: discord.PartialMessageable) -> discord.Message | None:
    """The thread's acceptance notice: among its pins, else among its recent messages."""
    try:
        async for pinned in channel.pins(limit=50):
            if _is_notice(bot, pinned):
                return pinned
        async for recent in channel.history(limit=NOTICE_HISTORY):
            if _is_notice(bot, recent):
                return recent
    except discord.HTTPException as exc:
        log.warning(
            "could not look for the notice in thread %s (status %s)", channel.id, exc.status
        )
    return None


async def _post_notice(bot: QABot, guild_id: int, answer: PostSnapshot, answerer: str) -> None:
    assert answer.thread_id is not None
    assert answer.message_id is not None
    embed = accepted_notice(jump_url(guild_id, answer.thread_id, answer.message_id), answerer)
    channel = bot.get_partial_messageable(answer.thread_id, guild_id=guild_id)
    notice = await _find_notice(bot, channel)
    if notice is not None:
        if notice.embeds[0].description != embed.description:
            await notice.edit(embed=embed, allowed_mentions=NO_PINGS)
        return
    notice = await channel.send(embed=embed, allowed_mentions=NO_PINGS)
    await discord_step("pin the notice", notice.pin(), post_id=answer.id)
