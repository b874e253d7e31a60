"""bot.ui.authors: the one author label. An anonymous post shows its chosen name or "Anonymous"
and nothing else about its author is consulted; a named post shows the first name its caller
knows, else what a lookup finds, else a fallback. (The DM path: test_dms.py.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import discord

from bot.ui.authors import ANONYMOUS, MEMBER, author_label, shown_author
from bot.ui.questions import question_message_embed
from tests.bot.ui import question_view


def test_an_anonymous_post_shows_its_chosen_name_on_one_line_else_anonymous() -> None:
    assert author_label(question_view(anonymous=True, display_name="  Night owl \n")) == "Night owl"
    assert author_label(question_view(anonymous=True, display_name="   ")) == ANONYMOUS
    assert author_label(question_view(anonymous=True)) == ANONYMOUS


def test_an_anonymous_post_never_shows_or_looks_up_its_authors_name() -> None:
    def lookup() -> str:
        raise AssertionError("an anonymous author was looked up")

    anonymous = question_view(anonymous=True, display_name="Sam")
    assert author_label(anonymous, "alice", lookup=lookup) == "Sam"
    assert author_label(question_view(anonymous=True), "alice", lookup=lookup) == ANONYMOUS


def test_a_named_post_shows_the_first_name_known_then_the_lookup_then_the_fallback() -> None:
    named = question_view()
    assert author_label(named, None, "", "alice", "bob") == "alice"
    assert author_label(named, None, lookup=lambda: "cached") == "cached"
    assert author_label(named, "alice", lookup=lambda: "cached") == "alice"
    assert author_label(named, lookup=lambda: None) == MEMBER
    assert author_label(named) == MEMBER
    assert author_label(named, unknown="A member") == "A member"


def test_the_author_line_is_kept_for_named_askers_and_never_shown_for_anonymous_ones() -> None:
    shown = question_message_embed(question_view(), "alice")
    assert author_label(question_view(), shown.author.name) == "alice"
    assert author_label(question_view(), None) == "Member"
    anonymous = question_view(anonymous=True, display_name="Sam")
    assert author_label(anonymous, shown.author.name) == "Sam"
    assert author_label(question_view(anonymous=True), shown.author.name) == "Anonymous"


def _message(*embeds: discord.Embed) -> discord.Message:
    """A stand-in for a received message: only its embeds are read."""
    return cast(discord.Message, SimpleNamespace(embeds=list(embeds)))


def test_shown_author_reads_the_first_embeds_author_line() -> None:
    embed = question_message_embed(question_view(), "alice")
    assert shown_author(_message(embed, discord.Embed(description="x"))) == "alice"
    assert shown_author(_message()) is None
    assert shown_author(_message(discord.Embed(description="no author line"))) is None
