"""Lookups: the snapshots callers read, such as the bot's posts of one author in a thread."""

from __future__ import annotations

from bot.forum import (
    lookups,
    posts,
)
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    NOW,
    OTHER,
    VOTER,
    Forum,
)


async def test_bot_posts_of_author_lists_only_their_live_bot_posts(forum: Forum) -> None:
    q = await forum.ask()  # /ask: posted by the bot for the asker
    assert q.thread_id is not None
    thread_id = q.thread_id
    first = await forum.answer(q, ANSWERER)
    second = await forum.answer(q, ANSWERER, "A second answer, posted by the bot too.")
    await forum.post_of(q, ANSWERER)  # the answerer's own message: not the bot's
    await forum.answer(q, OTHER)  # someone else's
    gone = await forum.answer(q, ANSWERER, "An answer that will be deleted soon.")
    await forum.delete(gone)
    await forum.run(
        lambda s: posts.post_answer(
            s,
            post=posts.MemberPost(GUILD, author_id=ANSWERER, body=LONG, question_id=q.id),
            now=NOW,
        )
    )  # still pending: not on Discord yet

    async def listed(author: int, thread: int = thread_id) -> list[int]:
        found = await forum.run(
            lambda s: lookups.bot_posts_of_author(
                s, guild_id=GUILD, thread_id=thread, author_id=author
            )
        )
        return [p.id for p in found]

    assert await listed(ANSWERER) == [first.id, second.id]
    assert await listed(ASKER) == [q.id]
    assert await listed(VOTER) == []
    assert await listed(ANSWERER, thread=thread_id + 1) == []
