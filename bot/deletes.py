"""What follows a delete the domain made, wherever it came from (``/delete``, a message or a
thread deleted in Discord): the deleted words leave the database files (``bot.purger``), and
``qa_post_deleted(guild_id, post_id)`` is dispatched, on which the moderation cog edits the
report cards of the post and of everything deleted with it, so they no longer show its text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.forum.results import PostChange

if TYPE_CHECKING:
    from bot.client import QABot


def after_delete(bot: QABot, change: PostChange | None) -> bool:
    """Whether ``change`` deleted a post; if so the purger is woken and the event dispatched."""
    if change is None or not change.changed or not change.post.deleted:
        return False
    bot.purger.wake()
    bot.dispatch("qa_post_deleted", change.post.guild_id, change.post.id)
    return True
