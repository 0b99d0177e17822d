"""SIGTERM at random moments: no decided round left without its result, no turn lost.

    python bench/sigterm.py [--trials 50] [--seed 2026] [--window 12] [--quick]

``--trials N``: trials until N signals were sent (a run that ends before its moment is
checked as a trial, but is no signal); ``--quick``: 6 signals, 4 rounds, a 6 s window.

Each trial runs the real ``python -m bot arena`` (several rounds, concurrency > 1,
probes on) against slow loopback players (bench/instant_server.py --shiritori with a
delay and jitter on every answer, a fraction of the answers ending in ん or repeating a
word, probes answered as a model would) and sends it SIGTERM at a moment drawn
uniformly (``random.Random(seed)``) over ``--window`` seconds after the provider sees
its first request — round starts, turns in flight, probes, round ends and the run's
end. The line of a trial says which calls were in flight at the signal (``opening``: a
seat's first turn, i.e. a round just started) and when the process exited.

Trials come in pairs: the first on a fresh database, the second on the same database,
which then carries the rounds the first left running (so resumes are interrupted too);
after the pair, ``mikan arena --rounds 0`` resumes the database to the end. Pairs vary
seats (2 or 3), mode and the pushback probe.

Just before the signal the committed turns and rounds are read (a read-only
``mode=ro`` connection). After the exit each trial checks:

- exit code 130 (or 0 when the run had ended first), no traceback on stderr;
- every turn read before the signal is still there, unchanged; turn indices
  contiguous per round, no duplicates; ``PRAGMA integrity_check`` ok;
- every turn request the provider received was committed (the turn in flight is
  finished, never dropped), every probe request too;
- no decided round left without its result. "Decided" is exact: the round's stored
  turns are replayed through the round state machine (``RoundState.apply``, as
  ``RoundEngine.resume`` does); a round it ends must be ``finished`` with the replay's
  winner and end reason, and its seats as the replay left them; a ``finished`` round
  must be decided; every model violation with a word must have its probes, except the
  last turn of a round left ``running`` (its probes are owed and run on resume);
  no turn comes after the deciding one.

After the resume to the end, every round must be ``finished`` and every owed probe
asked. Prints one line per trial, then the table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from players import start_server

from bot.cli import ARENA_DRAIN_S
from bot.referee.judge import Referee
from bot.rounds import records
from bot.rounds.state import RoundState

PROBE_REPLY = "はい、違反でした。うっかりしていました。"
TURN_COLUMNS = (
    "id, round_id, seat_id, idx, outcome, raw_text, word, reading, violations_json, "
    "started_at, ended_at"
)
SHUTDOWN_LIMIT_S = 10.0
DECIDED = "DECIDED WITHOUT ITS RESULT: "  # a decided round left running, or finished wrong


@dataclass(frozen=True, slots=True)
class Pair:
    """What the two trials on one database play."""

    seats: int
    mode: str
    pushback: bool

    @property
    def players(self) -> str:
        """The ``--players`` option."""
        return ",".join("abc"[: self.seats])


@dataclass(slots=True)
class Trial:
    """One signal and what was found after it."""

    n: int
    pair: Pair
    fresh: bool
    offset_s: float
    exit_s: float = 0.0  # from the first request to the exit
    rc: int | None = None
    signalled: bool = False
    shutdown_s: float | None = None
    phase: str = ""
    turns_before: int = 0
    turns_after: int = 0
    finished_in_shutdown: int = 0
    left_running: int = 0
    resumed: int = 0
    decided_unfinished: int = 0
    lost: int = 0
    duplicates: int = 0
    dropped_turns: int = 0
    dropped_probes: int = 0
    deadline: bool = False  # the run was still going at the arena's shutdown deadline
    problems: list[str] = field(default_factory=list)


def env() -> dict[str, str]:
    """The environment for ``mikan``: no MIKAN_* settings but the cache dir, unbuffered."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("MIKAN_")}
    if "MIKAN_CACHE_DIR" in os.environ:
        out["MIKAN_CACHE_DIR"] = os.environ["MIKAN_CACHE_DIR"]
    out["PYTHONUNBUFFERED"] = "1"
    return out


