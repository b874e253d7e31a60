"""Moderation: the ``/mod`` group, for moderators (Manage Threads by default).

``default_member_permissions`` applies to a top-level command only, and ``/qa`` needs Manage
Server: a moderator with Manage Threads alone would never see a ``/qa`` subcommand, so the
moderators' commands are a top-level group of their own. Discord's default is only the client's
doing and a server can change it: every command checks the moderator rule again
(``bot.guilds.acting``: Manage Threads in the Q&A forum, or the guild's moderator role).

- ``_cog``: the group and its commands;
- ``pages``: ``/mod log`` and ``/mod queue``, a page at a time (``AuditPages``, ``QueuePages``,
  restart-proof buttons);
- ``moderators``: the moderator rule every command and button checks (``moderator``);
- ``reports``: the Report menu, report cards and their Dismiss button;
- ``actions``: Remove, Restore and Block author (buttons on a report card and on the
  "Moderate post" panel);
- ``blocks``: ``/mod blocks`` and its Unblock buttons;
- ``stats``: ``/mod stats``, community health (figures, CSV, chart);
- ``premod``: the Approve / Reject buttons of a post held for review (``bot.premod``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.moderation._cog import Moderation

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Moderation(bot))
