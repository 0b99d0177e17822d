"""OpenAI-compatible chat completions: OpenAI, xAI (Grok), OpenRouter, Ollama, vLLM."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError

# OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens);
# most compatible servers only know max_tokens.
_NEW_STYLE_HOSTS = ("api.openai.com",)


class OpenAIAdapter(HttpAdapter):
    """OpenAI-compatible ``/chat/completions``; the key goes as a Bearer token.

    The token-limit parameter may switch once, for the adapter's lifetime, when the
    endpoint rejects it (see :meth:`classify_error`).
    """

    _tokens_param: str | None = None
    _switched = False

    def url(self) -> str:
        """``{url_base}/chat/completions``."""
        return f"{self.config.url_base}/chat/completions"

    def headers(self, api_key: str | None) -> dict[str, str]:
        """``authorization: Bearer <key>`` when there is a key, else nothing."""
        return {"authorization": f"Bearer {api_key}"} if api_key else {}

    def tokens_param(self) -> str:
        """The token-limit parameter to send.

        ``max_completion_tokens`` when the host ends in ``api.openai.com``, else
        ``max_tokens``; after a switch, the other one.
        """
        if self._tokens_param is None:
            host = urlsplit(self.config.url_base).hostname or ""
            self._tokens_param = (
                "max_completion_tokens" if host.endswith(_NEW_STYLE_HOSTS) else "max_tokens"
            )
        return self._tokens_param

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """Model and messages (the system prompt first, when set), and the options.

        Temperature, seed, the token limit and logprobs go in only when configured.
        """
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {"model": self.config.model, "messages": messages}
        cfg = self.config
        if cfg.temperature is not None:
            body["temperature"] = cfg.temperature
        if cfg.seed is not None:
            body["seed"] = cfg.seed
        if cfg.max_tokens is not None:
            body[self.tokens_param()] = cfg.max_tokens
        if cfg.wants_logprobs:
            body["logprobs"] = True
            if cfg.top_logprobs:
                body["top_logprobs"] = cfg.top_logprobs
        return body

    def classify_error(self, response: httpx.Response, data: Any) -> ProviderError:
        """The base classification, except for a 400 that rejects the token-limit parameter.

        With ``max_tokens`` configured and no switch made yet, such a 400 switches
        :meth:`tokens_param` to the other parameter (a change to the adapter) and comes
        back as a retryable ``param_switch``.
        """
        error = super().classify_error(response, data)
        # The endpoint told us which token-limit parameter it takes: switch (once), retry.
        if (
            response.status_code == 400
            and self.config.max_tokens is not None
            and not self._switched
        ):
            message = error.message.lower()
            current = self.tokens_param()
            other = "max_tokens" if current == "max_completion_tokens" else "max_completion_tokens"
            if current in message and (
                other in message or "unsupported" in message or "unrecognized" in message
            ):
                self._tokens_param, self._switched = other, True
                return ProviderError(
                    "param_switch",
                    f"{current} not accepted; using {other}",
                    retryable=True,
                    status=400,
                    retry_after=0.0,
                )
        return error

    def parse(self, data: Any) -> Parsed:
        """The first choice's text (content parts joined), with usage and logprobs.

        A null content with no refusal is an empty text.

        Raises:
            ProviderError: No choices (``empty_response``) or a refusal with null content
                (``refused``); neither is retried.
        """
        choices = data.get("choices")
        if not choices:
            raise ProviderError("empty_response", "the response has no choices", retryable=False)
        choice = choices[0]
        message = choice.get("message") or {}
        content = message.get("content")
        if isinstance(content, list):  # some servers return content parts
            text = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        elif content is None:
            refusal = message.get("refusal")
            if refusal:
                raise ProviderError("refused", f"the model refused: {refusal}", retryable=False)
            text = ""
        else:
            text = str(content)
        usage = data.get("usage") or {}
        details = usage.get("completion_tokens_details") or {}
        return Parsed(
            text=text,
            model_reported=data.get("model"),
            input_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"),
            reasoning_tokens=details.get("reasoning_tokens"),
            finish_reason=choice.get("finish_reason"),
            logprobs=choice.get("logprobs"),
            response_id=data.get("id"),
        )
