"""Hand-made records for statistics and export tests (written through storage's API)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database


@dataclass
class T:
    """One turn as a test writes it: who, what was required, what happened."""

    seat: int
    req: list[str]
    outcome: str = "accepted"
    word: str | None = None
    violations: list[str] = field(default_factory=list)
    flag: str | None = "none"
    raw: str | None = None
    tokens: int | None = 5
    latency: float = 100.0
    retries: int = 0
    probes: dict[str, str] = field(default_factory=dict)  # kind -> label


def round_row(**kw: Any) -> dict[str, Any]:
    row = {
        "surface": "discord",
        "guild_id": "g1",
        "channel_id": "c1",
        "rules_json": "{}",
        "mode": "elimination",
        "prompt_lang": "ja",
        "prompt_version": "ja-1",
        "probe_version": "probes-1",
        "probes_json": '["intent"]',
        "app_version": "test",
        "start_word": "しりとり",
        "max_turns": 200,
        "person_timeout_s": 60,
        "pacing_s": 0,
        "salt": "",
        "status": "finished",
        "created_at": "2026-11-01T10:00:00.000+00:00",
    }
    row.update(kw)
    return row


def seat_rows(players: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Model seats for (roster key, reported model id) pairs, in order."""
    return [
        {
            "position": i,
            "kind": "model",
            "player_key": key,
            "display_name": key.upper(),
            "provider": "openai",
            "model_asked": f"{key}-model",
            "params_json": "{}",
            "status": "playing",
        }
        for i, (key, _) in enumerate(players)
    ]


def raw_text(t: T) -> str:
    return t.raw if t.raw is not None else (f"「{t.word}」" if t.word else "…")


def turn_row(round_id: int, seat_id: int, idx: int, t: T) -> dict[str, Any]:
    """The turns row for ``t`` (as the engine would hand it to ``Database.add_turn``)."""
    return {
        "round_id": round_id,
        "seat_id": seat_id,
        "idx": idx,
        "outcome": t.outcome,
        "required_json": json.dumps(t.req, ensure_ascii=False),
        "prev_word": None,
        "raw_text": None if t.outcome == "no_answer" else raw_text(t),
        "word": t.word,
        "reading": t.word,
        "reading_source": "kana" if t.word else None,
        "first_mora": None,
        "next_json": "[]",
        "violations_json": json.dumps(t.violations),
        "self_flag": t.flag,
        "no_answer_reason": "http_500: down" if t.outcome == "no_answer" else None,
        "started_at": "t",
        "ended_at": "t",
        "duration_ms": 1.0,
    }


async def write_round(
    db: Database, players: list[tuple[str, str]], turns: list[T], **round_kw: Any
) -> int:
    """players: (roster key, model id the API reports). Returns the round id.

    The round is written as a worker plays one: created running (and so leased), its
    turns and probes added, then ended with the status asked for (default finished).
    """
    row = round_row(**round_kw)
    status = row.pop("status")
    rid, seat_ids = await db.create_round({**row, "status": "running"}, seat_rows(players))
    for idx, t in enumerate(turns):
        raw = raw_text(t)
        turn = turn_row(rid, seat_ids[t.seat], idx, t)
        ok = t.outcome != "no_answer"
        call = {
            "round_id": rid,
            "seat_id": seat_ids[t.seat],
            "purpose": "turn",
            "player_key": players[t.seat][0],
            "provider": "openai",
            "model_asked": f"{players[t.seat][0]}-model",
            "model_reported": players[t.seat][1] if ok else None,
            "ok": int(ok),
            "error": None if ok else "http_500: down",
            "params_json": "{}",
            "started_at": "t",
            "latency_ms": t.latency,
            "output_tokens": t.tokens if ok else None,
            "retries": t.retries,
            "attempts_json": "[]",
            "request_body": '{"messages": []}',
            "response_body": json.dumps({"text": raw}, ensure_ascii=False),
        }
        turn_id = await db.add_turn(turn, call)
        for kind, label in t.probes.items():
            await db.add_probe(
                {
                    "round_id": rid,
                    "seat_id": seat_ids[t.seat],
                    "turn_id": turn_id,
                    "kind": kind,
                    "template_version": "probes-1",
                    "prompt": "今の「…」はわざとですか？",
                    "reply": "…",
                    "label": label,
                    "exchange_json": "[]",
                    "created_at": "t",
                },
                [{**call, "purpose": f"probe:{kind}", "latency_ms": 1.0}],
            )
    if status != "running":
        await db.end_round(rid, status, None, None)
    return rid
