"""Rounds, seats, turns, probes and calls as storage rows, and back.

The one place where the game's records meet column names: storage stores and returns
plain rows and knows nothing of the game, so a second storage backend changes the
queries, never this mapping (and a new column changes this module and a migration).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from bot import __version__
from bot.players.base import Adapter, CallRecord, now_iso
from bot.referee.rules import Rules
from bot.rounds.probes import CLASSIFIER_VERSION, PROBE_VERSION
from bot.rounds.prompts import PROMPT_VERSIONS
from bot.rounds.state import RoundSpec, SeatSpec, SeatState, TurnRecord

# What the token columns of a call mean (docs/EXPORTS.md "Tokens"): 1 = normalised
# across providers; NULL (calls stored before schema 7) = each provider's own numbers.
USAGE_VERSION = 1


def round_row(spec: RoundSpec) -> dict[str, Any]:
    """The ``rounds`` row of a new round: its spec, the versions in force, ``running``."""
    return {
        "surface": spec.surface,
        "guild_id": spec.guild_id,
        "channel_id": spec.channel_id,
        "rules_json": json.dumps(spec.rules.to_dict()),
        "mode": spec.mode,
        "prompt_lang": spec.prompt_lang,
        "prompt_version": PROMPT_VERSIONS[spec.prompt_lang],
        "probe_version": PROBE_VERSION,
        "probes_json": json.dumps(list(spec.probes)),
        "app_version": __version__,
        "start_word": spec.start_word,
        "max_turns": spec.max_turns,
        "person_timeout_s": spec.person_timeout_s,
        "pacing_s": spec.pacing_s,
        "salt": spec.salt,
        "status": "running",
        "created_at": now_iso(),
    }


def seat_rows(spec: RoundSpec, adapters: Mapping[str, Adapter]) -> list[dict[str, Any]]:
    """The ``seats`` rows of a new round, in seat order; a model's roster entry without keys."""
    rows = []
    for i, seat in enumerate(spec.seats):
        adapter = adapters.get(seat.player_key or "") if seat.kind == "model" else None
        cfg = adapter.config if adapter else None
        rows.append(
            {
                "position": i,
                "kind": seat.kind,
                "player_key": seat.player_key,
                "user_id": seat.user_id,
                "display_name": seat.name,
                "provider": cfg.provider if cfg else None,
                "model_asked": cfg.model if cfg else None,
                "params_json": json.dumps(cfg.public() if cfg else {}, ensure_ascii=False),
                "status": "playing",
            }
        )
    return rows


def seat_update(seat: SeatState) -> dict[str, Any]:
    """The columns of a seat that change when it goes out or leaves."""
    return {
        "id": seat.seat_id,
        "status": seat.status,
        "out_reason": seat.out_reason,
        "out_turn": seat.out_turn,
    }


def spec_from_rows(row: Mapping[str, Any], seats: list[dict[str, Any]]) -> RoundSpec:
    """A stored round's spec, from its ``rounds`` row and its ``seats`` rows in order."""
    return RoundSpec(
        seats=tuple(
            SeatSpec(s["kind"], s["display_name"], s["player_key"], s["user_id"]) for s in seats
        ),
        rules=Rules.from_mapping(json.loads(row["rules_json"])),
        mode=row["mode"],
        start_word=row["start_word"],
        max_turns=row["max_turns"],
        person_timeout_s=row["person_timeout_s"],
        pacing_s=row["pacing_s"],
        prompt_lang=row["prompt_lang"],
        probes=tuple(json.loads(row["probes_json"])),
        surface=row["surface"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        salt=row["salt"],
    )


def turn_row(turn: TurnRecord, round_id: int, seat_id: int) -> dict[str, Any]:
    """The ``turns`` row of a committed turn."""
    return {
        "round_id": round_id,
        "seat_id": seat_id,
        "idx": turn.idx,
        "outcome": turn.outcome,
        "required_json": json.dumps(list(turn.required), ensure_ascii=False),
        "prev_word": turn.prev_word,
        "raw_text": turn.raw_text,
        "word": turn.word,
        "reading": turn.reading,
        "reading_source": turn.reading_source,
        "first_mora": turn.first,
        "next_json": json.dumps(list(turn.next), ensure_ascii=False),
        "violations_json": json.dumps(list(turn.violations)),
        "self_flag": turn.self_flag,
        "no_answer_reason": turn.no_answer_reason,
        "started_at": turn.started_at,
        "ended_at": turn.ended_at,
        "duration_ms": turn.duration_ms,
        "reader": turn.reader,
        "corrected_to": turn.corrected_to,
    }


def turn_from_row(row: Mapping[str, Any], position: int) -> TurnRecord:
    """A stored ``turns`` row as the turn it records (the seat given by position)."""
    return TurnRecord(
        idx=row["idx"],
        position=position,
        outcome=row["outcome"],
        required=tuple(json.loads(row["required_json"])),
        prev_word=row["prev_word"],
        raw_text=row["raw_text"],
        word=row["word"],
        reading=row["reading"],
        reading_source=row["reading_source"],
        first=row["first_mora"],
        next=tuple(json.loads(row["next_json"])),
        violations=tuple(json.loads(row["violations_json"])),
        self_flag=row["self_flag"],
        no_answer_reason=row["no_answer_reason"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        duration_ms=row["duration_ms"],
        reader=row.get("reader"),
        corrected_to=row.get("corrected_to"),
    )


def probe_row(
    round_id: int,
    seat_id: int,
    turn_id: int,
    kind: str,
    prompt: str,
    reply: str | None,
    label: str,
    exchange: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``probes`` row of one probe asked after a turn, with its whole exchange."""
    return {
        "round_id": round_id,
        "seat_id": seat_id,
        "turn_id": turn_id,
        "kind": kind,
        "template_version": PROBE_VERSION,
        "prompt": prompt,
        "reply": reply,
        "label": label,
        "exchange_json": json.dumps(exchange, ensure_ascii=False),
        "created_at": now_iso(),
        "classifier": CLASSIFIER_VERSION,
    }


def call_row(record: CallRecord, round_id: int, seat_id: int) -> dict[str, Any]:
    """The ``calls`` row of one model call: normalised columns, raw bodies (keys scrubbed)."""
    return {
        "round_id": round_id,
        "seat_id": seat_id,
        "purpose": record.purpose,
        "player_key": record.player,
        "provider": record.provider,
        "model_asked": record.model_asked,
        "model_reported": record.model_reported,
        "ok": int(record.ok),
        "error": record.error,
        "params_json": json.dumps(record.params, ensure_ascii=False, default=str),
        "started_at": record.started_at,
        "latency_ms": record.latency_ms,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "reasoning_tokens": record.reasoning_tokens,
        "request_id": record.request_id,
        "finish_reason": record.finish_reason,
        "retries": record.retries,
        "attempts_json": json.dumps([asdict(a) for a in record.attempts], ensure_ascii=False),
        "logprobs_json": None
        if record.logprobs is None
        else json.dumps(record.logprobs, ensure_ascii=False),
        "request_body": record.request_body,
        "response_body": record.response_body,
        # schema 7
        "finish": record.finish,
        "reasoning": record.reasoning,
        "cached_input_tokens": record.cached_input_tokens,
        "cache_write_tokens": record.cache_write_tokens,
        "usage_json": None
        if record.usage is None
        else json.dumps(record.usage, ensure_ascii=False, default=str),
        "usage_version": USAGE_VERSION,
        "system_fingerprint": record.system_fingerprint,
        "params_dropped_json": json.dumps(record.params_dropped),
    }
