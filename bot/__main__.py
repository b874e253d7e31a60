"""Command line: ``qa-bot run | migrate | sync-commands | migrate-data | web`` (also
``python -m bot``).

A start that cannot go on ends with one sentence on stderr and exit code 2, never a traceback:
bad settings, a refused token or an unreachable Discord (``bot.runtime.StartupError``), a
database that does not answer or cannot be opened (``bot.db.health``: ``run`` and ``migrate``
open one connection first; the URL is shown with its password hidden), a second ``run`` on the
same SQLite file (``bot.db.sqlite_guard``), a ``migrate-data`` that cannot go on
(``bot.data_move``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot import data_move, q2a_import, q2a_publish
from bot.db import health, migrate, sqlite_guard
from bot.logs import configure_logging
from bot.runtime import StartupError, run_bot, sync_commands
from bot.settings import Settings, SettingsError, load_settings
from bot.web import serve as web_serve


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
        "--health-port",
        type=int,
        metavar="P",
        help="serve /healthz and /metrics on this port (HEALTH_HOST, default 127.0.0.1); "
        "overrides HEALTH_PORT, 0: off",
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
    move = sub.add_parser(
        "migrate-data", help="copy a community from its SQLite file into an empty PostgreSQL"
    )
    move.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="SQLITE_URL",
        help="the bot's SQLite database, e.g. sqlite+aiosqlite:///data/qa-bot.sqlite3 (only read)",
    )
    move.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="POSTGRES_URL",
        help="an empty PostgreSQL database, e.g. postgresql+asyncpg://user:pw@host/qabot",
    )
    web = sub.add_parser("web", help="serve the public web archive (read-only; issue 24)")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    web.add_argument("--port", type=int, default=8080, help="port to listen on (%(default)s)")
    web.add_argument(
        "--base-url", metavar="URL", help="the public address of the archive (canonical links)"
    )
    web.add_argument("--name", default="Q&A archive", help="the archive's name (%(default)s)")
    q2a = sub.add_parser(
        "import-q2a", help="import a Question2Answer site's history into a server's community"
    )
    q2a.add_argument(
        "--from",
        dest="source",
        metavar="MYSQL_URL",
        help="the Q2A database, e.g. mysql+asyncmy://user:pw@host/q2a (only read)",
    )
    q2a.add_argument("--guild", type=int, required=True, metavar="ID", help="the server's id")
    q2a.add_argument("--dry-run", action="store_true", help="print counts and problems only")
    q2a.add_argument("--users", metavar="CSV", help="handle,discord_id lines: Q2A users' members")
    q2a.add_argument("--table-prefix", default="qa_", help="Q2A's table prefix (default qa_)")
    q2a.add_argument(
        "--publish",
        type=int,
        metavar="N",
        help="instead of importing: forum posts for the N most-viewed imported questions",
    )
    return parser


def _secrets(settings: Settings, *urls: str) -> list[str]:
    """What no log line may show: the token and the database URLs' passwords."""
    token = settings.discord_token
    secrets = [token.get_secret_value()] if token is not None else []
    passwords = (health.password(u) for u in (settings.effective_database_url, *urls))
    return [*secrets, *(p for p in passwords if p)]


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings given on the command line (``run --shard-count/--shard-ids/--health-port``)."""
    names = ("shard_count", "shard_ids", "health_port")  # only ``run`` has them
    given = {name: getattr(args, name, None) for name in names}
    return {name: value for name, value in given.items() if value is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url: str | None = None
    try:
        settings = load_settings(**_overrides(args))
        moved = (args.source, args.target) if args.command == "migrate-data" else ()
        moved += (args.source,) if args.command == "import-q2a" and args.source else ()
        configure_logging(settings.log_level, secrets=_secrets(settings, *moved))
        url = settings.effective_database_url
        if args.command == "run":
            settings.token()  # a missing token is told first
        if args.command in ("run", "migrate"):
            asyncio.run(health.probe(url))
        if args.command == "run":
            with sqlite_guard.hold(url):
                asyncio.run(run_bot(settings, apply_migrations=not args.no_migrate))
        elif args.command == "web":  # reads only: no SQLite guard, any number beside the bot
            asyncio.run(
                web_serve.serve(
                    url, host=args.host, port=args.port, base_url=args.base_url, name=args.name
                )
            )
        elif args.command == "migrate-data":
            asyncio.run(data_move.migrate_data(args.source, args.target, sys.stdout))
        elif args.command == "import-q2a" and args.publish is not None:
            asyncio.run(
                q2a_publish.publish_imported(
                    settings, guild_id=args.guild, count=args.publish, out=sys.stdout
                )
            )
        elif args.command == "import-q2a":
            if not args.source:
                raise SettingsError("import-q2a needs --from (the Q2A database) or --publish N.")
            asyncio.run(q2a_import.run_cli(args, url, sys.stdout))
        elif args.command == "migrate":
            asyncio.run(migrate.upgrade(url, args.revision))
            print(f"Database at revision {args.revision}.")
        else:
            guild_id = None if args.globally else (args.guild or settings.dev_guild_id)
            count = asyncio.run(sync_commands(settings, guild_id=guild_id))
            target = f"guild {guild_id}" if guild_id else "all guilds (global)"
            print(f"Synced {count} commands to {target}.")
    except (
        SettingsError,
        StartupError,
        health.DatabaseUnreachable,
        sqlite_guard.AlreadyRunning,
        data_move.TransferRefused,
        data_move.TransferFailed,
        q2a_publish.PublishStopped,
    ) as exc:
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
