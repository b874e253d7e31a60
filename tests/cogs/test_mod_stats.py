"""``/mod stats`` end to end through the fake Discord on both backends: a moderator gets the
period's figures (equal to the generated community's known ones) beside Area 51's bars, the
weekly rows as a CSV, the chart as a PNG with its alt text as the attachment's description, and
the oldest unanswered questions with links; a member who does not moderate is refused and
gets nothing."""

from __future__ import annotations

import csv
import io

from bot.forum.health_stats import period_bounds
from bot.ui.health import ANSWERED_MEANS
from tests import health_community as community
from tests.cogs.conftest import configure_qa_guild
from tests.fakediscord.fixtures import BotFactory
from tests.fakediscord.server import FakeDiscord


async def test_mod_stats_for_a_moderator_and_refused_to_a_member(
    fake_discord: FakeDiscord,
    qa_bot_factory: BotFactory,
    db_url: str,
) -> None:
    fake = fake_discord
    assert fake.guild and fake.general and fake.moderator_role
    mia = fake.add_member(fake.guild, "mia", roles=[fake.moderator_role])
    bob = fake.add_member(fake.guild, "bob")
    harness = await qa_bot_factory(database_url=db_url)
    moderation = harness.bot.get_cog("Moderation")
    assert moderation is not None  # the extension's own class (discord.py loads it afresh)
    moderation.clock = lambda: community.NOW  # type: ignore[attr-defined]
    await configure_qa_guild(harness)
    specs = community.generated(weeks=12)
    await community.insert(harness.sessionmaker, fake.guild.id, specs)
    bounds = period_bounds(community.NOW, 4)
    truth = community.expected(specs, bounds[0][0], bounds[-1][1])

    # A member without the moderator rule: refused in one ephemeral sentence, nothing attached.
    refused = await bob.slash(
        "mod stats", {"period": 4}, channel=fake.general, bypass_permissions=True
    )
    told = await refused.message()
    assert told.ephemeral and told.content == "Only this server's moderators can use /mod."
    assert not told.attachments and not told.embeds

    ix = await mia.slash("mod stats", {"period": 4}, channel=fake.general)
    shown = await ix.message(timeout=60)  # the first chart starts the helper process
    assert shown.ephemeral
    (embed,) = shown.embeds
    assert embed["title"] == "Community health: the last 4 weeks"
    text = shown.embed_text()
    answered = f"{truth.answered / truth.questions * 100:.1f} %"
    assert f"**Answered:** {answered}" in text and ANSWERED_MEANS in text
    assert f"**Questions asked:** {truth.questions}" in text and "Area 51's 15/day" in text
    assert "❌ below Area 51's 90%" in text or "✅ meets Area 51's 90%" in text
    assert f"{truth.askers} asking, {truth.answerers} answering" in text
    assert text.count(f"https://discord.com/channels/{fake.guild.id}/") == 5
    assert "Work" in text  # its answer rate is falling
    assert len(embed.get("description", "")) <= 4096

    by_name = {a.filename.rsplit(".", 1)[1]: a for a in shown.attachments}
    rows = list(csv.DictReader(io.StringIO(by_name["csv"].data.decode())))
    assert len(rows) == 5 and rows[-1]["week_start"] == "period"
    for row, (lo, hi) in zip(rows, bounds, strict=False):
        week = community.expected(specs, lo, hi)
        assert int(row["questions"]) == week.questions
        assert float(row["median_first_answer_minutes"]) == round(week.median_seconds / 60, 1)  # type: ignore[operator]
    assert int(rows[-1]["active_askers"]) == truth.askers
    chart = by_name["png"]
    assert chart.data.startswith(b"\x89PNG")
    assert chart.description is not None and chart.description.startswith(
        "Chart of the last 4 weeks"
    )
    await harness.close()
