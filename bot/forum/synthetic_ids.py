"""Synthetic author ids: imported authors with no Discord account (``qa-bot import-q2a``).

A Q2A user is stored under ``-userid``, an anonymous Q2A post's author under
``-(2**40 + postid)`` (one per post: no number ties two anonymous posts together; Q2A's user
ids are 32-bit, so the ranges never meet). Discord snowflakes are positive, so no synthetic id
can ever be a member's. Synthetic authors are left out of the leaderboard, point roles, DMs
and points-moved events.
"""

from __future__ import annotations

from typing import Final

#: Anonymous Q2A posts' synthetic authors start below minus this.
ANONYMOUS_BASE: Final = 2**40


def is_synthetic(user_id: int) -> bool:
    """An imported author with no Discord account (no snowflake is zero or negative)."""
    return user_id <= 0


def synthetic_user_id(source_user_id: int) -> int:
    return -source_user_id


def synthetic_anonymous_id(source_post_id: int) -> int:
    return -(ANONYMOUS_BASE + source_post_id)
