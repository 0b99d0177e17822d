"""The ``mikan`` command line."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import __version__


def _judge(args: argparse.Namespace) -> int:
    import contextlib
    import io
    import os

    from bot.referee.stream import read_lines, run

    # JSON Lines are UTF-8 whatever the locale says; "\n" ends every line on every OS.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
    try:
        # Flushed per line always (--line-buffered is the default): a pipe reader or a
        # co-process sees each verdict as soon as it is made.
        run(read_lines(sys.stdin.buffer), sys.stdout, line_buffered=True)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not our error
        # Python's flush of stdout at exit would fail again and print a warning.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"mikan judge: input/output error: {exc}", file=sys.stderr)
        return 1
    return 0


def _players(args: argparse.Namespace) -> int:
    import json

    try:
        roster = _load_roster(args.config)
    except CliError as exc:
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


class CliError(Exception):
    """A clear message for the user; exit code 2."""


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole(text, 1)


def count(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole(text, 0)


def _finite(text: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        want = "more than 0" if positive else "0 or more"
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds, {want}: {text}")
    return value


def seconds(text: str) -> float:
    """An argparse type: finite seconds, 0 or more (no nan, no inf)."""
    return _finite(text, positive=False)


def positive_seconds(text: str) -> float:
    """An argparse type: finite seconds, more than 0."""
    return _finite(text, positive=True)


def fresh_seed(given: int | None) -> int:
    """``--seed`` if given, else fresh randomness for this run (recorded in each round)."""
    import secrets

    return given if given is not None else secrets.randbits(32)


def _load_roster(path: str | None):  # type: ignore[no-untyped-def]
    from bot.players.roster import Roster, RosterError

    try:
        return Roster.load(path)
    except RosterError as exc:
        raise CliError(str(exc)) from exc


def _rules(text: str | None):  # type: ignore[no-untyped-def]
    import json

    from bot.referee.rules import Rules, RulesError

    if not text:
        return Rules()
    try:
        return Rules.from_mapping(json.loads(text))
    except json.JSONDecodeError as exc:
        raise CliError(f"--rules is not valid JSON: {exc.msg}") from exc
    except RulesError as exc:
        raise CliError(f"--rules: {exc}") from exc


def _pick_players(roster, names: str | None, default_count: int):  # type: ignore[no-untyped-def]
    from bot.players.roster import RosterError

    keys = [k.strip() for k in names.split(",") if k.strip()] if names else None
    if keys is None:
        if roster.source != "built-in":
            raise CliError(
                f"name the players with --players (the roster has: {', '.join(roster.players)})"
            )
        keys = list(roster.players)[:default_count]
    try:
        return roster.select(keys)
    except RosterError as exc:
        raise CliError(str(exc)) from exc


def _probes(args: argparse.Namespace) -> tuple[str, ...]:
    return ("intent", "pushback") if args.pushback else ("intent",)


async def _arena_main(args: argparse.Namespace) -> int:
    import asyncio

    from bot.surfaces.lifecycle import install_stop_handlers

    # From the first line to the last: a signal at start-up or while closing is a stop
    # too, never Python's default (death by SIGTERM, a KeyboardInterrupt traceback).
    stop, second = asyncio.Event(), asyncio.Event()
    remove = install_stop_handlers(stop, again=second)
    try:
        return await _arena(args, stop, second)
    finally:
        remove()


async def _arena(args: argparse.Namespace, stop: Any, second: Any) -> int:
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from bot.players.pool import Players
    from bot.surfaces.arena import (
        ArenaOptions,
        CountingSurface,
        failing_players,
        run_arena,
        summarise,
    )
    from storage.db import Database
    from storage.errors import shown

    roster = _load_roster(args.config)
    opts = ArenaOptions(
        players=_pick_players(roster, args.players, 2),
        rounds=args.rounds,
        concurrency=args.concurrency,
        seed=fresh_seed(args.seed),
        rules=_rules(args.rules),
        mode=args.mode,
        start_word=args.start,
        max_turns=args.max_turns,
        prompt_lang=args.prompt_lang,
        probes=_probes(args),
    )
    err = Console(stderr=True)
    db = await Database.open(args.db, init=args.init)
    db.on_busy = lambda waited: err.print(
        f"database busy: another process holds the write lock on {shown(db.path)}; "
        f"waiting ({waited:.0f} s so far, nothing is lost)",
        markup=False,
        highlight=False,
    )
    players = Players(opts.players)
    started: list[int] = []
    progress = Progress(
        TextColumn("[bold]arena"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rounds · {task.fields[turns]} turns"),
        TimeElapsedColumn(),
        console=err,
        disable=args.quiet,
    )
    task = progress.add_task("rounds", total=args.rounds, turns=0)
    turns = 0

    def on_turn() -> None:
        nonlocal turns
        turns += 1
        progress.update(task, turns=turns)

    async def on_started(round_id: int) -> None:
        started.append(round_id)
        progress.update(task, total=max(args.rounds, len(started)))

    surface = CountingSurface(on_turn, lambda: progress.advance(task))
    interrupted = stop.is_set()  # a signal during start-up: nothing new begins
    try:
        with progress:
            runner = asyncio.create_task(
                run_arena(
                    db,
                    opts,
                    players.adapters,
                    surface=surface,
                    on_started=on_started,
                    stopping=stop,
                )
            )
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if runner not in done:
                interrupted = True
                # Rounds finish the turn in flight (decided ones their probes too); what
                # is still running at the deadline is cancelled, its turn in flight lost
                # whole and asked again on resume.
                err.print("stopping: finishing the turns in flight (Ctrl-C again to cancel)")
                again = asyncio.create_task(second.wait())  # a second signal cancels now
                await asyncio.wait(
                    {runner, again}, timeout=ARENA_DRAIN_S, return_when=asyncio.FIRST_COMPLETED
                )
                again.cancel()
                if not runner.done():
                    runner.cancel()
            stopper.cancel()
            await asyncio.gather(runner, stopper, return_exceptions=True)
            if runner.done() and not runner.cancelled() and runner.exception():
                raise runner.exception()  # type: ignore[misc]
        summary = await summarise(db, started)
        failing = await failing_players(db, started)
    finally:
        await players.aclose()
        await db.close()
    _print_summary(summary, args.json)
    for f in failing:
        key_hint = f"its key ({f['api_key_env']}), " if f["api_key_env"] else ""
        err.print(
            f"mikan arena: every call to player {f['player']!r} failed ({f['calls']} calls); "
            f"the provider said: {f['error']} — check {key_hint}base_url and model in the roster",
            markup=False,
            highlight=False,
        )
    if failing and all(f["all_failed_everywhere"] for f in failing):
        return 1  # no call succeeded at all: not a run to count
    if interrupted:
        left = summary["status"].get("running", 0)
        err.print(
            f"interrupted: decided rounds were finished; {left} round(s) in play were left "
            "running and resume at the next `mikan arena`; nothing committed is lost"
        )
        return 130
    return 0


# From a stop signal to the last round's end or cancel; the rest of the 10 s shutdown
# bound is for closing the clients and the database and printing the summary.
ARENA_DRAIN_S = 9.0


def _print_summary(summary: dict, as_json: bool) -> None:
    import json

    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    status = ", ".join(f"{k} {v}" for k, v in sorted(summary["status"].items()))
    console.print(f"rounds: {summary['rounds']} ({status or 'none'}) · turns: {summary['turns']}")
    codes = sorted(summary["violations"])
    table = Table(title="per player")
    for col in ["player", "turns", "accepted", "wins", "no_answer", *codes]:
        table.add_column(col, justify="left" if col == "player" else "right")
    for key, p in sorted(summary["players"].items()):
        table.add_row(
            key,
            str(p["turns"]),
            str(p["accepted"]),
            str(p["wins"]),
            str(p["no_answer"]),
            *(str(p["violations"].get(c, 0)) for c in codes),
        )
    console.print(table)


async def _console_main(args: argparse.Namespace) -> int:
    from rich.console import Console

    from bot.players.pool import Players
    from bot.referee.judge import Referee
    from bot.rounds.engine import RoundEngine
    from bot.rounds.state import RoundSpec, SeatSpec
    from bot.surfaces.console import CONSOLE_USER, ConsoleSurface
    from bot.surfaces.lifecycle import install_stop_handlers
    from storage.db import Database

    roster = _load_roster(args.config)
    configs = _pick_players(roster, args.players, 1)
    console = Console(highlight=False)
    db = await Database.open(args.db, init=args.init)
    players = Players(configs)
    try:
        # A console round's terminal is gone once its process ended (a round another
        # console still plays is that one's: it holds the lease).
        for row in await db.claim_rounds("console"):
            await db.end_round(row["id"], "interrupted", None, "terminal session ended")
        seats = (
            SeatSpec("person", args.name, user_id=CONSOLE_USER),
            *(SeatSpec("model", c.name, c.key) for c in configs),
        )
        spec = RoundSpec(
            seats=seats,
            rules=_rules(args.rules),
            mode=args.mode,
            start_word=args.start,
            max_turns=args.max_turns,
            person_timeout_s=args.timeout,
            prompt_lang=args.prompt_lang,
            probes=_probes(args),
            surface="console",
            salt=str(fresh_seed(args.seed)),
        )
        referee = Referee()
        import asyncio

        await asyncio.to_thread(referee.analyser.warm)
        surface = ConsoleSurface(console)
        engine = await RoundEngine.create(db, spec, players.adapters, surface, referee)
        surface.attach(engine)
        # Ctrl-C or SIGTERM: the round is interrupted there and then (your turn is not a
        # timeout); every committed turn stays.
        stop = asyncio.Event()
        remove = install_stop_handlers(stop)
        try:
            playing = asyncio.create_task(engine.run())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({playing, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not playing.done():
                playing.cancel()
                await asyncio.gather(playing, return_exceptions=True)
                console.print("\ninterrupted: the round was stopped; nothing committed is lost")
                return 130
            playing.result()
        finally:
            remove()
    finally:
        await players.aclose()
        await db.close()
    return 0


def _scope(args: argparse.Namespace, *, dates_only: bool = False):  # type: ignore[no-untyped-def]
    from datetime import date, datetime

    from storage.queries import Scope

    since = None
    if args.since:
        try:
            since = (
                datetime.fromisoformat(args.since)
                if "T" in args.since and not dates_only
                else date.fromisoformat(args.since)
            ).isoformat()
        except ValueError as exc:
            raise CliError(f"--since must be a date like 2026-11-01 ({exc})") from exc
    channel = None if getattr(args, "all", False) else args.channel
    return Scope(channel_id=channel, since=since, player=getattr(args, "player", None))


def _db_path(args: argparse.Namespace) -> Path:
    import sqlite3

    from storage.db import default_path
    from storage.migrations import SchemaTooNewError, upgrade_file

    path = default_path(args.db)
    if not path.exists():
        raise CliError(f"no database at {path} (play a round first: mikan arena)")
    # A database from an older Mikan gets its new tables (and their backfill) first.
    try:
        upgrade_file(path)
    except (SchemaTooNewError, sqlite3.Error) as exc:
        raise CliError(f"{path}: {exc}") from exc
    return path


def _stats(args: argparse.Namespace) -> int:
    import json

    from bot.research import stats

    try:
        # Prices come from the roster only (never fetched); no roster file, no cost.
        roster = _load_roster(args.config)
        prices = {k: p for k, cfg in roster.players.items() if (p := cfg.prices())}
        # Statistics are kept per day: --since is a date there.
        result = stats.compute(_db_path(args), _scope(args, dates_only=True), prices)
    except CliError as exc:
        print(f"mikan: {exc}", file=sys.stderr)
        return 2
    if args.chart:
        from bot.research.charts import draw

        draw(result, args.chart)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        _print_stats(result)
        if args.chart:
            print(f"chart: {args.chart}")
    return 0


def _print_stats(result: dict) -> None:
    """One table per player group, metric by metric: readable in any terminal width."""
    from rich.console import Console
    from rich.table import Table

    from bot.research.charts import ROW
    from bot.research.stats import pct

    console = Console()
    if not result["groups"]:
        console.print("no model turns in scope")
        return
    labels = result.get("labels") or {}
    for what, versions in labels.items():
        if versions:
            listed = ", ".join(f"{v} ({n})" for v, n in versions.items())
            console.print(f"labels of {what}: {listed}", highlight=False)
    if any(len(v) > 1 for v in labels.values()):
        console.print("  (mixed versions: `mikan relabel` brings them all to the current one)")
    for g in result["groups"]:
        title = (
            f"{g['player']} · {g['model']} · channel {g['channel_id'] or '—'} · "
            f"{g['prompt_lang']} — {g['rounds']} rounds, {g['turns']} turns, "
            f"{g['words']} words"
        )
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column("metric", style="bold")
        table.add_column("value (95% Wilson interval)", overflow="fold")
        add = table.add_row
        add("violation (any)", pct(g["violation_any"]))
        for code, w in sorted(g["violations"].items()):
            add(f"  {code}", pct(w))
        add("ends in ん", pct(g["ends_with_n"]))
        by_req = sorted(g["ends_with_n_by_required"].items(), key=lambda kv: -kv[1]["n"])
        if ROW in g["ends_with_n_by_required"]:
            add(f"  after 「{ROW}」", pct(g["ends_with_n_by_required"][ROW]))
        for req, w in [kv for kv in by_req if kv[0] != ROW][:6]:
            add(f"  after 「{req}」", pct(w))
        attract = "; ".join(
            f"{req}: " + " ".join(f"{w}×{n}" for w, n in words)
            for req, words in list(g["attractors"].items())[:6]
        )
        add("attractor words", attract or "—")
        add("no_move (no word)", pct(g["no_move"]))
        add("admits in the reply (of violations)", pct(g["admits_in_reply"]))
        add("continues as if valid (of violations)", pct(g["continues_as_valid"]))
        for kind in ("intent", "pushback"):
            for label, w in g[kind].items():
                add(f"{kind}: {label}", pct(w))
        add("pushback reversal (of admissions)", pct(g["pushback_reversal"]))
        add("no_answer", pct(g["no_answer"]))
        for reason, w in g["no_answer_by_reason"].items():
            if w["k"]:
                add(f"  {reason}", pct(w))
        tokens = g["tokens"]
        if tokens["calls"]:
            share = tokens["cached_share"]
            add(
                "tokens (turn calls)",
                f"in {tokens['input_tokens']} (cached {tokens['cached_input_tokens']}"
                + (f", {100 * share:.0f}%" if share is not None else "")
                + f"), out {tokens['output_tokens']}, reasoning {tokens['reasoning_tokens']}",
            )
        if g["estimated_cost"] is not None:
            add("estimated cost", f"{g['estimated_cost']:.4f} (roster prices)")
        r = g["reply"]
        if r["mean_chars"] is not None:
            trend = r["trend_chars_per_turn"]
            add(
                "reply length",
                f"{r['mean_chars']:.1f} chars"
                + (f", trend {trend:+.2f} chars/turn" if trend is not None else ""),
            )
        if r["mean_output_tokens"] is not None:
            trend = r["trend_output_tokens_per_turn"]
            add(
                "output tokens",
                f"{r['mean_output_tokens']:.1f}"
                + (f", trend {trend:+.2f}/turn" if trend is not None else ""),
            )
        lat = g["latency_ms"]
        if lat["median"] is not None:
            add("latency", f"median {lat['median']:.0f} ms, p95 {lat['p95']:.0f} ms")
        add("calls retried", pct(g["retries"]["calls_retried"]))
        console.print(table)


def _export(args: argparse.Namespace) -> int:
    from bot.research.export import export

    if not args.all and args.channel is None:
        print("mikan: choose --channel ID or --all", file=sys.stderr)
        return 2
    try:
        counts = export(_db_path(args), args.out, args.format, _scope(args))
    except CliError as exc:
        print(f"mikan: {exc}", file=sys.stderr)
        return 2
    print(", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {args.out}")
    return 0


def _relabel(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from bot.rounds.relabel import relabel, write_diff

    err = Console(stderr=True)
    path = _db_path(args)
    grader = _grader(args) if args.grader else None  # a wrong name fails before any work
    seen = 0

    def progress(n: int) -> None:
        nonlocal seen
        if not args.json and n - seen >= 10_000:
            seen = n
            err.print(f"relabel: {n:,} turns read", highlight=False)

    report = relabel(
        path,
        _scope(args),
        dry_run=args.dry_run,
        keep_changes=bool(args.diff),
        on_progress=progress,
    )
    if args.diff:
        rows = write_diff(report, args.diff)
        err.print(f"diff: {rows} changes -> {args.diff}", highlight=False)
    graded = _grade(args, path, grader) if grader else None
    if args.json:
        out = report.to_json()
        if graded is not None:
            out["grading"] = graded.to_json()
        print(json.dumps(out, ensure_ascii=False))
        return 0
    _print_relabel(report)
    if graded is not None:
        _print_grading(graded)
    return 0


def _grader(args: argparse.Namespace) -> Any:
    """The roster entry ``--grader`` names (any model; not the offline player)."""
    config = _pick_players(_load_roster(args.config), args.grader, 1)[0]
    if config.provider == "offline":
        raise CliError(f"--grader {config.key}: the offline player cannot grade; name a model")
    return config


def _grade(args: argparse.Namespace, path: str, config: Any) -> Any:
    """``relabel --grader``: the roster model grades what the rules are unsure of."""
    import asyncio

    from rich.console import Console

    from bot.players import make_adapter, make_client
    from bot.rounds.grading import grade

    err = Console(stderr=True)

    def progress(n: int) -> None:
        if not args.json and n % 20 == 0:
            err.print(f"grade: {n:,} graded", highlight=False)

    async def run() -> Any:
        client = make_client()
        try:
            return await grade(
                path,
                make_adapter(config, client),
                _scope(args),
                select=args.grade,
                limit=args.grade_limit,
                dry_run=args.dry_run,
                on_progress=progress,
            )
        finally:
            await client.aclose()

    return asyncio.run(run())


def _print_grading(report: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    verb = "would ask" if report.dry_run else "asked"
    console.print(
        f"grader {report.grader} ({report.grading}, {report.select}): {verb} about "
        f"{report.turns_to_grade:,} of {report.turns_seen:,} turns and "
        f"{report.probes_to_grade:,} of {report.probes_seen:,} probes "
        f"({report.turns_already + report.probes_already:,} already graded, "
        f"{report.unusable:,} unusable answers)"
    )
    if report.calls_failed:
        console.print(
            f"{report.calls_failed:,} calls got no answer (asked again next run): "
            f"{report.first_error}",
            markup=False,
        )
    if report.reasons:
        console.print(
            "unsure: " + ", ".join(f"{k} {n:,}" for k, n in report.reasons.most_common()),
            markup=False,
        )
    for label, a in report.agreement.items():
        if a.n:
            kappa = "n/a" if a.kappa is None else f"{a.kappa:.2f}"
            console.print(f"agreement {label}: {a.observed:.1%} of {a.n:,}, Cohen's kappa {kappa}")


def _print_relabel(report: Any) -> None:
    from rich.console import Console

    console = Console(highlight=False)
    verb = "would relabel" if report.dry_run else "relabelled"
    console.print(
        f"{verb} {report.turns_labelled:,} of {report.turns_seen:,} judged turns with "
        f"{report.reader} ({report.turns_current:,} already current) and "
        f"{report.probes_labelled:,} of {report.probes_seen:,} probes with {report.classifier}"
    )
    if report.turns_cut:
        console.print(
            f"{report.turns_cut:,} turns cut short when played keep their labels "
            "(judged under the cut rule)"
        )
    if not report.changed:
        console.print("no label changed")
    for kind, n in sorted(report.changed.items()):
        console.print(f"{kind}: {n:,} changed")
        for transition, count in report.transitions[kind].most_common(8):
            console.print(f"  {transition}: {count:,}", markup=False)
        for c in report.examples[kind]:
            console.print(
                f"    e.g. round {c.round_id} turn {c.idx}: {c.before} → {c.after}  «{c.text}»",
                markup=False,
            )
    if report.dry_run:
        console.print("(dry run: nothing was written)")


DISCORD_LAYER = "cogs.client"  # imported by name: nothing in bot imports the Discord layer


def _discord() -> Any:
    """The Discord layer's entry points (``cogs.client``), imported only when needed."""
    import importlib

    return importlib.import_module(DISCORD_LAYER)


