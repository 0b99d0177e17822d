"""The ``mikan`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__


def _judge(args: argparse.Namespace) -> int:
    from bot.judge_stream import run

    try:
        run(sys.stdin.buffer, sys.stdout, line_buffered=args.line_buffered or sys.stdout.isatty())
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not our error
        return 0
    except OSError as exc:
        print(f"mikan judge: cannot read input: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mikan",
        description="Mikan: a shiritori referee and arena for language models and people.",
    )
    parser.add_argument("--version", action="version", version=f"mikan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    judge = sub.add_parser(
        "judge",
        help="judge words read as JSON Lines on stdin",
        description=(
            'Reads one JSON object a line: {"text": str, "prev": str|null, "used": [str], '
            '"rules": {...}} and writes one verdict a line: {"word", "reading", "first", '
            '"next", "violations", "ok", "self_flag"}. A malformed line gets {"error": ...}.'
        ),
    )
    judge.add_argument(
        "--line-buffered", action="store_true", help="flush after every verdict (for co-processes)"
    )
    judge.set_defaults(func=_judge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))
