"""Every embed the bot sends, built in one place and always within Discord's embed limits.

Builders take plain values or the domain's frozen results (through the small protocols below,
which ``bot.forum.results`` dataclasses satisfy) and return a ``discord.Embed`` whose every part
is within its limit and whose total is at most ``EMBED_TOTAL`` (``fit``). User text is escaped
here, so callers pass it raw; the only exception is a post's own body, whose author's markdown
is kept (``markdown=True``) while its mentions are still shown literally.

Messages the bot posts on someone's behalf carry their pending row's key in the footer
(``footer_key_text``/``parse_footer_key``, DESIGN.md §4): ``qa:post:<post id>``, never a user id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

import discord

from bot.ui import emoji
from bot.ui.text import (
    EMBED_AUTHOR_NAME,
    EMBED_DESCRIPTION,
    EMBED_FIELD_NAME,
    EMBED_FIELD_VALUE,
    EMBED_FIELDS,
    EMBED_FOOTER,
    EMBED_TITLE,
    EMBED_TOTAL,
    ZWSP,
    escape,
    excerpt,
    format_duration,
    format_relative,
    human_join,
    jump_url,
    label,
    mention_channel,
    mention_user,
    neutralize_mentions,
    one_line,
    plural,
    truncate,
    truncate_markdown,
)

# --------------------------------------------------------------------------- colours

COLOUR_QUESTION: Final = 0x5865F2
COLOUR_ANSWER: Final = 0x4F8EDC
COLOUR_SOLVED: Final = 0x3BA55C
COLOUR_CLOSED: Final = 0x747F8D
COLOUR_INFO: Final = 0x5865F2
COLOUR_SUCCESS: Final = 0x57F287
COLOUR_WARNING: Final = 0xFEE75C
COLOUR_ERROR: Final = 0xED4245

#: The author line of an anonymous post without a chosen display name.
ANONYMOUS: Final = "Anonymous"
#: Longest answer excerpt in a DM (escaped length).
DM_EXCERPT: Final = 1000
UNTITLED: Final = "(untitled)"
#: Longest member label inside a sentence (escaped length).
NAME: Final = 200

# --------------------------------------------------------------------------- footer keys

FOOTER_KEY_PREFIX: Final = "qa:post:"
_FOOTER_KEY = re.compile(r"(?:^|\s)qa:post:([0-9]{1,20})(?=\s|$)")


def footer_key_text(post_id: int) -> str:
    """The footer text that carries a pending row's key: ``qa:post:<post id>``."""
    return f"{FOOTER_KEY_PREFIX}{post_id}"


def parse_footer_text(text: str | None) -> int | None:
    """The post id in a footer text made by ``footer_key_text``, else None."""
    if not text:
        return None
    match = _FOOTER_KEY.search(text)
    return int(match.group(1)) if match else None


def parse_footer_key(embed: discord.Embed) -> int | None:
    """The post id an embed's footer carries, else None.

    Trust it only on messages the bot itself sent: anyone can post an embed-like footer through
    a webhook, but only the bot's own messages are built here.
    """
    return parse_footer_text(embed.footer.text)


# --------------------------------------------------------------------------- limits


def embed_problems(embed: discord.Embed) -> list[str]:
    """Every way ``embed`` breaks a Discord limit (an empty list when Discord would accept it)."""
    data = embed.to_dict()
    problems: list[str] = []

    def check(what: str, text: str | None, limit: int) -> None:
        if text is not None and len(text) > limit:
            problems.append(f"{what} has {len(text)} > {limit} characters")

    check("title", data.get("title"), EMBED_TITLE)
    check("description", data.get("description"), EMBED_DESCRIPTION)
    check("author name", data.get("author", {}).get("name"), EMBED_AUTHOR_NAME)
    check("footer", data.get("footer", {}).get("text"), EMBED_FOOTER)
    fields = data.get("fields", [])
    if len(fields) > EMBED_FIELDS:
        problems.append(f"{len(fields)} > {EMBED_FIELDS} fields")
    for index, item in enumerate(fields):
        check(f"field {index} name", item["name"], EMBED_FIELD_NAME)
        check(f"field {index} value", item["value"], EMBED_FIELD_VALUE)
        if not item["name"].strip() or not item["value"].strip():
            problems.append(f"field {index} has an empty name or value")
    if len(embed) > EMBED_TOTAL:
        problems.append(f"total {len(embed)} > {EMBED_TOTAL} characters")
    return problems


