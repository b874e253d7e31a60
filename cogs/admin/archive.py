"""``/qa settings`` for the public archive: ``publishing`` switched on or off, with the forum's
notice, and ``archive_categories`` (``add <name>`` / ``remove <name>``).

Switching publishing on adds a short notice to the Q&A forum's post guidelines (the channel's
topic, up to Discord's 4,096 characters; the rest is kept as it was); switching it off (or
resetting it) takes the notice out. Discord is asked first: when it refuses, or the notice would
not fit, nothing is stored. The invite link (``archive_invite``) is an ordinary setting.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.forum import consent, setting_changes, settings
from bot.forum.categories import parse_category_change
from bot.forum.errors import NotConfigured, ValidationError
from bot.guilds import guild_config, qa_forum
from bot.transactions import run_transaction
from bot.ui import embeds
from bot.ui.archive import topic_with_notice, topic_without_notice
from bot.ui.mentions import NO_PINGS
from bot.ui.text import escape
from cogs.admin.forum_tags import audit_reason, fetch_forum

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

PUBLISHING_KEY: Final = "publishing"
PUBLISHING_ON: Final = (
    "`publishing` is now **on**: the forum's post guidelines say so. Questions of the "
    "`archive_categories` are published only with their askers' consent, and answers and "
    "comments with their authors'."
)
PUBLISHING_OFF_ONLY: Final = "`publishing` is now **off**: nothing is published."
PUBLISHING_OFF: Final = f"{PUBLISHING_OFF_ONLY[:-1]}, and the forum's notice is gone."
NOTICE_STAYS: Final = (
    "The bot could not take the archive's notice out of the forum's post guidelines: "
    "a server manager can edit them by hand."
)


async def _show_notice(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, on: bool
) -> None:
    """The forum's topic with the notice (``on``) or without it."""
    forum = await fetch_forum(guild, qa_forum(guild, await guild_config(bot, guild.id)).id)
    try:
        topic = topic_with_notice(forum.topic) if on else topic_without_notice(forum.topic)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if topic != (forum.topic or ""):
        await forum.edit(topic=topic, reason=audit_reason(interaction))
        log.info("guild %s forum %s archive notice %s", guild.id, forum.id, "on" if on else "off")


async def _hide_notice(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild
) -> bool:
    """Take the notice out; whether that worked. Switching publishing off never waits on it:
    a forum that is gone, or a refusal of Discord's, leaves only a line in the reply."""
    try:
        await _show_notice(bot, interaction, guild, False)
    except (NotConfigured, discord.HTTPException) as exc:
        log.warning(
            "guild %s: the archive notice was not removed (%s)", guild.id, type(exc).__name__
        )
        return False
    return True


async def switch_publishing(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, raw: str | None
) -> None:
    """``publishing`` set (``raw``) or reset (None). On: the notice first (a refusal stores
    nothing), then the setting. Off: the setting whatever becomes of the notice."""
    on = (
        settings.DEFAULTS.publishing
        if raw is None
        else bool(settings.parse_value(PUBLISHING_KEY, raw))
    )
    await interaction.response.defer(ephemeral=True, thinking=True)
    if on:
        await _show_notice(bot, interaction, guild, True)
    actor_id = interaction.user.id
    await run_transaction(
        bot,
        lambda s: setting_changes.set_from_text(
            s, guild.id, PUBLISHING_KEY, "on" if on else "off", actor_id=actor_id
        ),
    )
    if on:
        text = PUBLISHING_ON
    elif await _hide_notice(bot, interaction, guild):
        text = PUBLISHING_OFF
    else:
        text = f"{PUBLISHING_OFF_ONLY}\n{NOTICE_STAYS}"
    await interaction.followup.send(
        embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
    )
    log.info("guild %s switched publishing %s", guild.id, "on" if on else "off")


async def change_archive_category(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, raw: str
) -> None:
    """``archive_categories``: ``add <name>`` chooses a category, ``remove <name>`` drops it."""
    change = parse_category_change(raw)
    chosen = change.action == "add"
    actor_id = interaction.user.id
    category = await run_transaction(
        bot,
        lambda s: consent.set_archived(s, guild.id, change.name, chosen, actor_id=actor_id),
    )
    name = escape(category.name)
    text = (
        f"Questions of **{name}** may be published in the archive, each with its asker's consent."
        if chosen
        else f"Questions of **{name}** are no longer published in the archive."
    )
    await interaction.response.send_message(
        embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
    )
