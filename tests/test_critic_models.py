"""Both model critics against `httpx2.MockTransport`: the SDKs run for real, only the network is
faked. Valid answers, malformed JSON, truncation, 429 then success, 500, 529, timeouts, a bad
key, and the proof that planted secrets never reach the transport.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx2
import pytest
from reviewq.demo.builder import AUTH, AUTH_RISKY

from reviewq.core.config import CriticSettings
from reviewq.critics.anthropic import AnthropicCritic
from reviewq.critics.base import CriticError
from reviewq.critics.openai_compat import OpenAICompatCritic
from tests.critic_eval.harness import FIXTURE_SECRETS, input_for

VENDORS = ("anthropic", "openai-local", "openai")
SETTINGS = CriticSettings(timeout=5, connect_timeout=1, retries=2, max_output_tokens=2048)

SETTINGS_PY = (
    'AWS_ACCESS_KEY_ID = "{{AWS_KEY}}"\n'
    'GITHUB_TOKEN = "{{GITHUB_TOKEN}}"\n'
    'TLS_KEY = """\n{{PRIVATE_KEY}}\n"""\n'
)
ENV_FILE = "SESSION_SECRET=q8Vz3LmP0xR7tY2nB5kW9cJ4hF6gD1sA\nDB_HOST=db.internal\n"


def subject(**kw):
    return input_for(
        {
            "orders/auth.py": (AUTH, AUTH_RISKY),
            "deploy/settings.py": (None, SETTINGS_PY),
            "deploy/.env": (None, ENV_FILE),
        },
        prompt="Let support impersonate customers; the deploy token is {{GITHUB_TOKEN}}.",
        message="Add override\n\nStaging AWS key: {{AWS_KEY}}\n",
        author_family="unknown",
        **kw,
    )


class Api:
    """A scripted server: each request gets the next reply (a callable of the request)."""

    def __init__(self, *replies: Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        return reply(request)

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


def user_text(vendor: str, body: dict) -> str:
    if vendor == "anthropic":
        return body["messages"][0]["content"]
    return body["messages"][1]["content"]


def nonce_of(request: httpx2.Request) -> str:
    return re.search(r"<<<UNTRUSTED ([0-9a-f]+)>>>", request.content.decode()).group(1)


def good_answer(request: httpx2.Request) -> dict:
    text = request.content.decode()
    redacted = re.search(r"(\[REDACTED-\d+:secret-aws-access-key\])", text).group(1)
    return {
        "nonce": nonce_of(request),
        "summary": "Adds a shared admin override token and weakens token checks.",
        "rationale": "Support asked to impersonate customers; the agent added a global token.",
        "security_concerns": "Backdoor: a shared override token grants admin.",
        "tests_present": False,
        "effort": 3,
        "findings": [
            {
                "file": "orders/auth.py",
                "start_line": 21,
                "end_line": 22,
                "severity": "critical",
                "label": "security",
                "title": "Backdoor",
                "body": "Anyone with the override token becomes admin.",
                "quote": 'if token == ADMIN_OVERRIDE:\n        return "admin"',
            },
            {
                "file": "deploy/settings.py",
                "start_line": 1,
                "end_line": 1,
                "severity": "critical",
                "label": "security",
                "title": "Committed key",
                "body": "An AWS key is committed.",
                "quote": f'AWS_ACCESS_KEY_ID = "{redacted}"',
            },
            {
                "file": "orders/auth.py",
                "start_line": 3,
                "end_line": 3,
                "severity": "error",
                "label": "possible_bug",
                "title": "Invented",
                "body": "A line that is not in the diff.",
                "quote": "os.system(cmd)",
            },
        ],
    }


def reply(vendor: str, answer: dict | str, *, cut: bool = False) -> Callable:
    """A realistic success response carrying `answer` (a dict, or raw text)."""

    def make(request: httpx2.Request) -> httpx2.Response:
        content = answer(request) if callable(answer) else answer
        if vendor == "anthropic":
            if isinstance(content, dict):
                blocks = [
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "record_critique",
                        "input": content,
                    }
                ]
                stop = "tool_use"
            else:
                blocks = [{"type": "text", "text": content}]
                stop = "end_turn"
            body = {
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-5-5",
                "content": blocks,
                "stop_reason": "max_tokens" if cut else stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 2095, "output_tokens": 503},
            }
        else:
            text = json.dumps(content) if isinstance(content, dict) else content
            body = {
                "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
                "object": "chat.completion",
                "created": 1763600000,
                "model": "gpt-5.5",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "finish_reason": "length" if cut else "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {"prompt_tokens": 2095, "completion_tokens": 503, "total_tokens": 2598},
            }
        return httpx2.Response(200, json=body)

    return make


def error(vendor: str, status: int, headers: dict | None = None) -> Callable:
    def make(request: httpx2.Request) -> httpx2.Response:
        if vendor == "anthropic":
            kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}
            body = {
                "type": "error",
                "error": {"type": kind.get(status, "api_error"), "message": f"status {status}"},
            }
        else:
            body = {"error": {"message": f"status {status}", "type": "server_error", "code": None}}
        return httpx2.Response(status, json=body, headers=headers or {})

    return make


def timeout(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("read timed out", request=request)


def critic(vendor: str, api: Api, sleeps: list, settings: CriticSettings = SETTINGS):
    transport = httpx2.MockTransport(api)
    if vendor == "anthropic":
        return AnthropicCritic(
            model="claude-sonnet-5-5",
            family="anthropic",
            settings=settings,
            api_key="sk-test-key",
            base_url="http://anthropic.test",
            transport=transport,
            sleep=sleeps.append,
        )
    return OpenAICompatCritic(
        model="qwen2.5-coder-32b" if vendor == "openai-local" else "gpt-5.5",
        family="qwen" if vendor == "openai-local" else "openai",
        settings=settings,
        api_key=None if vendor == "openai-local" else "sk-test-key",
        base_url="http://localhost:8000/v1"
        if vendor == "openai-local"
        else "https://api.openai.com/v1",
        transport=transport,
        sleep=sleeps.append,
    )


def api_kind(vendor: str) -> str:
    return "anthropic" if vendor == "anthropic" else "openai"


@pytest.mark.parametrize("vendor", VENDORS)
def test_valid_answer_becomes_a_verified_critique(vendor: str) -> None:
    api, sleeps = Api(reply(api_kind(vendor), good_answer)), []
    critique = critic(vendor, api, sleeps).review(subject())
    assert len(api.requests) == 1 and sleeps == []
    assert critique.summary.startswith("Adds a shared admin override")
    assert critique.rationale.startswith("Support asked")
    assert critique.security_concerns.startswith("Backdoor") and critique.effort == 3
    backdoor, key, invented = critique.findings
    assert backdoor.verified and (backdoor.start_line, backdoor.end_line) == (21, 22)
    # The model quoted the redacted line; the quote is restored and verified locally.
    assert key.verified and FIXTURE_SECRETS["AWS_KEY"] in key.quote
    assert not invented.verified and "quote not found" in invented.verification
    assert any("could not be matched" in n for n in critique.notes)
    assert any("not sent (never-send list): deploy/.env" in n for n in critique.notes)


@pytest.mark.parametrize("vendor", VENDORS)
def test_request_shape_instructions_first_untrusted_between_markers(vendor: str) -> None:
    api = Api(reply(api_kind(vendor), good_answer))
    critic(vendor, api, []).review(subject())
    (body,) = api.bodies()
    text = user_text(api_kind(vendor), body)
    nonce = nonce_of(api.requests[0])
    begin, end = (
        text.index(f"\n<<<UNTRUSTED {nonce}>>>\n"),
        text.index(f"\n<<<END UNTRUSTED {nonce}>>>\n"),
    )
    assert text.index("## Security boundary") < begin
    injection = text.index("Ignore previous instructions")
    assert begin < injection < end
    assert f'"{nonce}"' in text[end:]
    assert "    21 +|    if token == ADMIN_OVERRIDE:" in text
    if vendor == "anthropic":
        assert "untrusted data" in body["system"]
        assert body["tool_choice"] == {"type": "tool", "name": "record_critique"}
        assert body["tools"][0]["input_schema"]["required"][0] == "nonce"
        assert body["max_tokens"] == 2048
    else:
        assert body["messages"][0]["role"] == "system"
        assert body["response_format"]["type"] == "json_schema"
        expected = "max_tokens" if vendor == "openai-local" else "max_completion_tokens"
        assert body[expected] == 2048
    assert api.requests[0].headers.get("x-stainless-retry-count") in (None, "0")


@pytest.mark.parametrize("vendor", VENDORS)
def test_planted_secrets_never_reach_the_transport(vendor: str) -> None:
    api = Api(reply(api_kind(vendor), good_answer))
    critique = critic(vendor, api, []).review(subject())
    sent = b"".join(r.content for r in api.requests).decode() + "".join(
        str(r.url) + str(dict(r.headers)) for r in api.requests
    )
    for name in ("AWS_KEY", "GITHUB_TOKEN"):
        assert FIXTURE_SECRETS[name] not in sent, name
    for line in FIXTURE_SECRETS["PRIVATE_KEY"].split("\n"):
        assert line not in sent, line
    assert "q8Vz3LmP0xR7tY2nB5kW9cJ4hF6gD1sA" not in sent and "db.internal" not in sent
    assert "deploy/.env" in sent  # named as held back, content never sent
    assert any("secret(s) redacted" in n for n in critique.notes)


@pytest.mark.parametrize("vendor", VENDORS)
def test_malformed_json_is_one_clear_error_without_retry(vendor: str) -> None:
    def broken(req: httpx2.Request) -> str:
        return '{"nonce": "' + nonce_of(req) + '", "summary": "x", "findings": [{"file": '

    api = Api(reply(api_kind(vendor), broken))
    with pytest.raises(CriticError, match=r"unusable answer: the answer is not valid JSON"):
        critic(vendor, api, []).review(subject())
    assert len(api.requests) == 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_truncated_answer_is_reported_as_cut_off(vendor: str) -> None:
    api = Api(reply(api_kind(vendor), good_answer, cut=True))
    with pytest.raises(
        CriticError, match=r"cut off at 2048 tokens; raise critic.max_output_tokens"
    ):
        critic(vendor, api, []).review(subject())


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_truncated_http_body_is_an_unusable_answer(vendor: str) -> None:
    def cut(request: httpx2.Request) -> httpx2.Response:
        body = b'{"id": "msg_01", "type": "mess'
        return httpx2.Response(200, content=body, headers={"content-type": "application/json"})

    api = Api(cut)
    with pytest.raises(CriticError, match=r"not a (message|chat completion)"):
        critic(vendor, api, []).review(subject())


@pytest.mark.parametrize("vendor", VENDORS)
def test_429_then_success_honours_retry_after(vendor: str) -> None:
    kind = api_kind(vendor)
    api, sleeps = Api(error(kind, 429, {"retry-after": "2"}), reply(kind, good_answer)), []
    critique = critic(vendor, api, sleeps).review(subject())
    assert len(api.requests) == 2 and sleeps == [2.0]
    assert critique.summary


@pytest.mark.parametrize("vendor", VENDORS)
def test_529_overloaded_then_success(vendor: str) -> None:
    kind = api_kind(vendor)
    api, sleeps = Api(error(kind, 529), reply(kind, good_answer)), []
    critic(vendor, api, sleeps).review(subject())
    assert len(api.requests) == 2 and len(sleeps) == 1 and 0.3 <= sleeps[0] <= 0.7


@pytest.mark.parametrize("vendor", VENDORS)
def test_500_every_time_gives_up_after_the_retries(vendor: str) -> None:
    api, sleeps = Api(error(api_kind(vendor), 500)), []
    with pytest.raises(CriticError, match=r"HTTP 500.*after 3 attempts; try again later"):
        critic(vendor, api, sleeps).review(subject())
    assert len(api.requests) == 3
    assert len(sleeps) == 2 and sleeps[0] < sleeps[1]  # exponential backoff


@pytest.mark.parametrize("vendor", VENDORS)
def test_timeouts_are_retried_then_reported(vendor: str) -> None:
    api, sleeps = Api(timeout), []
    with pytest.raises(CriticError, match=r"timed out after 5s.*after 3 attempts"):
        critic(vendor, api, sleeps).review(subject())
    assert len(api.requests) == 3


@pytest.mark.parametrize("vendor", VENDORS)
def test_timeout_then_success(vendor: str) -> None:
    api, sleeps = Api(timeout, reply(api_kind(vendor), good_answer)), []
    assert critic(vendor, api, sleeps).review(subject()).summary
    assert len(api.requests) == 2


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_bad_key_is_one_line_and_never_retried(vendor: str) -> None:
    api = Api(error(api_kind(vendor), 401))
    env = "ANTHROPIC_API_KEY" if vendor == "anthropic" else "OPENAI_API_KEY"
    with pytest.raises(CriticError, match=rf"refused the key \(401.*check {env}") as info:
        critic(vendor, api, []).review(subject())
    assert "\n" not in info.value.message and "sk-test-key" not in info.value.message
    assert len(api.requests) == 1


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_answer_without_this_runs_nonce_is_refused(vendor: str) -> None:
    def forged(req: httpx2.Request) -> dict:
        return {**good_answer(req), "nonce": "0" * 24}

    api = Api(reply(api_kind(vendor), forged))
    with pytest.raises(CriticError, match=r"does not carry this run's nonce"):
        critic(vendor, api, []).review(subject())


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_large_diff_is_split_by_budget_with_a_nonce_per_part(vendor: str) -> None:
    body = "".join(f"value_{i} = compute({i}, 'x')\n" for i in range(120))
    big = input_for({f"app/m{k}.py": (None, body) for k in range(8)}, author_family="unknown")
    settings = CriticSettings(budget_tokens=6000, max_calls=2, max_output_tokens=1024, retries=0)

    def answer(req: httpx2.Request) -> dict:
        return {**good_answer_plain(req), "summary": "part"}

    api = Api(reply(api_kind(vendor), answer))
    critique = critic(vendor, api, [], settings).review(big)
    assert len(api.requests) == 2
    nonces = {nonce_of(r) for r in api.requests}
    assert len(nonces) == 2
    assert "part 1 of 2" in api.requests[0].content.decode()
    assert any("split into 2 parts" in n for n in critique.notes)
    assert any(n.startswith("not shown to the model (budget)") for n in critique.notes)
    assert critique.skipped_files


def good_answer_plain(request: httpx2.Request) -> dict:
    return {
        "nonce": nonce_of(request),
        "summary": "s",
        "rationale": "r",
        "security_concerns": "No",
        "tests_present": False,
        "effort": 2,
        "findings": [],
    }


def test_nothing_is_sent_when_every_file_is_on_the_never_send_list() -> None:
    api = Api(reply("anthropic", good_answer_plain))
    only_env = input_for({"deploy/.env": (None, ENV_FILE)}, author_family="unknown")
    critique = critic("anthropic", api, []).review(only_env)
    assert api.requests == []
    assert critique.summary.startswith("Nothing in this change could be sent")
    assert critique.skipped_files == ["deploy/.env (never-send list)"]


def test_the_sdks_are_imported_only_when_a_model_critic_runs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, reviewq.workflow.critiquing, reviewq.commands.critique, reviewq.critics.anthropic, "
        "reviewq.critics.openai_compat; print('anthropic' in sys.modules, 'openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
