"""/qa settings set|reset: a manager's text is stored; a point rule change rebuilds points."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.forum import audit, setting_changes, settings
from bot.forum.errors import ValidationError
from bot.forum.settings import DEFAULTS

GUILD = 111
OWNER = 7


async def test_set_from_text(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        config = await setting_changes.set_from_text(
            session, GUILD, "question_voting", "off", actor_id=OWNER
        )
        assert config.question_voting is False
        config = await setting_changes.set_from_text(
            session, GUILD, "moderator_role_id", "<@&42>", actor_id=OWNER
        )
        assert config.moderator_role_id == 42
        config = await setting_changes.set_from_text(
            session, GUILD, "moderator_role_id", "clear", actor_id=OWNER
        )
        assert config.moderator_role_id is None
        with pytest.raises(ValidationError) as err:
            await setting_changes.set_from_text(
                session, GUILD, "forum_channel_id", "123", actor_id=OWNER
            )
        assert str(err.value) == "`forum_channel_id` is set by /qa setup."
        # /qa setup itself stores it through set_setting.
        config = await settings.set_setting(session, GUILD, "forum_channel_id", 123)
        assert config.forum_channel_id == 123


async def test_changing_a_point_rule_rebuilds_cached_points(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Cached points always equal a recomputation under the rules in force."""
    from tests.bot.forum.core_support import ANSWERER, ASKER, GUILD, VOTER, Forum

    forum = Forum(sessionmaker)
    question = await forum.ask()
    answer = await forum.answer(question)
    await forum.vote(answer, VOTER)
    before = await forum.points(ANSWERER)
    assert before == DEFAULTS.points_answer + DEFAULTS.points_answer_upvote

    await forum.run(
        lambda s: setting_changes.set_from_text(
            s, GUILD, "points_answer_upvote", "50", actor_id=OWNER
        )
    )
    assert await forum.points(ANSWERER) == DEFAULTS.points_answer + 50
    await forum.check()

    await forum.run(
        lambda s: setting_changes.set_from_text(s, GUILD, "points_ask", "0", actor_id=OWNER)
    )
    assert await forum.points(ASKER) == 0
    await forum.run(
        lambda s: setting_changes.reset_from_text(s, GUILD, "points_ask", actor_id=OWNER)
    )
    assert await forum.points(ASKER) == DEFAULTS.points_ask
    await forum.check()


def test_which_keys_affect_points() -> None:
    assert setting_changes.affects_points("points_accepted")
    assert setting_changes.affects_points("answer_vote_cap_up")
    assert setting_changes.affects_points("question_voting")
    assert not setting_changes.affects_points("min_answer_length")
    assert not setting_changes.affects_points("vote_up_emoji")


async def test_a_change_is_audited_by_its_key_and_a_repeat_is_not(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        await setting_changes.set_from_text(
            session, GUILD, "min_answer_length", "30", actor_id=OWNER
        )
        await setting_changes.set_from_text(
            session, GUILD, "min_answer_length", "30", actor_id=OWNER
        )
        await setting_changes.reset_from_text(session, GUILD, "min_answer_length", actor_id=OWNER)
        await setting_changes.reset_from_text(session, GUILD, "min_answer_length", actor_id=OWNER)
        shown = await audit.page(session, GUILD)
    assert [(e.action, e.moderator_id, e.detail, e.post_id) for e in shown.entries] == [
        ("setting", OWNER, "min_answer_length", None),
        ("setting", OWNER, "min_answer_length", None),
    ]
