"""bot.ui.embeds: the footer key travels intact, one colour scheme for the replies, and ``fit``
and ``embed_problems`` keep every embed within Discord's limits."""

from __future__ import annotations

import json

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.references import MAX_ID
from bot.ui import embeds
from bot.ui.embeds import (
    embed_problems,
    error,
    fit,
    footer_key_text,
    info,
    parse_footer_key,
    parse_footer_text,
    success,
)
from bot.ui.questions import answer_embed, question_embed
from tests.bot.ui import HOSTILE, assert_embed_within_limits

# --------------------------------------------------------------------------- footer keys


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_footer_key_round_trips_through_discord_json(post_id: int) -> None:
    embed = answer_embed("body", "name", post_id)
    assert embed.footer.text == footer_key_text(post_id)
    received = discord.Embed.from_dict(json.loads(json.dumps(embed.to_dict())))
    assert parse_footer_key(received) == post_id


def test_a_footer_key_past_64_bits_names_no_post() -> None:
    assert parse_footer_text(footer_key_text(MAX_ID + 1)) is None


@pytest.mark.parametrize(
    "footer",
    [None, "", "qa:post:", "qa:post:x", "qa:post:12x", "xqa:post:1", "qa:posts:1", "qa:post:-1"],
)
def test_footers_without_a_key(footer: str | None) -> None:
    assert parse_footer_text(footer) is None
    embed = discord.Embed(description="x")
    if footer:
        embed.set_footer(text=footer)
    assert parse_footer_key(embed) is None


def test_footer_key_inside_a_longer_footer() -> None:
    assert parse_footer_text("Answer · qa:post:42") == 42
    assert parse_footer_text("qa:post:42 · edited") == 42


# --------------------------------------------------------------------------- replies


def test_error_success_info_share_one_colour_scheme() -> None:
    assert error("No.").colour == discord.Colour(embeds.COLOUR_ERROR)
    assert success("Done.").colour == discord.Colour(embeds.COLOUR_SUCCESS)
    assert info("Note.").colour == discord.Colour(embeds.COLOUR_INFO)
    assert error("Use `/ask`.").description == "Use `/ask`."  # our own sentence, as written
    assert_embed_within_limits(error(HOSTILE))
    colours = {
        embeds.COLOUR_QUESTION,
        embeds.COLOUR_ANSWER,
        embeds.COLOUR_SOLVED,
        embeds.COLOUR_CLOSED,
        embeds.COLOUR_SUCCESS,
        embeds.COLOUR_WARNING,
        embeds.COLOUR_ERROR,
    }
    assert len(colours) == 7


# --------------------------------------------------------------------------- fit


def test_fit_shrinks_the_description_first_then_fields() -> None:
    embed = discord.Embed(title="t" * 256, description="d" * 4096)
    embed.set_author(name="a" * 256)
    embed.set_footer(text="f" * 100)
    for i in range(5):
        embed.add_field(name=f"n{i}", value="v" * 1024)
    assert len(embed) > 6000
    fit(embed)
    data = assert_embed_within_limits(embed)
    assert len(data["fields"]) == 5 and len(data["description"]) < 4096
    assert data["title"] == "t" * 256 and data["footer"]["text"] == "f" * 100

    crowded = discord.Embed(title="t" * 256)
    crowded.set_author(name="a" * 256)
    for _ in range(25):
        crowded.add_field(name="n" * 256, value="v" * 1024)
    fit(crowded)
    data = assert_embed_within_limits(crowded)
    assert 0 < len(data["fields"]) < 25
    assert data["fields"][0]["value"] == "v" * 1024  # fields go from the last one


def test_fit_as_a_last_resort_cuts_footer_title_and_author() -> None:
    embed = discord.Embed(title="t" * 1000)
    embed.set_author(name="a" * 3000)
    embed.set_footer(text="f" * 4000)
    fit(embed)
    assert len(embed) <= 6000
    assert embed.title == "t" * 1000
    assert embed_problems(embed)  # over the per-part limits: fit only guards the total


def test_embed_problems_reports_every_limit() -> None:
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    embed.set_author(name="a" * 300)
    embed.set_footer(text="f" * 3000)
    for _ in range(26):
        embed.add_field(name="n", value="v" * 1100)
    problems = embed_problems(embed)
    for part in ("title", "description", "author name", "footer", "26 > 25 fields", "total"):
        assert any(part in p for p in problems), part
    assert embed_problems(question_embed("t", "d", "a", None, "s", 1)) == []


# --------------------------------------------------------------------------- lists


def test_a_list_shows_its_lines_or_the_empty_sentence_and_its_page() -> None:
    listed = embeds.list_embed(
        "Things (2)", ["one", "two"], empty="Nothing.", footer=embeds.page_footer(2, 5, "newest")
    )
    assert listed.description == "one\ntwo" and listed.colour == discord.Colour(embeds.COLOUR_INFO)
    assert listed.footer.text == "Page 2 of 5 · newest"
    bare = embeds.list_embed("Things (0)", [], empty="Nothing.", colour=embeds.COLOUR_WARNING)
    assert bare.description == "Nothing." and bare.footer.text is None
    assert bare.colour == discord.Colour(embeds.COLOUR_WARNING)
    assert embeds.page_footer(1, 1) == "Page 1 of 1"
