"""What every model player shares: the request, the call record, retries and limits.

An adapter turns a :class:`ChatRequest` into one provider's wire format and parses the
answer; :class:`HttpAdapter` drives attempts over the shared ``httpx.AsyncClient`` with
tenacity (jittered exponential backoff that waits at least what the server asked,
bounded in attempts and total time). Nothing raises out of :meth:`Adapter.call`: a call
that fails for good is a :class:`CallRecord` with ``ok=False`` and a reason
(``no_answer``), and every attempt and its cause is recorded.
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from bot.players import capabilities
from bot.players.finish import NO_ANSWER_CODES, Finish
from bot.players.pacing import Pacer
from bot.players.reasoning import join_thinking, split_thinking
from bot.players.redaction import redact, scrub
from bot.players.roster import PlayerConfig

Role = Literal["user", "assistant"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation: who spoke and what they said."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class TurnHint:
    """Structured facts of the turn, for the offline player (network adapters ignore it)."""

    allowed: tuple[str, ...]  # morae the word may start with; empty = free start
    used: frozenset[str] = frozenset()  # joint-normalised readings already played
    lenient: bool = False  # dakuten=lenient at the joint
    salt: str = ""  # varies seeded choices between rounds (e.g. the round id)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """What a player is asked: the system prompt, the conversation so far, the turn facts.

    An empty ``system`` is not sent by the HTTP adapters.
    """

    system: str
    messages: tuple[Message, ...]
    hint: TurnHint | None = None
    purpose: str = "turn"  # "turn" or a probe kind; recorded with the call
    # Stable for one seat of one round (its probes too): OpenAI's prompt_cache_key, so
    # the seat's growing conversation is routed to the cache that holds its prefix.
    cache_key: str | None = None


@dataclass(slots=True)
class Attempt:
    """One try of a call, as recorded (a call stopped before trying, e.g. with no key, has none)."""

    number: int  # 1 for the first try
    started_at: str  # ISO 8601 UTC (now_iso)
    latency_ms: float
    status: int | None  # HTTP status, None for a transport error (and the offline player)
    cause: str  # "ok", "http_429", "timeout", "transport: ...", "malformed_response", ...
    wait_s: float = 0.0  # how long we waited after this attempt before the next
    server_asked_s: float | None = None  # the wait a non-2xx answer asked for, if any
    request_id: str | None = None
    # What was decided after it: "ok", "retry", "gave_up" (retryable, but out of attempts
    # or time) or "final" (not worth another try); ``note`` says why, in words.
    decision: str = "ok"
    note: str | None = None
    paced_s: float = 0.0  # waited before sending, for room under the rate limits


@dataclass(slots=True)
class CallRecord:
    """One model call, as a researcher needs it (DESIGN.md "Model players")."""

    player: str
    provider: str
    model_asked: str
    purpose: str
    ok: bool
    text: str = ""
    error: str | None = None  # the reason when not ok (the call is `no_answer`)
    model_reported: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # effective parameters sent
    started_at: str = ""
    latency_ms: float = 0.0  # the whole call, retries and waits included
    # Normalised usage (docs/EXPORTS.md "Tokens"): every input token of the prompt,
    # those of them read from a cache and written to one, the visible reply's tokens
    # and the thinking's. ``usage`` is the provider's own object, as sent.
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    usage: dict[str, Any] | None = None
    request_id: str | None = None
    finish_reason: str | None = None  # the provider's own value
    finish: Finish | None = None  # the shared taxonomy (bot/players/finish.py)
    reasoning: str | None = None  # the model's thinking, kept out of ``text``
    system_fingerprint: str | None = None  # backend provenance, where the provider says
    params_dropped: list[str] = field(default_factory=list)  # configured but not sent
    logprobs: Any = None
    attempts: list[Attempt] = field(default_factory=list)
    request_body: str | None = None  # raw JSON sent (keys are only ever in headers)
    response_body: str | None = None  # raw body of the last response

    @property
    def retries(self) -> int:
        """Attempts after the first (0 for none or one)."""
        return max(0, len(self.attempts) - 1)

    @property
    def no_answer_reason(self) -> str | None:
        """Why a failed call gave no move: its finish code, else its error; None if ok."""
        if self.ok:
            return None
        if self.finish in NO_ANSWER_CODES:
            return self.finish
        return self.error


@dataclass(slots=True)
class Parsed:
    """What an adapter read from a successful response body."""

    text: str
    model_reported: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    finish_reason: str | None = None
    logprobs: Any = None
    response_id: str | None = None
    finish: Finish = "stop"
    reasoning: str | None = None  # thinking the provider returned apart from the text
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    usage: dict[str, Any] | None = None
    system_fingerprint: str | None = None
    detail: str | None = None  # what the provider said of a refusal or block, if anything


class ProviderError(Exception):
    """A failed attempt. ``retryable`` decides whether another attempt is made."""

    def __init__(
        self,
        cause: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after
        self.note = note  # why it is (not) retried, recorded on the attempt


class _Retry(Exception):
    """Raised inside tenacity for a retryable failure; carries the ProviderError."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


