"""Admin: the ``/qa`` group, for server managers (Manage Server).

``/qa`` is declared once, with every subcommand, by this cog alone, whatever else is loaded:
``/qa setup``, ``/qa settings show|set|reset``, ``/qa status`` (the DM outbox) and
``/qa roles add|remove|show`` (point roles). Discord hides ``/qa`` from members without Manage
Server (``default_permissions``), but that is only the client's doing and a server can change
it: every command checks the permission again. The package, python-discord's ``help_channels``
way:

- ``_cog``: the group and its commands, wired to the modules beside it;
- ``forum_setup``: ``/qa setup``;
- ``guild_settings``: ``/qa settings show|set|reset``;
- ``categories``: categories added or removed with their forum tags;
- ``forum_tags``: tag edits under a per-guild lock, on a freshly fetched forum;
- ``point_roles``: ``/qa roles``, handing the members to the bot's ``RoleSync``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.admin._cog import Admin

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Admin(bot))
