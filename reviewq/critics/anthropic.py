"""The Anthropic critic: a Claude model reads the diff and answers through a forced tool call.

The SDK (about 2.8 s to import) is imported inside `_client()` only. Structured output is a
forced tool (`tool_choice` names `record_critique`), which every current model supports; the
answer is validated by `prompting.parse_answer`, not trusted. The SDK's own retries are off:
`call_with_retries` retries 429, 5xx, 529 and timeouts the same way for every vendor.
"""

from __future__ import annotations

from typing import Any

from reviewq.critics.base import Failure, sdk_missing
from reviewq.critics.llm import ModelCritic, status_failure
from reviewq.critics.prompting import (
    ANSWER_SCHEMA,
    TOOL_NAME,
    AnswerError,
    ModelAnswer,
    parse_answer,
)

DEFAULT_MODEL = "claude-sonnet-5-5"
KEY_ENV = "ANTHROPIC_API_KEY"
API_HOST = "api.anthropic.com"


class AnthropicCritic(ModelCritic):
    name = "anthropic"
    vendor = "Anthropic"
    json_reply = False

    def __init__(self, *, key_env: str = KEY_ENV, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_env = key_env

    def _client(self) -> Any:
        try:
            # start-up: the SDK and httpx load only when this critic runs
            import anthropic
            import httpx2
        except ImportError:
            raise sdk_missing(self.name, "anthropic>=2.0") from None

        http_client = (
            anthropic.DefaultHttpxClient(transport=self._transport)
            if self._transport is not None
            else None
        )
        return anthropic.Anthropic(
            api_key=self._api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=httpx2.Timeout(self.settings.timeout, connect=self.settings.connect_timeout),
            http_client=http_client,
        )

    def _ask(self, client: Any, system: str, user: str, nonce: str) -> ModelAnswer:
        response = client.messages.create(
            model=self.model,
            max_tokens=self.settings.max_output_tokens,
            system=system,
            messages=[{"role": "user", "content": user}],
            tools=[
                {
                    "name": TOOL_NAME,
                    "description": "Record the critique of the change. Call exactly once.",
                    "input_schema": ANSWER_SCHEMA,
                }
            ],
            tool_choice={"type": "tool", "name": TOOL_NAME},
        )
        content = getattr(response, "content", None)
        if not isinstance(content, list):
            # The SDK hands back the raw text when the body is not a JSON message.
            raise AnswerError("the API's reply was not a message (cut off or not JSON)")
        if getattr(response, "stop_reason", None) == "max_tokens":
            raise AnswerError(
                f"the answer was cut off at {self.settings.max_output_tokens} tokens; raise "
                "critic.max_output_tokens"
            )
        for block in content:
            if getattr(block, "type", None) == "tool_use" and block.name == TOOL_NAME:
                if not isinstance(block.input, dict):
                    raise AnswerError("the tool call's input is not an object")
                return parse_answer(block.input, nonce)
        text = "".join(getattr(b, "text", "") for b in content if getattr(b, "type", "") == "text")
        if not text.strip():
            raise AnswerError("the answer holds neither the tool call nor text")
        return parse_answer(text, nonce)

    def _classify(self, exc: BaseException) -> Failure | None:
        import anthropic

        if isinstance(exc, anthropic.APITimeoutError):
            return Failure(True, f"timed out after {self.settings.timeout:g}s")
        if isinstance(exc, anthropic.APIConnectionError):
            return Failure(True, f"cannot reach {self.base_url or 'api.anthropic.com'}")
        if isinstance(exc, anthropic.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            detail = f"{error.get('type', '')} {error.get('message', '')}".strip() or exc.message
            return status_failure(
                self.vendor, exc.status_code, detail, self.key_env, exc.response.headers
            )
        return None
