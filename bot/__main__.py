"""Command line: ``qa-bot run | migrate | sync-commands`` (also ``python -m bot``).

A start that cannot go on ends with one sentence on stderr and exit code 2, never a traceback:
bad settings, a refused token or an unreachable Discord (``bot.runtime.StartupError``), a
database that does not answer or cannot be opened (``bot.db.health``: ``run`` and ``migrate``
open one connection first; the URL is shown with its password hidden).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.db import health, migrate
from bot.logs import configure_logging
from bot.runtime import StartupError, run_bot, sync_commands
from bot.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa-bot",
        description="qa-bot: a Discord Q&A community bot. Settings come from the environment "
        "and .env (see .env.example).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = sub.add_parser("run", help="apply pending migrations, then run the bot")
    run.add_argument(
        "--no-migrate", action="store_true", help="start without applying pending migrations"
    )
    run.add_argument(
        "--shard-count", type=int, metavar="N", help="shards in all (overrides SHARD_COUNT)"
    )
    run.add_argument(
        "--shard-ids", metavar="IDS", help="this process's shards, e.g. 0,1 (overrides SHARD_IDS)"
    )
    mig = sub.add_parser("migrate", help="apply pending database migrations and exit")
    mig.add_argument("--revision", default="head", help="target revision (default: head)")
    sync = sub.add_parser(
        "sync-commands", help="register the slash commands with Discord (explicit, not on start)"
    )
    where = sync.add_mutually_exclusive_group()
    where.add_argument("--guild", type=int, metavar="ID", help="sync to one guild (instant)")
    where.add_argument(
        "--global",
        dest="globally",
        action="store_true",
        help="sync globally (the default unless DEV_GUILD_ID is set)",
    )
    return parser


def _secrets(settings: Settings) -> list[str]:
    """What no log line may show: the token and the database URL's password."""
    token = settings.discord_token
    secrets = [token.get_secret_value()] if token is not None else []
    database_password = health.password(settings.effective_database_url)
    return [*secrets, database_password] if database_password else secrets


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings given on the command line (``run --shard-count/--shard-ids``)."""
    names = ("shard_count", "shard_ids")  # only ``run`` has them
    given = {name: getattr(args, name, None) for name in names}
    return {name: value for name, value in given.items() if value is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url: str | None = None
    try:
        settings = load_settings(**_overrides(args))
        configure_logging(settings.log_level, secrets=_secrets(settings))
        url = settings.effective_database_url
        if args.command == "run":
            settings.token()  # a missing token is told first
        if args.command in ("run", "migrate"):
            asyncio.run(health.probe(url))
        if args.command == "run":
            asyncio.run(run_bot(settings, apply_migrations=not args.no_migrate))
        elif args.command == "migrate":
            asyncio.run(migrate.upgrade(url, args.revision))
            print(f"Database at revision {args.revision}.")
        else:
            guild_id = None if args.globally else (args.guild or settings.dev_guild_id)
            count = asyncio.run(sync_commands(settings, guild_id=guild_id))
            target = f"guild {guild_id}" if guild_id else "all guilds (global)"
            print(f"Synced {count} commands to {target}.")
    except (SettingsError, StartupError, health.DatabaseUnreachable) as exc:
        print(f"qa-bot: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # The database went away between the probe and its first use (or during a migration).
        if url is None or health.sentence_for(exc) is None:
            raise
        print(f"qa-bot: {health.startup_sentence(url, exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
