"""OpenAI-compatible chat completions: OpenAI, xAI (Grok), OpenRouter, Ollama, vLLM."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from bot.players.base import ChatRequest, HttpAdapter, Parsed, ProviderError, as_int, minus
from bot.players.finish import openai_finish

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
    DROPPABLE: ClassVar[dict[str, tuple[str, ...]]] = {
        "temperature": ("temperature",),
        "top_p": ("top_p",),
        "seed": ("seed",),
        "logprobs": ("logprobs", "top_logprobs"),
        "top_logprobs": ("top_logprobs",),
        "prompt_cache_key": ("prompt_cache_key",),
    }

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

        Temperature, seed, the token limit and logprobs go in only when configured;
        ``prompt_cache_key`` (the request's ``cache_key``) unless ``prompt_cache`` is off.
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
        if cfg.prompt_cache and request.cache_key:
            # OpenAI caches prompt prefixes by itself; the key keeps one seat's calls
            # on the machine holding its prefix instead of spilling across machines.
            body["prompt_cache_key"] = request.cache_key
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
        """The first choice's text (content parts joined), with usage, logprobs, provenance.

        Thinking in ``reasoning_content`` (DeepSeek, vLLM, llama.cpp) or ``reasoning``
        (OpenRouter, newer vLLM) is kept apart from the text. A ``message.refusal`` is
        finish ``refused`` whatever ``finish_reason`` says. Usage is normalised:
        ``prompt_tokens`` includes the cached ones (``prompt_tokens_details.
        cached_tokens``); ``completion_tokens`` includes the reasoning ones
        (``completion_tokens_details.reasoning_tokens``), which are taken out of
        ``output_tokens``.

        Raises:
            ProviderError: No choices (``empty_response``); not retried.
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
            text = ""
        else:
            text = str(content)
        refusal = message.get("refusal")
        thinking = message.get("reasoning_content") or message.get("reasoning")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt = usage.get("prompt_tokens_details") or {}
        completion = usage.get("completion_tokens_details") or {}
        reasoning_tokens = as_int(completion.get("reasoning_tokens"))
        fingerprint = data.get("system_fingerprint")
        return Parsed(
            text=text,
            model_reported=data.get("model"),
            input_tokens=as_int(usage.get("prompt_tokens")),
            output_tokens=minus(as_int(usage.get("completion_tokens")), reasoning_tokens),
            reasoning_tokens=reasoning_tokens,
            cached_input_tokens=as_int(prompt.get("cached_tokens")),
            finish_reason=choice.get("finish_reason"),
            finish=openai_finish(choice.get("finish_reason"), refusal=bool(refusal)),
            reasoning=str(thinking) if isinstance(thinking, str) and thinking else None,
            logprobs=choice.get("logprobs"),
            response_id=data.get("id"),
            usage=usage or None,
            system_fingerprint=str(fingerprint) if fingerprint else None,
            detail=str(refusal) if refusal else _choice_error(choice),
        )


def _choice_error(choice: dict[str, Any]) -> str | None:
    """What an OpenRouter choice that ended ``error`` says went wrong upstream."""
    err = choice.get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err.get("code") or "") or None
    return str(err) if err else None
