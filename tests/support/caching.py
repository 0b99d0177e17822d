"""Prompt caches that count tokens as the providers document, for the stand-ins.

Tokens are counted as characters plus 4 for each message or block (near enough for
Japanese text, and the same for every variant compared). What each model does, from the
providers' documents:

- OpenAI (automatic prompt caching): prompts of 1,024 tokens or more are cached by
  prefix, hits counted in 128-token steps past the first 1,024
  (``prompt_tokens_details.cached_tokens``). A cache lives on one machine; requests are
  routed by ``prompt_cache_key`` when given, else by a hash of the prompt's first 256
  tokens, and a route with more traffic than one machine takes (about 15 requests a
  minute) spills to others. Since every Mikan seat's prompt starts with the same system
  prompt, an arena's requests without a key share one route: the stand-in sends them
  to one of ``machines`` machines at random (``machines=1``: a lone round, no spill).
- Anthropic (explicit caching): only prefixes ending at a ``cache_control`` breakpoint
  are written, when at least ``minimum`` tokens (1,024 for Sonnet and Opus); a request
  reads the longest cached prefix ending at a block boundary at or up to 20 blocks
  before one of its breakpoints. Usage: ``cache_read_input_tokens`` read,
  ``cache_creation_input_tokens`` written, ``input_tokens`` the rest.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any


def _h(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()


class OpenAICache:
    """OpenAI's automatic prefix cache, over ``machines`` machines."""

    def __init__(self, machines: int = 8, seed: int = 1) -> None:
        self.machines: list[list[str]] = [[] for _ in range(machines)]
        self.rng = random.Random(seed)

    @staticmethod
    def prompt(body: dict) -> str:
        # A 4-character mark per message: its tokens of overhead.
        return "".join(
            f"<{m['role'][0]}> "
            + (m["content"] if isinstance(m["content"], str) else json.dumps(m["content"]))
            for m in body.get("messages", [])
        )

    def usage(self, body: dict) -> dict:
        text = self.prompt(body)
        key = body.get("prompt_cache_key")
        n = len(self.machines)
        machine = (
            int(_h(key), 16) % n if key else self.rng.randrange(n)
        )  # no key: the shared prefix spills
        store = self.machines[machine]
        best = 0
        for old in store:
            common = 0
            for a, b in zip(old, text, strict=False):
                if a != b:
                    break
                common += 1
            best = max(best, common)
        cached = 0 if best < 1024 else 1024 + (best - 1024) // 128 * 128
        if len(text) >= 1024:
            store.append(text)
        return {
            "prompt_tokens": len(text),
            "completion_tokens": 4,
            "total_tokens": len(text) + 4,
            "prompt_tokens_details": {"cached_tokens": cached},
        }


class AnthropicCache:
    """Anthropic's explicit cache: prefixes at ``cache_control`` breakpoints."""

    LOOKBACK = 20

    def __init__(self, minimum: int = 1024) -> None:
        self.minimum = minimum
        self.store: dict[str, int] = {}

    def usage(self, body: dict) -> dict:
        blocks: list[tuple[Any, bool]] = []  # (block without cache_control, breakpoint?)
        system = body.get("system")
        for part in [system] if isinstance(system, str) else system or []:
            blocks.append(self._block(part))
        for m in body.get("messages", []):
            content = m["content"]
            for part in [content] if isinstance(content, str) else content:
                block, mark = self._block(part)
                blocks.append(({"role": m["role"], **block}, mark))
        sizes, prefixes, total = [], [], 0
        for i, (block, _) in enumerate(blocks):
            total += len(block.get("text", "")) + 4
            sizes.append(total)
            prefixes.append(_h([b for b, _ in blocks[: i + 1]]))
        marks = [i for i, (_, mark) in enumerate(blocks) if mark]
        read = 0
        for b in marks:
            for j in range(b, max(-1, b - self.LOOKBACK), -1):
                if prefixes[j] in self.store:
                    read = max(read, sizes[j])
                    break
        written = 0
        for b in marks:
            if sizes[b] >= self.minimum and prefixes[b] not in self.store:
                self.store[prefixes[b]] = sizes[b]
                written = max(written, sizes[b])
        creation = max(0, written - read)
        return {
            "input_tokens": total - read - creation,
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "output_tokens": 4,
        }

    @staticmethod
    def _block(part: Any) -> tuple[dict, bool]:
        if isinstance(part, str):
            return {"type": "text", "text": part}, False
        mark = "cache_control" in part
        return {k: v for k, v in part.items() if k != "cache_control"}, mark


async def play_round(adapters: list[Any], turns: int = 60, salt: str = "r") -> list[Any]:
    """``turns`` turns of a round between ``adapters`` (seats in order), as the engine asks.

    Each seat keeps its own conversation (the system prompt, then turn prompts telling
    it the other seats' moves, and its own replies), one cache key per seat; returns
    every call record in order. The stand-in's replies are whatever it answers.
    """
    from dataclasses import replace

    from bot.referee.rules import Rules
    from bot.rounds.conversation import Conversation
    from bot.rounds.prompts import MoveNote, system_prompt, turn_prompt

    system = system_prompt("ja", Rules())
    seats = [Conversation(system) for _ in adapters]
    records = []
    last = "しりとり"
    for i in range(turns):
        seat = i % len(adapters)
        moves = (
            [] if i < len(adapters) else [MoveNote(f"P{(seat - 1) % len(adapters)}", last, True)]
        )
        seats[seat].user(
            turn_prompt(
                "ja",
                allowed=(last[-1],),
                moves=moves,
                start_word="しりとり" if i < len(adapters) else None,
            )
        )
        request = replace(seats[seat].request(), cache_key=f"mikan-{salt}-{seat}")
        record = await adapters[seat].call(request)
        records.append(record)
        seats[seat].assistant(record.text)
        last = f"ことば{i}"
    return records
