"""``make demo``: the whole demo as a process (time limit, exit code, the transcript's key lines),
then in-process: a step whose response never comes fails the demo with one clear line, steps
whose cogs are not loaded are skipped, and the renderer's text."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.demo.render import Renderer, wrap
from tests.demo.scenario import Demo
from tests.fakediscord.actors import Member
from tests.fakediscord.server import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TIME_LIMIT = 60
FORUM = "#qa-forum › How do I sleep better?"
ANON_FORUM = "#qa-forum › Is it normal to dread my first therapy session?"
ANSWERING = ["cogs.asking", "cogs.answering", "cogs.notifications"]


def run_demo_process() -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SHARD_", "NOTIFY_")) and k != "DATABASE_URL"
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )


def expect_lines(transcript: str, *lines: str) -> None:
    """Each line occurs in the transcript (as a whole line), in this order."""
    rows = transcript.splitlines()
    at = 0
    for line in lines:
        try:
            at = rows.index(line, at) + 1
        except ValueError:
            pytest.fail(f"the transcript has no line {line!r} (in order):\n{transcript}")


def section(transcript: str, number: int) -> str:
    match = re.search(rf"^── {number}\. .*?(?=^── |^demo )", transcript, re.M | re.S)
    assert match, f"no step {number} in:\n{transcript}"
    return match.group(0)


@pytest.mark.slow
def test_make_demo_plays_every_step_and_prints_what_members_see() -> None:
    done = run_demo_process()
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out}\n--- stderr ---\n{done.stderr}"
    # Every step's cog is part of the bot: nothing is skipped any more.
    assert "(skipped" not in out, out
    assert out.rstrip().splitlines()[-1] == "demo done: all 11 steps played."

    expect_lines(
        section(out, 1),
        "#general  [Olivia] /qa setup forum:#qa-forum",
        "(only Olivia sees)  [qa-bot]",
        "    │ Q&A forum set up",
        "    │ Questions are posted in #qa-forum.",
        "    │ Solved tag: Solved (created)   Permissions: All the bot needs.",
    )
    expect_lines(
        section(out, 2),
        "#general  [Alice] /ask category:Sleep",
        "(only Alice sees) a form “Ask a question” with the fields Title, Details",
        "New post in #qa-forum: “How do I sleep better?”, tags: Sleep",
        f"{FORUM}  [qa-bot] Asked by @Alice",
        "    │ How do I sleep better?",
        "    │ Status: ▲ 0 · 0 answers   Category: Sleep",
        "    reactions: 👍 1  👎 1",
        f"(only Alice sees)  [qa-bot] ✅ Your question is posted: ↗ {FORUM}",
    )
    expect_lines(
        section(out, 3),
        f"{FORUM}  [Bob] Keep the same wake-up time every day, even at weekends,",
        "    · qa-bot updates the question's status line: ▲ 0 · 1 answer",
        "DM to Alice  [qa-bot]",
        "    │ New answer to “How do I sleep better?”",
        "    │ Bob answered:",
        f"{FORUM}  [Carol] Try slow breathing: in for four counts, hold for four,",
        "    · qa-bot updates the question's status line: ▲ 0 · 2 answers",
        "DM to Alice  [qa-bot]",
        "    │ Carol answered:",
    )
    expect_lines(
        section(out, 4),
        f"{FORUM}  [Bob] reacts 👍 on Alice's question",
        f"{FORUM}  [Dave] reacts 👎 on Carol's answer",
        f"{FORUM}  [Bob] reacts 👍 on his own answer",
        "    · qa-bot removes Bob's 👍 from his own answer: a vote on your own post counts nothing",
        "    · qa-bot updates the question's status line: ▲ 3 · 2 answers",
        "    · Alice's question now shows 👍 4  👎 1",
        "    · Bob's answer now shows 👍 3",
        "    · Carol's answer now shows 👍 1  👎 1",
    )
    expect_lines(
        section(out, 5),
        f"{FORUM}  [Alice] Apps › Accept answer (on Bob's answer)",
        "(only Alice sees)  [qa-bot] ✅ You accepted this answer ↗.",
        "    · the thread's tags are now: Sleep, Solved",
        "    │ ✅ This answer ↗ by Bob was accepted.",
        "    · qa-bot updates the question's status line: ▲ 3 · 2 answers · ✅ Solved",
        "DM to Bob  [qa-bot]",
        "    │ ✅ Your answer was accepted",
        "    │ On “How do I sleep better?”",
    )
    # DESIGN.md's default points: Bob 100 + 40 (answer) + 3 x 20 (up votes) + 300 (accepted);
    # Alice 100 + 20 (question) + 3 x 10 (up votes) + 30 (accepting).
    expect_lines(
        section(out, 6),
        "#general  [Bob] /profile",
        "(only Bob sees)  [qa-bot]",
        "    │ Points: 500   Rank: #1   Questions: 0",
        "    │ Answers: 1   Best answers: 1   Votes received: ▲ 3 ▼ 0",
        "#general  [Alice] /profile",
        "(only Alice sees)  [qa-bot]",
        "    │ Points: 180   Rank: #2   Questions: 1",
    )
    expect_lines(
        section(out, 7),
        "#general  [Dave] /search query:fall asleep",
        "(only Dave sees)  [qa-bot]",
        "    │ How do I sleep better? ↗",
        "    │ ▲ 3 · 2 answers · ✅ Solved",
    )
    expect_lines(
        section(out, 8),
        "#qa-forum › “How do I sleep better?”, tags: Sleep, Solved",
        "    │ Status: ▲ 3 · 2 answers · ✅ Solved   Category: Sleep",
        "    reactions: 👍 3  ✅ 1",
        f"{FORUM}  [qa-bot] pinned a message to this channel.",
    )
    anonymous = section(out, 9)
    assert anonymous.startswith("── 9. An anonymous question, answered and accepted ──")
    expect_lines(
        anonymous,
        "(only Dave sees)  [Dave] /ask category:Anxiety anonymous:true",
        "(only Dave sees) a form “Ask a question” with the fields Title, Details, "
        "Your name to display (optional)",
        "New post in #qa-forum: “Is it normal to dread my first therapy session?”, tags: Anxiety",
        f"{ANON_FORUM}  [qa-bot]",
        "    │ Anonymous",
        "    │ Is it normal to dread my first therapy session?",
        "    │ Status: ▲ 0 · 0 answers   Category: Anxiety",
        "(only Dave sees)  [qa-bot] ✅ Your question is posted anonymously, as Anonymous: ↗ "
        "#qa-forum › Is it",
        f"{ANON_FORUM}  [Carol] Very normal. Tell the therapist",
        "    · qa-bot updates the question's status line: ▲ 0 · 1 answer",
        "DM to Dave  [qa-bot]",
        "    │ New answer to “Is it normal to dread my first therapy session?”",
        "    │ Carol answered:",
        "(only Dave sees)  [Dave] Apps › Accept answer (on Carol's answer)",
        "(only Dave sees)  [qa-bot] ✅ You accepted this answer ↗.",
        "    · the thread's tags are now: Anxiety, Solved",
        "    │ ✅ This answer ↗ by Carol was accepted.",
        "    · qa-bot updates the question's status line: ▲ 0 · 1 answer · ✅ Solved",
        "DM to Carol  [qa-bot]",
        "    │ ✅ Your answer was accepted",
    )
    # Dave's name is only in what Dave alone sees (his command, form, ephemeral replies, DMs).
    public = public_lines(anonymous, "Dave")
    assert any("Anonymous" in line for line in public), anonymous
    assert [line for line in public if "dave" in line.lower()] == [], anonymous
    reported = section(out, 10)
    assert reported.startswith("── 10. A report handled by a moderator ──")
    expect_lines(
        reported,
        "#general  [Olivia] /qa settings set key:mod_channel_id value:#mods",
        "    │ `mod_channel_id` is now #mods.",
        "(only Dave sees)  [Dave] Apps › Report (on Carol's answer)",
        "(only Dave sees) a form “Report this post” with the field Why? (optional)",
        "(only Dave sees)  [qa-bot] Reported, thank you.",
        "#mods  [qa-bot]",
        "    │ ⚠️ Reported answer #3",
        "    │ Latest reasons: • This reads like medical advice.",
        "    [Remove]  [Block author]  [Dismiss]",
        "#mods  [Maya] clicks Dismiss",
        "    │ Handled: Reports dismissed by @Maya.",
        "    [Remove]  [Block author]  [Dismiss] (greyed out)",
        "#general  [Maya] /mod log",
        "    │ (a time) @Maya dismissed the reports on post #3",
        "    │ (a time) @Olivia changed a setting · mod_channel_id",
    )
    # The card names neither the answer's author nor the member who reported it.
    card_lines = [line for line in public_lines(reported, "Dave") if line.startswith("    │")]
    assert [line for line in card_lines if "carol" in line.lower() or "dave" in line.lower()] == []
    held = section(out, 11)
    assert held.startswith("── 11. A moderator reviews an anonymous question first ──")
    expect_lines(
        held,
        "#general  [Olivia] /qa settings set key:premod_anonymous value:on",
        "(only Dave sees)  [Dave] /ask category:General anonymous:true",
        "(only Dave sees)  [qa-bot] Your post waits for a moderator's review; you'll get a DM "
        "when it's",
        "#mods  [qa-bot]",
        "    │ A question waits for review",
        "    │ Posted as: Anonymous (the author stays hidden)   Category: General",
        "    [Approve]  [Reject]",
        "#mods  [Maya] clicks Approve",
        "New post in #qa-forum: “Is it okay to take a break from social media?”, tags: General",
        "    │ Anonymous",
        "(only Maya sees)  [qa-bot] ✅ Approved and published: ↗ #qa-forum › Is it okay to take "
        "a break from",
        "    │ A question held for review",
        "    │ Decision: ✅ Approved by @Maya · the post ↗",
        "DM to Dave  [qa-bot]",
        "    │ ✅ Your question was approved",
    )
    public = public_lines(held, "Dave")
    assert [line for line in public if "dave" in line.lower()] == [], held
    # Nothing that changes from run to run (ids, ports, paths) reaches the transcript.
    assert not re.search(r"\d{15,}|127\.0\.0\.1|/tmp/", out)
    # The README's tour pastes real output: its excerpt is this transcript, lines left out.
    expect_lines(out, *[line for line in readme_excerpt() if line != "…"])


def public_lines(section_text: str, member: str) -> list[str]:
    """The lines of a step everyone may see: all but ``member``'s own ephemeral replies and
    gestures (``(only Dave sees)``) and DMs to them, each a header line with the indented lines
    under it. The demo's notes (``    · ...``) narrate what everyone sees: they are public."""
    private_heads = (f"(only {member} sees)", f"DM to {member}")
    public: list[str] = []
    private = False
    for line in section_text.splitlines():
        if not line.startswith(" "):
            private = line.startswith(private_heads)
        elif line.lstrip().startswith("· "):
            private = False
        if not private:
            public.append(line)
    return public