def now_iso() -> str:
    """The current UTC time in ISO 8601 with milliseconds (``...T12:00:00.000+00:00``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms`` or ``Retry-After``.

    ``retry-after-ms`` wins when it parses; ``Retry-After`` may be seconds or an HTTP
    date. Never negative; None when neither header is there or parses.
    """
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _ServerAwareWait:
    """Jittered exponential backoff, but never less than what the server asked."""

    def __init__(self, base: Callable[[RetryCallState], float]) -> None:
        self.base = base

    def __call__(self, state: RetryCallState) -> float:
        wait = self.base(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retry) and exc.error.retry_after is not None:
            wait = max(wait, exc.error.retry_after)
        return wait


class Adapter(ABC):
    """A model player: one roster entry behind one wire protocol.

    Subclasses implement ``_call``; :meth:`call` runs at most ``config.max_concurrency``
    of them at once.
    """

    def __init__(self, config: PlayerConfig) -> None:
        self.config = config
        self._limit = asyncio.Semaphore(config.max_concurrency)

    @property
    def key(self) -> str:
        """The player's roster key (``config.key``)."""
        return self.config.key

    async def call(self, request: ChatRequest) -> CallRecord:
        """Ask the model; never raises for provider trouble (returns ok=False)."""
        async with self._limit:
            return await self._call(request)

    @abstractmethod
    async def _call(self, request: ChatRequest) -> CallRecord: ...

    def new_record(self, request: ChatRequest) -> CallRecord:
        """A fresh record for ``request``: not ok, started now, no attempts yet."""
        return CallRecord(
            player=self.config.key,
            provider=self.config.provider,
            model_asked=self.config.model,
            purpose=request.purpose,
            ok=False,
            started_at=now_iso(),
        )


