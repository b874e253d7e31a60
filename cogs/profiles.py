"""``/profile``, ``/leaderboard``, and the point roles following members' points.

Read paths over the domain's public points (``bot.forum.leaderboard``): a profile shows points as
a plain number, counters, rank and links to the member's newest named questions (only those in
forums the reader can read, and with ``public:true`` only those @everyone can read too,
``bot.visibility``), ephemerally unless ``public:true``; what anonymous posts
earned is shown only to the member themself, in an ephemeral reply (DESIGN.md section 5). The
leaderboard pages with buttons whose state lives in their ``custom_id`` (a ``DynamicItem``), so
they keep working after a restart. Without the members intent, the leaderboard names members by
the display name last seen (``members.display_name``) or by a mention, which pings nobody.

Point roles (``bot.forum.roles``, configured with ``/qa roles``, see ``cogs.admin``): members
gain and lose the mapped roles as their public points change. A transaction that moves public
points announces it (``on_qa_points_changed``, see ``bot.transactions``) and this cog hands the
members to the bot's ``RoleSync`` (``bot.workers.role_sync``), which coalesces role edits per
member; a deleted role is dropped from the mapping. A role the bot cannot give (above its highest
role, managed by an integration, or the bot lacks Manage Roles) is skipped and logged;
``bot.permissions.point_role_problems`` words it for ``/qa setup`` and ``/qa roles``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import bot_of
from bot.feature_cog import FeatureCog, Interaction
from bot.forum import leaderboard, roles
from bot.forum.errors import ValidationError
from bot.guilds import guild_of
from bot.seen_names import remember_seen_names
from bot.transactions import run_read, run_transaction
from bot.ui.mentions import NO_PINGS
from bot.ui.profiles import leaderboard_page, profile_embed
from bot.ui.views import Page, Paginator
from bot.visibility import visible_forums

if TYPE_CHECKING:
    from bot.client import QABot


NO_PROFILE_FOR_BOTS: Final = "Bots take no part in the Q&A, so they have no profile."


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
        bot = bot_of(interaction)
        # The asking member's name first, so the page shows it (a write only when it changed).
        await remember_seen_names(
            bot, guild_id, {interaction.user.id: interaction.user.display_name}
        )
        board = await run_read(
            bot, lambda s: leaderboard.top_members(s, guild_id=guild_id, page=page)
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


# --------------------------------------------------------------------------- the cog


class Profiles(FeatureCog):
    dynamic_items = (LeaderboardPages,)

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
        guild = guild_of(interaction)
        target = member or interaction.user
        if target.bot:
            raise ValidationError(NO_PROFILE_FOR_BOTS)
        await interaction.response.defer(ephemeral=not public, thinking=True)
        seen = {interaction.user.id: interaction.user.display_name}
        if isinstance(target, discord.Member):
            seen[target.id] = target.display_name
        visible = visible_forums(interaction, public=public)
        shown = await run_read(
            self.bot,
            lambda s: leaderboard.profile(s, guild_id=guild.id, user_id=target.id, visible=visible),
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
            recent=shown.recent,
            guild_id=guild.id,
        )
        await interaction.followup.send(
            embed=embed, ephemeral=not public, allowed_mentions=NO_PINGS
        )
        # After the reply: the profile shows Discord's names, and the reply waits for no writer.
        await remember_seen_names(self.bot, guild.id, seen)

    # ------------------------------------------------------------------ /leaderboard

    @app_commands.command(name="leaderboard", description="Members with the most points")
    @app_commands.guild_only()
    async def leaderboard_command(self, interaction: Interaction) -> None:
        guild = guild_of(interaction)
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