def _token() -> str | None:
    import os

    return os.environ.get(_discord().TOKEN_ENV, "").strip() or None


def _bot_run(args: argparse.Namespace) -> int:
    client = _discord()
    token = _token()
    if token is None:
        print(client.NO_TOKEN_HELP.format(command="run"), file=sys.stderr, end="")
        return 2
    try:
        _load_roster(args.config)  # a broken roster is reported before connecting
    except CliError as exc:
        print(f"mikan: {exc}", file=sys.stderr)
        return 2
    from bot.surfaces.watchdog import debug_enabled

    config = client.BotConfig(db=args.db, roster=args.config, pacing_s=args.pacing, init=args.init)
    return client.run_main(token, config, args.log_level, debug=debug_enabled(args.debug))


def _sync(args: argparse.Namespace) -> int:
    client = _discord()
    token = _token()
    if token is None:
        print(client.NO_TOKEN_HELP.format(command="sync"), file=sys.stderr, end="")
        return 2
    return client.sync_main(token, args.guild)


def _commands(args: argparse.Namespace) -> int:
    import asyncio
    import json

    client = _discord()
    if args.markdown:
        print(asyncio.run(client.commands_markdown()), end="")
    else:
        print(json.dumps(asyncio.run(client.command_tree()), ensure_ascii=False, indent=2))
    return 0


