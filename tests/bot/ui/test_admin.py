"""bot.ui.admin: the /qa setup report, the /qa settings table (split into embeds that each fit)
and the /qa status outbox health."""

from __future__ import annotations

from datetime import timedelta

from bot.forum.outbox import OutboxStats
from bot.ui import embeds
from bot.ui.admin import outbox_status, settings_table, setup_report
from tests.bot.ui import HOSTILE, assert_embed_within_limits


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
        "Last reconciliation": "Not run yet",
    }
    assert data["color"] == embeds.COLOUR_WARNING
    quiet = assert_embed_within_limits(outbox_status(OutboxStats()))
    fields = {f["name"]: f["value"] for f in quiet["fields"]}
    assert fields["Oldest pending"] == "—" and fields["Last failure"] == "None"
    long = OutboxStats(counts={"failed": 1}, last_failure=HOSTILE)
    assert_embed_within_limits(outbox_status(long))
