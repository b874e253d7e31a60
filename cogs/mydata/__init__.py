"""``/mydata action:export|erase``: a member's own data, in a server (that server's) or in a DM
with the bot (every server's).

- **Where it works.** The command is declared for guild installs and user installs, in servers,
  the DM with the bot and private channels: Discord offers a server-installed app's commands in
  DMs only to members who share a server with it, so a member who left (or was banned from)
  every server installs the app to their account and still exports and erases.
- **Export** (``export``): deferred at once; the JSON (``bot.forum.mydata.export_member``) is
  sent as a DM attachment, or as an ephemeral one when their DMs are closed, in files within
  the interaction's attachment size limit, ten files a message, all within the interaction
  token's 15 minutes.
- **Erase** (``erase``): a confirm button, then ``bot.forum.mydata.erase_member`` in one
  transaction, then its Discord work (``effects``): the bot's starter of their questions
  replaced, their answers' and comments' bot messages deleted, their threads renamed
  ``[removed]``, the DMs the bot sent them deleted. The reply says plainly that what they
  typed themselves in Discord is theirs to delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.mydata._cog import MyData

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(MyData(bot))