class HttpAdapter(Adapter):
    """Shared HTTP machinery: build, send with retries, parse, record.

    Attempts are bounded by ``config.max_attempts`` and ``config.retry_total_s``, each by
    ``config.timeout_s``; between them, jittered exponential backoff from
    ``backoff_base_s`` up to ``backoff_max_s``, never less than the server asked. A
    player with ``api_key_env`` set but no key fails at once (``missing_key``). ``sleep``
    replaces :func:`asyncio.sleep` for those waits (tests). During a call, an exception
    that is not a provider failure is recorded as ``internal_error``, never raised.

    A response body is read at most ``config.max_response_bytes`` into memory; a longer
    one is cut off and the call fails ``too_large``. A 400 that names a parameter the
    model does not take (``DROPPABLE``) drops it for this model (bot/players/
    capabilities.py) and tries again. Thinking is split from the reply
    (bot/players/reasoning.py); a reply that did not end ``stop`` and has no visible
    text fails with its finish code (bot/players/finish.py). Every string recorded has
    the key taken out, in any spelling (bot/players/redaction.py).
    """

    # Statuses worth another attempt; 529 is Anthropic's "overloaded".
    RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
    # Parameters a request may go without, each with those that go along with it.
    DROPPABLE: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self,
        config: PlayerConfig,
        client: httpx.AsyncClient,
        *,
        sleep: Sleep | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        super().__init__(config)
        self.client = client
        self._sleep: Sleep = sleep or asyncio.sleep
        self._backoff = wait_random_exponential(multiplier=backoff_base_s, max=backoff_max_s)
        self._url = httpx.URL(self.url())  # parsed once, not per call
        self._scope = (config.provider, config.url_base, config.model)
        # An injected sleep (tests) moves the pacing clock as a real one would.
        self._slept = 0.0
        if sleep is not None:

            async def counted(seconds: float) -> None:
                self._slept += seconds
                await sleep(seconds)

            self._sleep = counted
        self.pacer = Pacer(
            requests_per_minute=config.requests_per_minute,
            tokens_per_minute=config.tokens_per_minute,
            clock=lambda: time.monotonic() + self._slept,
            sleep=self._sleep,
        )

    # -- what each provider defines --------------------------------------------------
    @abstractmethod
    def url(self) -> str:
        """The endpoint every attempt POSTs to; read once, when the adapter is built."""

    @abstractmethod
    def headers(self, api_key: str | None) -> dict[str, str]:
        """Provider headers carrying ``api_key`` (None: no key); the driver adds content-type."""

    @abstractmethod
    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request``; built anew for every attempt."""

    @abstractmethod
    def parse(self, data: Any) -> Parsed:
        """Read a 2xx JSON body; raise ProviderError for a reply that is no reply."""

    def request_id(self, response: httpx.Response) -> str | None:
        """The ``x-request-id`` header, else ``request-id``, else None."""
        return response.headers.get("x-request-id") or response.headers.get("request-id")

    def params_of(self, body: dict[str, Any]) -> dict[str, Any]:
        """Where the body keeps its generation parameters (the body itself by default)."""
        return body

    def classify_error(self, response: httpx.Response, data: Any) -> ProviderError:
        """A non-2xx answer as a ProviderError (retryable or not).

        The cause is ``http_<status>``, with the wait the server asked for
        (:func:`parse_retry_after`), retryable for ``RETRY_STATUSES`` and every 5xx. A
        429 is judged by :func:`quota_decision`: a per-day or billing quota is
        ``quota_exhausted``, never retried; a per-minute one waits as asked.
        """
        status = response.status_code
        message = _error_message(data) or response.reason_phrase or f"HTTP {status}"
        if status == 429:
            final, note = quota_decision(data)
            if final:
                return ProviderError(
                    "quota_exhausted", message, retryable=False, status=status, note=note
                )
            return ProviderError(
                "http_429",
                message,
                retryable=True,
                status=status,
                retry_after=parse_retry_after(response.headers),
                note=note,
            )
        return ProviderError(
            f"http_{status}",
            message,
            retryable=status in self.RETRY_STATUSES or status >= 500,
            status=status,
            retry_after=parse_retry_after(response.headers),
        )

    def effective_params(self, body: dict[str, Any]) -> dict[str, Any]:
        """The generation parameters actually sent (for the record)."""
        return {
            k: v
            for k, v in body.items()
            if k not in ("messages", "contents", "system", "systemInstruction", "model")
        }

    # -- the driver ------------------------------------------------------------------
    async def _call(self, request: ChatRequest) -> CallRecord:
        record = self.new_record(request)
        started = time.perf_counter()
        api_key = self.config.api_key()
        if self.config.api_key_env and not api_key:
            record.error = f"missing_key: environment variable {self.config.api_key_env} is not set"
            return record
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts)
            | stop_before_delay(self.config.retry_total_s),
            wait=_ServerAwareWait(self._backoff),
            retry=retry_if_exception_type(_Retry),
            sleep=self._sleep,
            before_sleep=lambda state: _note_wait(record, state),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    parsed = await self._attempt(record, request, api_key)
            record.ok = True
            _fill(record, parsed)
        except _Retry as exc:  # out of attempts or time
            record.error = f"{exc.error.cause}: {exc.error.message} (gave up after retries)"
        except ProviderError as exc:
            record.error = f"{exc.cause}: {exc.message}"
        except Exception as exc:
            record.error = f"internal_error: {type(exc).__name__}: {exc}"
        record.latency_ms = (time.perf_counter() - started) * 1000
        scrub(record, api_key)
        return record

    @staticmethod
    def _transport_error(attempt: Attempt, exc: BaseException) -> _Retry:
        attempt.cause = f"transport: {type(exc).__name__}"
        attempt.decision = "gave_up"
        return _Retry(ProviderError("transport", f"{type(exc).__name__}: {exc}", retryable=True))

    def _build(self, request: ChatRequest, record: CallRecord) -> dict[str, Any]:
        """The body, less what this model is known not to take (recorded as dropped)."""
        body = self.body(request)
        params = self.params_of(body)
        gone = [name for name in sorted(capabilities.dropped(self._scope)) if name in params]
        for name in gone:
            del params[name]
        record.params_dropped = sorted(set(record.params_dropped) | set(gone))
        return body

    def _droppable_sent(self, body: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        params = self.params_of(body)
        return {
            name: tuple(n for n in group if n in params)
            for name, group in self.DROPPABLE.items()
            if name in params
        }

    def _maybe_drop(self, body: dict[str, Any], data: Any, error: ProviderError) -> ProviderError:
        """A 400 naming a droppable parameter we sent: drop it (remembered), retry at once."""
        if error.status != 400:
            return error
        names = capabilities.rejected_parameter(data, error.message, self._droppable_sent(body))
        if not names:
            return error
        capabilities.remember(self._scope, names)
        shown = ", ".join(names)
        return ProviderError(
            "param_dropped",
            f"the model does not take {shown}; sent without it from now on",
            retryable=True,
            status=400,
            retry_after=0.0,
            note=f"dropped {shown}",
        )

    async def _attempt(
        self, record: CallRecord, request: ChatRequest, api_key: str | None
    ) -> Parsed:
        # Built per attempt: an endpoint may have told us to change a parameter.
        body = self._build(request, record)
        record.params = self.effective_params(body)
        payload = json.dumps(body, ensure_ascii=False)
        record.request_body = payload
        attempt = Attempt(len(record.attempts) + 1, now_iso(), 0.0, None, "ok")
        record.attempts.append(attempt)
        t0 = time.perf_counter()
        headers = {"content-type": "application/json", **self.headers(api_key)}
        limit = self.config.max_response_bytes
        ticket = None
        if self.config.pace:
            attempt.paced_s, ticket = await self.pacer.acquire(_estimated_tokens(body))
            t0 = time.perf_counter()
        try:
            # The player's timeout bounds the whole exchange, whatever the transport.
            async with (
                asyncio.timeout(self.config.timeout_s),
                self.client.stream(
                    "POST",
                    self._url,
                    content=payload.encode(),
                    headers=headers,
                    timeout=self.config.timeout_s,
                ) as response,
            ):
                raw, complete = await _read_bounded(response, limit)
        except (httpx.TimeoutException, TimeoutError) as exc:
            attempt.latency_ms = (time.perf_counter() - t0) * 1000
            if not _really_timed_out(exc):
                raise self._transport_error(attempt, exc.__cause__ or exc) from exc
            attempt.cause, attempt.decision = "timeout", "gave_up"
            raise _Retry(
                ProviderError("timeout", f"no answer in {self.config.timeout_s}s", retryable=True)
            ) from exc
        except httpx.TransportError as exc:
            attempt.latency_ms = (time.perf_counter() - t0) * 1000
            raise self._transport_error(attempt, exc) from exc
        attempt.latency_ms = (time.perf_counter() - t0) * 1000
        attempt.status = response.status_code
        attempt.request_id = self.request_id(response)
        record.request_id = attempt.request_id or record.request_id
        text = raw.decode(response.encoding or "utf-8", errors="replace")
        if not complete:
            # Only a head of it is kept: enough to see what the server was sending. The
            # key is taken out before the cut (the whole record is scrubbed later too):
            # a key across the cut would otherwise leave its first characters behind.
            record.response_body = redact(text, self.config.api_key())[:_KEPT_OF_TOO_LARGE]
            attempt.cause, attempt.decision = "too_large", "final"
            attempt.note = f"body over {limit} bytes, cut off"
            raise ProviderError(
                "too_large",
                f"the response body is over {limit} bytes",
                retryable=False,
                status=response.status_code,
            )
        record.response_body = text
        data = _json_or_none(text)
        if ticket is not None and response.is_success:
            self.pacer.observe(response.headers, ticket)
        if not response.is_success:
            error = self._maybe_drop(body, data, self.classify_error(response, data))
            if ticket is not None:
                # A 429's wait (header or Gemini's RetryInfo) holds all this player's calls.
                asked = error.retry_after if response.status_code == 429 else None
                self.pacer.observe(response.headers, ticket, asked)
            attempt.cause = error.cause
            attempt.server_asked_s = error.retry_after
            attempt.note = error.note
            if error.retryable:
                attempt.decision = "gave_up"  # until tenacity schedules another (_note_wait)
                raise _Retry(error)
            attempt.decision = "final"
            raise error
        if data is None:
            attempt.cause, attempt.decision = "malformed_response", "final"
            raise ProviderError(
                "malformed_response",
                "the response body is not JSON",
                retryable=False,
                status=response.status_code,
            )
        try:
            parsed = self.parse(data)
        except ProviderError as exc:
            attempt.cause, attempt.decision = exc.cause, "final"
            raise
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            attempt.cause, attempt.decision = "malformed_response", "final"
            raise ProviderError(
                "malformed_response",
                f"unexpected response shape ({type(exc).__name__}: {exc})",
                retryable=False,
                status=response.status_code,
            ) from exc
        if parsed.response_id and not record.request_id:
            record.request_id = parsed.response_id
        _split_reply(parsed)
        if parsed.finish != "stop" and not parsed.text.strip():
            # Cut short, refused, filtered or failed before any visible text: no move.
            _fill(record, parsed)
            attempt.cause, attempt.decision = parsed.finish, "final"
            said = f": {parsed.detail}" if parsed.detail else ""
            raise ProviderError(
                parsed.finish,
                f"the reply ended {parsed.finish_reason or parsed.finish!s} with no text{said}",
                retryable=False,
                status=response.status_code,
            )
        return parsed


# A too-large body: how many characters of its head are kept in the record, and how many
# bytes are read for them (room for multi-byte characters and a key across the cut).
_KEPT_OF_TOO_LARGE = 2000
_HEAD_BYTES = 4 * _KEPT_OF_TOO_LARGE + 1024


async def _read_bounded(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body, read up to ``limit`` bytes; (bytes, False) when there was more.

    Memory stays bounded by ``limit`` whatever the server sends (a declared length over
    it is refused before reading; a chunked body is cut once it passes it).
    """
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        head = bytearray()
        async for chunk in response.aiter_bytes():  # decoded (gzip), unlike aiter_raw
            head += chunk
            if len(head) >= _HEAD_BYTES:
                break
        return bytes(head[:_HEAD_BYTES]), False
    buf = bytearray()
    async for chunk in response.aiter_bytes():
        buf += chunk
        if len(buf) > limit:
            return bytes(buf[:_HEAD_BYTES]), False
    return bytes(buf), True


