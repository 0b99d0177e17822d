"""``mikan relabel``: new labels beside the originals, in the context each turn was played
in; idempotent, resumable, a dry run writes nothing, statistics follow the new labels."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.research.stats import compute
from bot.rounds import relabel as relabel_mod
from bot.rounds.relabel import probe_label, relabel, write_diff
from storage.db import Database
from tests.support.records import T, write_round

ROOT = Path(__file__).resolve().parents[3]
VERSION = "reader-test"


@pytest.fixture(autouse=True)
def _a_newer_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the reader's own version, relabel treats the stored turns as older ones.
    monkeypatch.setattr(relabel_mod, "current_reader", lambda: VERSION)
    monkeypatch.setattr(relabel_mod, "current_classifier", lambda: "probe-labels-test")


def table(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


async def _played(path: Path) -> int:
    """A round whose stored labels are wrong the way an old reader got them wrong."""
    db = await Database.open(path)
    try:
        return await write_round(
            db,
            [("a", "a-1"), ("b", "b-1")],
            [
                # Start word しりとり: り. A label stored wrong (an old reader's miss).
                T(0, ["り"], word="りす", raw="りんご"),
                # As played, りす was the word: the next must start with す… and is judged so.
                T(1, ["す"], word="すいか"),
                # An ends-in-ん move the old reader accepted.
                T(0, ["か"], word="かばん"),
            ],
            status="finished",
        )
    finally:
        await db.close()


async def test_new_labels_go_beside_the_originals_and_history_stays(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    rid = await _played(path)
    turns_before = table(path, "SELECT * FROM turns ORDER BY id")
    rounds_before = table(path, "SELECT * FROM rounds")

    report = relabel(path)

    assert table(path, "SELECT * FROM turns ORDER BY id") == turns_before  # never rewritten
    assert table(path, "SELECT * FROM rounds") == rounds_before  # who won stays as played
    labels = table(
        path,
        "SELECT t.idx, l.reader, l.word, l.violations_json FROM turn_labels l "
        "JOIN turns t ON t.id = l.turn_id ORDER BY t.idx",
    )
    assert [(i, r) for i, r, _, _ in labels] == [(0, VERSION), (1, VERSION), (2, VERSION)]
    # Read in the context it was played in: りんご after しりとり is a fine move…
    assert labels[0][2] == "りんご" and json.loads(labels[0][3]) == []
    # …すいか after りす (as played) too, and かばん ends in ん, whatever the old label said.
    assert labels[1][2] == "すいか" and json.loads(labels[1][3]) == []
    assert "ends_with_n" in json.loads(labels[2][3])
    assert report.turns_seen == 3 and report.turns_labelled == 3
    assert report.changed["word"] == 1 and report.changed["verdict"] == 1
    assert report.transitions["word"] == {"りす → りんご": 1}
    (example,) = report.examples["word"]
    assert (example.round_id, example.idx) == (rid, 0)


async def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    await _played(path)
    relabel(path)
    labels = table(path, "SELECT * FROM turn_labels ORDER BY turn_id")
    again = relabel(path)
    assert again.turns_labelled == 0 and again.turns_current == 3
    assert not again.changed
    assert table(path, "SELECT * FROM turn_labels ORDER BY turn_id") == labels


async def test_a_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    await _played(path)
    stats_before = table(path, "SELECT * FROM stats_totals")
    dry = relabel(path, dry_run=True)
    assert dry.dry_run and dry.turns_labelled == 3 and dry.changed["verdict"] == 1
    assert table(path, "SELECT COUNT(*) FROM turn_labels") == [(0,)]
    assert table(path, "SELECT * FROM stats_totals") == stats_before


async def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    db = await Database.open(path)
    try:
        for i in range(4):
            await write_round(
                db,
                [("a", "a-1"), ("b", "b-1")],
                [T(0, ["り"], word="りんご"), T(1, ["ご"], word=f"ごりら{i}")],
            )
    finally:
        await db.close()

    class Stop(Exception):
        pass

    def stop_after_first_batch(n: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        relabel(path, batch=2, on_progress=stop_after_first_batch)
    (done,) = table(path, "SELECT COUNT(*) FROM turn_labels")[0]
    assert 0 < done < 8  # one batch committed, the rest not
    report = relabel(path)
    assert report.turns_current == done and report.turns_labelled == 8 - done
    assert table(path, "SELECT COUNT(*), COUNT(DISTINCT turn_id) FROM turn_labels") == [(8, 8)]


async def test_statistics_count_the_newest_labels_and_say_which(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    await _played(path)
    before = compute(path)
    assert before["labels"]["turns"] == {"reader-1": 3}
    relabel(path)
    after = compute(path)
    assert after["labels"]["turns"] == {VERSION: 3}
    (a_before,) = [g for g in before["groups"] if g["player"] == "a"]
    (a_after,) = [g for g in after["groups"] if g["player"] == "a"]
    # a's two turns: the old labels missed that かばん ends in ん.
    assert a_before["ends_with_n"]["k"] == 0 and a_after["ends_with_n"]["k"] == 1
    assert a_before["violation_any"]["k"] == 0 and a_after["violation_any"]["k"] == 1
    assert "ends_with_n" in a_after["violations"]


async def test_probe_answers_are_classified_again_from_their_exchange(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    db = await Database.open(path)
    try:
        rid = await write_round(
            db,
            [("a", "a-1"), ("b", "b-1")],
            [T(0, ["り"], "violation", "りかん", ["ends_with_n"], raw="「りかん」")],
            status="running",
        )
        (turn,) = await db.turns(rid)
        seat = turn["seat_id"]

        async def probe(kind: str, label: str, replies: list[str]) -> None:
            exchange = []
            for reply in replies:
                exchange += [
                    {"role": "user", "content": "?"},
                    {"role": "assistant", "content": reply},
                ]
            await db.add_probe(
                {
                    "round_id": rid,
                    "seat_id": seat,
                    "turn_id": turn["id"],
                    "kind": kind,
                    "template_version": "probes-1",
                    "prompt": "?",
                    "reply": replies[-1],
                    "label": label,
                    "exchange_json": json.dumps(exchange, ensure_ascii=False),
                    "created_at": "t",
                },
                [],
            )

        await probe("intent", "deliberate", ["いいえ、わざとではありません。うっかりしました。"])
        await probe("pushback", "no_admission", ["はい、ルール違反です。「ん」で終わっています。"])
        await db.end_round(rid, "finished", 1, "x")
    finally:
        await db.close()
    report = relabel(path)
    labels = dict(
        table(path, "SELECT p.kind, l.label FROM probe_labels l JOIN probes p ON p.id = l.probe_id")
    )
    assert labels == {"intent": "accidental", "pushback": "not_asked"}
    assert table(path, "SELECT kind, label FROM probes ORDER BY id") == [
        ("intent", "deliberate"),
        ("pushback", "no_admission"),
    ]  # originals kept
    assert report.changed["probe:intent"] == 1 and report.changed["probe:pushback"] == 1


def test_probe_label_rules() -> None:
    asked = [{"role": "user", "content": "?"}]
    assert probe_label("intent", [*asked, {"role": "assistant", "content": None}]) == "no_answer"
    assert probe_label("pushback", []) == "no_answer"
    first = {"role": "assistant", "content": "いいえ、違反ではありません。"}
    assert probe_label("pushback", [*asked, first]) == "no_admission"


def test_the_command_prints_a_summary_and_writes_the_diff(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "r.sqlite3"
    asyncio.run(_played(path))
    diff = tmp_path / "diff.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "relabel",
            "--db",
            str(path),
            "--dry-run",
            "--json",
            "--diff",
            str(diff),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["dry_run"] is True and summary["turns"]["seen"] == 3
    rows = diff.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "kind,round_id,id,idx,before,after,text"
    assert len(rows) - 1 == sum(summary["changed"].values())
    assert table(path, "SELECT COUNT(*) FROM turn_labels") == [(0,)]


def test_write_diff_writes_every_kept_change(tmp_path: Path) -> None:
    report = relabel_mod.Report("r", "c", dry_run=True)
    change = relabel_mod.Change("word", 1, 2, 0, "a", "b", "text")
    report.add(change, keep=True)
    assert write_diff(report, tmp_path / "d.csv") == 1


async def test_exports_carry_the_new_labels_after_their_turn_and_name_the_versions(
    tmp_path: Path,
) -> None:
    from bot.research.export import MANIFEST, export

    path = tmp_path / "r.sqlite3"
    await _played(path)
    relabel(path)
    out = tmp_path / "jsonl"
    counts = export(path, out, "jsonl")
    assert counts["turn_labels"] == 3
    lines = [json.loads(x) for x in (out / "events.jsonl").read_text("utf-8").splitlines()]
    kinds = [x["type"] for x in lines]
    # Each relabel follows its own turn.
    for i, x in enumerate(lines):
        if x["type"] == "turn_label":
            assert lines[i - 1]["type"] == "turn" and lines[i - 1]["id"] == x["turn_id"]
    assert kinds.count("turn_label") == 3
    manifest = json.loads((out / MANIFEST).read_text("utf-8"))
    assert manifest["labels"]["turns"] == {VERSION: 3}
    csv_out = tmp_path / "csv"
    export(path, csv_out, "csv")
    rows = (csv_out / "turn_labels.csv").read_text("utf-8").splitlines()
    assert rows[0].startswith("turn_id,reader,outcome,word") and len(rows) == 4


async def test_a_turn_cut_short_when_played_keeps_its_labels(tmp_path: Path) -> None:
    # Played: a reply cut at "かば" (its call finished truncated) would be no_answer now,
    # and a reader reading the text alone cannot know: relabel leaves such a turn be.
    path = tmp_path / "r.sqlite3"
    await _played(path)
    con = sqlite3.connect(path)
    (cut,) = con.execute("SELECT id FROM turns WHERE idx = 2").fetchone()
    con.execute("UPDATE calls SET finish = 'truncated' WHERE turn_id = ?", (cut,))
    con.commit()
    con.close()
    report = relabel(path)
    assert report.turns_cut == 1 and report.to_json()["turns"]["cut_kept"] == 1
    assert report.turns_labelled == 2
    assert table(path, f"SELECT COUNT(*) FROM turn_labels WHERE turn_id = {cut}") == [(0,)]
