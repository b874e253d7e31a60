"""``python -m tests.demo.web`` (``make web``): the demo's conversation kept in
``.demo/web.sqlite3`` with the archive switched on and its members' consent given, then served
by ``qa-bot web`` so a newcomer can open the public archive at once.

Consent goes through the domain, as the bot's buttons and ``/privacy`` do: publishing on, every
category chosen, each question allowed by its asker, and every author's default a yes; only
the members who answered by name chose to be named, so the page shows both kinds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import Post
from bot.forum import consent
from bot.forum.categories import list_categories
from bot.forum.settings import set_setting
from bot.forum.uow import run_in_transaction
from bot.web.serve import serve
from tests.demo.scenario import GUILD, Demo

DATABASE = Path(".demo") / "web.sqlite3"
INVITE = "https://discord.gg/calmcorner"


async def give_consent(session: AsyncSession) -> int:
    """Open the archive of every server in the database; how many questions it publishes."""
    posts = (await session.execute(select(Post).where(Post.state == "live"))).scalars().all()
    for guild_id in {p.guild_id for p in posts}:
        await set_setting(session, guild_id, "publishing", True)
        await set_setting(session, guild_id, "archive_invite", INVITE)
        for category in await list_categories(session, guild_id):
            await consent.set_archived(session, guild_id, category.name, True)
    authors = {(p.guild_id, p.author_id, not p.anonymous and p.kind == "answer") for p in posts}
    for guild_id, author_id, named in sorted(authors):
        await consent.set_prefs(session, guild_id, author_id, by_default=True, named=named or None)
    return sum(p.kind == "question" for p in posts)


async def build(database: Path) -> int:
    database.parent.mkdir(parents=True, exist_ok=True)
    for old in database.parent.glob(database.name + "*"):
        old.unlink()
    transcript = io.StringIO()
    if await Demo(transcript).run(database) != 0:
        print(transcript.getvalue(), file=sys.stderr)
        raise SystemExit("make web: the demo conversation failed (its transcript is above)")
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        return await run_in_transaction(create_sessionmaker(engine), give_consent)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.demo.web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--build-only", action="store_true", help="build the database, no server")
    args = parser.parse_args(argv)
    count = asyncio.run(build(DATABASE))
    print(f"Demo archive built in {DATABASE} ({count} questions).", flush=True)
    if args.build_only:
        return 0
    try:
        url = f"sqlite+aiosqlite:///{DATABASE}"
        asyncio.run(serve(url, host=args.host, port=args.port, name=GUILD))
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
