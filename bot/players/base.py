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
from typing import Any, Literal

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

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
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    request_id: str | None = None
    finish_reason: str | None = None
    logprobs: Any = None
    attempts: list[Attempt] = field(default_factory=list)
    request_body: str | None = None  # raw JSON sent (keys are only ever in headers)
    response_body: str | None = None  # raw body of the last response

    @property
    def retries(self) -> int:
        """Attempts after the first (0 for none or one)."""
        return max(0, len(self.attempts) - 1)


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
    ) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


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


def redact(text: str | None, secret: str | None) -> str | None:
    """Remove a secret from anything we keep (a server may echo the key back)."""
    if text is None or not secret:
        return text
    return text.replace(secret, "[REDACTED]")


def _scrub(record: CallRecord, secret: str | None) -> None:
    """Take the key out of every text the record keeps.

    The reply itself included, since a server (or a model) may repeat it.
    """
    if not secret:
        return
    record.text = redact(record.text, secret) or ""
    record.error = redact(record.error, secret)
    record.response_body = redact(record.response_body, secret)
    record.request_body = redact(record.request_body, secret)
    if record.logprobs is not None:
        dumped = json.dumps(record.logprobs, ensure_ascii=False)
        if secret in dumped:
            record.logprobs = json.loads(redact(dumped, secret) or "null")


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
    """

    # Statuses worth another attempt; 529 is Anthropic's "overloaded".
    RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})

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

    def classify_error(self, response: httpx.Response, data: Any) -> ProviderError:
        """A non-2xx answer as a ProviderError (retryable or not).

        The cause is ``http_<status>``, with the wait the server asked for
        (:func:`parse_retry_after`), retryable for ``RETRY_STATUSES`` and every 5xx; a 429
        for exhausted quota is ``quota_exhausted`` instead, never retried.
        """
        status = response.status_code
        message = _error_message(data) or response.reason_phrase or f"HTTP {status}"
        if status == 429 and _quota_exhausted(data):
            return ProviderError("quota_exhausted", message, retryable=False, status=status)
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
        _scrub(record, api_key)
        return record

    @staticmethod
    def _transport_error(attempt: Attempt, exc: BaseException) -> _Retry:
        attempt.cause = f"transport: {type(exc).__name__}"
        return _Retry(ProviderError("transport", f"{type(exc).__name__}: {exc}", retryable=True))

    async def _attempt(
        self, record: CallRecord, request: ChatRequest, api_key: str | None
    ) -> Parsed:
        # Built per attempt: an endpoint may have told us to change a parameter.
        body = self.body(request)
        record.params = self.effective_params(body)
        payload = json.dumps(body, ensure_ascii=False)
        record.request_body = payload
        attempt = Attempt(len(record.attempts) + 1, now_iso(), 0.0, None, "ok")
        record.attempts.append(attempt)
        t0 = time.perf_counter()
        headers = {"content-type": "application/json", **self.headers(api_key)}
        try:
            # The player's timeout bounds the whole exchange, whatever the transport.
            async with asyncio.timeout(self.config.timeout_s):
                response = await self.client.post(
                    self._url,
                    content=payload.encode(),
                    headers=headers,
                    timeout=self.config.timeout_s,
                )
        except (httpx.TimeoutException, TimeoutError) as exc:
            attempt.latency_ms = (time.perf_counter() - t0) * 1000
            if not _really_timed_out(exc):
                raise self._transport_error(attempt, exc.__cause__ or exc) from exc
            attempt.cause = "timeout"
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
        record.response_body = response.text
        data = _json_or_none(response.text)
        if not response.is_success:
            error = self.classify_error(response, data)
            attempt.cause = error.cause
            attempt.server_asked_s = error.retry_after
            if error.retryable:
                raise _Retry(error)
            raise error
        if data is None:
            attempt.cause = "malformed_response"
            raise ProviderError(
                "malformed_response",
                "the response body is not JSON",
                retryable=False,
                status=response.status_code,
            )
        try:
            parsed = self.parse(data)
        except ProviderError as exc:
            attempt.cause = exc.cause
            raise
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            attempt.cause = "malformed_response"
            raise ProviderError(
                "malformed_response",
                f"unexpected response shape ({type(exc).__name__}: {exc})",
                retryable=False,
                status=response.status_code,
            ) from exc
        if parsed.response_id and not record.request_id:
            record.request_id = parsed.response_id
        return parsed


def _really_timed_out(exc: BaseException) -> bool:
    """httpx-aiohttp reports a refused connection as ConnectTimeout; tell them apart."""
    cause = exc.__cause__
    if isinstance(exc, httpx.TimeoutException) and isinstance(cause, OSError):
        return isinstance(cause, TimeoutError)
    return True


def _note_wait(record: CallRecord, state: RetryCallState) -> None:
    if record.attempts and state.upcoming_sleep is not None:
        record.attempts[-1].wait_s = float(state.upcoming_sleep)


def _fill(record: CallRecord, parsed: Parsed) -> None:
    record.text = parsed.text
    record.model_reported = parsed.model_reported
    record.input_tokens = parsed.input_tokens
    record.output_tokens = parsed.output_tokens
    record.reasoning_tokens = parsed.reasoning_tokens
    record.finish_reason = parsed.finish_reason
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


def _quota_exhausted(data: Any) -> bool:
    """A 429 that waiting will not fix: billing quota gone (OpenAI, xAI, Gemini daily)."""
    if not isinstance(data, dict):
        return False
    err = data.get("error")
    if not isinstance(err, dict):
        return False
    if err.get("code") == "insufficient_quota" or err.get("type") == "insufficient_quota":
        return True
    for detail in err.get("details") or []:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("QuotaFailure"):
            for violation in detail.get("violations") or []:
                if "PerDay" in str(violation.get("quotaId", "")):
                    return True
    message = str(err.get("message", "")).lower()
    return "exceeded your current quota" in message and "billing" in message
