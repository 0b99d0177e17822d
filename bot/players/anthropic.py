"""Anthropic Messages API."""

from __future__ import annotations

from typing import Any

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError

ANTHROPIC_VERSION = "2023-06-01"
# The Messages API requires max_tokens; a shiritori word needs few, but models chat.
DEFAULT_MAX_TOKENS = 1024


class AnthropicAdapter(HttpAdapter):
    """Anthropic Messages API; the key goes in ``x-api-key``; seed and logprobs are not sent."""

    def url(self) -> str:
        """``{url_base}/v1/messages``."""
        return f"{self.config.url_base}/v1/messages"

    def headers(self, api_key: str | None) -> dict[str, str]:
        """``anthropic-version``, and ``x-api-key`` when there is a key."""
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if api_key:
            headers["x-api-key"] = api_key
        return headers

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """Model, messages, ``max_tokens`` (DEFAULT_MAX_TOKENS if unset), and the rest.

        The system prompt and temperature go in only when set.
        """
        body: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.system:
            body["system"] = request.system
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        return body

    def request_id(self, response):  # type: ignore[no-untyped-def]
        """The ``request-id`` header, else ``x-request-id``, else None."""
        return response.headers.get("request-id") or super().request_id(response)

    def parse(self, data: Any) -> Parsed:
        """The text blocks joined (other block types dropped), with usage and stop reason.

        Raises:
            ProviderError: An error body (``error_body``) or no content list
                (``malformed_response``); neither is retried.
        """
        if data.get("type") == "error":
            raise ProviderError("error_body", str(data.get("error")), retryable=False)
        blocks = data.get("content")
        if not isinstance(blocks, list):
            raise ProviderError("malformed_response", "no content blocks", retryable=False)
        text = "".join(
            b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text"
        )
        usage = data.get("usage") or {}
        return Parsed(
            text=text,
            model_reported=data.get("model"),
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
            finish_reason=data.get("stop_reason"),
            response_id=data.get("id"),
        )