def _run_async(main, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    import asyncio

    try:
        return asyncio.run(main(args))
    except CliError as exc:
        print(f"mikan: {exc}", file=sys.stderr)
        return 2


def _add_round_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="roster TOML (default: $MIKAN_CONFIG or mikan.toml)")
    p.add_argument("--db", help="SQLite file (default: $MIKAN_DB or mikan.sqlite3)")
    p.add_argument(
        "--init",
        action="store_true",
        help="make an empty file (or an empty SQLite database) at --db the Mikan database",
    )
    p.add_argument("--players", help="roster keys, comma-separated, in seat order")
    p.add_argument("--rules", help='rule options as JSON, e.g. \'{"dakuten": "lenient"}\'')
    p.add_argument("--mode", choices=["elimination", "sudden_death"], default="elimination")
    p.add_argument("--start", default="しりとり", help="start word (default しりとり)")
    p.add_argument("--max-turns", type=positive_int, default=200)
    p.add_argument("--prompt-lang", choices=["ja", "en"], default="ja")
    p.add_argument(
        "--seed",
        type=int,
        help="seeds the offline players' choices (default: fresh each run; every round "
        "records its seed in its salt, so any round can be replayed)",
    )
    p.add_argument(
        "--pushback",
        action="store_true",
        help="also run the pushback probe (「いやいや」) after violations",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``mikan`` parser; each subcommand sets ``func(args)``, which returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="mikan",
        description="Mikan: a shiritori referee and arena for language models and people.",
    )
    parser.add_argument("--version", action="version", version=f"mikan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error; `run` also logs where the event loop is "
        "whenever it stalls for over a second (or set MIKAN_DEBUG=1)",
    )

    def command(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    judge = command(
        "judge",
        help="judge words read as JSON Lines on stdin",
        description=(
            'Reads one JSON object a line: {"text": str, "prev": str|null, "used": [str], '
            '"rules": {...}} and writes one verdict a line: {"word", "reading", "first", '
            '"next", "violations", "ok", "self_flag", "corrected_to"}. A malformed line gets '
            '{"error": ...}.'
        ),
    )
    judge.add_argument(
        "--line-buffered",
        action="store_true",
        help="accepted for older scripts: every verdict is flushed as it is written",
    )
    judge.set_defaults(func=_judge)

    players = command(
        "players",
        help="list the roster's players and whether each one's key is set (never the key)",
    )
    players.add_argument("--config", help="roster TOML (default: $MIKAN_CONFIG or mikan.toml)")
    players.add_argument("--json", action="store_true", help="print JSON")
    players.set_defaults(func=_players)

    arena = command("arena", help="play rounds headless between model players")
    _add_round_options(arena)
    arena.add_argument(
        "--rounds", type=count, default=1, help="new rounds to play (0: only resume)"
    )
    arena.add_argument("--concurrency", type=positive_int, default=1, help="rounds at a time")
    arena.add_argument("--json", action="store_true", help="print the summary as JSON")
    arena.add_argument("--quiet", action="store_true", help="no progress bar")
    arena.set_defaults(func=lambda a: _run_async(_arena_main, a))

    console = command("console", help="play against model players in the terminal")
    _add_round_options(console)
    console.add_argument("--name", default="あなた", help="your name in the round")
    console.add_argument("--timeout", type=positive_seconds, default=60.0, help="seconds per turn")
    console.set_defaults(func=lambda a: _run_async(_console_main, a))

    stats = command("stats", help="research statistics per player, with 95%% intervals")
    stats.add_argument("--db", help="SQLite file (default: $MIKAN_DB or mikan.sqlite3)")
    stats.add_argument(
        "--config", help="roster TOML, for its prices (default: $MIKAN_CONFIG or mikan.toml)"
    )
    stats.add_argument("--channel", help="only rounds of this channel id")
    stats.add_argument("--player", help="only this roster key")
    stats.add_argument("--since", help="only rounds created on or after this date (YYYY-MM-DD)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--chart", metavar="PATH.png", help="also draw the chart to this file")
    stats.set_defaults(func=_stats)

    exp = command("export", help="export records as CSV tables or JSONL transcripts")
    exp.add_argument("--db", help="SQLite file (default: $MIKAN_DB or mikan.sqlite3)")
    which = exp.add_mutually_exclusive_group()
    which.add_argument("--channel", help="only rounds of this channel id")
    which.add_argument("--all", action="store_true", help="every round")
    exp.add_argument("--since", help="only rounds created on or after this date (YYYY-MM-DD)")
    exp.add_argument("--format", choices=["csv", "jsonl"], required=True)
    exp.add_argument("--out", required=True, help="directory to write into")
    exp.set_defaults(func=_export)

    rel = command(
        "relabel",
        help="remake stored labels (word, verdict, self-flag, probe labels) with the current "
        "classifiers, beside the originals",
        description="Reads every judged turn again in the context it was played in and "
        "classifies every probe answer again; new labels are stored with their version "
        "beside the originals (never overwritten; who won stays as played). Idempotent; an "
        "interrupted run resumes.",
    )
    rel.add_argument("--db", help="SQLite file (default: $MIKAN_DB or mikan.sqlite3)")
    rel.add_argument("--channel", help="only rounds of this channel id")
    rel.add_argument("--since", help="only rounds created on or after this date (YYYY-MM-DD)")
    rel.add_argument(
        "--dry-run", action="store_true", help="report what would change; write nothing"
    )
    rel.add_argument("--diff", metavar="PATH.csv", help="also write every change as CSV")
    rel.add_argument("--json", action="store_true", help="print the summary as JSON")
    rel.add_argument(
        "--grader",
        metavar="PLAYER",
        help="also ask this roster model to label the replies the rules are unsure of "
        "(stored beside the rules' labels, never replacing them; reports Cohen's kappa)",
    )
    rel.add_argument("--config", help="roster TOML (default: $MIKAN_CONFIG or mikan.toml)")
    rel.add_argument(
        "--grade",
        choices=["unsure", "all"],
        default="unsure",
        help="with --grader: which replies to grade (default: unsure)",
    )
    rel.add_argument(
        "--grade-limit", type=positive_int, metavar="N", help="with --grader: at most N calls"
    )
    rel.set_defaults(func=_relabel)

    run = command(
        "run",
        help="run the Discord bot (token from $DISCORD_TOKEN or .env)",
        description="Connects to Discord and hosts rounds in channels; unfinished rounds "
        "resume. Without DISCORD_TOKEN it says how to get one.",
    )
    run.add_argument("--config", help="roster TOML (default: $MIKAN_CONFIG or mikan.toml)")
    run.add_argument("--db", help="SQLite file (default: $MIKAN_DB or mikan.sqlite3)")
    run.add_argument(
        "--init",
        action="store_true",
        help="make an empty file (or an empty SQLite database) at --db the Mikan database",
    )
    run.add_argument(
        "--pacing",
        type=seconds,
        metavar="SECONDS",
        help="seconds between model turns in every channel (overrides /shiritori rules)",
    )
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    run.set_defaults(func=_bot_run)

    sync = command("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="only in this guild (appears at once)")
    sync.set_defaults(func=_sync)

    cmds = command("commands", help="print the slash-command tree without connecting")
    fmt = cmds.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="as Discord receives it (default)")
    fmt.add_argument("--markdown", action="store_true", help="the README's table")
    cmds.set_defaults(func=_commands)
    return parser


def entry() -> None:
    """The ``mikan`` process: ``main`` with the signal windows around it closed.

    Before a command has installed its own stop handlers (start-up), SIGTERM is made
    what Ctrl-C already is, an interrupt that ends the command with 130 and no
    traceback; once ``main`` has returned, the work is done and a late SIGINT or
    SIGTERM is ignored, so the process ends with its own exit code, not killed by the
    signal or printing a KeyboardInterrupt from the interpreter's teardown.
    """
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mikan`` with ``argv`` (default: the process's) and return its exit code.

    Reads ``./.env`` first without overriding the environment. No command: prints the
    help and returns 2.
    """
    from dotenv import load_dotenv

    # Keys may live in .env; the environment wins over the file.
    load_dotenv(dotenv_path=Path.cwd() / ".env", override=False)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from bot.surfaces.watchdog import debug_enabled

    debug = debug_enabled(getattr(args, "debug", False))
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"mikan {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # One error boundary per command: an operational failure is one line and a
        # non-zero exit; the traceback only with --debug.
        if debug:
            raise
        print(f"mikan {args.command}: {_one_line(exc)}", file=sys.stderr)
        if _exit_code(exc) == 1:
            print("  (run again with --debug for the details)", file=sys.stderr)
        return _exit_code(exc)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 300:
        text = text[:299] + "…"
    from storage.errors import DatabaseFileError, DatabaseUnavailableError

    if isinstance(exc, DatabaseFileError | DatabaseUnavailableError):
        return text
    return f"{type(exc).__name__}: {text}"


def _exit_code(exc: BaseException) -> int:
    from storage.errors import DatabaseFileError, DatabaseUnavailableError

    if isinstance(exc, DatabaseUnavailableError):
        return exc.exit_code  # 75: try again later
    return 2 if isinstance(exc, DatabaseFileError) else 1
