"""The public archive's consent, members' side (issue 23; the rules: ``bot.forum.publishing``).

- **The asker's button.** The confirmation of ``/ask`` (named or anonymous) carries "Allow in
  the public archive" while the server publishes; a press by the asker is their yes for that
  question. It keeps working after a restart (the question's id is in its ``custom_id``), and
  only the question's author can use it, so an anonymous asker stays anonymous: the reply is
  theirs alone.
- **Publish / unpublish** (Apps menu on a message): the author's own choice for one post,
  question, answer or comment, flipped; refused on anyone else's post.
- **/privacy**: the member's default for posts without a choice of their own, whether their
  name is shown, what of theirs is published now (counts and links), and **Withdraw all**,
  which unpublishes everything of theirs in the server in one press.

The server's side (``publishing``, ``archive_categories``, ``archive_invite``) is in
``/qa settings`` (``cogs.admin``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.archive._cog import Archive

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Archive(bot))
