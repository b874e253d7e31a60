"""``python -m tests.demo`` (``make demo``): play the scripted conversation, print the transcript.

Exit code 0 when every step that ran got the bot's responses in time; 1 with a last line
``demo FAILED: ...`` otherwise. The transcript goes to stdout; the bot's warnings go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from tests.demo.scenario import DEFAULT_TIMEOUT, Demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.demo",
        description="qa-bot against a fake Discord: a scripted conversation as a transcript.",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for each response of the bot (default %(default)s)",
    )
    parser.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="NAME",
        help="also load this extension (a cog not yet in bot.client.EXTENSIONS); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    demo = Demo(sys.stdout, timeout=args.timeout, extra_extensions=args.extension)
    return asyncio.run(demo.run())


if __name__ == "__main__":
    sys.exit(main())
