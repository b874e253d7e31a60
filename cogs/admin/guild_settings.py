"""``/qa settings show|set|reset``: every per-guild option, shown and changed as text.

The domain parses and checks values (``bot.forum.setting_changes``); this module words what only
Discord knows: the forum by name, the moderator role by mention, id or exact name.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands

from bot.forum import categories, consent, setting_changes, settings
from bot.forum.errors import ValidationError
from bot.forum.settings import GuildConfig
from bot.transactions import run_read, run_transaction
from bot.ui import embeds
from bot.ui.admin import settings_table
from bot.ui.mentions import NO_PINGS
from bot.ui.premod import premod_warning
from bot.ui.text import escape, one_line

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

MODERATOR_ROLE_KEY: Final = "moderator_role_id"
MOD_CHANNEL_KEY: Final = "mod_channel_id"
FORUM_HELP: Final = "The Q&A forum and its Solved tag, chosen with /qa setup."
NO_CATEGORY_DEFAULT: Final = (
    "Categories have no default: remove one with `/qa settings set key:{key} value:remove <name>`."
)


def key_choices(current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    # Discord shows 25 choices at most: with more keys than that, typing narrows them.
    keys = [categories.SETTING_KEY, consent.ARCHIVE_KEY, *settings.public_keys()]
    matches = [k for k in keys if typed in k] if typed else keys
    return [app_commands.Choice(name=k, value=k) for k in matches[:25]]


async def key_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return key_choices(current)


async def show_settings(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild
) -> None:
    config, cats = await run_read(bot, lambda s: categories.settings_overview(s, guild.id))
    rows = [
        (
            view.key,
            _shown(guild, view.key, view.value),
            _shown(guild, view.key, view.default),
            view.help,
        )
        for view in settings.describe(config)
    ]
    names = [c.name for c in cats]
    rows.append(
        (categories.SETTING_KEY, ", ".join(names) or "none", "none", categories.SETTING_HELP)
    )
    archived = ", ".join(c.name for c in cats if c.archived) or "none"
    rows.append((consent.ARCHIVE_KEY, archived, "none", consent.ARCHIVE_HELP))
    rows.insert(0, ("forum", _forum_text(guild, config), "not set up", FORUM_HELP))
    tables = settings_table(rows)
    await interaction.response.send_message(
        embed=tables[0], ephemeral=True, allowed_mentions=NO_PINGS
    )
    for more in tables[1:]:
        await interaction.followup.send(embed=more, ephemeral=True, allowed_mentions=NO_PINGS)


async def set_setting(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, key: str, value: str
) -> None:
    if key == MODERATOR_ROLE_KEY:
        value = _role_text(guild, value)
    actor_id = interaction.user.id
    config = await run_transaction(
        bot, lambda s: setting_changes.set_from_text(s, guild.id, key, value, actor_id=actor_id)
    )
    await _confirm(interaction, guild, config, key, "is now")


async def reset_setting(
    bot: QABot, interaction: discord.Interaction[Any], guild: discord.Guild, key: str
) -> None:
    if key in (categories.SETTING_KEY, consent.ARCHIVE_KEY):
        raise ValidationError(NO_CATEGORY_DEFAULT.format(key=key))
    actor_id = interaction.user.id
    config = await run_transaction(
        bot, lambda s: setting_changes.reset_from_text(s, guild.id, key, actor_id=actor_id)
    )
    await _confirm(interaction, guild, config, key, "is back to its default,")


async def _confirm(
    interaction: discord.Interaction[Any],
    guild: discord.Guild,
    config: GuildConfig,
    key: str,
    verb: str,
) -> None:
    shown = _shown(guild, key, getattr(config, key))
    text = f"`{key}` {verb} **{escape(one_line(shown))}**."
    if warning := premod_warning(config, key):  # pre-moderation without a channel holds nothing
        text += f"\n{warning}"
    await interaction.response.send_message(
        embed=embeds.success(text),
        ephemeral=True,
        allowed_mentions=NO_PINGS,
    )
    log.info("guild %s changed setting %s", guild.id, key)


def _role_text(guild: discord.Guild, raw: str) -> str:
    """The moderator role as the domain parses it: a mention, an id, a name, or ``none``."""
    try:
        role_id = settings.parse_value(MODERATOR_ROLE_KEY, raw)
    except ValidationError:
        wanted = raw.strip().removeprefix("@").casefold()
        matches = [r for r in guild.roles if r.name.removeprefix("@").casefold() == wanted]
        shown = one_line(raw).replace("`", "")[:40]
        if len(matches) > 1:
            raise ValidationError(
                f"Several roles are called `{shown}`: give a role mention or a role id."
            ) from None
        if not matches:
            raise ValidationError(
                f"There is no role called `{shown}` here: "
                "give a role mention, a role id or an exact role name."
            ) from None
        role_id = matches[0].id
    if role_id is None:
        return "none"
    role = guild.get_role(role_id)
    if role is None:
        raise ValidationError(f"This server has no role with the id {role_id}.")
    if role.is_default():
        raise ValidationError(
            "@everyone cannot be the moderator role: pick a role only moderators have."
        )
    return str(role.id)


def _forum_text(guild: discord.Guild, config: GuildConfig) -> str:
    if config.forum_channel_id is None:
        return "not set up"
    channel = guild.get_channel(config.forum_channel_id)
    return f"#{channel.name}" if channel else "deleted: run /qa setup again"


def _shown(guild: discord.Guild, key: str, value: Any) -> str:
    if key == MODERATOR_ROLE_KEY and value is not None:
        role = guild.get_role(value)
        return f"@{role.name} ({value})" if role else f"{value} (a deleted role)"
    if key == MOD_CHANNEL_KEY and value is not None:
        channel = guild.get_channel(value)
        return f"#{channel.name}" if channel else f"{value} (a deleted channel)"
    return settings.format_value(key, value)
