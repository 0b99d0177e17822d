"""Google Gemini generateContent."""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError, as_int
from bot.players.finish import gemini_finish

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)s\s*$")


def _retry_delay(data: Any) -> float | None:
    """google.rpc.RetryInfo.retryDelay ("7s", "0.5s") from an error body."""
    try:
        details = data["error"].get("details") or []
    except (TypeError, KeyError, AttributeError):
        return None
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match[1])
    return None


class GeminiAdapter(HttpAdapter):
    """Gemini ``generateContent``; the key goes in ``x-goog-api-key``, never in the URL."""

    DROPPABLE: ClassVar[dict[str, tuple[str, ...]]] = {
        "temperature": ("temperature",),
        "topP": ("topP",),
        "seed": ("seed",),
        "responseLogprobs": ("responseLogprobs", "logprobs"),
        "logprobs": ("responseLogprobs", "logprobs"),
    }

    def params_of(self, body: dict[str, Any]) -> dict[str, Any]:
        """The ``generationConfig`` (an empty one when there is none)."""
        return body.get("generationConfig", {})

    def url(self) -> str:
        """``{url_base}/v1beta/models/{model}:generateContent``.

        The model's ``models/`` prefix is dropped and the rest percent-encoded.
        """
        model = quote(self.config.model.removeprefix("models/"), safe="-._~")
        return f"{self.config.url_base}/v1beta/models/{model}:generateContent"

    def headers(self, api_key: str | None) -> dict[str, str]:
        """``x-goog-api-key`` when there is a key, else nothing."""
        return {"x-goog-api-key": api_key} if api_key else {}

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """``contents``, with ``systemInstruction`` and ``generationConfig`` when needed.

        Assistant turns go as role ``model``; ``systemInstruction`` only with a system
        prompt, ``generationConfig`` only when some option is configured.
        """
        contents = [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in request.messages
        ]
        body: dict[str, Any] = {"contents": contents}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        generation: dict[str, Any] = {}
        cfg = self.config
        if cfg.temperature is not None:
            generation["temperature"] = cfg.temperature
        if cfg.seed is not None:
            generation["seed"] = cfg.seed
        if cfg.max_tokens is not None:
            generation["maxOutputTokens"] = cfg.max_tokens
        if cfg.wants_logprobs:
            generation["responseLogprobs"] = True
            if cfg.top_logprobs:
                generation["logprobs"] = cfg.top_logprobs
        if generation:
            body["generationConfig"] = generation
        return body

    def effective_params(self, body: dict[str, Any]) -> dict[str, Any]:
        """A copy of the ``generationConfig`` sent; empty when there is none."""
        return dict(body.get("generationConfig", {}))

    def request_id(self, response: httpx.Response) -> str | None:
        """The ``x-request-id`` header, else None."""
        return response.headers.get("x-request-id")

    def classify_error(self, response: httpx.Response, data: Any) -> ProviderError:
        """The base classification; a retryable error waits at least the body's RetryInfo."""
        error = super().classify_error(response, data)
        delay = _retry_delay(data)
        if delay is not None and error.retryable:
            error.retry_after = max(delay, error.retry_after or 0.0)
        return error

    def parse(self, data: Any) -> Parsed:
        """The first candidate's text, thought parts apart, with usage and logprobs.

        A prompt blocked before any candidate (``promptFeedback.blockReason``) is finish
        ``filtered`` with the provider value ``blockReason:<reason>``. Usage:
        ``promptTokenCount`` includes ``cachedContentTokenCount``;
        ``candidatesTokenCount`` is the visible reply, ``thoughtsTokenCount`` the
        thinking (already apart).

        Raises:
            ProviderError: No candidates and no block reason (``empty_response``); not
                retried.
        """
        feedback = data.get("promptFeedback") or {}
        candidates = data.get("candidates") or []
        usage = data.get("usageMetadata") if isinstance(data.get("usageMetadata"), dict) else {}
        common: dict[str, Any] = {
            "model_reported": data.get("modelVersion"),
            "input_tokens": as_int(usage.get("promptTokenCount")),
            "cached_input_tokens": as_int(usage.get("cachedContentTokenCount")),
            "output_tokens": as_int(usage.get("candidatesTokenCount")),
            "reasoning_tokens": as_int(usage.get("thoughtsTokenCount")),
            "response_id": data.get("responseId"),
            "usage": usage or None,
        }
        if not candidates:
            reason = feedback.get("blockReason")
            if reason:
                return Parsed(
                    text="",
                    finish="filtered",
                    finish_reason=f"blockReason:{reason}",
                    detail=str(feedback.get("blockReasonMessage") or f"prompt blocked ({reason})"),
                    **common,
                )
            raise ProviderError("empty_response", "the response has no candidates", retryable=False)
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        parts = [p for p in parts if isinstance(p, dict)]
        text = "".join(str(p.get("text", "")) for p in parts if not p.get("thought"))
        thinking = "".join(str(p.get("text", "")) for p in parts if p.get("thought"))
        finish = candidate.get("finishReason")
        return Parsed(
            text=text,
            finish_reason=finish,
            finish=gemini_finish(finish),
            reasoning=thinking or None,
            logprobs=candidate.get("logprobsResult"),
            detail=str(candidate.get("finishMessage")) if candidate.get("finishMessage") else None,
            **common,
        )
