"""Fault test: SIGTERM or SIGINT at chosen moments of the real ``mikan arena`` process.

Each moment is drawn by a fixed-seed RNG and placed by waiting on events, never on the
clock: the loopback provider (tests/support/providers.py) holds one chosen request (a
turn call, a probe call, a round's first call) until the process says it is stopping,
or answers one and signals at once (the signal races the commit). After the exit, and
again after ``mikan arena --rounds 0`` resumes the database to the end, the invariants
of bench/sigterm.py hold: exit 130, no traceback, nothing committed lost or changed,
turn indices contiguous and never doubled, integrity ok, every request the provider
received committed, and no decided round left without its result (decided: the round's
stored turns, replayed through ``RoundState``, end it).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import signal
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.referee.judge import Referee
from bot.rounds import records
from bot.rounds.state import RoundState
from tests.e2e.test_arena_process import mikan, until_stderr_says
from tests.support.providers import ProviderServer, Reply, Seen, openai_ok

PLAYERS = ("a", "b", "c")
# The loopback players' words: each fits the mora the turn asks for; a chain of four,
# so the fifth move repeats りんご (a violation) and every round is decided.
WORDS = {"り": "りんご", "ご": "ごりら", "ら": "らっぱ", "ぱ": "ぱせり"}
PROBE_REPLY = "はい、違反でした。うっかりしていました。"
_ASK = re.compile(r"「([^」]+)」(?:・「[^」]+」)*から始まる")


@dataclass(frozen=True)
class Moment:
    """Where a trial's signal goes: the ``k``-th request of ``kind``, held or raced."""

    kind: str  # turn | probe | start (a round's first call) | violation | race (answered)
    k: int
    sig: signal.Signals
    seats: int
    mode: str
    pushback: bool

    def __str__(self) -> str:
        return f"{self.sig.name}-{self.kind}{self.k}-{self.seats}seats-{self.mode}" + (
            "-pushback" if self.pushback else ""
        )


def _plan(seed: int = 2026) -> list[Moment]:
    """Six moments: each kind, both signals, both modes, 2 and 3 seats, in random order."""
    rng = random.Random(seed)
    bounds = {"turn": (2, 12), "probe": (1, 4), "start": (2, 4), "violation": (1, 4)}
    bounds["race"] = (1, 12)
    kinds = rng.sample(["turn", "probe", "start", "violation", "race", "probe"], 6)
    sigs = rng.sample([signal.SIGTERM, signal.SIGINT] * 3, 6)
    modes = rng.sample(["elimination"] * 4 + ["sudden_death"] * 2, 6)
    seats = rng.sample([2, 2, 2, 3, 3, 3], 6)
    return [
        Moment(kind, rng.randint(*bounds[kind]), sig, n, mode, rng.random() < 0.5)
        for kind, sig, n, mode in zip(kinds, sigs, seats, modes, strict=True)
    ]


PLAN = _plan()


