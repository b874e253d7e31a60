"""Answering in Discord: thread messages, ``/answer``, ``/reply``, ``/edit``, ``/delete``,
"Accept answer".

- **Thread messages** (``intake``). Every message in a thread is handed to
  ``posts.record_thread_message``, which decides: answer, comment, or nothing (bots' messages are
  never posts, so the echo of a message the bot itself just sent - which may arrive before its
  REST reply - never becomes one; a repeated event returns the post already stored). A forum
  post's starter message is the question itself and is left to the asking cog. After each
  message the cog dispatches ``qa_thread_message`` (message, change or None) for whoever follows
  the conversation.
- **/answer** (``answers``) and **/reply** (``replies``) act on the question the ``question``
  option names (autocomplete; default: this thread's), so an author need not be in the thread.
  /answer opens a modal; /reply takes its text as an option. The post is stored ``pending``,
  the bot posts it as its own message (an embed naming the author, or, when anonymous, their
  per-thread pseudonym "Member N" - the anonymous asker as their question shows them - with the
  pending row's key in its footer) and confirms the row (``on_behalf``). Every reply to the
  member is ephemeral and nothing public names or pings an anonymous author. If Discord
  refuses, the pending row is discarded; if the outcome is unknown (a 5xx), the row is left
  ``pending`` (it counts nothing until the next reconciliation completes or discards it) and
  the error goes to ``bot.errors``, which logs it and apologises.
- **/edit** and **/delete** (``own_posts``, ``editing``, ``deleting``) act on what the bot posted
  for the member in this thread (their /ask question, /answer answers, /reply replies): the
  ``post`` option picks one (autocomplete lists them; a message link or id works too), and
  without it the member's latest such post is meant - the one they most likely want to fix.
  Deleting a question deletes its thread (the question's title and words are the asker's; the
  answers in it were deleted with it in the domain).
- **"Accept answer"** (``acceptance``; a message context menu): the asker or a moderator
  accepts; the thread gets the guild's Solved tag (other tags kept, at most five applied: the
  last other tag makes room), the answer gets the bot's ✅ reaction, and a short notice with a
  jump link is posted and pinned in the thread. Accepting another answer moves the ✅ and edits
  the notice (found among the thread's pins, else its recent messages).
- **An accepted answer deleted in Discord** (by its author or a moderator): the lifecycle cog
  applies the delete and dispatches ``qa_synced``; when the question is then no longer solved,
  the Solved tag and the notice go, as after /delete.
- **Names** (``names``). Without the members intent, the leaderboard and DMs name a member by
  the display name last seen (``members.display_name``): the domain stores it with a new post (a
  thread message that became one, an /answer), in the same transaction, never for an anonymous
  post, whose author nothing may tie to a name; the cog hands it over only when it differs from
  the name this process last stored for the member.

``_cog`` wires the listeners and commands to the modules beside it. Refusals are
``ForumError`` sentences answered ephemerally by ``bot.errors``. Every interaction is answered
at once (a modal or a prompt after one short transaction) or deferred before Discord REST work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.answering._cog import Answering

if TYPE_CHECKING:
    from bot.client import QABot


async def setup(bot: QABot) -> None:
    await bot.add_cog(Answering(bot))
