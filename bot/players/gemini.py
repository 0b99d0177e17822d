"""Google Gemini generateContent."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError

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
        """The first candidate's text (thought parts left out), with usage and logprobs.

        Raises:
            ProviderError: ``blocked`` (the prompt was blocked, or no parts came back
                with a blocking finish reason) or ``empty_response`` (no candidates);
                neither is retried.
        """
        feedback = data.get("promptFeedback") or {}
        candidates = data.get("candidates") or []
        if not candidates:
            reason = feedback.get("blockReason")
            if reason:
                raise ProviderError(
                    "blocked", f"the prompt was blocked ({reason})", retryable=False
                )
            raise ProviderError("empty_response", "the response has no candidates", retryable=False)
        candidate = candidates[0]
        parts = (candidate.get("content") or {}).get("parts") or []
        # Thought summaries are not the answer.
        text = "".join(
            p.get("text", "") for p in parts if isinstance(p, dict) and not p.get("thought")
        )
        finish = candidate.get("finishReason")
        if not parts and finish in (
            "SAFETY",
            "PROHIBITED_CONTENT",
            "BLOCKLIST",
            "SPII",
            "RECITATION",
            "OTHER",
        ):
            raise ProviderError("blocked", f"the reply was blocked ({finish})", retryable=False)
        usage = data.get("usageMetadata") or {}
        return Parsed(
            text=text,
            model_reported=data.get("modelVersion"),
            input_tokens=usage.get("promptTokenCount"),
            output_tokens=usage.get("candidatesTokenCount"),
            reasoning_tokens=usage.get("thoughtsTokenCount"),
            finish_reason=finish,
            logprobs=candidate.get("logprobsResult"),
            response_id=data.get("responseId"),
        )
