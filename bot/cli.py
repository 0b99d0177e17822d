"""The ``mikan`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

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


def _players(args: argparse.Namespace) -> int:
    import json

    from bot.roster import Roster, RosterError

    try:
        roster = Roster.load(args.config)
    except RosterError as exc:
        print(f"mikan: {exc}", file=sys.stderr)
        return 2
    rows = [
        {
            "key": cfg.key,
            "name": cfg.name,
            "provider": cfg.provider,
            "model": cfg.model,
            "base_url": cfg.url_base,
            "api_key_env": cfg.api_key_env,
            "key_configured": cfg.key_configured(),
        }
        for cfg in roster.players.values()
    ]
    if args.json:
        print(json.dumps({"source": roster.source, "players": rows}, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"roster: {roster.source}")
    for col in ("key", "name", "provider", "model", "API key"):
        table.add_column(col)
    for r in rows:
        status = (
            "—"
            if not r["api_key_env"]
            else (
                f"{r['api_key_env']} ✓" if r["key_configured"] else f"{r['api_key_env']} ✗ not set"
            )
        )
        table.add_row(r["key"], r["name"], r["provider"], r["model"] or "", status)
    Console().print(table)
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

    players = sub.add_parser(
        "players",
        help="list the roster's players and whether each one's key is set (never the key)",
    )
    players.add_argument("--config", help="roster TOML (default: $MIKAN_CONFIG or mikan.toml)")
    players.add_argument("--json", action="store_true", help="print JSON")
    players.set_defaults(func=_players)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from dotenv import load_dotenv

    # Keys may live in .env; the environment wins over the file.
    load_dotenv(dotenv_path=Path.cwd() / ".env", override=False)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))