class Players:
    """Plays every request the provider receives, and holds the one a trial chooses.

    Every path gets scripted replies with their own gate; a reply's body is filled in
    when its request arrives (a fitting word for a turn, an admission for a probe), so
    play follows each round whatever the order of rounds. The target request is kept
    waiting (``hold``) until :meth:`release`, or answered and announced at once.
    """

    def __init__(self, server: ProviderServer, target: tuple[str, int] | None, hold: bool):
        self.server = server
        self.target, self.hold = target, hold
        self.replies: dict[str, list[Reply]] = {}
        for name in PLAYERS:
            self.replies[name] = [Reply(gate=asyncio.Event()) for _ in range(400)]
            server.script(f"/{name}/v1/chat/completions", *self.replies[name])
        self.used = Counter[str]()
        self.kinds = Counter[str]()
        self.arrived = asyncio.Event()
        self.held: Reply | None = None
        self._cursor = 0
        self._task = asyncio.create_task(self._serve())

    def _answer(self, seen: Seen) -> tuple[str, str, set[str]]:
        """The request's kind, its answer, and what else it is (a round's start, a foul)."""
        messages = seen.json["messages"]
        ask = _ASK.search(messages[-1]["content"])
        if not ask:
            return "probe", PROBE_REPLY, set()
        said = f"「{WORDS.get(ask[1], 'りんご')}」"
        also = {"start"} if len(messages) == 2 and seen.path.startswith("/a/") else set()
        if ask[1] not in WORDS or any(said in m["content"] for m in messages):
            also.add("violation")  # a word already played: a repeat
        return "turn", said, also

    def _on(self, seen: Seen) -> None:
        name = seen.path.split("/")[1]
        reply = self.replies[name][self.used[name]]  # requests on a path pop in order
        self.used[name] += 1
        kind, text, also = self._answer(seen)
        reply.body = openai_ok(text)
        self.kinds.update({kind, *also})
        assert reply.gate is not None
        if self.target and not self.arrived.is_set():
            want, k = self.target
            counted = "turn" if want == "race" else want
            if counted in {kind, *also} and self.kinds[counted] == k:
                self.arrived.set()
                if self.hold:
                    self.held = reply
                    return
        reply.gate.set()

    async def _serve(self) -> None:
        while True:
            self.server.request_arrived.clear()
            while self._cursor < len(self.server.seen):
                self._cursor += 1
                self._on(self.server.seen[self._cursor - 1])
            await self.server.request_arrived.wait()

    def release(self) -> None:
        """Answer the held request."""
        if self.held is not None and self.held.gate is not None:
            self.held.gate.set()

    async def aclose(self) -> None:
        """Stop serving (the provider then answers nothing new)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def roster(server: ProviderServer) -> str:
    return "".join(
        f'[players.{n}]\nprovider = "openai"\nmodel = "m-{n}"\n'
        f'base_url = "{server.base}/{n}/v1"\nmax_attempts = 1\n\n'
        for n in PLAYERS
    )


def ro(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    return con


def turns_now(db: Path) -> dict[int, tuple]:
    """The committed turns, read-only, by id."""
    if not db.exists():
        return {}
    con = ro(db)
    try:
        return {
            r[0]: tuple(r)
            for r in con.execute(
                "SELECT id, round_id, seat_id, idx, outcome, raw_text, word, violations_json, "
                "started_at, ended_at FROM turns"
            )
        }
    except sqlite3.OperationalError:  # no schema yet
        return {}
    finally:
        con.close()


def problems(db: Path, referee: Referee, *, final: bool) -> list[str]:
    """Every round replayed from its stored turns against its stored result."""
    out: list[str] = []
    con = ro(db)
    try:
        if [tuple(r) for r in con.execute("PRAGMA integrity_check")] != [("ok",)]:
            out.append("integrity_check failed")
        for row in con.execute("SELECT * FROM rounds ORDER BY id").fetchall():
            rid, status = row["id"], row["status"]
            seats = [
                dict(s)
                for s in con.execute(
                    "SELECT * FROM seats WHERE round_id = ? ORDER BY position", (rid,)
                )
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
                out.append(f"round {rid}: turn indices {[t['idx'] for t in turns]}")
                continue
            for i, t in enumerate(turns):
                if state.over:
                    out.append(f"round {rid}: turn {t['idx']} after the round was decided")
                    break
                state.apply(records.turn_from_row(dict(t), position[t["seat_id"]]))
                owed = status == "running" and i == len(turns) - 1 and not final
                wants = set(spec.probes) if t["outcome"] == "violation" and t["word"] else set()
                if wants - done.get(t["id"], set()) and not owed:
                    out.append(f"round {rid} ({status}): turn {t['idx']} has no probes")
            winner = state.winner.position if state.winner else None
            result = (row["winner_seat"], row["end_reason"])
            if state.over and status != "finished":
                out.append(f"round {rid}: decided ({state.end_reason}) but {status}")
            elif not state.over and (status != "running" or final):
                out.append(f"round {rid}: {status}, but its turns decide nothing")
            elif state.over and result != (winner, state.end_reason):
                out.append(f"round {rid}: result {result}, its turns say {winner}")
            for s, srow in zip(state.seats, seats, strict=True):
                if (srow["status"], srow["out_turn"]) != (s.status, s.out_turn):
                    out.append(f"round {rid}: seat {s.position} is {srow['status']}")
    finally:
        con.close()
    return out


def committed_calls(db: Path) -> Counter[str]:
    con = ro(db)
    try:
        return Counter(
            "turn" if purpose == "turn" else "probe"
            for (purpose,) in con.execute("SELECT purpose FROM calls")
        )
    finally:
        con.close()


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.fixture(scope="module")
def referee() -> Referee:
    return Referee()


@pytest.mark.parametrize("moment", PLAN, ids=str)
async def test_a_signal_at_this_moment_keeps_every_decided_result_and_every_turn(
    tmp_path: Path, provider_server: ProviderServer, moment: Moment, referee: Referee
) -> None:
    (tmp_path / "mikan.toml").write_text(roster(provider_server))
    db = tmp_path / "mikan.sqlite3"
    players = Players(provider_server, (moment.kind, moment.k), hold=moment.kind != "race")
    args = ["arena", "--players", ",".join(PLAYERS[: moment.seats]), "--mode", moment.mode]
    args += ["--rounds", "4", "--concurrency", "2", "--quiet", "--json"]
    args += ["--pushback"] if moment.pushback else []
    proc: asyncio.subprocess.Process | None = None
    try:
        proc = await mikan(tmp_path, *args)
        exited = asyncio.create_task(proc.wait())
        arrived = asyncio.create_task(players.arrived.wait())
        await asyncio.wait({exited, arrived}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        assert arrived.done(), f"the run ended before {moment.kind} {moment.k}: {players.kinds}"
        exited.cancel()
        before = turns_now(db)
        proc.send_signal(moment.sig)
        await until_stderr_says(proc, "stopping")
        players.release()  # the call in flight answers: its turn (and probes) finish
        code, err = await finish(proc)
        assert code == 130, err
        assert "Traceback" not in err
        after = turns_now(db)
        assert {k: after.get(k) for k in before} == before  # nothing committed lost
        assert problems(db, referee, final=False) == []
        calls = committed_calls(db)
        assert (calls["turn"], calls["probe"]) == (players.kinds["turn"], players.kinds["probe"])

        proc = await mikan(tmp_path, "arena", "--players", "a,b,c", "--rounds", "0", "--quiet")
        code, err = await finish(proc)
        assert code == 0 and "Traceback" not in err, err
        final = turns_now(db)
        assert {k: final.get(k) for k in after} == after
        assert problems(db, referee, final=True) == []
        calls = committed_calls(db)
        assert (calls["turn"], calls["probe"]) == (players.kinds["turn"], players.kinds["probe"])
    finally:
        if proc is not None and proc.returncode is None:  # a failed assertion: no stray process
            proc.kill()
            await proc.wait()
        players.release()
        await players.aclose()


def test_the_plan_covers_each_kind_of_moment() -> None:
    assert {m.kind for m in PLAN} == {"turn", "probe", "start", "violation", "race"}
    assert {m.sig for m in PLAN} == {signal.SIGTERM, signal.SIGINT}