def roster(port: int) -> str:
    """Players a, b and c, all at the loopback server, one attempt per call."""
    return "".join(
        f'[players.{n}]\nprovider = "openai"\nmodel = "m-{n}"\n'
        f'base_url = "http://127.0.0.1:{port}/v1"\nmax_attempts = 1\n\n'
        for n in "abc"
    )


def ro(db: Path) -> sqlite3.Connection:
    """A read-only connection (never blocks or writes the arena's database)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    con.row_factory = sqlite3.Row
    return con


def snapshot(db: Path) -> tuple[dict[int, tuple], dict[int, str], int, int]:
    """Committed turns by id, round statuses, the last call id and the probe count."""
    if not db.exists():
        return {}, {}, 0, 0
    con = ro(db)
    try:
        with con:  # one read transaction: one consistent view
            turns = {r[0]: tuple(r) for r in con.execute(f"SELECT {TURN_COLUMNS} FROM turns")}
            rounds = {r[0]: r[1] for r in con.execute("SELECT id, status FROM rounds")}
            last_call = con.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            probes = con.execute("SELECT COUNT(*) FROM probes").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return {}, {}, 0, 0
    finally:
        con.close()
    return turns, rounds, last_call, probes


def check_rounds(
    con: sqlite3.Connection, referee: Referee, *, final: bool
) -> tuple[list[str], set[int]]:
    """Every round replayed from its turns: the problems found (empty: all well), and
    the decided rounds left without their result (running, or finished wrong).

    ``final``: after the resume to the end, where nothing may be left running or owed.
    """
    problems: list[str] = []
    undone: set[int] = set()
    for row in con.execute("SELECT * FROM rounds ORDER BY id").fetchall():
        rid, status = row["id"], row["status"]
        seats = [
            dict(s)
            for s in con.execute("SELECT * FROM seats WHERE round_id = ? ORDER BY position", (rid,))
        ]
        spec = records.spec_from_rows(dict(row), seats)
        state = RoundState(spec, referee)
        position = {s["id"]: s["position"] for s in seats}
        turns = con.execute(
            "SELECT * FROM turns WHERE round_id = ? ORDER BY idx", (rid,)
        ).fetchall()
        done: dict[int, set[str]] = {}
        for p in con.execute("SELECT turn_id, kind FROM probes WHERE round_id = ?", (rid,)):
            done.setdefault(p["turn_id"], set()).add(p["kind"])
        if [t["idx"] for t in turns] != list(range(len(turns))):
            problems.append(f"round {rid}: turn indices {[t['idx'] for t in turns]}")
            continue
        decided_at: int | None = None
        for t in turns:
            if state.over:
                problems.append(
                    f"round {rid}: turn {t['idx']} after it was decided at {decided_at}"
                )
                break
            try:
                state.apply(records.turn_from_row(dict(t), position[t["seat_id"]]))
            except ValueError as exc:
                problems.append(f"round {rid}: turn {t['idx']} does not replay: {exc}")
                break
            if state.over:
                decided_at = t["idx"]
        for i, t in enumerate(turns):
            seat = spec.seats[position[t["seat_id"]]]
            if t["outcome"] != "violation" or seat.kind != "model" or not t["word"]:
                continue
            missing = set(spec.probes) - done.get(t["id"], set())
            owed = status == "running" and i == len(turns) - 1 and not final
            if missing and not owed:
                tag = DECIDED if status == "finished" else ""
                if tag:
                    undone.add(rid)
                problems.append(
                    f"{tag}round {rid} ({status}): turn {t['idx']} ({t['word']}, "
                    f"{t['violations_json']}) has no probe {sorted(missing)}"
                )
        winner = state.winner.position if state.winner else None
        last = turns[-1] if turns else None
        probes_owed = (
            last is not None
            and last["outcome"] == "violation"
            and bool(last["word"])
            and bool(set(spec.probes) - done.get(last["id"], set()))
        )
        if state.over and status == "running" and probes_owed and not final:
            pass  # its probes were cut at the deadline: the resume asks them, then finishes
        elif state.over and status == "running":
            undone.add(rid)
            problems.append(
                f"{DECIDED}round {rid} was decided at turn {decided_at} "
                f"({state.end_reason}, winner seat {winner}) but is still running"
            )
        elif status == "finished" and not state.over:
            problems.append(f"round {rid}: finished but its turns decide nothing")
        elif status == "finished" and (row["winner_seat"], row["end_reason"]) != (
            winner,
            state.end_reason,
        ):
            undone.add(rid)
            problems.append(
                f"{DECIDED}round {rid}: finished as ({row['winner_seat']}, "
                f"{row['end_reason']}), its turns say ({winner}, {state.end_reason})"
            )
        elif status not in ("running", "finished"):
            problems.append(f"round {rid}: status {status} ({row['end_reason']})")
        if final and status != "finished":
            problems.append(f"round {rid}: {status} after the resume to the end")
        for s, srow in zip(state.seats, seats, strict=True):
            got = (srow["status"], srow["out_reason"], srow["out_turn"])
            if got != (s.status, s.out_reason, s.out_turn):
                problems.append(
                    f"round {rid}: seat {s.position} stored {got}, "
                    f"its turns say {(s.status, s.out_reason, s.out_turn)}"
                )
    return problems, undone


def check_db(db: Path, referee: Referee, *, final: bool = False) -> tuple[list[str], int, set[int]]:
    """Integrity, duplicates, every round's replay: (problems, duplicates, undone rounds)."""
    con = ro(db)
    try:
        problems = []
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        if [tuple(r) for r in integrity] != [("ok",)]:
            problems.append(f"integrity_check: {[tuple(r) for r in integrity]}")
        if fk := con.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign_key_check: {[tuple(r) for r in fk][:5]}")
        dup = con.execute(
            "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM turns "
            "GROUP BY round_id, idx HAVING n > 1)"
        ).fetchone()[0]
        if dup:
            problems.append(f"{dup} duplicate turn(s)")
        found, undone = check_rounds(con, referee, final=final)
        return problems + found, dup, undone
    finally:
        con.close()


