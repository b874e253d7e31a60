"""``/profile``, ``/leaderboard`` and point roles (``/qa roles add|remove|show``).

Read paths over the domain's public points (``bot.forum.leaderboard``): a profile shows points as
a plain number, counters and rank, ephemerally unless ``public:true``; what anonymous posts
earned is shown only to the member themself, in an ephemeral reply (DESIGN.md section 5). The
leaderboard pages with buttons whose state lives in their ``custom_id`` (a ``DynamicItem``), so
they keep working after a restart. Without the members intent, the leaderboard names members by
the display name last seen (``members.display_name``) or by a mention, which pings nobody.

Point roles (``bot.forum.roles``): members gain and lose the mapped roles as their public points
change. A transaction that moves public points announces it (``on_qa_points_changed``, see
``bot.transactions``) and this cog hands the members to the bot's ``RoleSync``
(``bot.workers.role_sync``), which coalesces role edits per member. A role the bot cannot give
(above its highest role, managed by an integration, or the bot lacks Manage Roles) is skipped and
logged; ``point_role_notes`` words it for ``/qa setup``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Final, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.forum import leaderboard, roles
from bot.forum.errors import ValidationError
from bot.forum.roles import PointRole
from bot.permissions import role_problem
from bot.transactions import run_transaction
from bot.ui import embeds, emoji
from bot.ui.mentions import NO_PINGS
from bot.ui.profiles import leaderboard_page, profile_embed
from bot.ui.text import mention_role, plural
from bot.ui.views import Page, Paginator

if TYPE_CHECKING:
    from bot.client import QABot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["QABot"]


NO_PROFILE_FOR_BOTS: Final = "Bots take no part in the Q&A, so they have no profile."


def _guild(interaction: Interaction) -> discord.Guild:
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild


def _bot(interaction: discord.Interaction[Any]) -> QABot:
    return cast("QABot", interaction.client)


# --------------------------------------------------------------------------- leaderboard


def _shown_name(guild: discord.Guild | None, entry: leaderboard.LeaderboardEntry) -> str | None:
    member = guild.get_member(entry.user_id) if guild is not None else None
    if member is not None:
        return member.display_name
    return entry.display_name


class LeaderboardPages(Paginator, kind="lb"):
    """``/leaderboard`` pages; the buttons carry the guild and page in their ``custom_id``."""

    @classmethod
    async def fetch_page(
        cls, interaction: discord.Interaction[Any], guild_id: int, page: int, extra: str | None
    ) -> Page:
        seen = {interaction.user.id: interaction.user.display_name}
        board = await run_transaction(
            _bot(interaction),
            lambda s: leaderboard.top_members(s, guild_id=guild_id, page=page, seen_names=seen),
        )
        rows = [
            leaderboard.LeaderboardEntry(
                rank=e.rank,
                user_id=e.user_id,
                points=e.points,
                display_name=_shown_name(interaction.guild, e),
            )
            for e in board.entries
        ]
        return Page(
            embed=leaderboard_page(rows, board.page, board.pages),
            number=board.page,
            pages=board.pages,
        )


# --------------------------------------------------------------------------- point roles


def point_role_warnings(guild: discord.Guild, mapping: Iterable[PointRole]) -> list[str]:
    """Sentences about point roles the bot cannot manage now (empty when all is well)."""
    notes: list[str] = []
    mapping = list(mapping)
    if mapping and not guild.me.guild_permissions.manage_roles:
        notes.append(
            f"{emoji.WARNING} The bot lacks the Manage Roles permission, so it gives no point "
            "roles."
        )
    for entry in mapping:
        role = guild.get_role(entry.role_id)
        if role is None:
            notes.append(
                f"{emoji.WARNING} The point role at {entry.threshold} points no longer exists."
            )
            continue
        problem = role_problem(guild, role)
        if problem is not None:
            notes.append(f"{emoji.WARNING} {problem}")
    return notes


async def point_role_notes(bot: QABot, guild: discord.Guild) -> list[str]:
    """For ``/qa setup``: what stops the bot from managing the guild's point roles."""
    mapping = await run_transaction(bot, lambda s: roles.point_roles(s, guild.id))
    return point_role_warnings(guild, mapping)


def describe_mapping(mapping: Iterable[PointRole]) -> str:
    lines = [
        f"**{entry.threshold}** {'point' if entry.threshold == 1 else 'points'} "
        f"{emoji.NEXT} {mention_role(entry.role_id)}"
        for entry in sorted(mapping)
    ]
    if not lines:
        return "No point roles yet: add one with `/qa roles add`."
    return "\n".join(lines)


