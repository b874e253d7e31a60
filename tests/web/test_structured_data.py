"""The question page's JSON-LD, read by a real parser (extruct), property by property, and the
read-only engine refusing a write on both backends."""

from __future__ import annotations

from typing import Any

import extruct
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.db.engine import create_engine
from bot.forum.publishing import WITHHELD
from bot.web.render import slug
from tests.web.conftest import ACCEPTED, BASE, LATER, TITLE, Archive

#: Google's discussion-forum guidelines: required, then recommended, on the posting.
POSTING_PROPERTIES = (
    "author", "datePublished", "text",
    "comment", "creativeWorkStatus", "dateModified", "headline", "interactionStatistic",
    "isPartOf", "mainEntityOfPage", "url",
)  # fmt: skip
COMMENT_PROPERTIES = ("author", "datePublished", "text", "url", "interactionStatistic")


async def posting_of(archive: Archive) -> dict[str, Any]:
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    _, html, _ = await archive.get(path)
    found = extruct.extract(html, base_url=f"{BASE}{path}", syntaxes=["json-ld"])["json-ld"]
    assert [item["@type"] for item in found] == ["DiscussionForumPosting"]
    item: dict[str, Any] = found[0]
    return item


async def test_the_question_page_is_a_discussion_forum_posting(archive: Archive) -> None:
    posting = await posting_of(archive)
    url = f"{BASE}/q/{archive.question.id}/{slug(TITLE)}"
    for name in POSTING_PROPERTIES:
        assert posting.get(name) not in (None, "", []), name
    assert posting["@context"] == "https://schema.org"
    assert posting["headline"] == TITLE and posting["url"] == url
    assert posting["author"] == {"@type": "Person", "name": "A member"}
    assert posting["creativeWorkStatus"] == "Solved"
    assert posting["isPartOf"]["url"] == f"{BASE}/s/1/c/Sleep/"
    counters = {
        c["interactionType"]: c["userInteractionCount"] for c in posting["interactionStatistic"]
    }
    assert counters == {"https://schema.org/ReplyAction": 2, "https://schema.org/LikeAction": 0}
    accepted, later = posting["comment"]
    for comment in (accepted, later):
        for name in COMMENT_PROPERTIES:
            assert comment.get(name) not in (None, "", []), name
        assert comment["datePublished"].startswith("2030-01-01T12:00:00")
    # The accepted answer is marked by its type and comes first, with a direct anchor.
    assert accepted["@type"] == "Answer" and later["@type"] == "Comment"
    assert accepted["text"] == ACCEPTED and accepted["author"]["name"] == "Bob Answerer"
    assert accepted["url"] == f"{url}#p{archive.accepted.id}"
    assert later["text"] == LATER and later["author"]["name"] == "A member"
    assert later["interactionStatistic"][0]["userInteractionCount"] == 1
    assert all("url" not in c["author"] for c in posting["comment"])  # no profile link


async def test_a_withheld_answer_is_not_in_the_structured_data(archive: Archive) -> None:
    await archive.forum.answer(archive.question, 555, "Not for the web.")
    posting = await posting_of(archive)
    assert len(posting["comment"]) == 2
    assert all(
        c["text"] not in ("Not for the web.", WITHHELD["answer"]) for c in posting["comment"]
    )


async def test_the_web_engine_refuses_a_write_and_reads(db_url: str, archive: Archive) -> None:
    engine = create_engine(db_url, read_only=True)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM posts"))).scalar_one() == 3
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match=r"(?i)read-?only"):
                await conn.execute(text("DELETE FROM posts"))
        if db_url.startswith("sqlite"):
            async with engine.connect() as conn:
                flag = await conn.exec_driver_sql("PRAGMA query_only")
                assert flag.scalar_one() == 1
    finally:
        await engine.dispose()
