"""Migrations are frozen: each is self-contained (no live code), numbered in order, one
transaction with its version row, and upgrading an older database gives what the live
code would have written."""

from __future__ import annotations

import ast
import asyncio
import inspect
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage import migrations, rollups
from storage.db import Database
from storage.migrations import LATEST, MIGRATIONS, apply, migration
from tests.storage.test_rollups import downgrade_to_2, play_offline
from tests.support.records import T, round_row, seat_rows, turn_row, write_round

STATS_TABLES = (
    "stats_groups",
    "stats_totals",
    "stats_rounds",
    "stats_codes",
    "stats_required",
    "stats_attractors",
    "stats_turn_index",
    "stats_latency",
    "stats_probes",
    "stats_last_model",
    "stats_no_answer",
    "stats_usage",
)


# What storage/migrations.py may import besides the standard library: the file check
# (and its errors) that ``upgrade_file`` runs before opening a file. Both are standard
# library only themselves, and no migration function uses them.
FILE_CHECK = {"storage.errors", "storage.files"}


def _imports(path: Path) -> set[str]:
    """Every module the file imports (anywhere in it), absolute, as written."""
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            module = node.module or ""
            imported.add(module)
            # ``from storage import files`` imports storage.files
            imported |= {f"{module}.{a.name}" for a in node.names} & FILE_CHECK
    return imported


def _stdlib(names: set[str]) -> bool:
    return {n.split(".")[0] for n in names} <= set(sys.stdlib_module_names) | {"__future__"}


def test_migrations_import_nothing_live() -> None:
    """storage/migrations.py imports only the standard library and the file check (itself
    standard library only): nothing of storage's live code (its rollups above all), bot
    or cogs, not even lazily inside a function; and no migration uses the file check."""
    source = Path(migrations.__file__)
    imported = _imports(source)
    outside = {n for n in imported if n.split(".")[0] == "storage"} - FILE_CHECK - {"storage"}
    assert not outside, outside
    assert _stdlib({n for n in imported if n.split(".")[0] != "storage"}), imported
    for name in FILE_CHECK:
        module = Path(migrations.__file__).with_name(name.split(".")[1] + ".py")
        theirs = _imports(module) - FILE_CHECK - {"storage"}
        assert _stdlib(theirs), (name, theirs)
    text = source.read_text(encoding="utf-8")
    assert "importlib" not in imported and "__import__" not in text
    # The names the file check binds in migrations.py appear in no migration function.
    bound = {"files", "SchemaTooNewError"}
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage"):
            assert {a.asname or a.name for a in node.names} <= bound, ast.dump(node)
    steps = {step.__name__ for _, step in MIGRATIONS}
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in steps):
        used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)}
        assert not used & bound, (fn.name, used & bound)
    # And at run time: importing the migrations loads no other storage module.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, storage.migrations; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('storage', 'bot', 'cogs')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert (
        proc.stdout.strip()
        == "['storage', 'storage.errors', 'storage.files', 'storage.migrations']"
    )


def test_migrations_are_numbered_functions_with_a_reason() -> None:
    assert [v for v, _ in MIGRATIONS] == list(range(1, LATEST + 1))
    for version, step in MIGRATIONS:
        assert inspect.isfunction(step), version
        assert (step.__doc__ or "").strip(), f"migration {version} says why it exists"
    before = list(MIGRATIONS)
    for wrong in (LATEST, LATEST + 2, 0):
        with pytest.raises(ValueError, match="due"):
            migration(wrong)(lambda raw: None)
    assert before == MIGRATIONS  # nothing registered by a refused number


def _stats(path: Path) -> dict[str, object]:
    """Every rollup table, whole (ids included), and their schema as SQLite holds it."""
    con = sqlite3.connect(path)
    try:
        out: dict[str, object] = {
            "schema": con.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE tbl_name LIKE 'stats_%' ORDER BY type, name"
            ).fetchall()
        }
        for table in STATS_TABLES:
            out[table] = sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        con.close()
    return out