def _shrink(text: str, excess: int) -> str:
    return truncate_markdown(text, len(text) - excess)


def fit(embed: discord.Embed) -> discord.Embed:
    """Shrink ``embed`` to ``EMBED_TOTAL``: the description first, then fields from the last
    (cut, then dropped), then the footer, title and author name. Returns the same embed."""

    def excess() -> int:
        return len(embed) - EMBED_TOTAL

    if excess() > 0 and embed.description:
        embed.description = _shrink(embed.description, excess()) or None
    for index in reversed(range(len(embed.fields))):
        if excess() <= 0:
            break
        item = embed.fields[index]
        name, value = item.name or ZWSP, item.value or ZWSP
        shorter = _shrink(value, excess())
        if shorter.strip():
            embed.set_field_at(index, name=name, value=shorter, inline=bool(item.inline))
        if excess() > 0 or not shorter.strip():
            embed.remove_field(index)
    if excess() > 0 and embed.footer.text:
        footer = truncate(embed.footer.text, len(embed.footer.text) - excess())
        if footer.strip():
            embed.set_footer(text=footer, icon_url=embed.footer.icon_url)
        else:
            embed.remove_footer()
    if excess() > 0 and embed.title:
        embed.title = _shrink(embed.title, excess()) or None
    if excess() > 0 and embed.author.name:
        author = truncate(embed.author.name, len(embed.author.name) - excess())
        if author.strip():
            embed.set_author(name=author, url=embed.author.url, icon_url=embed.author.icon_url)
        else:
            embed.remove_author()
    return embed


# --------------------------------------------------------------------------- building blocks


def _embed(
    *, colour: int, title: str | None = None, description: str | None = None
) -> discord.Embed:
    """An embed with an already escaped title and description, each cut to its limit."""
    title = truncate_markdown(title or "", EMBED_TITLE)
    description = truncate_markdown(description or "", EMBED_DESCRIPTION)
    return discord.Embed(
        colour=colour, title=title or None, description=description if description.strip() else None
    )


def _field(embed: discord.Embed, name: str, value: str, *, inline: bool = False) -> None:
    """Add a field (escaped markdown), cut to its limits; nothing past Discord's 25 fields."""
    if len(embed.fields) >= EMBED_FIELDS:
        return
    name = truncate_markdown(name, EMBED_FIELD_NAME)
    value = truncate_markdown(value, EMBED_FIELD_VALUE)
    embed.add_field(
        name=name if name.strip() else ZWSP, value=value if value.strip() else ZWSP, inline=inline
    )


def _author(embed: discord.Embed, name: str, *, icon_url: str | None = None) -> None:
    embed.set_author(name=label(name, EMBED_AUTHOR_NAME) or "Member", icon_url=icon_url)


def _footer(embed: discord.Embed, text: str) -> None:
    embed.set_footer(text=label(text, EMBED_FOOTER))


def _name(text: str, fallback: str = ANONYMOUS) -> str:
    """A member's label inside markdown text: one line, escaped, at most ``NAME`` long."""
    return truncate_markdown(escape(one_line(text)), NAME) or fallback


def _title_text(title: str | None) -> str:
    """A question title for a markdown context: one line, escaped."""
    return escape(one_line(title or "")) or UNTITLED


def _link_text(text: str) -> str:
    """Escaped text that is safe inside ``[...](url)``."""
    return text.replace("]", "\\]")


def _quoted(prefix: str, title: str | None, limit: int) -> str:
    """``prefix“title”`` within ``limit``, the title cut to make room."""
    room = limit - len(prefix) - 2
    return f"{prefix}“{truncate_markdown(_title_text(title), room)}”"


def _lines(lines: Iterable[str], limit: int, *, more: str = "…and {n} more") -> str:
    """Whole lines joined by newlines within ``limit``; a final note counts those left out."""
    kept: list[str] = []
    pending = list(lines)
    used = 0
    for index, line in enumerate(pending):
        left = len(pending) - index - 1
        note = len(more.format(n=left)) + 1 if left else 0
        cost = len(line) + (1 if kept else 0)
        if used + cost + note > limit:
            dropped = len(pending) - index
            tail = more.format(n=dropped)
            return "\n".join([*kept, tail]) if used + len(tail) + 1 <= limit else "\n".join(kept)
        kept.append(line)
        used += cost
    return "\n".join(kept)


