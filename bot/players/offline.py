"""The built-in offline player: no network, no key, seeded, with a tunable "mikan pull".

It knows the lexicon and the joint (from the turn hint, not by reading the prompt), and
with probability ``mikan_pull`` reaches for a word ending in ん when one fits — the
attractor the project studies. When it does, it sometimes notices (admits) and
sometimes hands the turn on from ん (continues), like the models in the original logs.
Every choice is drawn from a generator seeded by (seed, salt, conversation), so the
same round replays identically however rounds interleave.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from functools import cache

from bot.players.base import Adapter, Attempt, CallRecord, ChatRequest, now_iso
from bot.players.lexicon import Entry, load
from bot.referee.judge import ends_with_n
from bot.referee.kana import joint_key

MODEL_ID = "mikan-offline-1"


@cache
def _by_prefix(lenient: bool) -> dict[str, tuple[Entry, ...]]:
    """Lexicon entries by the joint form of their first one and two kana."""
    out: dict[str, list[Entry]] = {}
    for e in load():
        key = joint_key(e.reading, lenient=lenient)
        for n in (1, 2):
            out.setdefault(key[:n], []).append(e)
    return {k: tuple(v) for k, v in out.items()}


class OfflineAdapter(Adapter):
    """The offline player (see the module docstring): every call is ok, at once.

    Uses ``config.seed`` and ``config.mikan_pull``; records one attempt with no status.
    """

    def _rng(self, request: ChatRequest) -> random.Random:
        h = hashlib.sha256()
        h.update(f"{self.config.seed}|{request.hint.salt if request.hint else ''}".encode())
        for m in request.messages:
            h.update(f"|{m.role}:{m.content}".encode())
        h.update(f"|{request.purpose}".encode())
        return random.Random(h.digest())

    def _candidates(self, request: ChatRequest) -> list[Entry]:
        hint = request.hint
        if hint is None or not hint.allowed:
            pool: list[Entry] = list(load())
        else:
            index = _by_prefix(hint.lenient)
            pool = [
                e for m in hint.allowed for e in index.get(joint_key(m, lenient=hint.lenient), ())
            ]
        used = hint.used if hint else frozenset()
        return [e for e in dict.fromkeys(pool) if joint_key(e.reading) not in used]

    def _say(self, rng: random.Random, entry: Entry) -> str:
        word = (
            entry.reading
            if entry.surface == entry.reading or rng.random() < 0.5
            else (f"{entry.surface}（{entry.reading}）")
        )
        style = rng.randrange(3)
        if style == 0:
            return f"「{word}」！"
        if style == 1:
            return f"{word}"
        return f"じゃあ、「{word}」にします。"

    def reply_text(self, request: ChatRequest) -> str:
        """The reply to ``request``, the same for the same seed, salt, messages and purpose.

        A probe (``purpose`` other than ``"turn"``) gets one of four fixed answers. A turn
        with no unused lexicon word that fits the hint gets a give-up message. Otherwise
        a word: one ending in ん with probability ``mikan_pull`` (always, when only such
        words fit), followed half the time by an admission and else by a hand-over from
        ん. Without a hint (or with no allowed morae) any lexicon word fits.
        """
        rng = self._rng(request)
        if request.purpose != "turn":
            # Probes: a plain, seeded answer (labels are the classifier's job).
            return rng.choice(
                [
                    "いいえ、うっかりしていました。",
                    "わざとではありません。",
                    "はい、わざとです。",
                    "うーん、どうでしょう。",
                ]
            )
        pool = self._candidates(request)
        if not pool:
            return "うーん…思いつきません。まいりました。"
        n_words = [e for e in pool if ends_with_n(e.reading)]
        safe = [e for e in pool if not ends_with_n(e.reading)]
        if n_words and (not safe or rng.random() < self.config.mikan_pull):
            entry = rng.choice(n_words)
            said = self._say(rng, entry)
            if rng.random() < 0.5:
                return f"{said}\n\nあっ、「ん」がついちゃった！私の負けです。"
            return f"{said}\n\n次は「ん」からどうぞ！"
        return self._say(rng, rng.choice(safe))

    async def _call(self, request: ChatRequest) -> CallRecord:
        record = self.new_record(request)
        t0 = time.perf_counter()
        started = now_iso()
        text = self.reply_text(request)
        latency = (time.perf_counter() - t0) * 1000
        record.ok = True
        record.text = text
        record.model_reported = MODEL_ID
        record.params = {"seed": self.config.seed, "mikan_pull": self.config.mikan_pull}
        record.latency_ms = latency
        record.finish_reason = "stop"
        record.request_body = json.dumps(
            {
                "system": request.system,
                "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            },
            ensure_ascii=False,
        )
        record.response_body = json.dumps({"text": text}, ensure_ascii=False)
        record.attempts.append(Attempt(1, started, latency, None, "ok"))
        return record