def read_log(path: Path, offset: int) -> list[tuple[str, float, int, str]]:
    """The server's request log from byte ``offset``: (arrive|answer, time, n, kind)."""
    out = []
    with path.open("rb") as f:
        f.seek(offset)
        for line in f.read().decode().splitlines():
            what, t, n, kind = line.split()
            out.append((what, float(t), int(n), kind))
    return out


def phase_at(log: list[tuple[str, float, int, str]], t: float) -> str:
    """What the provider was doing at ``t``: which kinds of call were in flight."""
    arrived = {n: kind for what, at, n, kind in log if what == "arrive" and at <= t}
    answered = {n for what, at, n, _ in log if what == "answer" and at <= t}
    kinds = sorted({kind for n, kind in arrived.items() if n not in answered})
    return "+".join(f"{k} call" for k in kinds) or "between calls"


def wait_first_request(path: Path, offset: int, proc: subprocess.Popen, limit_s: float) -> float:
    """Wait until the provider logs a request after ``offset``; return its time."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        for what, at, _, _ in read_log(path, offset):
            if what == "arrive":
                return at
        if proc.poll() is not None:
            raise RuntimeError(f"mikan arena exited ({proc.returncode}) before any request")
        time.sleep(0.005)
    raise RuntimeError("no request reached the provider")


def run_trial(
    trial: Trial, folder: Path, log: Path, rounds: int, concurrency: int, referee: Referee
) -> None:
    """Start the arena in ``folder``, signal it at the trial's moment, check what it left."""
    db = folder / "mikan.sqlite3"
    err_path = folder / f"stderr-{trial.n}.txt"
    _, rounds0, call0, _ = snapshot(db)
    trial.resumed = sum(1 for s in rounds0.values() if s == "running")
    # What an earlier trial on this database left is its finding, not this one's.
    known, _, known_undone = check_db(db, referee) if rounds0 else ([], 0, set())
    offset = log.stat().st_size
    cmd = [
        sys.executable,
        "-m",
        "bot",
        "arena",
        "--players",
        trial.pair.players,
        "--rounds",
        str(rounds),
        "--concurrency",
        str(concurrency),
        "--mode",
        trial.pair.mode,
        "--seed",
        str(trial.n),
        "--quiet",
        "--json",
        *(["--pushback"] if trial.pair.pushback else []),
    ]
    t_sig = 0.0
    with err_path.open("wb") as err, (folder / f"stdout-{trial.n}.txt").open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env(), stdout=out, stderr=err)
        try:
            first = wait_first_request(log, offset, proc, 120)
            moment = first + trial.offset_s
            while proc.poll() is None and time.monotonic() < moment:
                time.sleep(min(0.005, max(0.0, moment - time.monotonic())))
            turns, rounds_at, _, _ = snapshot(db)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                t_sig = time.monotonic()
                trial.signalled = True
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    trial.problems.append("no exit 60 s after SIGTERM (killed)")
                    proc.kill()
                    proc.wait()
                trial.shutdown_s = time.monotonic() - t_sig
            trial.rc = proc.returncode
            trial.exit_s = time.monotonic() - first
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    entries = read_log(log, offset)
    trial.phase = phase_at(entries, t_sig) if trial.signalled else "ended before the signal"
    stderr = err_path.read_text(errors="replace")
    if trial.rc not in (0, 130):
        trial.problems.append(f"exit code {trial.rc}")
    if "Traceback" in stderr:
        trial.problems.append("Traceback on stderr")
    if trial.shutdown_s is not None and trial.shutdown_s >= SHUTDOWN_LIMIT_S:
        trial.problems.append(f"shutdown took {trial.shutdown_s:.2f} s")
    after, rounds_after, _, _ = snapshot(db)
    trial.turns_before, trial.turns_after = len(turns), len(after)
    lost = sorted(tid for tid, t in turns.items() if after.get(tid) != t)
    trial.lost = len(lost)
    if lost:
        trial.problems.append(f"{len(lost)} turn(s) lost or changed: ids {lost[:10]}")
    trial.finished_in_shutdown = sum(
        1 for rid, s in rounds_after.items() if s == "finished" and rounds_at.get(rid) == "running"
    )
    trial.left_running = sum(1 for s in rounds_after.values() if s == "running")
    # Every request the provider received in this run became a committed call.
    asked = Counter(
        "probe" if kind == "probe" else "turn" for what, _, _, kind in entries if what == "arrive"
    )
    con = ro(db)
    try:
        made = Counter(
            "turn" if purpose == "turn" else "probe"
            for (purpose,) in con.execute("SELECT purpose FROM calls WHERE id > ?", (call0,))
        )
    finally:
        con.close()
    trial.dropped_turns = asked["turn"] - made["turn"]
    trial.dropped_probes = asked["probe"] - made["probe"]
    # At the deadline the calls still in flight are cancelled whole, by design (their
    # turns are asked again on resume): not lost. Before it, nothing may be dropped.
    trial.deadline = trial.shutdown_s is not None and trial.shutdown_s >= ARENA_DRAIN_S - 0.05
    if trial.deadline:
        pass
    elif trial.dropped_turns:
        trial.problems.append(
            f"{trial.dropped_turns} turn request(s) the provider received were never committed"
        )
    if trial.dropped_probes and not trial.deadline:
        trial.problems.append(
            f"{trial.dropped_probes} probe request(s) the provider received were never recorded"
        )
    problems, trial.duplicates, undone = check_db(db, referee)
    trial.decided_unfinished = len(undone - known_undone)
    trial.problems += [p for p in problems if p not in known]


