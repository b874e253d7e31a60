"""``/qa setup`` and ``/qa settings show|set|reset``: a server manager configures the Q&A forum.

Discord hides ``/qa`` from members without Manage Server (``default_permissions``), but that is
only the client's doing and a server can change it: every command checks the permission again.
Forum tags are edited under a per-guild lock, always on a freshly fetched copy of the forum, so
two quick changes never overwrite each other's tag list.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum import categories, setting_changes, settings
from bot.forum.categories import SOLVED_TAG_NAME, Tag
from bot.forum.errors import InvalidState, NotConfigured, ValidationError
from bot.forum.settings import GuildConfig
from bot.guilds import FORUM_GONE, guild_config, qa_forum
from bot.permissions import missing_permissions
from bot.transactions import run_transaction
from bot.ui import embeds
from bot.ui.admin import settings_table, setup_report
from bot.ui.mentions import NO_PINGS
from bot.ui.text import escape, human_join, one_line
from cogs.profiles import point_role_notes

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["QABot"]

MODERATOR_ROLE_KEY = "moderator_role_id"
SOLVED_TAG_EMOJI = "✅"
AUDIT_REASON = "qa-bot: {command} by {user_id}"

FORUM_HELP = "The Q&A forum and its Solved tag, chosen with /qa setup."
REQUIRE_TAG_NOTE = (
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


def _guild(interaction: Interaction) -> discord.Guild:
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild


def _tags(forum: discord.ForumChannel) -> list[Tag]:
    return [(tag.id, tag.name) for tag in forum.available_tags]


def _reason(interaction: Interaction) -> str:
    name = interaction.command.qualified_name if interaction.command else "qa"
    return AUDIT_REASON.format(command=f"/{name}", user_id=interaction.user.id)


async def _fetch_forum(guild: discord.Guild, channel_id: int) -> discord.ForumChannel:
    """The forum as Discord holds it now (its tags may have changed since the cache saw it)."""
    try:
        channel = await guild.fetch_channel(channel_id)
    except discord.NotFound:
        raise NotConfigured(FORUM_GONE) from None
    if not isinstance(channel, discord.ForumChannel):
        raise NotConfigured(FORUM_GONE)
    return channel


def _key_choices(current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().lower()
    keys = [*settings.public_keys(), categories.SETTING_KEY]
    matches = [k for k in keys if typed in k] if typed else keys
    return [app_commands.Choice(name=k, value=k) for k in matches[:25]]


async def key_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return _key_choices(current)


class Admin(commands.Cog):
    qa = app_commands.Group(
        name="qa",
        description="Set up and configure the Q&A forum (needs Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    qa_settings = app_commands.Group(
        name="settings", description="Show or change this server's Q&A settings", parent=qa
    )

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self._tag_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ------------------------------------------------------------------ /qa setup

    @qa.command(
        name="setup", description="Use a forum channel for questions; its tags become categories"
    )
    @app_commands.describe(forum="The forum channel where questions are posted")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def setup_forum(
        self,
        interaction: Interaction,
        forum: app_commands.Transform[discord.ForumChannel, ForumOnly],
    ) -> None:
        guild = _guild(interaction)
        me = guild.me
        seen = forum.permissions_for(me)
        if not seen.view_channel:
            raise InvalidState(
                f"The bot cannot see {forum.mention}. Give it these permissions there, then run "
                f"/qa setup again: {human_join(missing_permissions(seen))}."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._tag_locks[guild.id]:
            fresh = await _fetch_forum(guild, forum.id)
            tags = _tags(fresh)
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
                    reason=_reason(interaction),
                )
                solved_id = tag.id
                tags.append((tag.id, tag.name))
            chosen = solved_id
            result = await run_transaction(
                self.bot,
                lambda s: categories.apply_setup(
                    s, guild.id, forum_channel_id=fresh.id, solved_tag_id=chosen, tags=tags
                ),
            )
        missing = missing_permissions(perms)
        notes = []
        if fresh.flags.require_tag and not result.categories:
            notes.append(REQUIRE_TAG_NOTE)
        notes += await point_role_notes(self.bot, guild)
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

    # ------------------------------------------------------------------ /qa settings show

    @qa_settings.command(name="show", description="Every setting with its value, default and help")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_show(self, interaction: Interaction) -> None:
        guild = _guild(interaction)
        config, cats = await run_transaction(
            self.bot, lambda s: categories.settings_overview(s, guild.id)
        )
        rows = [
            (
                view.key,
                self._shown(guild, view.key, view.value),
                self._shown(guild, view.key, view.default),
                view.help,
            )
            for view in settings.describe(config)
        ]
        names = [c.name for c in cats]
        rows.append(
            (categories.SETTING_KEY, ", ".join(names) or "none", "none", categories.SETTING_HELP)
        )
        rows.insert(0, ("forum", self._forum_text(guild, config), "not set up", FORUM_HELP))
        tables = settings_table(rows)
        await interaction.response.send_message(
            embed=tables[0], ephemeral=True, allowed_mentions=NO_PINGS
        )
        for more in tables[1:]:
            await interaction.followup.send(embed=more, ephemeral=True, allowed_mentions=NO_PINGS)

    # ------------------------------------------------------------------ /qa settings set, reset

    @qa_settings.command(name="set", description="Change one setting")
    @app_commands.describe(
        key="The setting to change",
        value="Its new value (for categories: add <name> or remove <name>)",
    )
    @app_commands.autocomplete(key=key_autocomplete)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_set(
        self,
        interaction: Interaction,
        key: app_commands.Range[str, 1, 64],
        value: app_commands.Range[str, 1, 200],
    ) -> None:
        guild = _guild(interaction)
        key = key.strip().lower()
        if key == categories.SETTING_KEY:
            await self._change_category(interaction, guild, value)
            return
        if key == MODERATOR_ROLE_KEY:
            value = self._role_text(guild, value)
        config = await run_transaction(
            self.bot, lambda s: setting_changes.set_from_text(s, guild.id, key, value)
        )
        await self._confirm(interaction, guild, config, key, "is now")

    @qa_settings.command(name="reset", description="Put one setting back to its default")
    @app_commands.describe(key="The setting to reset")
    @app_commands.autocomplete(key=key_autocomplete)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def settings_reset(
        self, interaction: Interaction, key: app_commands.Range[str, 1, 64]
    ) -> None:
        guild = _guild(interaction)
        key = key.strip().lower()
        if key == categories.SETTING_KEY:
            raise ValidationError(
                "Categories have no default: remove one with "
                "`/qa settings set key:categories value:remove <name>`."
            )
        config = await run_transaction(
            self.bot, lambda s: setting_changes.reset_from_text(s, guild.id, key)
        )
        await self._confirm(interaction, guild, config, key, "is back to its default,")

    async def _confirm(
        self,
        interaction: Interaction,
        guild: discord.Guild,
        config: GuildConfig,
        key: str,
        verb: str,
    ) -> None:
        shown = self._shown(guild, key, getattr(config, key))
        await interaction.response.send_message(
            embed=embeds.success(f"`{key}` {verb} **{escape(one_line(shown))}**."),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
        log.info("guild %s changed setting %s", guild.id, key)

    # ------------------------------------------------------------------ categories

    async def _change_category(
        self, interaction: Interaction, guild: discord.Guild, raw: str
    ) -> None:
        change = categories.parse_category_change(raw)
        await interaction.response.defer(ephemeral=True, thinking=True)
        forum = qa_forum(guild, await guild_config(self.bot, guild.id))
        async with self._tag_locks[guild.id]:
            fresh = await _fetch_forum(guild, forum.id)
            if change.action == "add":
                message = await self._add_category(interaction, guild, fresh, change.name)
            else:
                message = await self._remove_category(interaction, guild, fresh, change.name)
        await interaction.followup.send(
            embed=embeds.success(message), ephemeral=True, allowed_mentions=NO_PINGS
        )

    async def _add_category(
        self, interaction: Interaction, guild: discord.Guild, forum: discord.ForumChannel, raw: str
    ) -> str:
        name = await run_transaction(
            self.bot, lambda s: categories.check_new_category(s, guild.id, raw)
        )
        tags = _tags(forum)
        tag_id = categories.find_tag(tags, name)
        if tag_id is None:
            categories.check_room_for_tag(len(tags), adding=f"`{name}`")
            categories.check_can_edit_tags(
                can_manage_channels=forum.permissions_for(guild.me).manage_channels
            )
            tag = await forum.create_tag(name=name, reason=_reason(interaction))
            tag_id = tag.id
            how = "with a new forum tag"
        else:
            how = "using the forum's existing tag"
        found = tag_id
        view = await run_transaction(
            self.bot, lambda s: categories.add_category(s, guild.id, name, found)
        )
        log.info("guild %s added category %s (tag %s)", guild.id, view.id, view.tag_id)
        return f"Added the category **{escape(view.name)}** {how}."

    async def _remove_category(
        self, interaction: Interaction, guild: discord.Guild, forum: discord.ForumChannel, raw: str
    ) -> str:
        view = await run_transaction(self.bot, lambda s: categories.find_category(s, guild.id, raw))
        keep = [tag for tag in forum.available_tags if tag.id != view.tag_id]
        if len(keep) < len(forum.available_tags):
            categories.check_can_edit_tags(
                can_manage_channels=forum.permissions_for(guild.me).manage_channels
            )
            await forum.edit(available_tags=keep, reason=_reason(interaction))
        removed = await run_transaction(
            self.bot, lambda s: categories.remove_category(s, guild.id, view.name)
        )
        log.info("guild %s removed category %s (tag %s)", guild.id, removed.id, removed.tag_id)
        return f"Removed the category **{escape(removed.name)}** and its forum tag."

    # ------------------------------------------------------------------ presentation helpers

    @staticmethod
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

    @staticmethod
    def _forum_text(guild: discord.Guild, config: GuildConfig) -> str:
        if config.forum_channel_id is None:
            return "not set up"
        channel = guild.get_channel(config.forum_channel_id)
        return f"#{channel.name}" if channel else "deleted: run /qa setup again"

    @staticmethod
    def _shown(guild: discord.Guild, key: str, value: Any) -> str:
        if key == MODERATOR_ROLE_KEY and value is not None:
            role = guild.get_role(value)
            return f"@{role.name} ({value})" if role else f"{value} (a deleted role)"
        return settings.format_value(key, value)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Admin(bot))
