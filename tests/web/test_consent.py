"""The consent rules of issue 23 seen through the web: what the publishable query leaves out
answers 404 and is in no list, feed, sitemap or search, from the next request on."""

from __future__ import annotations

from bot.forum import consent, leaderboard, moderation
from bot.forum.publishing import WITHHELD
from bot.forum.rights import Actor
from bot.forum.settings import set_setting
from bot.web.render import slug
from tests.bot.forum.core_support import ASKER, GUILD, MODERATOR
from tests.bot.forum.test_publishing import allow, prefs
from tests.web.conftest import LATER, TITLE, Archive

HIDDEN = "A question nobody allowed"


async def everywhere(archive: Archive, text: str) -> list[str]:
    """The archive's lists that show ``text``."""
    paths = (
        f"/s/{GUILD}/",
        f"/s/{GUILD}/c/Sleep/",
        f"/s/{GUILD}/c/Sleep/feed.atom",
        "/sitemap.xml",
        f"/s/{GUILD}/search?q={text.split()[-1]}",
    )
    shown = []
    for path in paths:
        status, body, _ = await archive.get(path)
        assert status == 200
        if text in body or slug(text) in body:
            shown.append(path)
    return shown


async def test_an_unconsented_question_is_404_and_in_no_list_beside_a_consented_one(
    archive: Archive,
) -> None:
    hidden = await archive.forum.ask(77, HIDDEN, "Still nobody allowed it.", category="Sleep")
    status, _, _ = await archive.get(f"/q/{hidden.id}/{slug(HIDDEN)}")
    assert status == 404
    assert await everywhere(archive, HIDDEN) == []
    await allow(archive.forum, hidden)  # the positive twin: the next request shows it
    status, _, _ = await archive.get(f"/q/{hidden.id}/{slug(HIDDEN)}")
    assert status == 200
    assert len(await everywhere(archive, HIDDEN)) == 4  # all but the home's "recently solved"


async def test_withdrawn_consent_is_gone_on_the_next_request(archive: Archive) -> None:
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    assert (await archive.get(path))[0] == 200
    assert await everywhere(archive, TITLE) != []
    await archive.forum.run(lambda s: consent.withdraw_all(s, GUILD, ASKER))
    assert (await archive.get(path))[0] == 404
    assert await everywhere(archive, TITLE) == []


async def test_an_answer_withdrawn_leaves_its_placeholder(archive: Archive) -> None:
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    assert LATER in (await archive.get(path))[1]
    later = archive.later
    await archive.forum.run(lambda s: consent.withdraw_all(s, GUILD, later.author_id))
    _, html, _ = await archive.get(path)
    assert LATER not in html and WITHHELD["answer"] in html


async def test_a_removed_question_and_a_closed_archive_are_404(archive: Archive) -> None:
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    question = archive.question
    await archive.forum.run(
        lambda s: moderation.remove_post(
            s,
            removal=moderation.Removal(question.id),
            moderator=Actor(MODERATOR, is_moderator=True),
        )
    )
    assert (await archive.get(path))[0] == 404
    assert await everywhere(archive, TITLE) == []


async def test_publishing_switched_off_closes_every_page(archive: Archive) -> None:
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    await archive.forum.run(lambda s: set_setting(s, GUILD, "publishing", False))
    for page in (path, f"/s/{GUILD}/", f"/s/{GUILD}/c/Sleep/", f"/s/{GUILD}/search?q=sleep"):
        assert (await archive.get(page))[0] == 404
    _, body, _ = await archive.get("/sitemap.xml")
    assert "<url>" not in body
    _, html, _ = await archive.get("/")
    assert f"/s/{GUILD}/" not in html


async def test_an_anonymous_asker_is_never_named_beside_a_named_answerer(archive: Archive) -> None:
    await prefs(archive.forum, 88, by_default=True, named=True)
    await archive.forum.run(
        lambda s: leaderboard.remember_display_names(s, guild_id=GUILD, names={88: "Zoe Real"})
    )
    fern = await archive.forum.ask(88, "Why do I wake at four?", category="Sleep", anonymous=True)
    plain = await archive.forum.ask(88, "Does tea keep me awake?", category="Sleep")
    _, html, _ = await archive.get(f"/q/{fern.id}/{slug('Why do I wake at four?')}")
    assert "asked by Anonymous" in html and "Zoe Real" not in html
    _, html, _ = await archive.get(f"/q/{plain.id}/{slug('Does tea keep me awake?')}")
    assert "asked by Zoe Real" in html  # the twin: named by their own choice


async def test_a_comment_shows_under_its_answer_and_in_the_structured_data(
    archive: Archive,
) -> None:
    accepted = archive.accepted
    await archive.forum.post_of(
        archive.question, 89, "Thanks, that worked.", reply_to=accepted.message_id
    )
    path = f"/q/{archive.question.id}/{slug(TITLE)}"
    _, html, _ = await archive.get(path)
    main = html[html.index("<main") :]
    assert main.index("wind-down") < main.index(WITHHELD["comment"]) < main.index("phone out")
    await prefs(archive.forum, 89, by_default=True)
    _, html, _ = await archive.get(path)
    main = html[html.index("<main") :]
    assert main.index("wind-down") < main.index("Thanks, that worked.") < main.index("phone out")
    assert '"comment":[{"@type":"Comment","text":"Thanks, that worked."' in html
