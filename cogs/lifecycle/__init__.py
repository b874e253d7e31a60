"""A question's thread over its life: ``/close``, ``/reopen``, and Discord's own edits, deletes
and renames kept in the database.

- **/close [question] [reason] [duplicate_of]** (``closing``; the asker or a moderator, the
  domain decides). ``question`` defaults to the thread the command is used in (``targets``
  reads what was typed). The bot posts a closing message (who closed it, the duplicated
  question's link, the reason), re-renders the status line, links the duplicate from the
  original's thread when the original is open, then archives the thread - and locks it when a
  moderator closed it, so only moderators can post there.
- **/reopen [question]** (``closing``): archived threads take no commands, so a closed question
  is picked in the ``question`` option (autocomplete lists the guild's closed questions). The
  bot unarchives and unlocks the thread, posts a short reopening message and refreshes the
  status line.
- **A message in a closed thread** (``closed_threads``). Discord unarchives an unlocked thread
  when a member writes in it; the domain keeps the message as a comment. The bot tells the
  member once (per member and question, remembered while it runs) that the question is closed,
  and archives the thread again.
- **Discord's own changes** (``discord_sync``). A member's message edited -> the post's text
  (its kind never changes; only when the event carries the content); a message deleted, bulk
  deleted or a thread deleted -> the posts are soft-deleted and their points undone by the
  domain (a deleted starter message deletes its question); a thread renamed -> the question's
  title (a name the bot itself set after /edit is already the title, so nothing loops). The
  status line is refreshed after a change that can move it (a delete, a rename). A member
  leaving the guild changes nothing. After each, the cog dispatches ``qa_synced`` (kind, the
  event, the domain's changes) for whoever follows the stored posts.

``_cog`` wires the listeners and commands to the modules beside it. Edits of the bot's status
line in an archived thread are made by ``bot.workers.status_lines`` (it unarchives, edits and
archives again). Refusals are ``ForumError`` sentences answered ephemerally by ``bot.errors``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.lifecycle._cog import Lifecycle

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Lifecycle(bot))
