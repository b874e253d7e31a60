"""Edits of questions and posts, from commands and from Discord, with each refusal's sentence."""

from __future__ import annotations

from typing import Any

import pytest

from bot.forum import (
    edits,
)
from bot.forum.errors import (
    InvalidState,
    PermissionDenied,
    ValidationError,
)
from bot.forum.rights import Actor
from tests.bot.forum.core_support import (
    ANSWERER,
    ASKER,
    GUILD,
    LONG,
    MODERATOR,
    NOW,
    OTHER,
    Forum,
)


async def test_edit_by_asker_or_moderator_and_refusals(forum: Forum) -> None:
    q = await forum.ask()
    edited = await forum.run(
        lambda s: edits.edit_question(
            s,
            edit=edits.QuestionEdit(q.id, title=" New title ", details="More"),
            actor=Actor(ASKER),
            now=NOW,
        )
    )
    assert (edited.post.title, edited.post.body, edited.changed) == ("New title", "More", True)
    same = await forum.run(
        lambda s: edits.edit_question(
            s, edit=edits.QuestionEdit(q.id, title="New title"), actor=Actor(ASKER)
        )
    )
    assert not same.changed
    by_mod = await forum.run(
        lambda s: edits.edit_question(
            s,
            edit=edits.QuestionEdit(q.id, title="Fixed"),
            actor=Actor(MODERATOR, is_moderator=True),
        )
    )
    assert by_mod.post.title == "Fixed"
    with pytest.raises(PermissionDenied) as err:
        await forum.run(
            lambda s: edits.edit_question(
                s, edit=edits.QuestionEdit(q.id, title="Mine"), actor=Actor(OTHER)
            )
        )
    assert str(err.value) == "Only the asker or a moderator can edit this question."
    with pytest.raises(ValidationError):
        await forum.run(
            lambda s: edits.edit_question(
                s, edit=edits.QuestionEdit(q.id, title=" "), actor=Actor(ASKER)
            )
        )
    assert (await forum.get(q.id)).title == "Fixed"


async def test_a_thread_renamed_in_discord_renames_its_question(forum: Forum) -> None:
    q = await forum.ask(title="Old title")
    assert q.thread_id is not None
    thread_id = q.thread_id

    async def rename(name: str) -> Any:
        return await forum.run(
            lambda s: edits.rename_question_by_thread(
                s, thread_id=thread_id, name=name, guild_id=GUILD, now=NOW
            )
        )

    renamed = await rename("  A better\ntitle  ")
    assert renamed.changed and renamed.post.title == "A better title"
    # The same name again (the bot's own rename coming back from Discord) changes nothing.
    assert not (await rename("A better title")).changed
    with pytest.raises(ValidationError):
        await rename("\u200b\u3164")
    assert (await forum.get(q.id)).title == "A better title"
    # Nobody's rights are checked (Discord allowed the rename); a closed question is renamed too.
    await forum.close(q, actor=MODERATOR, is_moderator=True)
    assert (await rename("Closed, renamed")).post.title == "Closed, renamed"
    # Another guild's thread id, an unknown thread or a deleted question: nothing to rename.
    assert (
        await forum.run(
            lambda s: edits.rename_question_by_thread(
                s, thread_id=thread_id, name="x", guild_id=GUILD + 1
            )
        )
        is None
    )
    assert (
        await forum.run(lambda s: edits.rename_question_by_thread(s, thread_id=123_456, name="x"))
        is None
    )
    await forum.delete(q)
    assert await rename("After delete") is None
    await forum.check()


async def test_edits_change_the_body_never_the_kind(forum: Forum) -> None:
    q = await forum.ask()
    c = await forum.post_of(q, ANSWERER, "short")
    assert c.message_id is not None
    mid = c.message_id
    edited = await forum.run(lambda s: edits.edit_message(s, message_id=mid, body=LONG))
    assert edited is not None and edited.post.body == LONG and edited.post.kind == "comment"
    same = await forum.run(lambda s: edits.edit_message(s, message_id=mid, body=LONG))
    assert same is not None and not same.changed
    assert await forum.run(lambda s: edits.edit_message(s, message_id=1, body="x")) is None


async def test_edit_post_is_for_the_author_of_a_bot_posted_answer(forum: Forum) -> None:
    q = await forum.ask()
    a = await forum.answer(q, ANSWERER)
    edited = await forum.run(
        lambda s: edits.edit_post(s, actor=Actor(ANSWERER), post_id=a.id, body="Better answer")
    )
    assert edited.post.body == "Better answer"
    with pytest.raises(PermissionDenied) as err:
        await forum.run(lambda s: edits.edit_post(s, actor=Actor(OTHER), post_id=a.id, body="x"))
    assert str(err.value) == "Only its author can edit this."
    native = await forum.post_of(q, OTHER)
    with pytest.raises(InvalidState) as direct:
        await forum.run(
            lambda s: edits.edit_post(s, actor=Actor(OTHER), post_id=native.id, body="x")
        )
    assert str(direct.value) == "Edit your own message on Discord directly."
