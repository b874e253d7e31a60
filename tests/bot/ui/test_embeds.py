"""bot.ui.embeds: every builder stays within every embed limit, escapes user text, and the
footer key travels intact."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.forum.outbox import OutboxStats
from bot.forum.results import MemberPoints, PostSnapshot
from bot.ui import embeds
from bot.ui.embeds import (
    ANONYMOUS,
    LeaderboardRow,
    accepted_notice,
    anonymous_label,
    answer_embed,
    dm_accepted,
    dm_comment,
    dm_new_answer,
    embed_problems,
    error,
    fit,
    footer_key_text,
    info,
    leaderboard_page,
    outbox_status,
    parse_footer_key,
    parse_footer_text,
    profile,
    question_embed,
    related_questions_line,
    search_results,
    settings_table,
    setup_report,
    similar_questions,
    status_line,
    status_line_of,
    success,
    unanswered_page,
)
from bot.ui.text import ELLIPSIS, jump_url
from tests.bot.ui import (
    assert_embed_within_limits,
    hostile_text,
    long_hostile_text,
    markup_left,
    shown,
)

HOSTILE = long_hostile_text(10_000, seed=1)
HOSTILE_NO_LINKS = HOSTILE.replace("://", ":/")
SNOWFLAKE = st.integers(min_value=0, max_value=2**64 - 1)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def question_view(**overrides: Any) -> PostSnapshot:
    values: dict[str, Any] = {
        "id": 7,
        "guild_id": 1,
        "kind": "question",
        "question_id": None,
        "parent_id": None,
        "thread_id": 555,
        "message_id": 555,
        "status_message_id": None,
        "author_id": 424242424242424242,
        "anonymous": False,
        "via_bot": True,
        "display_name": None,
        "title": "How do I sleep better?",
        "body": "details",
        "category": "General",
        "status": "open",
        "state": "live",
        "closed_reason": None,
        "closed_by_moderator": False,
        "duplicate_of_id": None,
        "accepted_answer_id": None,
        "score": 0,
        "upvotes": 0,
        "downvotes": 0,
        "answer_count": 0,
        "created_at": NOW,
        "closed_at": None,
        "deleted_at": None,
    }
    values.update(overrides)
    return PostSnapshot(**values)


# --------------------------------------------------------------------------- status line


def test_status_line() -> None:
    assert status_line(3, 2, True, False) == "▲ 3 · 2 answers · ✅ Solved"
    assert status_line(0, 1, False, False) == "▲ 0 · 1 answer"
    assert status_line(-2, 0, False, True) == "▼ 2 · 0 answers · 🔒 Closed"
    assert status_line(5, 4, True, True) == "▲ 5 · 4 answers · ✅ Solved · 🔒 Closed"


def test_status_line_of_a_domain_question() -> None:
    view = question_view(score=4, answer_count=3, accepted_answer_id=9)
    assert status_line_of(view) == "▲ 4 · 3 answers · ✅ Solved"
    closed = question_view(closed_at=NOW)
    assert status_line_of(closed) == "▲ 0 · 0 answers · 🔒 Closed"


# --------------------------------------------------------------------------- questions, answers


def test_question_embed_layout() -> None:
    embed = question_embed(
        "Why **me**?", "I *really* wonder.", "Sam", "Anxiety", status_line(1, 0, False, False), 12
    )
    data = assert_embed_within_limits(embed)
    assert data["title"] == r"Why \*\*me\*\*?"
    assert data["description"] == "I *really* wonder."  # the author's markdown is kept
    assert data["author"]["name"] == "Sam"
    assert data["footer"]["text"] == "qa:post:12"
    assert [(f["name"], f["value"]) for f in data["fields"]] == [
        ("Status", "▲ 1 · 0 answers"),
        ("Category", "Anxiety"),
    ]
    assert data["color"] == embeds.COLOUR_QUESTION


def test_question_embed_colours_follow_the_state() -> None:
    args = ("t", "d", "a", None, "s", None)
    assert question_embed(*args).colour == discord.Colour(embeds.COLOUR_QUESTION)
    assert question_embed(*args, solved=True).colour == discord.Colour(embeds.COLOUR_SOLVED)
    closed = question_embed(*args, solved=True, closed=True)
    assert closed.colour == discord.Colour(embeds.COLOUR_CLOSED)
    assert closed.footer.text is None and closed.fields[0].name == "Status"
    assert len(closed.fields) == 1  # no category


def test_question_body_mentions_never_render_even_with_markdown_kept() -> None:
    embed = question_embed("t", "hi @everyone <@123> <@&4> **ok**", "a", None, "s", 1)
    assert embed.description == "hi @\u200beveryone \\<@\u200b123> \\<@\u200b&4> **ok**"
    plain = question_embed("t", "**ok**", "a", None, "s", 1, markdown=False)
    assert plain.description == r"\*\*ok\*\*"


def test_anonymous_question_shows_no_id() -> None:
    author_id = 424242424242424242
    embed = question_embed(
        "t", "d", anonymous_label(None), "General", status_line(0, 0, False, False), 99
    )
    data = assert_embed_within_limits(embed)
    assert data["author"]["name"] == ANONYMOUS
    assert str(author_id) not in json.dumps(data)
    assert anonymous_label("  Night owl \n") == "Night owl"
    assert anonymous_label("   ") == ANONYMOUS


@given(
    title=hostile_text(),
    details=hostile_text(200),
    author=hostile_text(),
    category=st.one_of(st.none(), hostile_text()),
    status=hostile_text(),
    key=st.one_of(st.none(), SNOWFLAKE),
    markdown=st.booleans(),
)
def test_question_embed_within_limits_for_any_input(
    title: str,
    details: str,
    author: str,
    category: str | None,
    status: str,
    key: int | None,
    markdown: bool,
) -> None:
    embed = question_embed(title, details, author, category, status, key, markdown=markdown)
    assert_embed_within_limits(embed)
    assert embed_problems(embed) == []
    assert parse_footer_key(embed) == key


def test_question_embed_with_10000_hostile_characters_everywhere() -> None:
    embed = question_embed(HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, 2**63)
    data = assert_embed_within_limits(embed)
    assert data["description"].endswith(ELLIPSIS)
    assert parse_footer_key(embed) == 2**63
    rendered = [data["title"], data["description"], *(f["value"] for f in data["fields"][1:])]
    assert all("@everyone" not in part for part in rendered)


@given(body=hostile_text(200), author=hostile_text(), key=st.one_of(st.none(), SNOWFLAKE))
def test_answer_embed_within_limits(body: str, author: str, key: int | None) -> None:
    embed = answer_embed(body, author, key)
    assert_embed_within_limits(embed)
    assert parse_footer_key(embed) == key


def test_answer_embed_layout_and_huge_body() -> None:
    data = assert_embed_within_limits(answer_embed("Try *this*.", "Member 2", 5))
    assert data["author"]["name"] == "Member 2"
    assert data["description"] == "Try *this*."
    assert data["footer"]["text"] == "qa:post:5"
    assert data["color"] == embeds.COLOUR_ANSWER
    huge = assert_embed_within_limits(answer_embed(HOSTILE, HOSTILE, 5))
    assert len(huge["description"]) <= 4096


def test_accepted_notice() -> None:
    url = jump_url(1, 2, 3)
    data = assert_embed_within_limits(accepted_notice(url, "**Bob** @everyone"))
    assert f"[This answer]({url})" in data["description"]
    assert r"\*\*Bob\*\* @" + "\u200beveryone" in data["description"]
    assert data["color"] == embeds.COLOUR_SOLVED
    assert_embed_within_limits(accepted_notice(url, HOSTILE))


# --------------------------------------------------------------------------- footer keys


@given(SNOWFLAKE)
def test_footer_key_round_trips_through_discord_json(post_id: int) -> None:
    embed = answer_embed("body", "name", post_id)
    assert embed.footer.text == footer_key_text(post_id)
    received = discord.Embed.from_dict(json.loads(json.dumps(embed.to_dict())))
    assert parse_footer_key(received) == post_id


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


# --------------------------------------------------------------------------- DMs


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
    assert len(quoted) <= embeds.DM_EXCERPT
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
    if not quoted.endswith(ELLIPSIS) or len(quoted) < embeds.DM_EXCERPT:
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
    assert len(data["description"].split("\n>>> ", 1)[1]) <= embeds.DM_EXCERPT


# --------------------------------------------------------------------------- read paths


def test_search_results_link_each_question() -> None:
    hits = [
        question_view(id=1, title="A [weird] title", thread_id=11, score=3, answer_count=2),
        question_view(id=2, title="Solved one", thread_id=12, accepted_answer_id=5),
        question_view(id=3, title=None, thread_id=None),
    ]
    data = assert_embed_within_limits(search_results(hits, 99, query="sleep *now*"))
    assert data["title"] == r"Results for “sleep \*now\*”"
    lines = data["description"].split("\n")
    assert lines[0] == r"**[A \[weird\] title](https://discord.com/channels/99/11)**"
    assert lines[1] == "▲ 3 · 2 answers"
    assert lines[2] == "**[Solved one](https://discord.com/channels/99/12)**"
    assert lines[3] == "▲ 0 · 0 answers · ✅ Solved"
    assert lines[4] == "**(untitled)**"


def test_search_results_empty() -> None:
    data = assert_embed_within_limits(search_results([], 1))
    assert data["title"] == "Search results"
    assert data["description"] == "No questions match."


@given(st.lists(hostile_text(), min_size=0, max_size=40), hostile_text())
def test_search_results_within_limits(titles: list[str], query: str) -> None:
    hits = [question_view(id=i, title=t, thread_id=i + 1) for i, t in enumerate(titles)]
    assert_embed_within_limits(search_results(hits, 2**64 - 1, query=query))


def test_search_results_with_many_long_titles_say_how_many_are_left_out() -> None:
    hits = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(60)]
    data = assert_embed_within_limits(search_results(hits, 1, query=HOSTILE))
    assert re.search(r"…and \d+ more$", data["description"])


def test_search_results_empty_with_our_sentence() -> None:
    data = assert_embed_within_limits(search_results([], 1, query="x", empty="Nothing; try /ask."))
    assert data["description"] == "Nothing; try /ask."


def test_unanswered_page_lists_questions_with_when_they_were_asked() -> None:
    questions = [
        question_view(id=1, title="Oldest *one*", thread_id=11, created_at=NOW),
        question_view(id=2, title="Newer", thread_id=12, created_at=NOW + timedelta(hours=2)),
    ]
    data = assert_embed_within_limits(
        unanswered_page(questions, 99, page=2, pages=3, total=22, category="Sleep_well")
    )
    assert data["title"] == r"Unanswered questions in Sleep\_well (22)"
    lines = data["description"].split("\n")
    assert lines[0] == r"**[Oldest \*one\*](https://discord.com/channels/99/11)**"
    stamp = int(NOW.timestamp())
    assert lines[1] == f"▲ 0 · 0 answers · asked <t:{stamp}:R>"
    assert data["footer"]["text"] == "Page 2 of 3 · oldest first"
    empty = assert_embed_within_limits(unanswered_page([], 1, page=1, pages=1, total=0))
    assert empty["title"] == "Unanswered questions (0)"
    assert empty["description"] == "Every open question has an answer."


@given(st.lists(hostile_text(), min_size=0, max_size=40), hostile_text())
def test_unanswered_page_within_limits(titles: list[str], category: str) -> None:
    questions = [question_view(id=i, title=t, thread_id=i + 1) for i, t in enumerate(titles)]
    assert_embed_within_limits(
        unanswered_page(questions, 2**64 - 1, page=1, pages=1, total=len(titles), category=category)
    )


def test_similar_questions_link_each_one() -> None:
    hits = [question_view(id=1, title="Same [question]", thread_id=11, answer_count=1)]
    data = assert_embed_within_limits(similar_questions(hits, 99))
    assert data["title"] == "Similar questions"
    assert r"**[Same \[question\]](https://discord.com/channels/99/11)**" in data["description"]
    assert "▲ 0 · 1 answer" in data["description"]
    many = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(60)]
    assert_embed_within_limits(similar_questions(many, 1))


def test_related_questions_line_links_without_unfurling() -> None:
    questions = [
        question_view(id=1, title="Sleep *and* [dreams]", thread_id=11),
        question_view(id=2, title="Not posted", thread_id=None),
        question_view(id=3, title="Naps", thread_id=13),
    ]
    assert related_questions_line(questions, 99) == (
        r"-# Related questions: [Sleep \*and\* \[dreams\]](<https://discord.com/channels/99/11>)"
        " · [Naps](<https://discord.com/channels/99/13>)"
    )
    assert related_questions_line([], 99) == ""
    long = [question_view(id=i, title=HOSTILE, thread_id=i) for i in range(3)]
    assert len(related_questions_line(long, 2**64 - 1)) < 1000


def test_profile_points_are_a_plain_number() -> None:
    stats = MemberPoints(
        guild_id=1,
        user_id=2,
        points=1340,
        anon_points=60,
        questions=3,
        answers=12,
        accepted_answers=4,
        upvotes_received=20,
        downvotes_received=1,
    )
    data = assert_embed_within_limits(profile("Ana", stats, points_base=100, rank=2))
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Points"] == "1440"
    assert fields["Rank"] == "#2"
    assert fields["Questions"] == "3"
    assert fields["Answers"] == "12"
    assert fields["Best answers"] == "4"
    assert fields["Votes received"] == "▲ 20 ▼ 1"
    assert "Anonymous posts" not in fields  # public unless asked for
    private = assert_embed_within_limits(
        profile("Ana", stats, points_base=100, show_private=True, avatar_url="https://x/a.png")
    )
    fields = {f["name"]: f["value"] for f in private["fields"]}
    assert fields["Anonymous posts"].startswith("+60 points")
    assert fields["Rank"] == "—"
    assert private["author"] == {"name": "Ana", "icon_url": "https://x/a.png"}
    assert_embed_within_limits(profile(HOSTILE, stats, points_base=0, show_private=True))


def test_leaderboard_page() -> None:
    rows = [
        LeaderboardRow(1, 11, 900, "Ana"),
        LeaderboardRow(2, 12, 500, None),
        LeaderboardRow(3, 13, 1, "under_score"),
        LeaderboardRow(4, 14, 120, "@everyone"),
    ]
    data = assert_embed_within_limits(leaderboard_page(rows, 2, 5))
    assert data["description"].split("\n") == [
        "🥇 Ana — 900 points",
        "🥈 <@12> — 500 points",  # a mention in an embed never pings
        r"🥉 under\_score — 1 point",
        "**#4** @\u200beveryone — 120 points",
    ]
    assert data["footer"]["text"] == "Page 2 of 5"
    empty = assert_embed_within_limits(leaderboard_page([], 1, 0))
    assert empty["description"] == "No points yet." and empty["footer"]["text"] == "Page 1 of 1"


@given(st.lists(st.tuples(hostile_text(), st.integers(-(10**9), 10**9)), max_size=25))
def test_leaderboard_within_limits(rows: list[tuple[str, int]]) -> None:
    entries = [LeaderboardRow(i + 1, i, p, n) for i, (n, p) in enumerate(rows)]
    assert_embed_within_limits(leaderboard_page(entries, 1, 1))


# --------------------------------------------------------------------------- administration


def test_setup_report() -> None:
    data = assert_embed_within_limits(
        setup_report(
            forum_id=77,
            categories=["General", "Anxiety_Help"],
            solved_tag="Solved",
            solved_tag_created=True,
            missing_permissions=["Manage Threads", "Add Reactions"],
            notes=["The bot's role is below the Helper role."],
        )
    )
    assert data["description"] == "Questions are posted in <#77>."
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Categories"] == r"General and Anxiety\_Help"
    assert fields["Solved tag"] == "Solved (created)"
    assert fields["Missing permissions in the forum"] == "⚠️ Manage Threads\n⚠️ Add Reactions"
    assert fields["Notes"] == "The bot's role is below the Helper role."
    assert data["color"] == embeds.COLOUR_WARNING
    ok = assert_embed_within_limits(
        setup_report(
            forum_id=1,
            categories=[],
            solved_tag="Solved",
            solved_tag_created=False,
            missing_permissions=[],
        )
    )
    fields = {f["name"]: f["value"] for f in ok["fields"]}
    assert fields["Solved tag"] == "Solved (found)" and fields["Permissions"]
    assert ok["color"] == embeds.COLOUR_SUCCESS
    assert_embed_within_limits(
        setup_report(
            forum_id=1,
            categories=[HOSTILE] * 20,
            solved_tag=HOSTILE,
            solved_tag_created=False,
            missing_permissions=[HOSTILE] * 30,
            notes=[HOSTILE] * 5,
        )
    )


def test_settings_table() -> None:
    (embed,) = settings_table(
        [
            ("points_ask", "20", "20", "Points for asking a question."),
            ("vote_up_emoji", "⬆️", "👍", "The reaction that votes up."),
            ("moderator_role_id", "not set", "not set", "A role whose members moderate."),
        ]
    )
    data = assert_embed_within_limits(embed)
    assert data["title"] == "Settings"
    assert data["description"].split("\n\n") == [
        "`points_ask`: **20**\nPoints for asking a question.",
        "`vote_up_emoji`: **⬆️** (default 👍)\nThe reaction that votes up.",
        "`moderator_role_id`: **not set**\nA role whose members moderate.",
    ]


def test_settings_table_splits_into_embeds_that_each_fit() -> None:
    rows = [(f"key_{i}", HOSTILE[i : i + 300], "d", HOSTILE[i : i + 400]) for i in range(80)]
    pages = settings_table(rows)
    assert len(pages) > 1
    for index, embed in enumerate(pages, start=1):
        data = assert_embed_within_limits(embed)
        assert data["title"] == f"Settings ({index}/{len(pages)})"
    text = "".join(e.description or "" for e in pages)
    assert all(f"`key_{i}`" in text for i in range(80))


def test_outbox_status_from_the_domain_stats() -> None:
    stats = OutboxStats(
        counts={"pending": 2, "sending": 1, "sent": 40, "failed": 1, "undeliverable": 3},
        oldest_pending_age=timedelta(minutes=3),
        last_failure="HTTP 500 **boom** <@1>",
    )
    data = assert_embed_within_limits(outbox_status(stats))
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields == {
        "Pending": "3",
        "Sent": "40",
        "Failed": "1",
        "Undeliverable": "3",
        "Oldest pending": "3 min",
        "Last failure": "HTTP 500 \\*\\*boom\\*\\* \\<@\u200b1>",
    }
    assert data["color"] == embeds.COLOUR_WARNING
    quiet = assert_embed_within_limits(outbox_status(OutboxStats()))
    fields = {f["name"]: f["value"] for f in quiet["fields"]}
    assert fields["Oldest pending"] == "—" and fields["Last failure"] == "None"
    long = OutboxStats(counts={"failed": 1}, last_failure=HOSTILE)
    assert_embed_within_limits(outbox_status(long))


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