class PointRoleCommands(app_commands.Group):
    """``/qa roles add|remove|show`` (a subgroup of the admin cog's ``/qa`` when it is loaded)."""

    def __init__(self, cog: Profiles, *, name: str, top_level: bool) -> None:
        extra: dict[str, Any] = {}
        if top_level:
            extra = {
                "guild_only": True,
                "default_permissions": discord.Permissions(manage_guild=True),
            }
        super().__init__(
            name=name, description="Roles members hold while their points reach a level", **extra
        )
        self.cog = cog

    @app_commands.command(name="add", description="Give a role to members reaching some points")
    @app_commands.describe(
        threshold="Points (as members see them) from which members hold the role",
        role="The role to give",
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def add(
        self,
        interaction: Interaction,
        threshold: app_commands.Range[int, 0, roles.THRESHOLD_MAX],
        role: discord.Role,
    ) -> None:
        guild = _guild(interaction)
        if role.is_default():
            raise ValidationError("The @everyone role cannot be a point role.")
        if role.managed:
            raise ValidationError(
                f"{role.mention} belongs to an integration, so nobody can be given it."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        bot = self.cog.bot
        mapping = await run_transaction(
            bot, lambda s: roles.set_point_role(s, guild.id, int(threshold), role.id)
        )
        sync = bot.role_sync
        sync.forget(guild.id)
        reaching = await run_transaction(
            bot,
            lambda s: roles.members_reaching(s, guild_id=guild.id, threshold=int(threshold)),
        )
        sync.request(guild.id, reaching)
        text = (
            f"Members with at least **{threshold}** points now hold {role.mention}"
            f" ({plural(len(reaching), 'member')} reach it now).\n\n{describe_mapping(mapping)}"
        )
        warnings = point_role_warnings(guild, mapping)
        embed = (embeds.info if warnings else embeds.success)(
            text + ("\n\n" + "\n".join(warnings) if warnings else "")
        )
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="remove", description="Stop giving a role by points")
    @app_commands.describe(role="The point role to stop managing (members keep it)")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def remove(self, interaction: Interaction, role: discord.Role) -> None:
        guild = _guild(interaction)
        mapping = await run_transaction(
            self.cog.bot, lambda s: roles.remove_point_role(s, guild.id, role.id)
        )
        self.cog.bot.role_sync.forget(guild.id)
        text = (
            f"{role.mention} is no longer a point role; members who hold it keep it.\n\n"
            f"{describe_mapping(mapping)}"
        )
        await interaction.response.send_message(
            embed=embeds.success(text), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name="show", description="List the point roles")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def show(self, interaction: Interaction) -> None:
        guild = _guild(interaction)
        mapping = await run_transaction(self.cog.bot, lambda s: roles.point_roles(s, guild.id))
        warnings = point_role_warnings(guild, mapping)
        text = describe_mapping(mapping) + ("\n\n" + "\n".join(warnings) if warnings else "")
        await interaction.response.send_message(
            embed=embeds.info(text), ephemeral=True, allowed_mentions=NO_PINGS
        )


# --------------------------------------------------------------------------- the cog


class Profiles(commands.Cog):
    #: The admin cog's group the point-role commands join as ``/qa roles``.
    PARENT_GROUP: Final = "qa"
    #: The top-level group they form when that group is not loaded.
    FALLBACK_GROUP: Final = "qa-roles"

    def __init__(self, bot: QABot) -> None:
        self.bot = bot
        self.role_commands: PointRoleCommands | None = None
        self._parent: app_commands.Group | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(LeaderboardPages)
        parent = self.bot.tree.get_command(self.PARENT_GROUP)
        if isinstance(parent, app_commands.Group):
            self.role_commands = PointRoleCommands(self, name="roles", top_level=False)
            parent.add_command(self.role_commands)
            self._parent = parent
        else:
            log.warning(
                "no /%s group is loaded: point roles are /%s",
                self.PARENT_GROUP,
                self.FALLBACK_GROUP,
            )
            self.role_commands = PointRoleCommands(self, name=self.FALLBACK_GROUP, top_level=True)
            self.bot.tree.add_command(self.role_commands)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(LeaderboardPages)
        if self.role_commands is not None:
            if self._parent is not None:
                self._parent.remove_command(self.role_commands.name)
            else:
                self.bot.tree.remove_command(self.role_commands.name)

    # ------------------------------------------------------------------ /profile

    @app_commands.command(name="profile", description="Points, answers and rank of a member")
    @app_commands.describe(
        member="Whose profile (yours when left empty)",
        public="Show it to everyone in the channel (only you see it otherwise)",
    )
    @app_commands.guild_only()
    async def profile_command(
        self,
        interaction: Interaction,
        member: discord.Member | discord.User | None = None,
        public: bool = False,
    ) -> None:
        guild = _guild(interaction)
        target = member or interaction.user
        if target.bot:
            raise ValidationError(NO_PROFILE_FOR_BOTS)
        await interaction.response.defer(ephemeral=not public, thinking=True)
        seen = {interaction.user.id: interaction.user.display_name}
        if isinstance(target, discord.Member):
            seen[target.id] = target.display_name
        shown = await run_transaction(
            self.bot,
            lambda s: leaderboard.profile(s, guild_id=guild.id, user_id=target.id, seen_names=seen),
        )
        own = target.id == interaction.user.id
        embed = profile_embed(
            target.display_name,
            shown.stats,
            points_base=shown.points_base,
            rank=shown.rank,
            # What anonymous posts earned: only to the member, and only ephemerally.
            show_private=own and not public,
            avatar_url=target.display_avatar.url,
        )
        await interaction.followup.send(
            embed=embed, ephemeral=not public, allowed_mentions=NO_PINGS
        )

    # ------------------------------------------------------------------ /leaderboard

    @app_commands.command(name="leaderboard", description="Members with the most points")
    @app_commands.guild_only()
    async def leaderboard_command(self, interaction: Interaction) -> None:
        guild = _guild(interaction)
        await LeaderboardPages.start(interaction, guild_id=guild.id)

    # ------------------------------------------------------------------ point roles

    @commands.Cog.listener()
    async def on_qa_points_changed(self, guild_id: int, user_ids: Collection[int]) -> None:
        self.bot.role_sync.request(guild_id, user_ids)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        forgotten = await run_transaction(
            self.bot, lambda s: roles.forget_role(s, role.guild.id, role.id)
        )
        if forgotten:
            self.bot.role_sync.forget(role.guild.id)


async def setup(bot: QABot) -> None:
    await bot.add_cog(Profiles(bot))