# --------------------------------------------------------------------------- protocols


class QuestionLike(Protocol):
    """What a question view offers (``bot.forum.results.PostSnapshot`` satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str | None: ...
    @property
    def thread_id(self) -> int | None: ...
    @property
    def score(self) -> int: ...
    @property
    def answer_count(self) -> int: ...
    @property
    def solved(self) -> bool: ...
    @property
    def closed(self) -> bool: ...


class DatedQuestionLike(QuestionLike, Protocol):
    """A question view that also says when it was asked."""

    @property
    def created_at(self) -> datetime: ...


class MemberStats(Protocol):
    """A member's counters (``bot.forum.results.MemberPoints`` satisfies it)."""

    @property
    def points(self) -> int: ...
    @property
    def anon_points(self) -> int: ...
    @property
    def questions(self) -> int: ...
    @property
    def answers(self) -> int: ...
    @property
    def accepted_answers(self) -> int: ...
    @property
    def upvotes_received(self) -> int: ...
    @property
    def downvotes_received(self) -> int: ...


class LeaderboardEntry(Protocol):
    """One leaderboard line: ``points`` as shown (the base included)."""

    @property
    def rank(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def points(self) -> int: ...
    @property
    def display_name(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """A ready-made ``LeaderboardEntry``; ``display_name`` None shows a (non-pinging) mention."""

    rank: int
    user_id: int
    points: int
    display_name: str | None = None


class OutboxStatsLike(Protocol):
    """Outbox health (``bot.forum.notifications.OutboxStats`` satisfies it)."""

    @property
    def pending(self) -> int: ...
    @property
    def sent(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def undeliverable(self) -> int: ...
    @property
    def oldest_pending_age(self) -> timedelta | None: ...
    @property
    def last_failure(self) -> str | None: ...


# --------------------------------------------------------------------------- questions, answers


def status_line(score: int, answer_count: int, solved: bool, closed: bool) -> str:
    """``"▲ 3 · 2 answers · ✅ Solved"`` (a negative score shows as ``"▼ 2"``)."""
    parts = [
        f"{emoji.UP} {score}" if score >= 0 else f"{emoji.DOWN} {-score}",
        plural(answer_count, "answer"),
    ]
    if solved:
        parts.append(f"{emoji.SOLVED} Solved")
    if closed:
        parts.append(f"{emoji.CLOSED} Closed")
    return emoji.SEPARATOR.join(parts)


def status_line_of(question: QuestionLike) -> str:
    """``status_line`` of a question view."""
    return status_line(question.score, question.answer_count, question.solved, question.closed)


def anonymous_label(display_name: str | None) -> str:
    """The author line of an anonymous post: its chosen display name, else ``"Anonymous"``."""
    name = one_line(display_name or "")
    return name or ANONYMOUS


def _body(text: str, *, markdown: bool) -> str:
    return neutralize_mentions(text) if markdown else escape(text)


def question_embed(
    title: str,
    details: str,
    author_label: str,
    category: str | None,
    status_line: str,
    footer_key: int | None,
    *,
    solved: bool = False,
    closed: bool = False,
    markdown: bool = True,
) -> discord.Embed:
    """A question posted by the bot: title, details, author line, category, status, key.

    ``author_label`` is the member's display name, ``"Anonymous"`` or a pseudonym, never an id.
    ``details`` keeps its author's markdown unless ``markdown`` is False; mentions in it are
    always shown literally. ``footer_key`` is the pending row's post id (None: no footer).
    """
    colour = COLOUR_CLOSED if closed else COLOUR_SOLVED if solved else COLOUR_QUESTION
    embed = _embed(
        colour=colour, title=_title_text(title), description=_body(details, markdown=markdown)
    )
    _author(embed, author_label)
    _field(embed, "Status", status_line, inline=True)
    if category:
        _field(embed, "Category", escape(one_line(category)), inline=True)
    if footer_key is not None:
        _footer(embed, footer_key_text(footer_key))
    return fit(embed)


def answer_embed(
    body: str, author_label: str, footer_key: int | None, *, markdown: bool = True
) -> discord.Embed:
    """An answer the bot posts on someone's behalf (``/answer``, anonymous or named)."""
    embed = _embed(colour=COLOUR_ANSWER, description=_body(body, markdown=markdown))
    _author(embed, author_label)
    if footer_key is not None:
        _footer(embed, footer_key_text(footer_key))
    return fit(embed)


def accepted_notice(answer_jump_url: str, answerer_label: str) -> discord.Embed:
    """The short public note that an answer was accepted (pings nobody: it is an embed)."""
    name = _name(answerer_label)
    text = f"{emoji.SOLVED} [This answer]({answer_jump_url}) by **{name}** was accepted."
    return fit(_embed(colour=COLOUR_SOLVED, description=text))


# --------------------------------------------------------------------------- DMs


def dm_new_answer(
    question_title: str | None, answerer_label: str, excerpt: str, count: int = 1
) -> discord.Embed:
    """The DM about a new answer; ``count`` > 1 makes it a follow-up ("4 new answers to …").

    ``excerpt`` is the answer's raw text (the latest one for a follow-up): it is escaped and cut
    here, so never pass text that is already escaped. ``answerer_label`` is a display name or
    ``"Anonymous"``; for a follow-up it may name several people (``human_join``).
    """
    head = "New answer to " if count <= 1 else f"{count} new answers to "
    name = _name(answerer_label)
    intro = f"**{name}** answered:" if count <= 1 else f"The latest, from **{name}**:"
    description = f"{intro}\n>>> {_excerpt(excerpt)}"
    return fit(
        _embed(
            colour=COLOUR_ANSWER,
            title=_quoted(head, question_title, EMBED_TITLE),
            description=description,
        )
    )


def dm_accepted(question_title: str | None, excerpt: str) -> discord.Embed:
    """The DM telling an answerer their answer was accepted; ``excerpt`` is raw answer text."""
    description = f"{_quoted('On ', question_title, 300)}\n>>> {_excerpt(excerpt)}"
    return fit(
        _embed(
            colour=COLOUR_SOLVED,
            title=f"{emoji.SOLVED} Your answer was accepted",
            description=description,
        )
    )


def dm_comment(
    question_title: str | None, commenter_label: str, excerpt: str, count: int = 1
) -> discord.Embed:
    """The DM telling an answerer about a comment on their answer; ``count`` > 1 gathers
    several ("3 new comments on your answer to …"). ``excerpt`` is the raw comment text (the
    latest one for a follow-up); ``commenter_label`` a display name or ``"Anonymous"``."""
    head = "New comment on your answer to "
    if count > 1:
        head = f"{count} new comments on your answer to "
    name = _name(commenter_label)
    intro = f"**{name}** commented:" if count <= 1 else f"The latest, from **{name}**:"
    return fit(
        _embed(
            colour=COLOUR_ANSWER,
            title=_quoted(head, question_title, EMBED_TITLE),
            description=f"{intro}\n>>> {_excerpt(excerpt)}",
        )
    )


def _excerpt(text: str) -> str:
    return excerpt(text, DM_EXCERPT) or "(no text)"


# --------------------------------------------------------------------------- read paths


def _question_link(question: QuestionLike, guild_id: int) -> str:
    """A question's title in bold, linked to its thread when it has one."""
    name = _link_text(truncate_markdown(_title_text(question.title), 150))
    if question.thread_id is not None:
        name = f"[{name}]({jump_url(guild_id, question.thread_id)})"
    return f"**{name}**"


def search_results(
    hits: Sequence[QuestionLike],
    guild_id: int,
    *,
    query: str | None = None,
    empty: str = "No questions match.",
) -> discord.Embed:
    """Matching questions, one line each: linked title, score, answers, solved mark.
    ``empty`` is our sentence (markdown) for no hits."""
    title = _quoted("Results for ", query, EMBED_TITLE) if query else "Search results"
    lines = [f"{_question_link(hit, guild_id)}\n{status_line_of(hit)}" for hit in hits]
    description = _lines(lines, EMBED_DESCRIPTION) if lines else empty
    return fit(_embed(colour=COLOUR_INFO, title=title, description=description))


def unanswered_page(
    questions: Sequence[DatedQuestionLike],
    guild_id: int,
    *,
    page: int,
    pages: int,
    total: int,
    category: str | None = None,
) -> discord.Embed:
    """One page of ``/unanswered``: linked titles with their score and when they were asked
    (a timestamp each reader sees in their own time), ``total`` in the title."""
    head = f"Unanswered questions ({total})"
    if category:
        head = f"Unanswered questions in {escape(one_line(category))} ({total})"
    lines = [
        f"{_question_link(q, guild_id)}\n{status_line_of(q)}{emoji.SEPARATOR}asked "
        f"{format_relative(q.created_at)}"
        for q in questions
    ]
    description = (
        _lines(lines, EMBED_DESCRIPTION) if lines else "Every open question has an answer."
    )
    embed = _embed(colour=COLOUR_INFO, title=head, description=description)
    _footer(embed, f"Page {max(page, 1)} of {max(pages, 1)} · oldest first")
    return fit(embed)


def similar_questions(hits: Sequence[QuestionLike], guild_id: int) -> discord.Embed:
    """The questions shown before a new one is posted (``/ask``'s similar-questions gate)."""
    lines = [f"{_question_link(hit, guild_id)}\n{status_line_of(hit)}" for hit in hits]
    description = (
        "These questions look like yours; one of them may already have your answer.\n\n"
        + _lines(lines, EMBED_DESCRIPTION - 100)
    )
    return fit(_embed(colour=COLOUR_INFO, title="Similar questions", description=description))


def related_questions_line(questions: Sequence[QuestionLike], guild_id: int) -> str:
    """A line of message content (not an embed) for a new post: its related questions as links
    that do not unfurl, in small print; empty when there are none."""
    links = [
        f"[{_link_text(truncate_markdown(_title_text(q.title), 100))}]"
        f"(<{jump_url(guild_id, q.thread_id)}>)"
        for q in questions
        if q.thread_id is not None
    ]
    return f"-# Related questions: {emoji.SEPARATOR.join(links)}" if links else ""


def profile(
    member_label: str,
    stats: MemberStats,
    *,
    points_base: int,
    rank: int | None = None,
    show_private: bool = False,
    avatar_url: str | None = None,
) -> discord.Embed:
    """A member's points (a plain number: the base plus what they earned) and counters.

    ``show_private`` adds what anonymous posts earned; only for the member themself, in an
    ephemeral reply (DESIGN.md §5).
    """
    embed = _embed(colour=COLOUR_INFO)
    _author(embed, member_label, icon_url=avatar_url)
    _field(embed, "Points", str(points_base + stats.points), inline=True)
    _field(embed, "Rank", f"#{rank}" if rank is not None else "—", inline=True)
    _field(embed, "Questions", str(stats.questions), inline=True)
    _field(embed, "Answers", str(stats.answers), inline=True)
    _field(embed, "Best answers", str(stats.accepted_answers), inline=True)
    votes = f"{emoji.UP} {stats.upvotes_received} {emoji.DOWN} {stats.downvotes_received}"
    _field(embed, "Votes received", votes, inline=True)
    if show_private and stats.anon_points:
        _field(
            embed,
            "Anonymous posts",
            f"{stats.anon_points:+} points, shown only to you and counted in no public total.",
        )
    return fit(embed)


def _medal(rank: int) -> str:
    return emoji.MEDALS[rank - 1] if 1 <= rank <= len(emoji.MEDALS) else f"**#{rank}**"


def leaderboard_page(
    rows: Sequence[LeaderboardEntry], page: int, pages: int, *, title: str = "Leaderboard"
) -> discord.Embed:
    """One page of the leaderboard (``page`` counts from 1). A row without a display name shows
    a mention, which in an embed never pings."""
    lines = []
    for row in rows:
        name = _name(row.display_name or "", mention_user(row.user_id))
        lines.append(f"{_medal(row.rank)} {name} — {plural(row.points, 'point')}")
    description = _lines(lines, EMBED_DESCRIPTION) if lines else "No points yet."
    embed = _embed(colour=COLOUR_INFO, title=escape(one_line(title)), description=description)
    _footer(embed, f"Page {max(page, 1)} of {max(pages, 1)}")
    return fit(embed)


# --------------------------------------------------------------------------- administration


def setup_report(
    *,
    forum_id: int,
    categories: Sequence[str],
    solved_tag: str,
    solved_tag_created: bool,
    missing_permissions: Sequence[str],
    notes: Sequence[str] = (),
) -> discord.Embed:
    """What ``/qa setup`` did: the forum, its categories, the Solved tag, missing permissions.

    ``notes`` are further sentences of ours (e.g. "The bot's role is below a point role.").
    """
    colour = COLOUR_WARNING if missing_permissions else COLOUR_SUCCESS
    embed = _embed(
        colour=colour,
        title="Q&A forum set up",
        description=f"Questions are posted in {mention_channel(forum_id)}.",
    )
    names = [escape(one_line(c)) for c in categories]
    _field(
        embed,
        "Categories",
        human_join(names) if names else "None yet: add tags to the forum or use /qa settings.",
    )
    how = "created" if solved_tag_created else "found"
    _field(embed, "Solved tag", f"{escape(one_line(solved_tag))} ({how})", inline=True)
    if missing_permissions:
        missing = "\n".join(f"{emoji.WARNING} {p}" for p in missing_permissions)
        _field(embed, "Missing permissions in the forum", missing)
    else:
        _field(embed, "Permissions", "All the bot needs.", inline=True)
    if notes:
        _field(embed, "Notes", "\n".join(notes))
    return fit(embed)


def settings_table(rows: Iterable[tuple[str, str, str, str]]) -> list[discord.Embed]:
    """``/qa settings show``: one entry per (key, value, default, help), values as formatted by
    the domain. Usually one embed; more when the entries do not fit one (send each in its own
    message or page through them), each within every limit."""
    entries = []
    for key, value, default, help_text in rows:
        line = f"`{key}`: **{escape(one_line(value))}**"
        if value != default:
            line += f" (default {escape(one_line(default))})"
        entries.append(truncate_markdown(f"{line}\n{escape(one_line(help_text))}", 1000))
    chunks: list[list[str]] = [[]]
    used = 0
    for entry in entries:
        cost = len(entry) + 2
        if chunks[-1] and used + cost > EMBED_DESCRIPTION:
            chunks.append([])
            used = 0
        chunks[-1].append(entry)
        used += cost
    embeds = []
    for index, chunk in enumerate(chunks, start=1):
        title = "Settings" if len(chunks) == 1 else f"Settings ({index}/{len(chunks)})"
        description = "\n\n".join(chunk) if chunk else "No settings."
        embeds.append(fit(_embed(colour=COLOUR_INFO, title=title, description=description)))
    return embeds


def outbox_status(stats: OutboxStatsLike) -> discord.Embed:
    """``/qa status``: DM outbox counts, the oldest pending age and the last failure."""
    colour = COLOUR_WARNING if stats.failed else COLOUR_INFO
    embed = _embed(colour=colour, title="Notification outbox")
    _field(embed, "Pending", str(stats.pending), inline=True)
    _field(embed, "Sent", str(stats.sent), inline=True)
    _field(embed, "Failed", str(stats.failed), inline=True)
    _field(embed, "Undeliverable", str(stats.undeliverable), inline=True)
    age = stats.oldest_pending_age
    _field(embed, "Oldest pending", format_duration(age) if age is not None else "—", inline=True)
    failure = stats.last_failure
    _field(embed, "Last failure", excerpt(one_line(failure), 500) if failure else "None")
    return fit(embed)


# --------------------------------------------------------------------------- replies


def error(message: str) -> discord.Embed:
    """A refusal or failure. ``message`` is our sentence (markdown allowed): escape any user
    text in it with ``bot.ui.text.escape`` first."""
    return fit(_embed(colour=COLOUR_ERROR, description=message))


def success(message: str) -> discord.Embed:
    """A confirmation; ``message`` as for ``error``."""
    return fit(_embed(colour=COLOUR_SUCCESS, description=message))


def info(message: str) -> discord.Embed:
    """A neutral notice; ``message`` as for ``error``."""
    return fit(_embed(colour=COLOUR_INFO, description=message))
