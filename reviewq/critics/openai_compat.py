"""The OpenAI-compatible critic: OpenAI itself, or any server that speaks its chat API.

With `base_url` pointing at a local vLLM, llama.cpp or Ollama server, a second model family runs
on an air-gapped machine (name the family in `[critic.openai] family` when the model's name does
not say it). The SDK (about 1.2 s to import) is imported inside `_client()` only.

The answer is asked for as JSON text that starts with the run's nonce; `response_format` adds a
JSON schema where the server supports it (`json_schema`, the default), plain JSON mode
(`json_object`), or nothing (`none`) for servers that reject the field.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from reviewq.critics.base import Failure, sdk_missing
from reviewq.critics.llm import ModelCritic, status_failure
from reviewq.critics.prompting import ANSWER_SCHEMA, AnswerError, ModelAnswer, parse_answer

DEFAULT_MODEL = "gpt-5.5"
KEY_ENV = "OPENAI_API_KEY"
OPENAI_HOST = "api.openai.com"


def is_openai_endpoint(base_url: str | None) -> bool:
    """OpenAI's own API (by host: `https://api.openai.com.evil.example` is not it)."""
    if base_url is None:
        return True

    try:
        return (urlsplit(base_url).hostname or "").lower() == OPENAI_HOST
    except ValueError:
        return False


class OpenAICompatCritic(ModelCritic):
    name = "openai"
    vendor = "OpenAI-compatible"
    json_reply = True

    def __init__(self, *, key_env: str = KEY_ENV, response_format: str = "json_schema", **kw: Any):
        super().__init__(**kw)
        self.key_env = key_env
        self.response_format = response_format

    def _client(self) -> Any:
        try:
            # optional dependency (the openai extra), imported only when this critic runs
            import httpx2
            import openai
        except ImportError:
            raise sdk_missing(self.name, "openai>=3.0") from None

        http_client = (
            openai.DefaultHttpxClient(transport=self._transport)
            if self._transport is not None
            else None
        )
        return openai.OpenAI(
            # Local servers take any key; the SDK insists on one.
            api_key=self._api_key or "no-key-needed",
            base_url=self.base_url,
            max_retries=0,
            timeout=httpx2.Timeout(self.settings.timeout, connect=self.settings.connect_timeout),
            http_client=http_client,
        )

    def _ask(self, client: Any, system: str, user: str, nonce: str) -> ModelAnswer:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        }
        # OpenAI's reasoning models reject max_tokens; older local servers only know it.
        if is_openai_endpoint(self.base_url):
            kwargs["max_completion_tokens"] = self.settings.max_output_tokens
        else:
            kwargs["max_tokens"] = self.settings.max_output_tokens
        if self.response_format == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "critique", "schema": ANSWER_SCHEMA},
            }
        elif self.response_format == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        response = client.chat.completions.create(**kwargs)
        choices = getattr(response, "choices", None)
        if not choices:
            raise AnswerError("the API's reply was not a chat completion (cut off or not JSON)")
        choice = choices[0]
        if choice.finish_reason == "length":
            raise AnswerError(
                f"the answer was cut off at {self.settings.max_output_tokens} tokens; raise "
                "critic.max_output_tokens"
            )
        message = choice.message
        refusal = getattr(message, "refusal", None)
        if refusal:
            raise AnswerError(f"the model refused: {refusal[:120]}")
        content = message.content or ""
        if not content.strip():
            raise AnswerError("the answer is empty")
        return parse_answer(content, nonce)

    def _classify(self, exc: BaseException) -> Failure | None:
        import openai

        where = self.base_url or OPENAI_HOST
        if isinstance(exc, openai.APITimeoutError):
            return Failure(True, f"timed out after {self.settings.timeout:g}s ({where})")
        if isinstance(exc, openai.APIConnectionError):
            return Failure(True, f"cannot reach {where}")
        if isinstance(exc, openai.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error", body) if isinstance(body, dict) else {}
            detail = (
                str(error.get("message") or "") if isinstance(error, dict) else str(error)
            ) or exc.message
            return status_failure(
                self.vendor, exc.status_code, detail, self.key_env, exc.response.headers
            )
        return None
