"""A critic's family comes from its model's name; `[critic.*] family` cannot relabel it.

Issue 14, item 5: `[critic.openai] family = "openai"` with a `claude-*` model made a Claude
critique count as second-family on a Claude-authored change. The real CLI on a real repository,
against a real local OpenAI-compatible server.
"""

from __future__ import annotations

import json

import pytest

from reviewq.workflow.critiquing import critic_family
from tests.fake_model import FakeModel

CLAUDE_TRAILER = "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>"


def _config(model: FakeModel, name: str, family: str) -> str:
    return (
        "\n[critic]\ntimeout = 5\nconnect_timeout = 2\nretries = 0\n\n[critic.openai]\n"
        f'base_url = "{model.url}"\nmodel = "{name}"\nfamily = "{family}"\n'
        'response_format = "json_object"\n'
    )


@pytest.fixture
def claude_change(repo):
    sha = repo.commit(
        f"Add a helper\n\n{CLAUDE_TRAILER}\n", files={"app/util.py": "def f():\n    return 1\n"}
    )
    return repo, sha


def test_a_claude_model_relabelled_openai_is_still_refused_on_a_claude_change(
    cli, claude_change
) -> None:
    repo, sha = claude_change
    with FakeModel() as model:
        (repo.path / ".reviewq.toml").write_text(_config(model, "claude-sonnet-5-5", "openai"))
        out = cli("critique", sha, "--critic", "openai", "--json", cwd=repo.path)
        assert out.returncode == 2, out.stdout
        assert out.stderr.startswith("reviewq: refusing the openai critic (claude-sonnet-5-5)")
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
        assert model.requests == []  # nothing was sent to the model
        # Allowed explicitly, the record keeps the model and the family its name gives.
        out = cli(
            "critique", sha, "--critic", "openai", "--json", "--allow-same-family", cwd=repo.path
        )
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["model"] == "claude-sonnet-5-5"
    assert record["family"] == "anthropic" and record["author_family"] == "anthropic"
    assert record["same_family_allowed"] is True
    assert (
        "config family openai ignored: the model claude-sonnet-5-5 is anthropic" in record["notes"]
    )


def test_the_configured_family_fills_in_only_for_a_model_that_names_none(
    cli, claude_change
) -> None:
    repo, sha = claude_change
    with FakeModel() as model:
        (repo.path / ".reviewq.toml").write_text(_config(model, "house-finetune-7b", "qwen"))
        out = cli("critique", sha, "--critic", "openai", "--json", cwd=repo.path)
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["model"] == "house-finetune-7b" and record["family"] == "qwen"
    assert record["same_family_allowed"] is False
    # the record says the family is the config's word, not the model's
    assert any(n.startswith("critic family qwen is the config's word") for n in record["notes"])


@pytest.mark.parametrize(
    ("model", "configured", "family"),
    [
        ("claude-sonnet-5-5", "openai", "anthropic"),
        ("openrouter/anthropic/claude-3.5-sonnet", "google", "anthropic"),
        ("gpt-5.5", "anthropic", "openai"),
        ("Qwen2.5-Coder-32B", "openai", "qwen"),
        ("house-finetune-7b", "mistral", "mistral"),
        ("house-finetune-7b", None, "other"),
    ],
)
def test_critic_family_rule(model: str, configured: str | None, family: str) -> None:
    assert critic_family(model, configured) == family
