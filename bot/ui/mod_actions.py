"""What moderators read when they act through a post (remove, restore, block) and in
``/mod blocks``; and the notice a removed ``/ask`` question's starter shows.

Nothing here names the author of a post: a post is shown by its kind, number, link and text, a
block by the post it was made through; so none of it can unmask an anonymous member.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import discord

from bot.forum.blocks import BlockInForce, BlockScope
from bot.forum.imported import LinkResult
from bot.forum.results import PostSnapshot
from bot.ui import emoji
from bot.ui.embeds import (
    COLOUR_CLOSED,
    COLOUR_INFO,
    COLOUR_WARNING,
    fit,
    list_embed,
    new_embed,
    quoted_title,
    set_author,
)
from bot.ui.text import escape, excerpt, jump_url, plural

#: Longest excerpt of a post a moderator's panel shows.
PANEL_EXCERPT: Final = 1500
KIND_WORDS: Final = {"question": "Question", "answer": "Answer", "comment": "Reply"}
SCOPE_WORDS: Final[dict[BlockScope, str]] = {
    "anonymous": "from posting anonymously",
    "all": "from posting through the bot",
}
REMOVED_NOTICE: Final = "This question was removed by a moderator."


def _timestamp(dt: datetime, style: str = "f") -> str:
    return f"<t:{int(dt.timestamp())}:{style}>"


def post_link(post: PostSnapshot) -> str | None:
    if post.thread_id is None:
        return None
    message_id = post.message_id if post.kind != "question" else None
    return jump_url(post.guild_id, post.thread_id, message_id)


def moderation_panel(post: PostSnapshot, question: PostSnapshot) -> discord.Embed:
    """The "Moderate post" reply: which post (kind, number, link), its state and its text."""
    kind = KIND_WORDS.get(post.kind, "Post")
    title = f"{kind} #{post.id}"
    lines = []
    if post.kind != "question":
        lines.append(quoted_title("On ", question.title, 300))
    else:
        lines.append(quoted_title("", question.title, 300))
    if post.removed_at is not None:
        lines.append(f"{emoji.WARNING} Removed {_timestamp(post.removed_at, 'R')}")
    link = post_link(post)
    if link is not None:
        lines.append(f"[Open the post]({link})")
    lines.append(f">>> {excerpt(post.body, PANEL_EXCERPT) or '(no text)'}")
    colour = COLOUR_CLOSED if post.removed_at is not None else COLOUR_INFO
    return fit(new_embed(colour=colour, title=title, description="\n".join(lines)))


def removed_text(post: PostSnapshot, *, discord_done: bool) -> str:
    what = KIND_WORDS.get(post.kind, "Post").lower()
    text = f"{emoji.SUCCESS} The {what} #{post.id} is removed; its author is told by DM."
    if post.kind == "question":
        text += " Its thread is locked and archived."
    return text if discord_done else f"{text}\n{DISCORD_PARTLY}"


def restored_text(post: PostSnapshot, *, discord_done: bool) -> str:
    what = KIND_WORDS.get(post.kind, "Post").lower()
    text = f"{emoji.SUCCESS} The {what} #{post.id} is restored."
    link = post_link(post)
    if link is not None:
        text += f" [Open it]({link})"
    return text if discord_done else f"{text}\n{DISCORD_PARTLY}"


#: Said when a Discord step of a moderator's action was refused (logged with ids).
DISCORD_PARTLY: Final = (
    "Discord refused part of it (the bot may lack Manage Messages or Manage Threads there)."
)


def blocked_text(block: BlockInForce) -> str:
    until = f"until {_timestamp(block.ends_at)}" if block.ends_at else "until a moderator lifts it"
    return (
        f"{emoji.SUCCESS} The author of post #{block.post_id} is blocked "
        f"{SCOPE_WORDS[block.scope]} {until} (block #{block.id})."
    )


def unblocked_text(block: BlockInForce) -> str:
    return f"{emoji.SUCCESS} Block #{block.id} (made through post #{block.post_id}) is lifted."


def block_line(block: BlockInForce) -> str:
    """``#3 · from posting anonymously · through post #12 · ends <t:…:f>``."""
    through = f"post #{block.post_id}"
    if block.thread_id is not None:
        through = f"[{through}]({jump_url(block.guild_id, block.thread_id, block.message_id)})"
    ends = f"ends {_timestamp(block.ends_at)}" if block.ends_at else "until lifted"
    return f"**#{block.id}** · {SCOPE_WORDS[block.scope]} · through {through} · {ends}"


def blocks_embed(blocks: list[BlockInForce], total: int) -> discord.Embed:
    """``/mod blocks``: the blocks in force, soonest end first, at most as many as shown."""
    lines = [block_line(block) for block in blocks]
    shown = f"Showing the {plural(len(blocks), 'block')} ending soonest"
    return list_embed(
        f"Blocks in force ({total})",
        lines,
        empty="No block is in force.",
        footer=shown if total > len(blocks) else None,
        colour=COLOUR_WARNING,
    )


def removed_question_notice(author: str | None) -> discord.Embed:
    """What a removed ``/ask`` question's starter shows instead of the question (its author
    line kept, so a restore can render the question again as it was)."""
    embed = new_embed(colour=COLOUR_CLOSED, description=REMOVED_NOTICE)
    if author:
        set_author(embed, author)
    return fit(embed)


def linked_text(result: LinkResult, member_mention: str) -> str:
    """``/mod link-imported`` done: what moved (the handle is imported text: no pings)."""
    merged = ""
    if result.votes_collapsed or result.self_votes_dropped:
        merged = (
            f" Where both had voted on a post, theirs stayed "
            f"({plural(result.votes_collapsed, 'vote')} merged); "
            f"{plural(result.self_votes_dropped, 'vote')} on their own posts dropped."
        )
    return (
        f"Linked the imported handle **{escape(result.handle)}** to {member_mention}: "
        f"{plural(result.posts, 'post')} and {plural(result.votes, 'vote')} are theirs now, "
        f"and points were recomputed.{merged}"
    )