def _estimated_tokens(body: dict[str, Any]) -> int:
    """What a request counts against a token limit, estimated before sending.

    As OpenAI documents its own estimate: the prompt's length plus the most the reply
    may take (``max_tokens`` or its equivalents). Characters stand for tokens: about
    right for Japanese, an overestimate for English (so pacing errs on the safe side).
    """
    text = json.dumps(
        [body.get("messages"), body.get("contents"), body.get("system")], ensure_ascii=False
    )
    reply = 0
    for params in (body, body.get("generationConfig") or {}):
        for name in ("max_tokens", "max_completion_tokens", "maxOutputTokens"):
            if isinstance(params.get(name), int):
                reply = max(reply, params[name])
    return len(text) + reply


def _split_reply(parsed: Parsed) -> None:
    """Take inline thinking out of the text; keep it with any the provider gave apart."""
    visible, inline = split_thinking(parsed.text)
    parsed.text = visible
    parsed.reasoning = join_thinking(parsed.reasoning, inline)


def quota_decision(data: Any) -> tuple[bool, str | None]:
    """Whether a 429 is final (quota gone until billing or tomorrow), and why.

    Read as the providers document it: a google.rpc ``QuotaFailure`` whose quota id is
    per day is final, one per minute (or any other window) is waited out after its
    ``RetryInfo.retryDelay``; OpenAI's ``insufficient_quota`` is final; the "exceeded
    your current quota … billing" message with no details (OpenAI, xAI) is final;
    everything else is a rate limit, retried.
    """
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return False, "rate limited"
    if err.get("code") == "insufficient_quota" or err.get("type") == "insufficient_quota":
        return True, "insufficient_quota: billing quota exhausted"
    quota_ids: list[str] = []
    retry_info = False
    for detail in err.get("details") or []:
        if not isinstance(detail, dict):
            continue
        kind = str(detail.get("@type", ""))
        if kind.endswith("QuotaFailure"):
            for violation in detail.get("violations") or []:
                if isinstance(violation, dict):
                    quota_ids.append(str(violation.get("quotaId", "")))
        elif kind.endswith("RetryInfo"):
            retry_info = True
    daily = [q for q in quota_ids if "perday" in q.lower()]
    if daily:
        return True, f"per-day quota {daily[0]}"
    if quota_ids:
        return False, f"quota {quota_ids[0]}: waited out"
    if retry_info:
        return False, "RetryInfo: waited out"
    message = str(err.get("message", "")).lower()
    if "exceeded your current quota" in message and "billing" in message:
        return True, "quota exhausted (billing)"
    return False, "rate limited"


