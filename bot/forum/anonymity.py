"""Who may post anonymously, and under what display name.

The per-server switch (``anonymous_posting``, ``anonymous_min_days`` in ``bot.forum.settings``)
is checked by ``check_can_post_anonymously``; the adapter passes the member's join date as a
plain datetime. The optional display name of an anonymous question is checked by
``validate_anonymous_display_name``: it must not hide text (bidirectional overrides, invisible
characters) nor imitate anybody - after folding case, width, accents and common look-alike
letters (``fold_confusables``), it may not equal or prefix-match a name the adapter found
(members' names and nicknames through Discord's member search, role names, the bot's name), a
name stored for an earlier post or member of the guild, "moderator" or "admin", or a
pseudonym ("Member 2"). Refusals are one sentence that names no one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import and_, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utc_now
from bot.db.models import Member, Post
from bot.forum.errors import PermissionDenied, ValidationError
from bot.forum.settings import GuildConfig, load_config
from bot.forum.text_rules import clean_display_name

# --------------------------------------------------------------------------- the switch

ANONYMITY_OFF: Final = "Anonymous posting is turned off in this server."


def _too_new(days: int) -> str:
    unit = "day" if days == 1 else "days"
    return f"You can post anonymously once you have been in this server for {days} {unit}."


def check_anonymity_allowed(
    config: GuildConfig, *, joined_at: datetime | None, now: datetime | None = None
) -> None:
    """Refuse (``PermissionDenied``, one sentence) a member who may not post anonymously here:
    the server turned it off, or the member joined less than ``anonymous_min_days`` ago (an
    unknown join date counts as too recent while a minimum is set)."""
    if not config.anonymous_posting:
        raise PermissionDenied(ANONYMITY_OFF)
    days = config.anonymous_min_days or 0
    if days <= 0:
        return
    now = now or utc_now()
    if joined_at is None or (now - joined_at).total_seconds() < days * 86_400:
        raise PermissionDenied(_too_new(days))


async def check_can_post_anonymously(
    session: AsyncSession,
    *,
    guild_id: int,
    joined_at: datetime | None,
    now: datetime | None = None,
) -> None:
    """``check_anonymity_allowed`` under the guild's settings in force."""
    check_anonymity_allowed(await load_config(session, guild_id), joined_at=joined_at, now=now)


# --------------------------------------------------------------------------- display names

HIDDEN_CHARACTERS: Final = "A display name cannot contain invisible or text-direction characters."
IMITATION: Final = (
    "That display name is too close to a member's, a role's, the bot's or a moderator's name, "
    "or to one already used here; choose another, or leave it empty to show as Anonymous."
)
#: Names nobody may imitate, besides those the adapter passes and the guild's stored ones.
RESERVED_NAMES: Final = ("moderator", "admin")
#: A stored or found name this long (folded) or longer also refuses names that start with it.
MIN_PREFIX: Final = 3

# Characters that show nothing although Unicode calls them letters or symbols.
_BLANKS: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u180e\u17b4\u17b5")
# Categories of hidden characters: controls, format (bidi overrides and isolates, zero-width
# joiners and spaces, soft hyphen, ...), surrogates, private use, unassigned.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})

# Common Latin look-alikes from Cyrillic, Greek and elsewhere, and digits or signs standing for
# letters, after NFKC and casefold (so lower case is enough).
_LOOK_ALIKES: Final = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "г": "r", "һ": "h", "н": "h", "і": "i",
        "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "с": "c",
        "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "х": "x", "ԝ": "w", "ԁ": "d",
        "ɡ": "g", "п": "n", "и": "u", "ь": "b", "ⅼ": "l",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v",
        "ο": "o", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        "γ": "y", "ϲ": "c", "ϳ": "j",
        # Latin oddities
        "ı": "i", "ɩ": "i", "ɑ": "a", "ɒ": "a", "ʟ": "l", "ɪ": "i", "ᴀ": "a", "ᴍ": "m",
        "ɴ": "n", "ᴏ": "o", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w",
        "ᴅ": "d", "ᴇ": "e", "ʜ": "h", "ᴋ": "k", "ᴘ": "p", "ʏ": "y", "ᴢ": "z", "ſ": "s",
    }
)  # fmt: skip
# Digits and signs standing for letters (not applied when looking for a pseudonym's number).
_LETTER_LIKE: Final = str.maketrans(
    {
        "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a",
        "$": "s", "|": "l", "!": "i",
    }
)  # fmt: skip


