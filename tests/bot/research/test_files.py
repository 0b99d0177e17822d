"""Statistics and exports name exactly their files, refuse what is not a Mikan database
(untouched), and write exports atomically: a file under its own name is always whole."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.research import export as export_mod
from bot.research.export import MANIFEST, export
from bot.research.stats import compute
from storage import queries as q
from storage.errors import ForeignDatabaseError, MissingDatabaseError, shown
from storage.migrations import apply
from tests.storage.test_files import (
    FOREIGN,
    IDS,
    NASTY_NAMES,
    fingerprint,
    settle,
    tree,
)
from tests.support.records import T, write_round

ROOT = Path(__file__).resolve().parents[3]
CSV_FILES = {f"{t}.csv" for t in q.TABLES} | {MANIFEST}
JSONL_FILES = {"events.jsonl", MANIFEST}


async def _rounds(path: Path, n: int = 2) -> None:
    from storage.db import Database

    db = await Database.open(path)
    try:
        for i in range(n):
            await write_round(
                db,
                [("a", "a-1"), ("b", "b-1")],
                [
                    T(0, ["り"], word="りんご"),
                    T(
                        1,
                        ["ご"],
                        "violation",
                        "ごはん",
                        ["ends_with_n"],
                        "admits",
                        probes={"intent": "accidental"},
                    ),
                    T(0, ["り"], word=f"りす{i}"),
                ],
                channel_id=f"c{i}",
            )
    finally:
        await db.close()


@pytest.fixture
async def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "x.sqlite3"
    path.parent.mkdir()
    await _rounds(path)
    return path


def _temps(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".tmp")}


# -- any path ------------------------------------------------------------------------


@pytest.mark.parametrize("name", NASTY_NAMES, ids=IDS)
async def test_stats_and_exports_read_and_write_exactly_their_paths(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / f"d{name}"
    folder.mkdir()
    path = folder / f"{name}.sqlite3"
    await _rounds(path)
    settle(path)
    before = fingerprint(path)
    result = compute(path)
    assert sum(g["rounds"] for g in result["groups"]) == 4  # two rounds, two players each
    out = tmp_path / f"out{name}"
    counts = export(path, out / f"csv{name}", "csv")
    assert counts["rounds"] == 2 and counts["turns"] == 6
    export(path, out / f"jsonl{name}", "jsonl")
    assert fingerprint(path) == before  # read, never written
    assert tree(tmp_path) == (
        {folder.name, f"{folder.name}/{path.name}", out.name}
        | {f"{out.name}/csv{name}", f"{out.name}/jsonl{name}"}
        | {f"{out.name}/csv{name}/{f}" for f in CSV_FILES}
        | {f"{out.name}/jsonl{name}/{f}" for f in JSONL_FILES}
    )
    rounds = list(csv.DictReader((out / f"csv{name}" / "rounds.csv").open(encoding="utf-8")))
    assert [r["channel_id"] for r in rounds] == ["c0", "c1"]


def test_the_cli_takes_any_path(db_path: Path, tmp_path: Path) -> None:
    name = "-all ?#%3F&=;'\"\\\t\n日本🍊"
    folder = tmp_path / name
    folder.mkdir()
    path = folder / f"{name}.db"
    os.replace(db_path, path)
    out = folder / f"out{name}"
    for args in (
        ["stats", f"--db={path}", "--json"],
        ["export", f"--db={path}", "--all", "--format", "csv", f"--out={out}"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == CSV_FILES
    assert tree(tmp_path) == {"src", name, f"{name}/{path.name}", f"{name}/{out.name}"} | {
        f"{name}/{out.name}/{f}" for f in CSV_FILES
    }


# -- foreign files -------------------------------------------------------------------


@pytest.fixture(params=sorted(FOREIGN))
def foreign(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    maker, _, _ = FOREIGN[request.param]
    folder = tmp_path / "db dir?#"
    folder.mkdir()
    path = folder / f"{request.param}?.db"
    maker(path)
    settle(path)
    yield path


@pytest.mark.parametrize("entry", ["stats.compute", "export.csv", "export.jsonl"])
def test_a_foreign_file_is_refused_untouched(foreign: Path, entry: str, tmp_path: Path) -> None:
    before, listing = fingerprint(foreign), tree(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(ForeignDatabaseError) as caught:
        if entry == "stats.compute":
            compute(foreign)
        else:
            export(foreign, out, entry.split(".")[1])  # type: ignore[arg-type]
    assert caught.value.reader and str(caught.value).startswith(shown(foreign))
    assert "--init" not in str(caught.value) and "\n" not in str(caught.value)
    assert fingerprint(foreign) == before
    assert tree(tmp_path) == listing  # nothing beside it, and no output folder


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_no_database_no_export(fmt: str, tmp_path: Path) -> None:
    with pytest.raises(MissingDatabaseError):
        export(tmp_path / "none.db", tmp_path / "out", fmt)  # type: ignore[arg-type]
    with pytest.raises(MissingDatabaseError):
        compute(tmp_path / "none.db")
    assert tree(tmp_path) == set()


# -- atomic exports ------------------------------------------------------------------


class DiskFull(OSError):
    pass


def _fail_in_table(monkeypatch: pytest.MonkeyPatch, table: str, after: int) -> None:
    """Make the CSV line of ``table``'s row number ``after`` raise (the files before it
    complete, that one part-written)."""
    real = export_mod.line_maker
    mine = _columns_of(table)

    def line_maker(columns: list[str]) -> Callable[[tuple], bytes]:
        line = real(columns)
        if columns != mine:
            return line
        seen = [0]

        def failing(row: tuple) -> bytes:
            seen[0] += 1
            if seen[0] > after:
                raise DiskFull(28, "No space left on device")
            return line(row)

        return failing

    monkeypatch.setattr(export_mod, "line_maker", line_maker)


def _columns_of(table: str) -> list[str]:
    """A table's columns as the export sees them (from a fresh in-memory database)."""
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.row_factory = sqlite3.Row
    try:
        apply(con)
        return q.columns(con, table)
    finally:
        con.close()