def _really_timed_out(exc: BaseException) -> bool:
    """httpx-aiohttp reports a refused connection as ConnectTimeout; tell them apart."""
    cause = exc.__cause__
    if isinstance(exc, httpx.TimeoutException) and isinstance(cause, OSError):
        return isinstance(cause, TimeoutError)
    return True


def _note_wait(record: CallRecord, state: RetryCallState) -> None:
    if record.attempts and state.upcoming_sleep is not None:
        record.attempts[-1].wait_s = float(state.upcoming_sleep)
        record.attempts[-1].decision = "retry"


def _fill(record: CallRecord, parsed: Parsed) -> None:
    record.text = parsed.text
    record.model_reported = parsed.model_reported
    record.input_tokens = parsed.input_tokens
    record.cached_input_tokens = parsed.cached_input_tokens
    record.cache_write_tokens = parsed.cache_write_tokens
    record.output_tokens = parsed.output_tokens
    record.reasoning_tokens = parsed.reasoning_tokens
    record.usage = parsed.usage
    record.finish_reason = parsed.finish_reason
    record.finish = parsed.finish
    record.reasoning = parsed.reasoning
    record.system_fingerprint = parsed.system_fingerprint
    record.logprobs = parsed.logprobs


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _error_message(data: Any) -> str | None:
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(err, str):
            return err
        if isinstance(data.get("message"), str):
            return data["message"]
    return None


def as_int(value: Any) -> int | None:
    """An integer token count from a usage object, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def minus(total: int | None, part: int | None) -> int | None:
    """``total - part`` (part missing: total), never below 0; None without a total."""
    if total is None:
        return None
    return max(0, total - (part or 0))