def test_public_lines_leave_out_only_the_members_own_view() -> None:
    text = "\n".join(
        [
            "── 9. x ──",
            "(only Dave sees)  [Dave] /ask",
            "    Title: Dave's",
            "#forum  [qa-bot]",
            "    │ Anonymous",
            "DM to Dave  [qa-bot]",
            "    │ Dave, an answer",
            "    · a note naming Dave",
            "DM to Carol  [qa-bot]",
        ]
    )
    assert public_lines(text, "Dave") == [
        "── 9. x ──",
        "#forum  [qa-bot]",
        "    │ Anonymous",
        "    · a note naming Dave",
        "DM to Carol  [qa-bot]",
    ]


def readme_excerpt() -> list[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## A tour: `make demo`\n.*?^```text\n(.*?)^```", text, re.S | re.M)
    assert match, "README.md has no transcript excerpt under '## A tour: `make demo`'"
    return match.group(1).splitlines()


# --------------------------------------------------------------------------- in-process


class DemoWithClosedDMs(Demo):
    """Alice has closed her DMs: the DM the demo waits for never comes."""

    def _build_scene(self) -> Any:
        cast = super()._build_scene()
        self.fake.rules.close_dms(cast.alice)
        return cast


async def test_a_response_that_never_comes_fails_the_demo_with_one_line(
    discord_urls: Any,
) -> None:
    out = io.StringIO()
    demo = DemoWithClosedDMs(out, timeout=1.0, extensions=["cogs.admin", *ANSWERING])
    assert await demo.run() == 1
    last = out.getvalue().rstrip().splitlines()[-1]
    assert last == (
        "demo FAILED: step 3 (Bob and Carol answer in the thread): "
        "DM 1 to Alice (the asker) did not come within 1 s"
    )


async def test_steps_whose_cogs_are_not_loaded_are_skipped(discord_urls: Any) -> None:
    out = io.StringIO()
    demo = Demo(out, timeout=5.0, extensions=["cogs.admin", "cogs.asking"])
    assert await demo.run() == 0
    text = out.getvalue()
    expect_lines(
        text,
        "── 3. Bob and Carol answer in the thread ──",
        "(skipped: not available yet: the extension cogs.answering is not loaded)",
        "── 4. Members vote with reactions ──",
        "(skipped: not available yet: the extension cogs.voting is not loaded)",
        "── 5. Alice accepts Bob's answer ──",
        "(skipped: not available yet: the command Accept answer is not loaded)",
        "── 6. Points: /profile ──",
        "(skipped: not available yet: the command profile is not loaded)",
        "── 7. Dave finds it with /search ──",
        "(skipped: not available yet: the command search is not loaded)",
        "── 8. The thread as everyone sees it now ──",
        "#qa-forum › “How do I sleep better?”, tags: Sleep",
        "── 9. An anonymous question, answered and accepted ──",
        "(skipped: not available yet: the extension cogs.answering is not loaded)",
        "── 10. A report handled by a moderator ──",
        "(skipped: not available yet: the command Report is not loaded)",
        "── 11. A moderator reviews an anonymous question first ──",
        "(skipped: not available yet: the command mod log is not loaded)",
    )
    assert "#general  [Olivia] /qa settings set" not in text  # no DMs, no DM window to set
    assert text.rstrip().splitlines()[-1] == (
        "demo done: 3 steps played, 8 skipped (“Bob and Carol answer in the thread”, "
        "“Members vote with reactions”, “Alice accepts Bob's answer”, “Points: /profile”, "
        "“Dave finds it with /search”, “An anonymous question, answered and accepted”, "
        "“A report handled by a moderator”, “A moderator reviews an anonymous question first”)."
    )


async def test_a_step_after_a_skipped_one_says_what_it_builds_on(discord_urls: Any) -> None:
    out = io.StringIO()
    assert await Demo(out, timeout=5.0, extensions=["cogs.admin"]).run() == 0
    expect_lines(
        out.getvalue(),
        "── 2. Alice asks a question with /ask ──",
        "(skipped: not available yet: the command ask is not loaded)",
        "── 3. Bob and Carol answer in the thread ──",
        "(skipped: not available yet: the extension cogs.answering is not loaded)",
        "── 8. The thread as everyone sees it now ──",
        "(skipped: it builds on step “Alice asks a question with /ask”)",
    )


# --------------------------------------------------------------------------- the renderer


async def test_the_renderer_names_mentions_links_and_keeps_quotes_when_wrapping() -> None:
    fake = FakeDiscord()
    fake.build_default_scene()
    assert fake.guild is not None and fake.forum is not None and fake.general is not None
    alice = Member(fake, fake.world.add_user("Alice"), None)
    thread = fake.world.create_thread(fake.forum, name="Sleep?", owner_id=alice.id)
    render = Renderer(fake)
    url = f"https://discord.com/channels/{fake.guild.id}/{thread.id}/{thread.id}"
    assert render.text(f"**<@{alice.id}>** asked in <#{fake.general.id}>: {url}") == (
        "@Alice asked in #general: ↗ #questions › Sleep?"
    )
    assert render.text(f"[This answer]({url}) by \\*Bob\\*") == "This answer ↗ by *Bob*"
    assert render.text("intro:\n>>> one\ntwo") == "intro:\n> one\n> two"
    assert render.text("-# small print") == "small print"
    assert render.text("`mod\\_channel\\_id`") == "`mod_channel_id`"
    lines = wrap("> " + "word " * 40, "  | ", "  | ")
    assert len(lines) > 1 and all(line.startswith("  | > ") for line in lines)
    assert all(len(line) <= 100 for line in lines)