@pytest.mark.parametrize("table", ["rounds", "turns", "calls"])
def test_a_csv_export_failing_midway_leaves_no_file(
    table: str, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _fail_in_table(monkeypatch, table, after=1)
    with pytest.raises(DiskFull):
        export(db_path, out, "csv")
    assert list(out.iterdir()) == []  # no final name, no temporary file


def test_a_jsonl_export_failing_midway_leaves_no_file(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = q.round_ids

    def round_ids(con: sqlite3.Connection) -> Iterator[int]:
        ids = real(con)
        yield next(ids)  # the first round is written out, then the disk fills
        raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(q, "round_ids", round_ids)
    out = tmp_path / "out"
    with pytest.raises(DiskFull):
        export(db_path, out, "jsonl")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_failing_manifest_leaves_no_file(
    fmt: str, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every data file complete, the manifest (written last) fails: nothing appears."""

    class Json:
        @staticmethod
        def dumps(*args: object, **kwargs: object) -> str:
            raise DiskFull(28, "No space left on device")

    monkeypatch.setattr(export_mod, "json", Json)
    out = tmp_path / "out"
    with pytest.raises(DiskFull):
        export(db_path, out, fmt)  # type: ignore[arg-type]
    assert list(out.iterdir()) == []


def test_a_failed_export_leaves_the_previous_one_whole(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export(db_path, out, "csv")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == CSV_FILES
    _fail_in_table(monkeypatch, "calls", after=0)
    with pytest.raises(DiskFull):
        export(db_path, out, "csv")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_rename_failing_midway_leaves_no_manifest(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a move into place to fail, the files already moved are whole, the rest are
    removed, and no manifest claims the folder is one export."""
    out = tmp_path / "out"
    export(db_path, out, "csv")
    real, moved = os.replace, []

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if len(moved) == 2:
            raise DiskFull(5, "Input/output error")
        real(src, dst)
        moved.append(Path(dst).name)

    monkeypatch.setattr(export_mod.os, "replace", replace)
    with pytest.raises(DiskFull):
        export(db_path, out, "csv")
    monkeypatch.undo()
    names = {p.name for p in out.iterdir()}
    assert MANIFEST not in names and not _temps(out)
    assert names == CSV_FILES - {MANIFEST}  # two new files, three from before: all whole


def test_a_successful_export_leaves_no_temporary_file(db_path: Path, tmp_path: Path) -> None:
    for fmt, expected in (("csv", CSV_FILES), ("jsonl", JSONL_FILES)):
        out = tmp_path / fmt
        counts = export(db_path, out, fmt)  # type: ignore[arg-type]
        assert {p.name for p in out.iterdir()} == expected
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["rows"] == counts and set(manifest["files"]) == expected - {MANIFEST}
        # Created as a plain open() would (not mkstemp's owner-only 0600).
        reference = tmp_path / f"reference-{fmt}"
        reference.write_bytes(b"")
        for p in out.iterdir():
            assert p.stat().st_mode & 0o777 == reference.stat().st_mode & 0o777, p


# A real ``python -m bot export``, paused (by a hook a sitecustomize installs) once the
# first files are complete and the turns are being written, then killed with SIGKILL.
PAUSE_HOOK = textwrap.dedent(
    """
    import os, signal, sys

    if os.environ.get("MIKAN_TEST_PAUSE"):
        import bot.research.export as ex

        real = ex.line_maker

        def line_maker(names):
            line = real(names)
            if names != os.environ["MIKAN_TEST_COLUMNS"].split(","):
                return line

            def pausing(row):
                sys.stderr.write("paused\\n")
                sys.stderr.flush()
                while True:
                    signal.pause()

            return pausing

        ex.line_maker = line_maker
    """
)


def test_an_export_killed_midway_leaves_no_file_under_its_name(
    db_path: Path, tmp_path: Path
) -> None:
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(PAUSE_HOOK, encoding="utf-8")
    out = tmp_path / "out"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "MIKAN_TEST_PAUSE": "1",
        "MIKAN_TEST_COLUMNS": ",".join(_columns_of("turns")),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "--db",
            str(db_path),
            "--all",
            "--format",
            "csv",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        line = proc.stderr.readline()  # blocks until the export is inside turns.csv
        assert line == "paused\n", line + proc.stderr.read()
        # Mid-export: rounds and seats are complete, turns begun, all under temporary names.
        temps = _temps(out)
        assert {t.split(".")[1] for t in temps} == {"rounds", "seats", "turns"}, temps
        assert not {p.name for p in out.iterdir()} & CSV_FILES
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    names = {p.name for p in out.iterdir()}
    assert not names & CSV_FILES  # nothing under a final name
    # What a SIGKILL leaves: the hidden temporary files, which no reader takes for an export.
    assert names == temps and all(n.startswith(".") and n.endswith(".tmp") for n in names)
