"""Headless rounds: ``mikan arena`` plays N rounds, C at a time, and summarises them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.players import Adapter
from bot.players.roster import PlayerConfig
from bot.referee.judge import Referee
from bot.referee.rules import Rules
from bot.rounds.engine import RoundEngine, RoundSetupError, RoundSummary
from bot.rounds.events import Event, NullSurface, RoundEnded, Surface, TurnJudged
from bot.rounds.prompts import Lang
from bot.rounds.state import Mode, RoundSpec, SeatSpec
from storage.db import Database
from storage.errors import LeaseLostError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ArenaOptions:
    """What ``mikan arena`` plays: players in seat order, rounds, concurrency, round options."""

    players: list[PlayerConfig]
    rounds: int = 1
    concurrency: int = 1
    seed: int = 0
    rules: Rules = field(default_factory=Rules)
    mode: Mode = "elimination"
    start_word: str = "しりとり"
    max_turns: int = 200
    prompt_lang: Lang = "ja"
    probes: tuple[str, ...] = ("intent",)


class CountingSurface:
    """Feeds a progress display; shows nothing else."""

    def __init__(self, on_turn: Callable[[], None], on_round: Callable[[], None]) -> None:
        self.on_turn, self.on_round = on_turn, on_round

    async def emit(self, event: Event) -> None:
        """Call ``on_turn`` for each judged turn, ``on_round`` for each ended round."""
        if isinstance(event, TurnJudged):
            self.on_turn()
        elif isinstance(event, RoundEnded):
            self.on_round()


def round_spec(opts: ArenaOptions, index: int) -> RoundSpec:
    """The spec of new arena round ``index``: every player a model seat, salt ``seed:index``."""
    return RoundSpec(
        seats=tuple(SeatSpec("model", c.name, c.key) for c in opts.players),
        rules=opts.rules,
        mode=opts.mode,
        start_word=opts.start_word,
        max_turns=opts.max_turns,
        prompt_lang=opts.prompt_lang,
        probes=opts.probes,
        surface="arena",
        salt=f"{opts.seed}:{index}",
    )


async def claim_unfinished(
    db: Database, adapters: dict[str, Adapter], surface: Surface, referee: Referee
) -> RoundEngine | None:
    """The engine of the oldest unfinished arena round no live worker holds, or None.

    The round's lease is taken first (``Database.claim_rounds``), so no other worker
    plays it too. A round whose players are gone from the roster is closed as
    ``interrupted`` and the next one tried.
    """
    while rows := await db.claim_rounds("arena", limit=1):
        round_id = rows[0]["id"]
        try:
            return await RoundEngine.resume(db, round_id, adapters, surface, referee)
        except RoundSetupError as exc:
            log.warning("round %s cannot resume (%s): closed as interrupted", round_id, exc)
            await db.end_round(round_id, "interrupted", None, f"not resumable: {exc}")
    return None


async def run_arena(
    db: Database,
    opts: ArenaOptions,
    adapters: dict[str, Adapter],
    *,
    surface: Surface | None = None,
    referee: Referee | None = None,
    resume: bool = True,
    on_started: Callable[[int], Awaitable[None]] | None = None,
    stopping: asyncio.Event | None = None,
) -> list[RoundSummary]:
    """Resume unfinished arena rounds, then play ``opts.rounds`` new ones, C at a time.

    C slots each take the next round when free: first an unfinished arena round no
    live worker holds (claimed by lease, so several ``mikan arena`` processes can share
    one database and each round is played by exactly one), then a new round, until
    both run out. Unfinished rounds are not resumed when ``resume`` is False.
    ``on_started`` gets each round's id before it plays. A round another worker took
    over (``LeaseLostError``) is left to it; any other failure in a round, or this
    being cancelled, cancels every other round and is raised.

    Shutting down: once ``stopping`` is set no new round starts, and every round in play
    is suspended at its next turn boundary (left ``running``, resumed by the next
    arena); a round already decided is finished as decided, its probes run. A round
    cancelled outright keeps what its committed turns decided and otherwise stays
    ``running`` too: nothing committed is lost and nothing decided is undone.

    Returns:
        The rounds' summaries, in the order they ended.
    """
    surface = surface or NullSurface()
    referee = referee or Referee()
    await asyncio.to_thread(referee.analyser.warm)
    results: list[RoundSummary] = []
    in_play: set[RoundEngine] = set()
    stopping = stopping or asyncio.Event()
    fresh = iter(range(opts.rounds))

    async def next_engine() -> RoundEngine | None:
        if stopping.is_set():
            return None  # shutting down: rounds not begun are not begun
        if resume and (engine := await claim_unfinished(db, adapters, surface, referee)):
            return engine
        index = next(fresh, None)
        if index is None:
            return None
        return await RoundEngine.create(db, round_spec(opts, index), adapters, surface, referee)

    async def slot() -> None:
        while (engine := await next_engine()) is not None:
            if on_started:
                await on_started(engine.round_id)
            in_play.add(engine)
            if stopping.is_set():
                engine.suspend()
            try:
                results.append(await engine.run(interrupt_on_cancel=False))
            except LeaseLostError as exc:
                log.warning("round %s taken over by another worker: %s", engine.round_id, exc)
            finally:
                in_play.discard(engine)

    async def suspend_on_stop() -> None:
        await stopping.wait()
        for engine in list(in_play):
            engine.suspend()

    tasks = [asyncio.create_task(slot()) for _ in range(max(1, opts.concurrency))]
    watcher = asyncio.create_task(suspend_on_stop())
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        watcher.cancel()
    return results


async def summarise(db: Database, round_ids: list[int]) -> dict[str, Any]:
    """Rounds, turns, violations by code, per player — read back from the database."""
    ids = json.dumps(round_ids)
    rows = await db.query(
        "SELECT s.player_key AS player, s.display_name AS name, t.outcome, t.violations_json "
        "FROM turns t JOIN seats s ON s.id = t.seat_id "
        "WHERE t.round_id IN (SELECT value FROM json_each(?))",
        (ids,),
    )
    wins = await db.query(
        "SELECT s.player_key AS player, COUNT(*) AS n FROM rounds r JOIN seats s "
        "ON s.round_id = r.id AND s.position = r.winner_seat "
        "WHERE r.id IN (SELECT value FROM json_each(?)) GROUP BY s.player_key",
        (ids,),
    )
    statuses = await db.query(
        "SELECT status, COUNT(*) AS n FROM rounds WHERE id IN (SELECT value FROM json_each(?)) "
        "GROUP BY status",
        (ids,),
    )
    by_code: Counter[str] = Counter()
    players: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"turns": 0, "accepted": 0, "no_answer": 0, "violations": Counter(), "wins": 0}
    )
    for r in rows:
        p = players[r["player"] or r["name"]]
        p["turns"] += 1
        p["accepted"] += r["outcome"] == "accepted"
        p["no_answer"] += r["outcome"] == "no_answer"
        for code in json.loads(r["violations_json"]):
            by_code[code] += 1
            p["violations"][code] += 1
    for w in wins:
        players[w["player"]]["wins"] = w["n"]
    return {
        "rounds": len(round_ids),
        "status": {s["status"]: s["n"] for s in statuses},
        "turns": len(rows),
        "violations": dict(by_code),
        "players": {k: {**v, "violations": dict(v["violations"])} for k, v in players.items()},
    }


async def failing_players(db: Database, round_ids: list[int]) -> list[dict[str, Any]]:
    """Players none of whose calls in these rounds succeeded, with the last error.

    Each entry: ``player``, ``calls``, ``error`` (the provider's last answer, one line),
    ``api_key_env`` (from the seat's roster entry) and ``all_failed_everywhere`` (True
    when no player's call succeeded in these rounds: the run measured nothing).
    """
    ids = json.dumps(round_ids)
    rows = await db.query(
        "SELECT c.player_key AS player, COUNT(*) AS calls, SUM(c.ok) AS ok, "
        "(SELECT c2.error FROM calls c2 WHERE c2.player_key = c.player_key AND c2.ok = 0 "
        " AND c2.round_id IN (SELECT value FROM json_each(?1)) ORDER BY c2.id DESC LIMIT 1) "
        "AS error, MAX(c.seat_id) AS seat_id "
        "FROM calls c WHERE c.round_id IN (SELECT value FROM json_each(?1)) "
        "GROUP BY c.player_key ORDER BY c.player_key",
        (ids,),
    )
    nothing_worked = bool(rows) and all(not r["ok"] for r in rows)
    out = []
    for r in rows:
        if r["ok"]:
            continue
        seat = await db.query("SELECT params_json FROM seats WHERE id = ?", (r["seat_id"],))
        params = json.loads(seat[0]["params_json"]) if seat else {}
        out.append(
            {
                "player": r["player"],
                "calls": r["calls"],
                "error": " ".join(str(r["error"] or "no answer").split())[:300],
                "api_key_env": params.get("api_key_env"),
                "all_failed_everywhere": nothing_worked,
            }
        )
    return out
