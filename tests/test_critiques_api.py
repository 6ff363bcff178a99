"""The shell API the TUI and CLI call: family guard, caching, failures, the rationale pane."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import pytest

from reviewq.context import Context
from reviewq.core.config import CriticSettings, ModelCriticSettings
from reviewq.critics.base import CriticError
from reviewq.workflow.critiquing import (
    TABLE,
    cached_critique,
    critique_change,
    get_critique,
    make_critic,
    rationale_for,
)
from tests.critic_eval.demo_changes import CLAUDE, DEVIN, EXPORT, change

KEY = {"ANTHROPIC_API_KEY": "sk-test"}


@pytest.fixture
def ctx(demo_repo: Path):
    context = Context.open(demo_repo)
    yield context
    context.close()


class Server:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx2.Response(
                self.status,
                json={"type": "error", "error": {"type": "api_error", "message": "boom"}},
            )
        nonce = re.search(r"<<<UNTRUSTED ([0-9a-f]+)>>>", request.content.decode()).group(1)
        answer = {
            "nonce": nonce,
            "summary": "Model summary.",
            "rationale": "Model rationale: why the change is shaped this way.",
            "security_concerns": "No",
            "tests_present": True,
            "effort": 2,
            "findings": [],
        }
        return httpx2.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-5-5",
                "content": [
                    {"type": "tool_use", "id": "t", "name": "record_critique", "input": answer}
                ],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        )

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)


def run_anthropic(ctx, subject, server, **kw):
    return critique_change(
        ctx,
        change(ctx, subject),
        critic="anthropic",
        env=KEY,
        transport=server.transport,
        sleep=lambda s: None,
        **kw,
    )


def test_model_critique_is_stamped_cached_and_not_rerun(ctx: Context) -> None:
    server = Server()
    critique, cached = run_anthropic(ctx, DEVIN, server)
    assert not cached and len(server.requests) == 1
    assert (critique.critic, critique.family, critique.model) == (
        "anthropic",
        "anthropic",
        "claude-sonnet-5-5",
    )
    assert critique.author_family == "unknown" and "any critic is allowed" in critique.family_check
    assert critique.sha and critique.change_id == critique.sha and critique.created_at
    again, cached = run_anthropic(ctx, DEVIN, server)
    assert cached and again == critique and len(server.requests) == 1
    _, cached = run_anthropic(ctx, DEVIN, server, refresh=True)
    assert not cached and len(server.requests) == 2


def test_same_family_is_refused_before_anything_is_sent(ctx: Context) -> None:
    server = Server()
    with pytest.raises(CriticError, match=r"author's own family.*--allow-same-family") as info:
        run_anthropic(ctx, CLAUDE, server)
    assert server.requests == []
    assert "\n" not in info.value.message


def test_same_family_allowed_is_recorded(ctx: Context) -> None:
    critique, _ = run_anthropic(ctx, CLAUDE, Server(), allow_same_family=True)
    assert critique.same_family_allowed is True
    assert "explicitly allowed" in critique.family_check
    assert critique.to_json()["same_family_allowed"] is True


def test_a_failing_api_caches_nothing(ctx: Context) -> None:
    server = Server(status=500)
    with pytest.raises(CriticError, match=r"HTTP 500"):
        run_anthropic(ctx, DEVIN, server)
    assert len(server.requests) == CriticSettings().retries + 1
    assert ctx.cache.items(TABLE) == []
    assert cached_critique(ctx, change(ctx, DEVIN)) is None


def test_missing_key_is_reported_after_the_guard_and_before_any_request(ctx: Context) -> None:
    with pytest.raises(CriticError, match=r"needs an API key: export ANTHROPIC_API_KEY"):
        critique_change(ctx, change(ctx, DEVIN), critic="anthropic", env={})
    with pytest.raises(CriticError, match=r"author's own family"):
        critique_change(ctx, change(ctx, CLAUDE), critic="anthropic", env={})


def test_without_a_critic_any_cached_one_is_shown_and_the_default_preferred(ctx: Context) -> None:
    c = change(ctx, DEVIN)
    assert cached_critique(ctx, c) is None
    run_anthropic(ctx, DEVIN, Server())
    assert cached_critique(ctx, c).critic == "anthropic"
    shown, cached = critique_change(ctx, c)  # no critic named: the cached one, at once
    assert cached and shown.critic == "anthropic"
    static = get_critique(ctx, c, critic="static")
    assert static.critic == "static"
    assert cached_critique(ctx, c).critic == "static"  # the configured default wins
    assert cached_critique(ctx, c, critic="anthropic").critic == "anthropic"


def test_rationale_pane_before_and_after_a_model_ran(ctx: Context) -> None:
    c = change(ctx, DEVIN)
    before = rationale_for(ctx, c)
    assert before.model_rationale is None
    auth = next(f for f in before.files if f.path == "orders/auth.py")
    assert auth.method == "ast" and any(
        s.name == "verify" and s.change == "changed" for s in auth.symbols
    )
    assert "admin override" in before.message_body
    run_anthropic(ctx, DEVIN, Server())
    after = rationale_for(ctx, c)
    assert after.model_rationale.startswith("Model rationale")
    assert after.model_critic == "anthropic claude-sonnet-5-5"
    assert "Model rationale (anthropic claude-sonnet-5-5):" in after.to_text()
    json.dumps(after.to_json())


def test_model_choice_order_flag_env_config_default(ctx: Context) -> None:
    assert make_critic(ctx, "anthropic", env=KEY).model == "claude-sonnet-5-5"
    env = {**KEY, "REVIEWQ_ANTHROPIC_MODEL": "claude-opus-5"}
    assert make_critic(ctx, "anthropic", env=env).model == "claude-opus-5"
    assert (
        make_critic(ctx, "anthropic", env=env, model="claude-haiku-5-5").model == "claude-haiku-5-5"
    )


def test_openai_compatible_local_server_needs_no_key_but_a_model(ctx: Context) -> None:
    from dataclasses import replace

    local = CriticSettings(openai=ModelCriticSettings(base_url="http://127.0.0.1:11434/v1"))
    ctx.config = replace(ctx.config, sections={**ctx.config.sections, "critic": local})
    with pytest.raises(CriticError, match=r"name the model served at http://127.0.0.1:11434/v1"):
        make_critic(ctx, "openai", env={})
    critic = make_critic(ctx, "openai", env={}, model="qwen2.5-coder:32b")
    assert critic.family == "qwen" and critic.base_url == "http://127.0.0.1:11434/v1"
    named = CriticSettings(
        openai=ModelCriticSettings(
            base_url="http://127.0.0.1:8000/v1", model="local-model", family="mistral"
        )
    )
    ctx.config = replace(ctx.config, sections={**ctx.config.sections, "critic": named})
    assert make_critic(ctx, "openai", env={}).family == "mistral"


def test_official_openai_without_a_key_fails_when_run(ctx: Context) -> None:
    critic = make_critic(ctx, "openai", env={})
    assert critic.family == "openai" and critic.model == "gpt-5.5"
    with pytest.raises(CriticError, match=r"needs an API key for api.openai.com"):
        critique_change(ctx, change(ctx, EXPORT), critic="openai", env={}, allow_same_family=True)


def test_static_critic_takes_no_model(ctx: Context) -> None:
    with pytest.raises(CriticError, match=r"no model"):
        make_critic(ctx, "static", model="x")
