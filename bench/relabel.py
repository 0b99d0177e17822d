"""`mikan relabel` on a large database: dry run, write, idempotent rerun, resume.

    python bench/relabel.py [--turns 1000000] [--db DIR] [--keep]

Builds (once; reused if present) the database ``bench/export.py`` builds, in the same
place under the same name (``DIR/turns-N-v2.sqlite3``; DIR defaults to
``$TMPDIR/mikan-bench``): rounds of 100 model turns between two players, a call record
per turn, an intent probe per violating turn, the statistics rollups. It is written
with schema 4 (the last before labels were versioned: ``export.build`` writes rows of
that shape, and fails on the current schema's wider turns and probes) and brought to
the current schema by ``storage.migrations.upgrade_file``, as an older Mikan's
database is. Its turns were never labelled by a reply reader
version (``turns.reader`` NULL, i.e. ``reader-1``): if the reader this code runs is
still ``reader-1``, relabel would find every turn current and do nothing, so then each
copy's turns are marked ``reader-0`` before measuring (outside the timings), and the
work is really done. The table says which reader was measured.

The rounds are synthetic: random words, every round 100 turns long whatever happens in
it, so a replay through ``RoundState`` stops at the round's first violation (the round
was over by then) and the rest of the round is read with the context its rows record
(``unreplayable`` in the summary): both paths of relabel are exercised, the row path
most.

Each measurement runs on a fresh copy of the database (except the rerun, which uses
the written one) and each command in a fresh process, so its peak RSS and CPU time
(user + system) are its own:
  1. ``mikan relabel --dry-run --json``: wall time, turns/s, peak RSS; writes nothing;
  2. ``mikan relabel --json``: wall time, turns/s, peak RSS;
  3. the same through the library in one process, timing the turns, the probes and
     the rollup rebuild (``storage.rollups.rebuild``) apart;
  4. ``mikan relabel --json`` again on the database 2 wrote: nothing relabelled;
  5. resume: ``mikan relabel`` killed (SIGKILL) at a third of 2's wall time, then run
     again: every judged turn labelled exactly once, ``PRAGMA integrity_check`` ok, the
     rollups identical to 2's;
  6. the same, killed in the rollup rebuild: once all but the last batch of labels are
     committed (polled read-only), plus half of 3's rebuild time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export import GENERATOR, build

from bot.rounds.relabel import READER_1, current_classifier, current_reader
from storage import migrations

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCHEMA = 4  # export.build writes turns and probes rows of this schema's shape
BATCH = 500  # relabel's batch (its default)
JUDGED = "raw_text IS NOT NULL AND outcome IN ('accepted', 'violation')"

# Measurement 3: the library in one process, the phases timed apart. Prints one JSON line.
IN_PROCESS = r"""
import json, sys, time
from bot.rounds import relabel as m
marks = {}
def timed(name, fn):
    def run(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            marks[name] = marks.get(name, 0.0) + time.perf_counter() - t
    return run
m._relabel_probes = timed("probes", m._relabel_probes)
m.rollups.rebuild = timed("rebuild", m.rollups.rebuild)
t0 = time.perf_counter()
report = m.relabel(sys.argv[1])
total = time.perf_counter() - t0
print(json.dumps({"total": total, **marks, "labelled": report.turns_labelled}))
"""


def judged_turns(path: Path) -> tuple[int, int]:
    """Judged turns and probes: what a relabel of the whole database labels."""
    con = sqlite3.connect(path)
    try:
        turns = con.execute(f"SELECT COUNT(*) FROM turns WHERE {JUDGED}").fetchone()[0]
        return int(turns), int(con.execute("SELECT COUNT(*) FROM probes").fetchone()[0])
    finally:
        con.close()


def base_database(directory: Path, turns: int) -> Path:
    """The export benchmark's database (built under schema 4 if missing), upgraded."""
    db = directory / f"turns-{turns}-{GENERATOR}.sqlite3"
    if not db.exists():
        t0 = time.perf_counter()
        part = db.with_name(db.name + ".part")
        for stale in directory.glob(part.name + "*"):
            stale.unlink()
        older = [m for m in migrations.MIGRATIONS if m[0] <= BUILD_SCHEMA]
        with mock.patch.object(migrations, "MIGRATIONS", older):
            build(part, turns)
        part.rename(db)
        print(f"built {db} ({turns} turns) in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    if migrations.upgrade_file(db) < migrations.LATEST:
        took = time.perf_counter() - t0
        print(f"upgraded {db} to schema {migrations.LATEST} in {took:.1f} s", flush=True)
    return db


def fresh_copy(base: Path, directory: Path, name: str, reader: str) -> Path:
    """A copy of ``base`` to measure on (its turns marked older than ``reader`` if need be)."""
    copy = directory / f"relabel-{name}.sqlite3"
    for old in directory.glob(copy.name + "*"):
        old.unlink()
    shutil.copyfile(base, copy)
    if reader == READER_1:
        con = sqlite3.connect(copy, isolation_level=None)
        try:
            con.execute("UPDATE turns SET reader = 'reader-0' WHERE reader IS NULL")
        finally:
            con.close()
    return copy


def drop(path: Path) -> None:
    for f in path.parent.glob(path.name + "*"):
        f.unlink()


class Run:
    """One command in a fresh process: wall time, its own peak RSS and CPU, its output."""

    def __init__(self, args: list[str], kill: Callable[[], None] | None = None) -> None:
        """``kill``: returns when the command is to be killed (SIGKILL)."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(args, stdout=out, stderr=err, cwd=ROOT)
            if kill is not None:
                kill()
                self.killed_at = time.perf_counter() - t0
                proc.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            self.wall = time.perf_counter() - t0
            proc.returncode = self.rc = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            self.stdout = out.read().decode()
            self.stderr = err.read().decode()
        self.rss_mb = usage.ru_maxrss / 1024  # KiB on Linux
        self.cpu = usage.ru_utime + usage.ru_stime
        if kill is None and self.rc != 0:
            raise SystemExit(f"{' '.join(args)} failed ({self.rc}):\n{self.stderr[-3000:]}")

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def mikan(*args: str, kill: Callable[[], None] | None = None) -> Run:
    return Run([sys.executable, "-m", "bot", *args], kill)


def in_rebuild(path: Path, judged: int, probes: int, batch: int, then: float) -> None:
    """Wait until a relabel of ``path`` has committed (about) every label, so that its
    rollup rebuild is under way, then ``then`` seconds more."""
    while True:
        time.sleep(0.5)
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            try:
                turns = con.execute("SELECT MAX(rowid) FROM turn_labels").fetchone()[0] or 0
                labelled = con.execute("SELECT MAX(rowid) FROM probe_labels").fetchone()[0] or 0
            finally:
                con.close()
        except sqlite3.Error:
            continue
        # The last batch (at most ``batch`` + 1 labels) may commit with the rebuild.
        if turns >= judged - batch - 1 and labelled >= probes - batch - 1:
            time.sleep(then)
            return


def rollup_digest(path: Path) -> str:
    """A hash of every statistics rollup table's rows (equal rollups, equal digests)."""
    con = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        names = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'stats\\_%' "
            "ESCAPE '\\' ORDER BY name"
        ).fetchall()
        for (name,) in names:
            h.update(name.encode())
            width = len(con.execute(f"PRAGMA table_info({name})").fetchall())
            order = ", ".join(str(i + 1) for i in range(width))
            for row in con.execute(f"SELECT * FROM {name} ORDER BY {order}"):
                h.update(repr(row).encode())
        return h.hexdigest()[:16]
    finally:
        con.close()


def label_counts(path: Path) -> tuple[int, int, int, str]:
    """Turn labels, distinct labelled turns, probe labels, integrity check."""
    con = sqlite3.connect(path)
    try:
        n, distinct = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT turn_id) FROM turn_labels"
        ).fetchone()
        probes = con.execute("SELECT COUNT(*) FROM probe_labels").fetchone()[0]
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        return int(n), int(distinct), int(probes), str(ok)
    finally:
        con.close()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        head = "?"
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, {cpu}, "
        f"{len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, git {head or '?'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "mikan-bench")
    ap.add_argument("--keep", action="store_true", help="keep the measured copies")
    a = ap.parse_args()
    a.db.mkdir(parents=True, exist_ok=True)
    reader, classifier = current_reader(), current_classifier()
    base = base_database(a.db, a.turns)
    size_mb = base.stat().st_size / 1e6
    print(f"# relabel bench: {machine()}", flush=True)
    print(
        f"# reader {reader}, classifier {classifier}"
        + (" (stored turns marked reader-0)" if reader == READER_1 else ""),
        flush=True,
    )
    rows: list[tuple[str, str, str, str, str, str]] = []

    def row(step: str, r: Run | None, wall: float, turns: int, result: str) -> None:
        rate = f"{turns / wall:,.0f}" if turns and wall else "–"
        rss = f"{r.rss_mb:.0f}" if r else "–"
        cpu = f"{r.cpu:.1f}" if r else "–"
        rows.append((step, f"{wall:.1f}", cpu, rate, rss, result))
        print(f"  {step}: {wall:.1f} s, {rate} turns/s, RSS {rss} MB: {result}", flush=True)

    # 1. Dry run.
    db = fresh_copy(base, a.db, "dry", reader)
    judged, probes = judged_turns(db)
    r = mikan("relabel", "--db", str(db), "--dry-run", "--json")
    s = r.json()
    n, _, p, _ = label_counts(db)
    assert n == 0 and p == 0, "a dry run wrote labels"
    row(
        "1 dry run",
        r,
        r.wall,
        s["turns"]["seen"],
        f"would relabel {s['turns']['labelled']:,} turns, {s['probes']['labelled']:,} probes; "
        f"{sum(v for k, v in s['changed'].items() if not k.startswith('probe'))} turn label "
        f"changes; {len(s['unreplayable_rounds']):,} rounds partly unreplayable; wrote nothing",
    )
    drop(db)

    # 2. Write.
    written = fresh_copy(base, a.db, "write", reader)
    r = mikan("relabel", "--db", str(written), "--json")
    s = r.json()
    n, distinct, p, ok = label_counts(written)
    write_wall = r.wall
    row(
        "2 relabel (write)",
        r,
        r.wall,
        s["turns"]["labelled"],
        f"{s['turns']['labelled']:,} turns and {s['probes']['labelled']:,} probes relabelled; "
        f"turn_labels {n:,} ({distinct:,} turns), probe_labels {p:,}, integrity {ok}",
    )
    assert n == distinct == judged and ok == "ok"
    digest = rollup_digest(written)

    # 3. In-process, phases apart.
    db = fresh_copy(base, a.db, "phases", reader)
    r = Run([sys.executable, "-c", IN_PROCESS, str(db)])
    ph = json.loads(r.stdout.strip().splitlines()[-1])
    turns_s = ph["total"] - ph.get("probes", 0.0) - ph.get("rebuild", 0.0)
    row(
        "3 relabel (library, one process)",
        r,
        ph["total"],
        ph["labelled"],
        f"turns {turns_s:.1f} s ({ph['labelled'] / turns_s:,.0f}/s), probes "
        f"{ph.get('probes', 0):.1f} s, rollup rebuild {ph.get('rebuild', 0):.1f} s; rollups "
        + ("= 2's" if rollup_digest(db) == digest else "DIFFER from 2's"),
    )
    drop(db)

    # 4. Again on 2's database: nothing to do.
    r = mikan("relabel", "--db", str(written), "--json")
    s = r.json()
    n2, _, p2, _ = label_counts(written)
    row(
        "4 relabel again (idempotent)",
        r,
        r.wall,
        0,
        f"{s['turns']['labelled']} turns, {s['probes']['labelled']} probes relabelled "
        f"({s['turns']['already_current']:,} current); labels unchanged: "
        f"{'yes' if (n2, p2) == (n, p) else 'NO'}",
    )
    assert s["turns"]["labelled"] == 0 and (n2, p2) == (n, p)
    if not a.keep:
        drop(written)

    # 5, 6. Killed, then run again.
    cuts: list[tuple[str, Callable[[Path], None]]] = [
        ("5 resume: killed at 1/3", lambda _: time.sleep(write_wall / 3))
    ]
    if ph.get("rebuild"):
        cuts.append(
            (
                "6 resume: killed in rollup rebuild",
                lambda db: in_rebuild(db, judged, probes, BATCH, ph["rebuild"] / 2),
            )
        )
    for step, when in cuts:
        db = fresh_copy(base, a.db, "resume", reader)
        killed = mikan("relabel", "--db", str(db), "--json", kill=lambda w=when, d=db: w(d))
        cut = killed.killed_at
        at_kill, _, probes_at_kill, _ = label_counts(db)
        r = mikan("relabel", "--db", str(db), "--json")
        s = r.json()
        n, distinct, p, ok = label_counts(db)
        same = rollup_digest(db) == digest
        row(
            step,
            r,
            r.wall,
            s["turns"]["labelled"],
            f"killed at {cut:.0f} s (rc {killed.rc}) with {at_kill:,} turn and "
            f"{probes_at_kill:,} probe labels; rerun relabelled {s['turns']['labelled']:,} "
            f"({s['turns']['already_current']:,} current); turn_labels {n:,} = judged "
            f"{judged:,}: {'yes' if n == judged else 'NO'}, duplicates {n - distinct}, "
            f"integrity {ok}, rollups {'= 2' if same else 'DIFFER from 2'}",
        )
        if not a.keep:
            drop(db)

    print()
    print(
        f"`mikan relabel`, {a.turns:,} turns ({judged:,} judged, database {size_mb:,.0f} MB), "
        f"reader `{reader}`, classifier `{classifier}`; {machine()}."
    )
    print()
    print("| step | wall s | CPU s | turns/s | peak RSS MB | result |")
    print("|---|---:|---:|---:|---:|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