def resume_to_end(folder: Path, referee: Referee) -> list[str]:
    """``mikan arena --rounds 0`` on the pair's database (fast players); its problems.

    Problems the trials already reported (a round finished without its probes stays so)
    are not repeated.
    """
    known, _, _ = check_db(folder / "mikan.sqlite3", referee)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "arena",
            "--config",
            "fast.toml",
            "--players",
            "a,b,c",
            "--rounds",
            "0",
            "--concurrency",
            "8",
            "--quiet",
            "--json",
        ],
        cwd=folder,
        env=env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    problems = []
    if proc.returncode != 0:
        problems.append(f"resume exit code {proc.returncode}: {proc.stderr.strip()[-300:]}")
    if "Traceback" in proc.stderr:
        problems.append("resume: Traceback on stderr")
    found, _, _ = check_db(folder / "mikan.sqlite3", referee, final=True)
    return problems + [f"after resume: {p}" for p in found if p not in known]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def main() -> None:
    """Run the trials and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50, help="signals to send")
    ap.add_argument("--quick", action="store_true", help="6 trials, shorter rounds")
    ap.add_argument("--seed", type=int, default=2026, help="seeds the moments and the players")
    ap.add_argument("--window", type=float, default=12.0, help="seconds the moments span")
    ap.add_argument("--rounds", type=int, default=6, help="new rounds per trial")
    ap.add_argument("--concurrency", type=int, default=3)
    ap.add_argument("--delay-ms", type=float, default=100.0, help="every answer waits this")
    ap.add_argument("--jitter-ms", type=float, default=500.0, help="plus a uniform 0..this")
    ap.add_argument("--violation-rate", type=float, default=0.05)
    ap.add_argument("--slow-rate", type=float, default=0.0, help="answers that are slow")
    ap.add_argument("--slow-ms", type=float, default=15000.0, help="how slow (a slow tail)")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    args = ap.parse_args()
    if args.quick:
        args.trials, args.rounds, args.window = 6, 4, 6.0
    rng = random.Random(args.seed)
    # Drawn up front, so the moments depend on the seed alone (not on timing): enough
    # for every trial to end before its moment three times over.
    pairs = [
        Pair(
            seats=rng.choice((2, 2, 3)),
            mode=rng.choice(("elimination", "elimination", "sudden_death")),
            pushback=rng.random() < 0.5,
        )
        for _ in range(3 * args.trials)
    ]
    offsets = [rng.uniform(0, args.window) for _ in range(6 * args.trials)]
    tmp = Path(tempfile.mkdtemp(prefix="mikan-sigterm-"))
    log = tmp / "requests.log"
    log.touch()
    slow, port = start_server(
        "--shiritori",
        "--delay-ms",
        str(args.delay_ms),
        "--jitter-ms",
        str(args.jitter_ms),
        "--violation-rate",
        str(args.violation_rate),
        "--slow-rate",
        str(args.slow_rate),
        "--slow-ms",
        str(args.slow_ms),
        "--probe-reply",
        PROBE_REPLY,
        "--seed",
        str(args.seed),
        "--log",
        str(log),
    )
    fast, fast_port = start_server(
        "--shiritori", "--violation-rate", str(args.violation_rate), "--probe-reply", PROBE_REPLY
    )
    referee = Referee()
    referee.analyser.warm()
    trials: list[Trial] = []
    resume_problems: list[str] = []
    t_start = time.monotonic()
    try:
        n = 0
        # Until --trials signals were sent: a run that ends before its moment is a trial
        # (it is checked too) but not a signal; the pair then still gets its second trial.
        while sum(t.signalled for t in trials) < args.trials or n % 2 == 1:
            if n >= len(offsets):
                break
            pair = pairs[n // 2]
            folder = tmp / f"pair{n // 2:02d}"
            folder.mkdir(exist_ok=True)
            (folder / "mikan.toml").write_text(roster(port))
            (folder / "fast.toml").write_text(roster(fast_port))
            trial = Trial(n, pair, fresh=n % 2 == 0, offset_s=offsets[n])
            run_trial(trial, folder, log, args.rounds, args.concurrency, referee)
            trials.append(trial)
            shut = (
                f"{trial.shutdown_s * 1000:6.0f} ms"
                if trial.shutdown_s is not None
                else "     —   "
            )
            print(
                f"trial {n:2d} {'fresh' if trial.fresh else 'reuse'} {pair.seats} seats "
                f"{pair.mode:12s} {'pushback' if pair.pushback else 'intent  '} "
                f"t+{trial.offset_s:5.2f}s {trial.phase:22s} rc={trial.rc} shutdown {shut} "
                f"exit t+{trial.exit_s:5.2f}s "
                f"turns {trial.turns_before}->{trial.turns_after} resumed {trial.resumed} "
                f"finished-in-shutdown {trial.finished_in_shutdown} left {trial.left_running}"
                + (f"\n    PROBLEMS: {trial.problems}" if trial.problems else ""),
                flush=True,
            )
            if n % 2 == 1:
                found = resume_to_end(folder, referee)
                resume_problems += [f"pair {n // 2}: {p}" for p in found]
                if found:
                    print(f"    RESUME PROBLEMS: {found}", flush=True)
            n += 1
    finally:
        slow.kill()
        fast.kill()
    elapsed = time.monotonic() - t_start
    report(trials, resume_problems, args, elapsed)
    failed = any(t.problems for t in trials) or resume_problems
    if args.keep or failed:
        print(f"databases kept in {tmp}")
    else:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


def report(
    trials: list[Trial], resume_problems: list[str], args: argparse.Namespace, elapsed: float
) -> None:
    """The summary table (Markdown)."""
    times = [t.shutdown_s for t in trials if t.shutdown_s is not None]
    codes = Counter(t.rc for t in trials)
    phases: Counter[str] = Counter()
    for t in trials:
        phases.update(t.phase.split("+"))
    graceful = [t for t in trials if not t.deadline]
    cut = [t for t in trials if t.deadline]
    rows: list[tuple[str, str]] = [
        ("trials / SIGTERMs sent", f"{len(trials)} / {len(times)}"),
        (
            "fresh / reused database",
            f"{sum(t.fresh for t in trials)} / {sum(not t.fresh for t in trials)}",
        ),
        (
            "in flight at the signal (trials)",
            ", ".join(f"{k} {v}" for k, v in sorted(phases.items())),
        ),
        (
            "decided rounds left without their result",
            str(sum(t.decided_unfinished for t in trials)),
        ),
        ("lost or changed turns", str(sum(t.lost for t in trials))),
        ("duplicate turns", str(sum(t.duplicates for t in trials))),
        ("turn requests never committed", str(sum(t.dropped_turns for t in graceful))),
        ("probe requests never recorded", str(sum(t.dropped_probes for t in graceful))),
        (
            "runs cut at the 10 s deadline (turn / probe calls cancelled there)",
            f"{len(cut)} ({sum(t.dropped_turns for t in cut)} / "
            f"{sum(t.dropped_probes for t in cut)})",
        ),
        ("trials with any problem", str(sum(bool(t.problems) for t in trials))),
        ("rounds finished during shutdown", str(sum(t.finished_in_shutdown for t in trials))),
        ("rounds left running (resumed later)", str(sum(t.left_running for t in trials))),
        ("running rounds a trial started with", str(sum(t.resumed for t in trials))),
        ("resume to the end: problems", str(len(resume_problems))),
        ("exit codes", ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=str))),
    ]
    if times:
        rows.append(
            (
                "shutdown (signal to exit) median / p95 / p99 / max",
                f"{statistics.median(times):.2f} / {pct(times, 0.95):.2f} / "
                f"{pct(times, 0.99):.2f} / {max(times):.2f} s",
            )
        )
    print()
    print(
        f"# {datetime.now(UTC):%Y-%m-%d} {platform.platform()} cpus={os.cpu_count()} "
        f"python {platform.python_version()}; seed {args.seed}, window {args.window} s, "
        f"{args.rounds} rounds x {args.concurrency} at a time, answers "
        f"{args.delay_ms:.0f}+U(0,{args.jitter_ms:.0f}) ms"
        + (f" ({args.slow_rate:.0%} take {args.slow_ms:.0f} ms)" if args.slow_rate else "")
        + f", violation rate {args.violation_rate}; {elapsed:.0f} s"
    )
    print()
    print("| | |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    for t in trials:
        for p in t.problems:
            print(f"trial {t.n} (t+{t.offset_s:.3f} s, {t.phase}): {p}")
    for p in resume_problems:
        print(p)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
