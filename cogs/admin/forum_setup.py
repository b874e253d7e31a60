"""``/qa setup``: a forum channel becomes the Q&A forum; its tags become categories, and it gets
a Solved tag (found by name, else created). The report lists what the bot still lacks there,
including what stops it from giving the point roles."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands

from bot.automod import can_read_rules
from bot.forum import categories, roles
from bot.forum.categories import SOLVED_TAG_NAME
from bot.forum.errors import InvalidState
from bot.permissions import missing_permissions, point_role_problems
from bot.transactions import run_transaction
from bot.ui import point_roles
from bot.ui.admin import AUTOMOD_UNREADABLE, setup_report
from bot.ui.mentions import NO_PINGS
from bot.ui.text import human_join
from cogs.admin.forum_tags import audit_reason, fetch_forum, tags_of

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

SOLVED_TAG_EMOJI: Final = "✅"
REQUIRE_TAG_NOTE: Final = (
    "The forum requires a tag on every post but has no categories yet: add one with "
    "`/qa settings set key:categories value:add <name>`, or /ask will be refused."
)


class ForumOnly(app_commands.Transformer):
    """A forum channel option whose picker offers forum channels only (not media channels,
    whose posts must carry an attachment)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.forum]

    async def transform(self, interaction: discord.Interaction, value: Any) -> discord.ForumChannel:
        channel = value.resolve() if isinstance(value, app_commands.AppCommandChannel) else value
        if not isinstance(channel, discord.ForumChannel) or channel.is_media():
            raise app_commands.TransformerError(value, self.type, self)
        return channel


async def point_role_notes(bot: QABot, guild: discord.Guild) -> list[str]:
    """For ``/qa setup``: what stops the bot from managing the guild's point roles."""
    mapping = await run_transaction(bot, lambda s: roles.point_roles(s, guild.id))
    return point_roles.warnings(point_role_problems(guild, mapping))


async def set_up_forum(
    bot: QABot,
    interaction: discord.Interaction[Any],
    guild: discord.Guild,
    forum: discord.ForumChannel,
    tag_lock: asyncio.Lock,
) -> None:
    me = guild.me
    seen = forum.permissions_for(me)
    if not seen.view_channel:
        raise InvalidState(
            f"The bot cannot see {forum.mention}. Give it these permissions there, then run "
            f"/qa setup again: {human_join(missing_permissions(seen))}."
        )
    await interaction.response.defer(ephemeral=True, thinking=True)
    async with tag_lock:
        fresh = await fetch_forum(guild, forum.id)
        tags = tags_of(fresh)
        perms = fresh.permissions_for(me)
        solved_id = categories.find_solved_tag(tags)
        created = solved_id is None
        if solved_id is None:
            categories.check_can_create_solved_tag(
                len(tags), can_manage_channels=perms.manage_channels
            )
            tag = await fresh.create_tag(
                name=SOLVED_TAG_NAME,
                emoji=discord.PartialEmoji(name=SOLVED_TAG_EMOJI),
                moderated=True,
                reason=audit_reason(interaction),
            )
            solved_id = tag.id
            tags.append((tag.id, tag.name))
        chosen = solved_id
        result = await run_transaction(
            bot,
            lambda s: categories.apply_setup(
                s, guild.id, forum_channel_id=fresh.id, solved_tag_id=chosen, tags=tags
            ),
        )
    missing = missing_permissions(perms)
    notes = []
    if fresh.flags.require_tag and not result.categories:
        notes.append(REQUIRE_TAG_NOTE)
    notes += await point_role_notes(bot, guild)
    notes += bot.permission_notices.take_pending(guild.id)
    if not can_read_rules(guild):
        notes.append(AUTOMOD_UNREADABLE)
    report = setup_report(
        forum_id=fresh.id,
        categories=[c.name for c in result.categories],
        solved_tag=next(name for tag_id, name in tags if tag_id == chosen),
        solved_tag_created=created,
        missing_permissions=missing,
        notes=notes,
    )
    await interaction.followup.send(embed=report, ephemeral=True, allowed_mentions=NO_PINGS)
    log.info(
        "guild %s set up forum %s (solved tag %s %s, %d categories, %d permissions missing)",
        guild.id,
        fresh.id,
        chosen,
        "created" if created else "found",
        len(result.categories),
        len(missing),
    )