async def _varied(path: Path) -> None:
    """Offline rounds (violations, ん-endings, intent probes) plus hand-made ones: no
    answers before and after a model was reported, other channels and days, a person's
    seat, pushback probes."""
    await play_offline(path, 3)
    db = await Database.open(path)
    try:
        z, w = ("z", "z-1"), ("w", "w-1")
        u1, u2 = ("u", "u-1"), ("u", "u-2")
        await write_round(
            db,
            [z, w],
            [
                T(0, ["り"], "no_answer"),
                T(1, ["り"], word="りす"),
                T(0, ["す"], word="すいか"),
                T(1, ["か"], "violation", word="かん", violations=["ends_with_n"], flag="admits"),
                T(0, ["め"], "no_answer"),
            ],
        )
        await write_round(
            db,
            [z, ("v", "v-2")],
            [
                T(0, ["り"], "no_answer"),  # z: its player's last reported model
                T(1, ["り"], "violation", word="りんご", violations=["wrong_start"], retries=2),
                T(0, ["ご"], word="ごま", tokens=None, latency=1234.5),
                T(
                    1,
                    ["ま"],
                    "violation",
                    word="まつ",
                    violations=["repeated", "not_a_noun"],
                    flag="continues",
                    probes={"intent": "deliberate", "pushback": "concedes"},
                ),
            ],
            channel_id="c2",
            prompt_lang="en",
            created_at="2026-12-24T23:59:59.000+00:00",
        )
        # u changes model between two rounds played side by side: its no-answer in the
        # first counts under the model its own seat reported (not its player's latest),
        # and a probe does not move the player's last model.
        # Created running (a worker's lease is what lets it write turns), ended below.
        day = {"created_at": "2026-11-20T08:00:00.000+00:00", "status": "running"}
        ra, sa = await db.create_round(round_row(**day), seat_rows([u1, w]))
        rb, sb = await db.create_round(round_row(**day), seat_rows([u2, w]))
        probed = T(0, ["り"], "violation", word="りん", violations=["ends_with_n"])
        probed.probes = {"intent": "accident"}
        await _turn(db, ra, sa[0], 0, probed, u1)
        await _turn(db, rb, sb[0], 0, T(0, ["り"], word="りす"), u2)
        await _turn(db, ra, sa[0], 1, T(0, ["す"], "no_answer"), u1)
        await _turn(db, rb, sb[0], 1, T(0, ["す"], "no_answer"), u2)
        rid, seats = await db.create_round(
            round_row(
                surface="console",
                channel_id=None,
                created_at="2026-11-30T12:00:00.000+00:00",
                status="running",
            ),
            [
                {
                    "position": 0,
                    "kind": "person",
                    "user_id": "u1",
                    "display_name": "人",
                    "params_json": "{}",
                    "status": "playing",
                },
                {
                    "position": 1,
                    "kind": "model",
                    "player_key": "w",
                    "display_name": "W",
                    "model_asked": "w-model",
                    "params_json": "{}",
                    "status": "playing",
                },
            ],
        )
        for idx, seat in enumerate(seats * 2):
            await db.add_turn(
                {
                    "round_id": rid,
                    "seat_id": seat,
                    "idx": idx,
                    "outcome": "no_answer" if idx == 3 else "accepted",
                    "required_json": '["か"]',
                    "raw_text": "かき",
                    "word": "かき",
                    "next_json": "[]",
                    "violations_json": "[]",
                    "started_at": "t",
                    "ended_at": "t",
                    "duration_ms": 1.0,
                }
            )
        for round_id in (ra, rb, rid):
            await db.end_round(round_id, "finished", None, None)
    finally:
        await db.close()


async def _turn(db: Database, rid: int, seat_id: int, idx: int, t: T, player: tuple) -> None:
    """One model turn (its call reporting ``player``'s model unless it had no answer)."""
    key, model = player
    ok = t.outcome != "no_answer"
    call = {
        "round_id": rid,
        "seat_id": seat_id,
        "purpose": "turn",
        "player_key": key,
        "provider": "openai",
        "model_asked": f"{key}-model",
        "model_reported": model if ok else None,
        "ok": int(ok),
        "params_json": "{}",
        "started_at": "t",
        "latency_ms": t.latency,
        "output_tokens": t.tokens if ok else None,
        "retries": t.retries,
        "attempts_json": "[]",
    }
    turn_id = await db.add_turn(turn_row(rid, seat_id, idx, t), call)
    for kind, label in t.probes.items():
        probe = {
            "round_id": rid,
            "seat_id": seat_id,
            "turn_id": turn_id,
            "kind": kind,
            "template_version": "probes-1",
            "prompt": "?",
            "label": label,
            "exchange_json": "[]",
            "created_at": "t",
        }
        await db.add_probe(probe, [{**call, "purpose": f"probe:{kind}"}])


async def test_upgrading_from_2_gives_what_the_live_code_writes(tmp_path: Path) -> None:
    """A schema-2 database upgraded through the frozen migration 3 holds the rollups the
    live code keeps for the same rows — as the live writes left them, and as the live
    ``rollups.backfill`` rebuilds them — and their tables exactly as ``rollups.SCHEMA``
    declares them."""
    played = tmp_path / "played.sqlite3"
    await _varied(played)
    live_writes = _stats(played)
    assert len(live_writes["stats_groups"]) >= 5 and live_writes["stats_probes"]
    downgrade_to_2(played)

    upgraded = tmp_path / "upgraded.sqlite3"
    shutil.copy(played, upgraded)
    assert migrations.upgrade_file(upgraded) == 2

    rebuilt = tmp_path / "rebuilt.sqlite3"
    shutil.copy(played, rebuilt)
    # The live code reads today's columns: the rows at the latest schema, no rollups.
    migrations.upgrade_file(rebuilt)
    con = sqlite3.connect(rebuilt, isolation_level=None)
    for (name,) in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'stats_%'"
    ).fetchall():
        con.execute(f"DROP TABLE {name}")
    con.executescript(rollups.SCHEMA)
    con.execute("BEGIN")
    rollups.backfill(con)
    con.execute("COMMIT")
    con.close()

    # No call stored before schema 7 is normalised (the downgrade took usage_version
    # away), so none of the live writes' token sums can come back.
    assert live_writes["stats_usage"]
    live_writes["stats_usage"] = []
    assert _stats(upgraded) == _stats(rebuilt) == live_writes


