"""Who may do what in Discord terms: the bot's required permissions, who moderates, and which
roles the bot can give (``role_problem``, and ``point_role_problems`` for the point roles).

The domain is told the answer (``is_moderator``), never a discord object.
"""

from __future__ import annotations

from collections.abc import Iterable

import discord

from bot.forum.roles import PointRole
from bot.forum.settings import GuildConfig

# Everything the bot needs in the Q&A forum; the README's invite integer is checked against it.
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,  # in a forum channel Discord shows it as "Create Posts"
    send_messages_in_threads=True,
    manage_threads=True,
    manage_channels=True,  # create and delete forum tags for categories
    read_message_history=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    manage_messages=True,  # remove a self-vote reaction on a named post
    manage_roles=True,  # point-based roles
)

PERMISSION_LABELS: dict[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages (Create Posts)",
    "send_messages_in_threads": "Send Messages in Threads",
    "manage_threads": "Manage Threads",
    "manage_channels": "Manage Channels",
    "read_message_history": "Read Message History",
    "add_reactions": "Add Reactions",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "manage_messages": "Manage Messages",
    "manage_roles": "Manage Roles",
}


#: What the bot needs in a text channel it posts to (the moderator channel).
POSTING_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
)

#: What the bot needs in the forum and its threads: all but the server-wide Manage Roles, which
#: no refusal in one channel is about.
FORUM_PERMISSIONS = discord.Permissions(
    REQUIRED_PERMISSIONS.value & ~discord.Permissions(manage_roles=True).value
)


def missing_permissions(
    have: discord.Permissions, wanted: discord.Permissions = REQUIRED_PERMISSIONS
) -> list[str]:
    """Human names of the ``wanted`` permissions (the required ones by default) ``have``
    lacks, in a stable order.

    Walks the labels, not ``wanted``: iterating a ``Permissions`` yields alias names
    (``read_messages`` for View Channel) that have no label.
    """
    return [
        label
        for name, label in PERMISSION_LABELS.items()
        if getattr(wanted, name) and not getattr(have, name)
    ]


def wanted_in(channel: discord.abc.GuildChannel) -> discord.Permissions:
    """What the bot needs in ``channel``: the forum's permissions in a forum, a text channel's
    posting permissions elsewhere."""
    if isinstance(channel, discord.ForumChannel):
        return FORUM_PERMISSIONS
    return POSTING_PERMISSIONS


def is_moderator(
    member: discord.Member | discord.User,
    forum: discord.abc.GuildChannel | discord.Thread | None,
    config: GuildConfig,
) -> bool:
    """A member with Manage Threads in the Q&A forum, or with the guild's moderator role."""
    if not isinstance(member, discord.Member):
        return False
    if config.moderator_role_id is not None and any(
        role.id == config.moderator_role_id for role in member.roles
    ):
        return True
    if forum is None:
        return member.guild_permissions.manage_threads
    return forum.permissions_for(member).manage_threads


def role_problem(guild: discord.Guild, role: discord.Role) -> str | None:
    """Why the bot cannot give ``role`` to members, or None when it can."""
    me = guild.me
    if role.is_default():
        return "@everyone cannot be given."
    if role.managed:
        return f"{role.mention} belongs to an integration, so nobody can be given it."
    if role >= me.top_role:
        return (
            f"{role.mention} is not below the bot's highest role: move the bot's role above it "
            "in Server Settings → Roles."
        )
    return None


def point_role_problems(guild: discord.Guild, mapping: Iterable[PointRole]) -> list[str]:
    """Why the bot cannot manage the guild's point roles now, one sentence each (empty when all
    is well): no Manage Roles, a mapped role deleted, a role it cannot give."""
    problems: list[str] = []
    mapping = list(mapping)
    if mapping and not guild.me.guild_permissions.manage_roles:
        problems.append("The bot lacks the Manage Roles permission, so it gives no point roles.")
    for entry in mapping:
        role = guild.get_role(entry.role_id)
        if role is None:
            problems.append(f"The point role at {entry.threshold} points no longer exists.")
            continue
        problem = role_problem(guild, role)
        if problem is not None:
            problems.append(problem)
    return problems
