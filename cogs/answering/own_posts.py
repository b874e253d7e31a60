"""Which of the member's posts ``/edit`` and ``/delete`` mean: what the bot posted for them in
this thread, picked by the ``post`` option (autocomplete, a post id, a message link or id), else
their latest."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands

from bot import references
from bot.forum import lookups
from bot.forum.errors import NotFound
from bot.forum.results import PostSnapshot
from bot.transactions import run_read
from bot.ui.text import AUTOCOMPLETE_CHOICE_NAME, AUTOCOMPLETE_CHOICES, label, one_line
from cogs.answering.answers import question_here

if TYPE_CHECKING:
    from bot.client import QABot

NOTHING_OF_YOURS: Final = (
    "The bot has posted nothing for you in this thread. Your own messages you can edit or "
    "delete in Discord directly."
)
NOT_ONE_OF_YOURS: Final = "That is not one of your posts in this thread; pick one from the list."

_KIND_LABELS: Final = {"question": "Question", "answer": "Answer", "comment": "Reply"}


def kind_label(post: PostSnapshot) -> str:
    return _KIND_LABELS.get(post.kind, "Post")


def _choice_name(post: PostSnapshot) -> str:
    text = post.title if post.kind == "question" else post.body
    return label(f"{kind_label(post)}: {one_line(text or '')}", AUTOCOMPLETE_CHOICE_NAME)


def pick(own: list[PostSnapshot], raw: str | None) -> PostSnapshot:
    """The post ``raw`` names among the member's own (a post id from the autocomplete, or a
    message link or id); their latest when ``raw`` is empty."""
    if raw is None or not raw.strip():
        return own[-1]
    wanted = references.trailing_id(raw)
    for post in own:
        if wanted is not None and wanted in (post.id, post.message_id):
            return post
    raise NotFound(NOT_ONE_OF_YOURS)


async def own_posts(bot: QABot, interaction: discord.Interaction[QABot]) -> list[PostSnapshot]:
    """What the bot posted for the member in this thread (empty outside a question's)."""
    guild_id, thread_id = interaction.guild_id, interaction.channel_id
    if guild_id is None or thread_id is None:
        return []
    author_id = interaction.user.id
    return await run_read(
        bot,
        lambda s: lookups.bot_posts_of_author(
            s, guild_id=guild_id, thread_id=thread_id, author_id=author_id
        ),
    )


async def own_post(
    bot: QABot, interaction: discord.Interaction[QABot], raw: str | None
) -> PostSnapshot:
    """The post the option names (``pick``); refuses when the bot posted nothing for them."""
    mine = await own_posts(bot, interaction)
    if not mine:
        await question_here(bot, interaction)  # the better sentence outside a question
        raise NotFound(NOTHING_OF_YOURS)
    return pick(mine, raw)


async def own_post_choices(
    bot: QABot, interaction: discord.Interaction[QABot], current: str
) -> list[app_commands.Choice[str]]:
    """The member's posts in this thread, newest first, filtered by what they typed."""
    mine = await own_posts(bot, interaction)
    typed = current.strip().lower()
    choices = [
        app_commands.Choice(name=_choice_name(post), value=str(post.id)) for post in reversed(mine)
    ]
    return [c for c in choices if typed in c.name.lower()][:AUTOCOMPLETE_CHOICES]