def has_hidden_characters(name: str) -> bool:
    """Whether the name holds a bidirectional control or an invisible character."""
    for ch in name:
        if ch in _BLANKS:
            return True
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES and not ch.isspace():
            return True
    return False


def fold_confusables(name: str, *, digits_as_letters: bool = True) -> str:
    """The skeleton two names are compared by: NFKC, casefold, accents dropped, look-alike
    letters (and letter-like digits) mapped to Latin, and anything but letters and digits left
    out ("Ⅿоd.ерatоr" and "m0derator" fold as "moderator" does)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
    text = text.translate(_LOOK_ALIKES)
    if digits_as_letters:
        text = text.translate(_LETTER_LIKE)
    return "".join(ch for ch in text if ch.isalnum())


def _imitates(candidate: str, other: str) -> bool:
    """Both folded: equal, ``candidate`` a prefix of ``other``, or ``other`` (long enough) a
    prefix of ``candidate``."""
    if not candidate or not other:
        return False
    if other.startswith(candidate):
        return True
    return len(other) >= MIN_PREFIX and candidate.startswith(other)


def _is_pseudonym(folded: str) -> bool:
    rest = folded.removeprefix("member")
    return rest != folded and (rest == "" or rest.isdigit())


def check_display_name(name: str | None, *, taken: Iterable[str] = ()) -> str | None:
    """The display name to store (None: "Anonymous"), or ``ValidationError`` with one sentence:
    hidden characters, too long, or imitating a name in ``taken`` or ``RESERVED_NAMES``."""
    if name is None or not name.strip():
        return None
    if has_hidden_characters(name):
        raise ValidationError(HIDDEN_CHARACTERS)
    cleaned = clean_display_name(name)
    if cleaned is None:
        return None
    folded = fold_confusables(cleaned)
    if _is_pseudonym(fold_confusables(cleaned, digits_as_letters=False)) or any(
        _imitates(folded, fold_confusables(other)) for other in (*RESERVED_NAMES, *taken)
    ):
        raise ValidationError(IMITATION)
    return cleaned


async def stored_names(
    session: AsyncSession, *, guild_id: int, author_id: int | None = None
) -> set[str]:
    """Every name stored in the guild: display names of posts and the names members were last
    seen with. The author's own earlier anonymous display names are left out (reusing one is
    their choice and imitates nobody)."""
    posts = select(Post.display_name).where(
        Post.guild_id == guild_id, Post.display_name.is_not(None)
    )
    if author_id is not None:
        posts = posts.where(not_(and_(Post.anonymous, Post.author_id == author_id)))
    members = select(Member.display_name).where(
        Member.guild_id == guild_id, Member.display_name.is_not(None)
    )
    names: set[str] = set()
    for stmt in (posts.distinct(), members.distinct()):
        names.update(n for n in (await session.execute(stmt)).scalars() if n)
    return names


async def validate_anonymous_display_name(
    session: AsyncSession,
    *,
    guild_id: int,
    name: str | None,
    found_names: Iterable[str] = (),
    author_id: int | None = None,
) -> str | None:
    """The display name an anonymous author chose, checked (``check_display_name``) against
    ``found_names`` - what the adapter found: members whose name or nickname matches through
    Discord's member search, the guild's role names, the bot's name - and every name stored in
    the guild (``stored_names``). Returns the name to store, None for none ("Anonymous")."""
    if name is None or not name.strip():
        return None
    taken = [*found_names, *await stored_names(session, guild_id=guild_id, author_id=author_id)]
    return check_display_name(name, taken=taken)
