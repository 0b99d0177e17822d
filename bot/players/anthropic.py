"""Anthropic Messages API."""

from __future__ import annotations

from typing import Any, ClassVar

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError, as_int
from bot.players.finish import anthropic_finish

# The Messages API requires max_tokens; a shiritori word needs few, but models chat.
DEFAULT_MAX_TOKENS = 1024
# User messages marked as cache breakpoints: the newest writes, the one before reads.
_CACHED_TURNS = 2


def _cached(text: str) -> dict[str, Any]:
    """A text block that ends a cached prefix (a ``cache_control`` breakpoint)."""
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


class AnthropicAdapter(HttpAdapter):
    """Anthropic Messages API; the key goes in ``x-api-key``; seed and logprobs are not sent."""

    DROPPABLE: ClassVar[dict[str, tuple[str, ...]]] = {
        "temperature": ("temperature",),
        "top_p": ("top_p",),
        "top_k": ("top_k",),
    }

    def url(self) -> str:
        """``{url_base}/v1/messages``."""
        return f"{self.config.url_base}/v1/messages"

    def headers(self, api_key: str | None) -> dict[str, str]:
        """``anthropic-version``, and ``x-api-key`` when there is a key."""
        headers = {"anthropic-version": self.config.anthropic_version}
        if api_key:
            headers["x-api-key"] = api_key
        return headers

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """Model, messages, ``max_tokens`` (DEFAULT_MAX_TOKENS if unset), and the rest.

        The system prompt and temperature go in only when set. With ``prompt_cache`` on
        (the default), ``cache_control`` breakpoints mark the system prompt and the last
        two user messages: each turn writes the conversation so far to the cache and
        reads the prefix the previous turn wrote (Anthropic caches only at breakpoints,
        at most four; a prefix under the model's minimum is simply not cached).
        """
        messages: list[dict[str, Any]] = [
            {"role": m.role, "content": m.content} for m in request.messages
        ]
        body: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": messages,
        }
        if request.system:
            body["system"] = request.system
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if self.config.prompt_cache:
            if request.system:
                body["system"] = [_cached(request.system)]
            users = [m for m in messages if m["role"] == "user"][-_CACHED_TURNS:]
            for m in users:
                m["content"] = [_cached(m["content"])]
        return body

    def request_id(self, response):  # type: ignore[no-untyped-def]
        """The ``request-id`` header, else ``x-request-id``, else None."""
        return response.headers.get("request-id") or super().request_id(response)

    def parse(self, data: Any) -> Parsed:
        """The text blocks joined, thinking blocks apart, with usage and stop reason.

        ``thinking`` blocks are the reasoning (``redacted_thinking`` ones are counted,
        their content being encrypted). Usage is normalised: Anthropic's
        ``input_tokens`` leaves out the tokens read from and written to the cache
        (``cache_read_input_tokens``, ``cache_creation_input_tokens``), which are added
        back into ``input_tokens``. Anthropic does not split thinking from text in
        ``output_tokens``: with thinking in the reply ``reasoning_tokens`` stays None
        and ``output_tokens`` is Anthropic's, thinking included (docs/EXPORTS.md).

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
        thoughts = [
            str(b.get("thinking") or "")
            for b in blocks
            if isinstance(b, dict) and b.get("type") == "thinking"
        ]
        redacted = sum(
            1 for b in blocks if isinstance(b, dict) and b.get("type") == "redacted_thinking"
        )
        if redacted:
            thoughts.append(f"[{redacted} redacted thinking block(s)]")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        uncached = as_int(usage.get("input_tokens"))
        read = as_int(usage.get("cache_read_input_tokens"))
        written = as_int(usage.get("cache_creation_input_tokens"))
        total_in = None if uncached is None else uncached + (read or 0) + (written or 0)
        return Parsed(
            text=text,
            model_reported=data.get("model"),
            input_tokens=total_in,
            cached_input_tokens=read if read is not None else (0 if total_in is not None else None),
            cache_write_tokens=written,
            output_tokens=as_int(usage.get("output_tokens")),
            finish_reason=data.get("stop_reason"),
            finish=anthropic_finish(data.get("stop_reason")),
            reasoning="\n\n".join(t for t in thoughts if t) or None,
            response_id=data.get("id"),
            usage=usage or None,
        )
