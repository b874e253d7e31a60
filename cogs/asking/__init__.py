"""Asking: ``/ask`` posts a question as a forum post, and native forum posts are adopted.

``/ask [category] [anonymous]`` opens the "Ask a question" form (after refusing at once what
would be refused anyway: no forum, no permission there, a missing tag, the hourly limit, and
with ``anonymous:true`` the server's anonymity switch and minimum days). An anonymous question is
posted by the bot under the chosen display name or "Anonymous", mentions nobody, and every answer
to its asker is ephemeral. The package, python-discord's ``help_channels`` way:

- ``_cog``: the listeners and the command, wired to the modules beside it;
- ``form``: the form and what its submission does;
- ``anonymity``: who may ask anonymously, and the display name they chose, checked against the
  names Discord's member search finds;
- ``gate``: the similar-questions gate, which may hold a question behind similar ones, and its
  "Post my question anyway" / "Cancel" buttons, which work after a restart;
- ``publishing``: where a question goes, and posting a stored question in the forum;
- ``adoption``: threads members create directly in the Q&A forum become questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.asking._cog import Asking

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Asking(bot))
