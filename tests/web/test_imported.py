"""Imported history through the web archive (issue 27): an imported author's question is
published only when the server sets ``archive_imported``, and its page never names an imported
author (not the Q2A handle, not the name an anonymous Q2A post was given)."""

from __future__ import annotations

from sqlalchemy import update

from bot.db.models import Post
from bot.forum import leaderboard
from bot.forum.settings import set_setting
from bot.web.render import slug
from tests.bot.forum.core_support import GUILD
from tests.web.conftest import Archive

HANDLE = "carol_q2a"
ANON_NAME = "Worried parent"
TITLE = "Imported: waking at four every night"
SYNTHETIC = -3


async def test_imported_history_is_published_when_allowed_and_never_names_its_authors(
    archive: Archive,
) -> None:
    forum = archive.forum
    question = await forum.ask(SYNTHETIC, TITLE, "Every night at four.", category="Sleep")
    await forum.answer(question, -(2**40 + 9), "Anonymous advice from the old site.")

    async def as_imported(session: object) -> None:
        assert hasattr(session, "execute")
        await session.execute(
            update(Post)
            .where(Post.question_id == question.id)
            .values(anonymous=True, display_name=ANON_NAME)
        )
        await session.execute(
            update(Post).where(Post.id == question.id).values(display_name=HANDLE)
        )
        await leaderboard.remember_display_names(
            session,  # type: ignore[arg-type]
            guild_id=GUILD,
            names={SYNTHETIC: HANDLE},
        )

    await forum.run(as_imported)
    path = f"/q/{question.id}/{slug(TITLE)}"
    status, _, _ = await archive.get(path)
    assert status == 404  # off by default
    await forum.run(lambda s: set_setting(s, GUILD, "archive_imported", True))
    status, body, _ = await archive.get(path)
    assert status == 200
    assert TITLE in body and "Anonymous advice from the old site." in body
    assert HANDLE not in body and ANON_NAME not in body
    assert "A member" in body and "Anonymous" in body
