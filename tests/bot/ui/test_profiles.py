"""bot.ui.profiles: /profile shows points as a plain number (anonymous points only to the member
themself); /leaderboard pages with medals, never pinging, within every limit."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.forum.leaderboard import LeaderboardEntry
from bot.forum.listing import QuestionSummary
from bot.forum.results import MemberPoints
from bot.ui.profiles import leaderboard_page, profile_embed
from tests.bot.ui import HOSTILE, assert_embed_within_limits, hostile_text


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
    data = assert_embed_within_limits(profile_embed("Ana", stats, points_base=100, rank=2))
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Points"] == "1440"
    assert fields["Rank"] == "#2"
    assert fields["Questions"] == "3"
    assert fields["Answers"] == "12"
    assert fields["Best answers"] == "4"
    assert fields["Votes received"] == "▲ 20 ▼ 1"
    assert "Anonymous posts" not in fields  # public unless asked for
    private = assert_embed_within_limits(
        profile_embed(
            "Ana", stats, points_base=100, show_private=True, avatar_url="https://x/a.png"
        )
    )
    fields = {f["name"]: f["value"] for f in private["fields"]}
    assert fields["Anonymous posts"].startswith("+60 points")
    assert fields["Rank"] == "—"
    assert private["author"] == {"name": "Ana", "icon_url": "https://x/a.png"}
    assert_embed_within_limits(profile_embed(HOSTILE, stats, points_base=0, show_private=True))


def test_a_profile_links_its_recent_questions_within_the_field_limit() -> None:
    stats = MemberPoints(guild_id=1, user_id=2, questions=30)
    recent = [
        QuestionSummary(
            id=n,
            thread_id=5000 + n,
            message_id=5000 + n,
            title=f"{HOSTILE} {n}",
            score=0,
            answer_count=0,
            status="open",
            category=None,
            created_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
        for n in range(30)
    ]
    data = assert_embed_within_limits(
        profile_embed("Ana", stats, points_base=100, recent=recent, guild_id=7)
    )
    links = {f["name"]: f["value"] for f in data["fields"]}["Recent questions"]
    assert "](https://discord.com/channels/7/5000)" in links
    assert len(links) <= 1024
    plain = assert_embed_within_limits(profile_embed("Ana", stats, points_base=100))
    assert "Recent questions" not in {f["name"] for f in plain["fields"]}


def test_leaderboard_page() -> None:
    rows = [
        LeaderboardEntry(1, 11, 900, "Ana"),
        LeaderboardEntry(2, 12, 500, None),
        LeaderboardEntry(3, 13, 1, "under_score"),
        LeaderboardEntry(4, 14, 120, "@everyone"),
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
    entries = [LeaderboardEntry(i + 1, i, p, n) for i, (n, p) in enumerate(rows)]
    assert_embed_within_limits(leaderboard_page(entries, 1, 1))