def test_migration_3_runs_no_live_rollup_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breaking the live rollup code changes nothing about what the migration does."""
    path = tmp_path / "old.sqlite3"
    asyncio.run(_varied(path))
    expected = _stats(path)
    expected["stats_usage"] = []  # no call before schema 7 is normalised
    downgrade_to_2(path)

    def broken(*args: object, **kwargs: object) -> None:
        raise AssertionError("migration 3 ran live rollup code")

    for name, value in vars(rollups).items():
        if inspect.isfunction(value) and value.__module__ == rollups.__name__:
            monkeypatch.setattr(rollups, name, broken)
    for name, value in vars(rollups.Rollups).items():
        if inspect.isfunction(value):
            monkeypatch.setattr(rollups.Rollups, name, broken)
    monkeypatch.setattr(rollups, "SCHEMA", "this is not SQL")
    assert migrations.upgrade_file(path) == 2
    assert _stats(path) == expected


def test_a_failing_migration_leaves_its_version_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration and its version row are one transaction: if its step fails midway,
    nothing it did (tables, rows) stays and the database keeps its old version."""
    path = tmp_path / "old.sqlite3"
    asyncio.run(_varied(path))
    downgrade_to_2(path)

    (_, real_3) = MIGRATIONS[2]

    def fails_after_3(raw: sqlite3.Connection) -> None:
        real_3(raw)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS[:2], (3, fails_after_3)])
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrations.upgrade_file(path)
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT MAX(version) FROM schema_version").fetchone() == (2,)
        assert not con.execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'stats_%'"
        ).fetchall()
        assert not con.in_transaction
    finally:
        con.close()
    monkeypatch.undo()
    assert migrations.upgrade_file(path) == 2  # the real one then succeeds
    con = sqlite3.connect(path, isolation_level=None)
    try:
        assert apply(con) == LATEST
    finally:
        con.close()


MIGRATION_7_COLUMNS = (
    "finish",
    "reasoning",
    "cached_input_tokens",
    "cache_write_tokens",
    "usage_json",
    "usage_version",
    "system_fingerprint",
    "params_dropped_json",
)


def _downgrade_to_6(path: Path) -> None:
    con = sqlite3.connect(path)
    for table in ("stats_no_answer", "stats_usage"):
        con.execute(f"DROP TABLE {table}")
    for column in MIGRATION_7_COLUMNS:
        con.execute(f"ALTER TABLE calls DROP COLUMN {column}")
    con.execute("DELETE FROM schema_version WHERE version > 6")
    con.commit()
    con.close()


def test_migration_7_keeps_the_rows_and_counts_old_no_answers_as_failed_calls(
    tmp_path: Path,
) -> None:
    """Every no_answer before schema 7 was a failed call: the upgrade counts them so,
    adds the call columns empty (``usage_version`` NULL: the provider's own numbers),
    and the statistics are what they were, with the new breakdown."""
    from bot.research.stats import compute

    path = tmp_path / "six.sqlite3"
    asyncio.run(_varied(path))
    _downgrade_to_6(path)
    con = sqlite3.connect(path)
    calls_before = con.execute("SELECT * FROM calls ORDER BY id").fetchall()
    con.close()
    assert migrations.upgrade_file(path) == 6
    con = sqlite3.connect(path)
    width = len(calls_before[0])
    after = con.execute("SELECT * FROM calls ORDER BY id").fetchall()
    assert [row[:width] for row in after] == calls_before
    assert all(set(row[width:]) == {None} for row in after)
    no_answer = dict(
        con.execute("SELECT group_id, no_answer FROM stats_totals WHERE no_answer > 0")
    )
    assert no_answer  # the data has some
    assert con.execute("SELECT group_id, reason, n FROM stats_no_answer").fetchall() == [
        (g, "call_failed", n) for g, n in sorted(no_answer.items())
    ]
    assert con.execute("SELECT COUNT(*) FROM stats_usage").fetchone() == (0,)
    con.close()
    for g in compute(path)["groups"]:
        assert g["no_answer_by_reason"]["call_failed"]["k"] == g["no_answer"]["k"]
        assert g["tokens"]["calls"] == 0 and g["estimated_cost"] is None
