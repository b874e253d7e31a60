"""bot.ui.dms: the notification DMs (a new answer, an accepted answer, a comment; one post or
several), within every limit with user text literal; the author each DM names; the link button."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import discord
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.forum.dm_content import NotificationContent, NotifiedPost
from bot.ui.authors import UNKNOWN_MEMBER
from bot.ui.dms import DM_EXCERPT, dm_accepted, dm_comment, dm_new_answer, render_dm
from bot.ui.text import ELLIPSIS
from tests.bot.ui import (
    HOSTILE,
    HOSTILE_NO_LINKS,
    assert_embed_within_limits,
    hostile_text,
    markup_left,
    shown,
)


def test_dm_new_answer_single_and_coalesced() -> None:
    one = assert_embed_within_limits(dm_new_answer("Sleep?", "Ana", "Try _this_."))
    assert one["title"] == "New answer to “Sleep?”"
    assert one["description"] == "**Ana** answered:\n>>> Try \\_this\\_."
    four = assert_embed_within_limits(dm_new_answer("Sleep?", "Ana and Bo", "Last one", count=4))
    assert four["title"] == "4 new answers to “Sleep?”"
    assert four["description"].startswith("The latest, from **Ana and Bo**:")


def test_dm_new_answer_with_a_10000_character_markdown_excerpt() -> None:
    data = assert_embed_within_limits(
        dm_new_answer(HOSTILE_NO_LINKS, HOSTILE_NO_LINKS, HOSTILE_NO_LINKS, count=2)
    )
    quoted = data["description"].split("\n>>> ", 1)[1]
    assert len(quoted) <= DM_EXCERPT
    assert quoted.endswith(ELLIPSIS)
    assert markup_left(quoted[: -len(ELLIPSIS)]) == []
    assert data["title"].startswith("2 new answers to “") and data["title"].endswith("”")
    assert markup_left(data["title"]) == []


@given(title=hostile_text(), who=hostile_text(), body=hostile_text(200), count=st.integers(1, 50))
def test_dm_new_answer_renders_user_text_literally(
    title: str, who: str, body: str, count: int
) -> None:
    assume("://" not in title + who + body)
    data = assert_embed_within_limits(dm_new_answer(title, who, body, count=count))
    quoted = data["description"].split("\n>>> ", 1)[1]
    if not quoted.endswith(ELLIPSIS) or len(quoted) < DM_EXCERPT:
        assert shown(quoted) in (body.replace("@\u200b", "@"), "(no text)")
    assert markup_left(quoted.removesuffix(ELLIPSIS)) == []


def test_dm_accepted() -> None:
    data = assert_embed_within_limits(dm_accepted("Sleep?", "My **answer**"))
    assert data["title"] == "✅ Your answer was accepted"
    assert data["description"] == "On “Sleep?”\n>>> My \\*\\*answer\\*\\*"
    assert_embed_within_limits(dm_accepted(HOSTILE, HOSTILE))
    assert_embed_within_limits(dm_accepted(None, ""))


def test_dm_comment_single_and_coalesced() -> None:
    one = assert_embed_within_limits(dm_comment("Sleep?", "Ana", "Nice *one*"))
    assert one["title"] == "New comment on your answer to “Sleep?”"
    assert one["description"] == "**Ana** commented:\n>>> Nice \\*one\\*"
    three = assert_embed_within_limits(dm_comment("Sleep?", "Bo", "Last", count=3))
    assert three["title"] == "3 new comments on your answer to “Sleep?”"
    assert three["description"].startswith("The latest, from **Bo**:")
    data = assert_embed_within_limits(dm_comment(HOSTILE_NO_LINKS, HOSTILE_NO_LINKS, HOSTILE))
    assert len(data["description"].split("\n>>> ", 1)[1]) <= DM_EXCERPT


# --------------------------------------------------------------------------- rendering


def content(kind: str, *posts: NotifiedPost, title: str | None = "Sleep?") -> NotificationContent:
    return NotificationContent(
        kind=kind,
        guild_id=1,
        question_id=2,
        question_title=title,
        question_thread_id=3,
        posts=posts,
        cancelled={},
        dm_channel_id=None,
    )


def notified(
    n: int,
    *,
    anonymous: bool = False,
    display_name: str | None = None,
    author_id: int | None = 99,
    message_id: int | None = 500,
    body: str = "text",
) -> NotifiedPost:
    return NotifiedPost(
        notification_id=n,
        post_id=10 + n,
        kind="answer",
        thread_id=3,
        message_id=message_id,
        body=body,
        anonymous=anonymous,
        display_name=display_name,
        author_id=None if anonymous else author_id,
    )


def named_in_dm(post: NotifiedPost, lookup: Callable[[NotifiedPost], str | None]) -> str:
    """Who the DM about ``post`` names as its author."""
    embed, _ = render_dm(content("new_answer", post), lookup)
    match = re.match(r"\*\*(.*)\*\* answered:", embed.description or "")
    assert match is not None, embed.description
    return match.group(1)


def test_author_labels_never_look_up_an_anonymous_author() -> None:
    looked_up: list[int] = []

    def resolve(post: NotifiedPost) -> str | None:
        assert post.author_id is not None
        looked_up.append(post.author_id)
        return "Cached Name"

    assert named_in_dm(notified(1, anonymous=True), resolve) == "Anonymous"
    assert named_in_dm(notified(1, anonymous=True, display_name="Owl"), resolve) == "Owl"
    assert looked_up == []
    assert named_in_dm(notified(1, display_name="Bea"), resolve) == "Bea"
    assert named_in_dm(notified(1), resolve) == "Cached Name"
    assert named_in_dm(notified(1), lambda _: None) == UNKNOWN_MEMBER
    assert named_in_dm(notified(1, author_id=None), resolve) == UNKNOWN_MEMBER


def test_render_single_coalesced_accepted_and_comment() -> None:
    def label(post: NotifiedPost) -> str:  # the client's caches know every named author
        return f"member {post.notification_id}"

    embed, view = render_dm(content("new_answer", notified(1)), label)
    assert embed.title == "New answer to “Sleep?”"
    assert view is not None
    [button] = view.children
    assert isinstance(button, discord.ui.Button)
    assert (button.label, button.url) == (
        "Open the answer",
        "https://discord.com/channels/1/3/500",
    )
    four = [notified(n, message_id=500 + n, body=f"answer {n}") for n in range(1, 5)]
    embed, view = render_dm(content("new_answer", *four), label)
    assert embed.title == "4 new answers to “Sleep?”"
    assert embed.description == "The latest, from **member 4**:\n>>> answer 4"
    assert view is not None and view.children[0].url.endswith("/504")  # type: ignore[attr-defined]
    embed, _ = render_dm(content("accepted", notified(1, body="mine")), label)
    assert embed.title == "✅ Your answer was accepted"
    embed, _ = render_dm(content("comment", notified(1), notified(2)), label)
    assert embed.title == "2 new comments on your answer to “Sleep?”"
    # Without a message id the button opens the thread.
    _, view = render_dm(content("new_answer", notified(1, message_id=None)), label)
    assert view is not None and view.children[0].url == "https://discord.com/channels/1/3"  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        render_dm(content("new_answer"), label)


@pytest.mark.parametrize("kind", ["new_answer", "accepted", "comment", "a_kind_added_later"])
def test_a_private_preview_applies_to_every_kind_and_keeps_the_link(kind: str) -> None:
    post = notified(7, body="Secret body")
    full = content(kind, post, title="Secret title")
    full_embed, full_view = render_dm(full, lambda _: None, "Q&A *Club*")
    no_text = dataclasses.replace(full, preview="no-text")
    embed, view = render_dm(no_text, lambda _: None, "Q&A *Club*")
    assert view is not None and full_view is not None
    links = [[getattr(item, "url", None) for item in v.children] for v in (view, full_view)]
    assert links[0] == links[1] == ["https://discord.com/channels/1/3/500"]
    data = assert_embed_within_limits(embed)
    assert "Q&A \\*Club\\*" in data["title"]
    minimal, _ = render_dm(dataclasses.replace(full, preview="minimal"), lambda _: None, "Q&A Club")
    for private in (data, assert_embed_within_limits(minimal)):
        text = str(private)
        assert "Secret" not in text and "Ana" not in text and "description" not in private
    assert "Club" not in str(minimal.to_dict())
    assert "Secret title" in str(full_embed.to_dict())
    if kind == "a_kind_added_later":  # an unknown kind still gets a private headline
        assert data["title"] == "News from Q&A \\*Club\\*"
        assert minimal.title == "You have news from the Q&A bot"


def test_a_private_dm_of_a_server_the_bot_no_longer_knows() -> None:
    private = dataclasses.replace(content("new_answer", notified(7)), preview="no-text")
    embed, _ = render_dm(private, lambda _: None, None)
    assert embed.title == "New answer to your question in a server"
