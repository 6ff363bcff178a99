"""Every marker form of ../shared/reference/ai-markers.md, and every negative, in a real repository.

Each case is one real commit (identities and message exactly as the agent writes them); `reviewq
scan --json` runs as a subprocess and its record for the commit is compared with the expectation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.conftest import Repo, run_reviewq

ADA = ("Ada Lovelace", "ada@example.com")
NOREPLY = "users.noreply.github.com"


@dataclass(frozen=True)
class Case:
    name: str
    message: str
    author: tuple[str, str] = ADA
    committer: tuple[str, str] | None = None
    agent: str | None = None  # None: must not be detected
    model: str | None = None
    family: str | None = None
    role: str = "primary"
    prompted_by: tuple[str, ...] | None = None  # emails


CASES: list[Case] = [
    # Claude Code CLI, with and without a model name
    Case(
        "claude-model",
        "Fix the parser\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n"
        "Co-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>",
        agent="claude-code",
        model="claude-opus-4.5",
        family="anthropic",
        prompted_by=("ada@example.com",),
    ),
    Case(
        "claude-1m-context",
        "Refactor\n\nCo-Authored-By: Claude Opus 4.7 (1M context) <noreply@anthropic.com>",
        agent="claude-code",
        model="claude-opus-4.7",
        family="anthropic",
    ),
    Case(
        "claude-bare",
        "Old trailer\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        agent="claude-code",
        model=None,
        family="anthropic",
    ),
    Case(
        "claude-lowercase-key",
        "Lower key\n\nco-authored-by: Claude Sonnet 4.5 <noreply@anthropic.com>",
        agent="claude-code",
        model="claude-sonnet-4.5",
        family="anthropic",
    ),
    Case(
        "claude-generated-line-only",
        "Only the body line\n\nSome text.\n\n🤖 Generated with [Claude Code](https://claude.ai/code)",
        agent="claude-code",
        family="anthropic",
    ),
    Case(
        "claude-same-paragraph",
        "Marker and trailer in one paragraph\n\n"
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n"
        "Co-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>",
        agent="claude-code",
        model="claude-sonnet-4.5",
        family="anthropic",
    ),
    Case(
        "claude-web-session",
        "From the web\n\nClaude-Session: https://claude.ai/code/session_01ABCdef",
        agent="claude-code",
        family="anthropic",
    ),
    Case(
        "claude-action-bot",
        "Apply review feedback\n\nCo-authored-by: Ada Lovelace <1234+ada@users.noreply.github.com>",
        author=("claude[bot]", f"41898282+claude[bot]@{NOREPLY}"),
        agent="claude-code",
        family="anthropic",
        prompted_by=("1234+ada@users.noreply.github.com",),
    ),
    Case(
        "claude-action-app-id",
        "Fix typo",
        author=("claude[bot]", f"209825114+claude[bot]@{NOREPLY}"),
        agent="claude-code",
        family="anthropic",
    ),
    # aider, three eras
    Case(
        "aider-name-suffix",
        "Add retry loop",
        author=("Ada Lovelace (aider)", "ada@example.com"),
        committer=("Ada Lovelace (aider)", "ada@example.com"),
        agent="aider",
        model=None,
        family="unknown",
        prompted_by=("ada@example.com",),
    ),
    Case(
        "aider-subject-transcript",
        "aider: Add a health endpoint\n\n# Aider chat conversation:\n\nUSER: add /health returning ok\n\n"
        "ASSISTANT: Added it.\n",
        agent="aider",
        family="unknown",
    ),
    Case(
        "aider-coauthor-085",
        "feat: cache lookups\n\nCo-authored-by: aider (anthropic/claude-sonnet-4-20250514) <aider@aider.chat>",
        agent="aider",
        model="anthropic/claude-sonnet-4-20250514",
        family="anthropic",
    ),
    Case(
        "aider-coauthor-083",
        "feat: cache\n\nCo-authored-by: aider (gpt-4o) <noreply@aider.chat>",
        agent="aider",
        model="gpt-4o",
        family="openai",
    ),
    # Codex CLI and cloud
    Case(
        "codex-cli",
        "Handle empty input\n\nCo-authored-by: Codex <noreply@openai.com>",
        agent="codex",
        family="openai",
    ),
    Case(
        "codex-cloud",
        "Implement pagination",
        author=(
            "chatgpt-codex-connector[bot]",
            f"199175422+chatgpt-codex-connector[bot]@{NOREPLY}",
        ),
        agent="codex",
        family="openai",
    ),
    # Copilot: coding agent, CLI, accepted review suggestion (assist)
    Case(
        "copilot-coding-agent",
        "Add input validation\n\n"
        "Agent-Logs-Url: https://github.com/acme/app/sessions/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0\n\n"
        "Co-authored-by: Ada Lovelace <1234+ada@users.noreply.github.com>",
        author=("copilot-swe-agent[bot]", f"198982749+Copilot@{NOREPLY}"),
        agent="copilot",
        family="unknown",
        prompted_by=("1234+ada@users.noreply.github.com",),
    ),
    Case(
        "copilot-cli",
        "Tidy imports\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>",
        agent="copilot",
        family="unknown",
    ),
    Case(
        "copilot-review-suggestion",
        "Update src/app.ts\n\nCo-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
        agent="copilot",
        family="unknown",
        role="assist",
    ),
    # Cursor
    Case(
        "cursor-trailer",
        "Speed up build\n\nCo-authored-by: Cursor <cursoragent@cursor.com>",
        agent="cursor",
        family="unknown",
    ),
    Case(
        "cursor-made-with", "Speed up tests\n\nMade-with: Cursor", agent="cursor", family="unknown"
    ),
    Case(
        "cursor-agent-author",
        "Background agent change",
        author=("Cursor Agent", "cursoragent@cursor.com"),
        agent="cursor",
        family="unknown",
    ),
    # Devin, Jules, Gemini CLI, OpenHands, Amp, Qwen Code, OpenCode, Windsurf, Cline
    Case(
        "devin",
        "fix: parentheses\n\nCo-Authored-By: Ada Lovelace <ada@example.com>",
        author=("Devin AI", f"158243242+devin-ai-integration[bot]@{NOREPLY}"),
        agent="devin",
        family="unknown",
        prompted_by=("ada@example.com",),
    ),
    Case(
        "jules-coauthor",
        "Add docs\n\nCo-authored-by: google-labs-jules[bot] "
        f"<161369871+google-labs-jules[bot]@{NOREPLY}>",
        agent="jules",
        family="google",
        prompted_by=("ada@example.com",),
    ),
    Case(
        "gemini-cli",
        "Generated change\n\nCo-authored-by: gemini-cli <218195315+gemini-cli@users.noreply.github.com>",
        agent="gemini-cli",
        family="google",
    ),
    Case(
        "openhands-identity",
        "Fix lint",
        author=("openhands", "openhands@all-hands.dev"),
        agent="openhands",
        family="unknown",
    ),
    Case(
        "openhands-trailer",
        "Fix lint\n\nCo-authored-by: openhands <openhands@all-hands.dev>",
        agent="openhands",
        family="unknown",
    ),
    Case(
        "amp",
        "Port tests\n\nAmp-Thread-ID: https://ampcode.com/threads/T-5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\n"
        "Co-authored-by: Amp <amp@ampcode.com>",
        agent="amp",
        family="unknown",
    ),
    Case(
        "qwen-code",
        "Refactor\n\nCo-authored-by: Qwen-Coder <qwen-coder@alibabacloud.com>",
        agent="qwen-code",
        family="qwen",
    ),
    Case(
        "opencode",
        "Refactor\n\nCo-authored-by: opencode <noreply@opencode.ai>",
        agent="opencode",
        family="unknown",
    ),
    Case(
        "windsurf",
        "Refactor\n\nCo-authored-by: Windsurf <noreply@codeium.com>",
        agent="windsurf",
        family="unknown",
    ),
    Case(
        "cline",
        "Refactor\n\nCo-authored-by: Cline <noreply@cline.bot>",
        agent="cline",
        family="unknown",
    ),
    # Disclosure trailers
    Case(
        "assisted-by-kernel",
        "mm: fix leak\n\nAssisted-by: Claude:claude-3-opus coccinelle sparse\n"
        "Signed-off-by: Ada Lovelace <ada@example.com>",
        agent="claude-code",
        model="claude-3-opus",
        family="anthropic",
        role="assist",
    ),
    Case(
        "assisted-by-kernel-llm",
        "mm: fix leak\n\nAssisted-by: LLM coccinelle sparse\nSigned-off-by: Ada Lovelace <ada@example.com>",
        agent="other",
        family="unknown",
        role="assist",
    ),
    Case(
        "assisted-by-fedora-generic",
        "Update spec\n\nAssisted-by: generic LLM chatbot",
        agent="other",
        family="unknown",
        role="assist",
    ),
    Case(
        "assisted-by-fedora-chatgpt",
        "Update spec\n\nAssisted-by: ChatGPTv5",
        agent="chatgpt",
        family="openai",
        role="assist",
    ),
    Case(
        "generated-by",
        "Add parser\n\nGenerated-by: GitHub Copilot (gpt-4.1)",
        agent="copilot",
        model="gpt-4.1",
        family="openai",
    ),
    Case(
        "co-authored-by-ai",
        "Add parser\n\nCo-authored-by-AI: GitHub Copilot (gpt-4.1)",
        agent="copilot",
        model="gpt-4.1",
        family="openai",
    ),
    Case(
        "squash-merge-subcommit-trailer",
        "Feature (#12)\n\n* first step\n\n* Update src/a.ts\n\n"
        "Co-authored-by: gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>\n\n"
        "* second step",
        agent="gemini-code-assist",
        family="google",
        role="assist",
    ),
    # Negatives
    Case("human", "Plain human change\n\nJust words."),
    Case(
        "dependabot",
        "Bump x from 1 to 2\n\nSigned-off-by: dependabot[bot] <support@github.com>",
        author=("dependabot[bot]", f"49699333+dependabot[bot]@{NOREPLY}"),
        committer=("GitHub", "noreply@github.com"),
    ),
    Case(
        "renovate",
        "chore(deps): update dependency y to v3",
        author=("renovate[bot]", f"29139614+renovate[bot]@{NOREPLY}"),
    ),
    Case(
        "github-actions",
        "Release notes\n\nCo-authored-by: github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>",
        author=("github-actions[bot]", f"41898282+github-actions[bot]@{NOREPLY}"),
    ),
    Case(
        "aider-committer-only",
        "My own edit",
        committer=("Ada Lovelace (aider)", "ada@example.com"),
    ),
    Case(
        "marker-in-fence",
        "Document trailers\n\nAgents write:\n\n```\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
        "🤖 Generated with [Claude Code](https://claude.com/claude-code)\n```\n",
    ),
    Case(
        "marker-in-tilde-fence",
        "Document trailers\n\n~~~\nCo-authored-by: Codex <noreply@openai.com>\n~~~\n",
    ),
    Case(
        "marker-in-quote",
        "Quote a commit\n\n> Co-authored-by: Codex <noreply@openai.com>\n> Made-with: Cursor\n",
    ),
    Case(
        "marker-in-prose",
        "Explain detection\n\nWhen a commit has\nCo-authored-by: Codex <noreply@openai.com>\nwe count it.",
    ),
    Case("marker-mid-line", "Mention Co-authored-by: Claude <noreply@anthropic.com> inline"),
    Case("generated-by-build-tool", "Regenerate\n\nGenerated-by: make codegen"),
    Case("generated-with-protoc", "Regenerate stubs\n\nGenerated with protoc"),
    Case("assisted-by-person", "Fix\n\nAssisted-by: Grace Hopper <grace@example.com>"),
    Case(
        "human-coauthor",
        "Pair work\n\nCo-authored-by: Grace Hopper <grace@example.com>",
    ),
]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    path = tmp_path_factory.mktemp("markers") / "repo"
    repo = Repo(path)
    shas = {}
    for case in CASES:
        shas[repo.commit(case.message, author=case.author, committer=case.committer)] = case.name
    result = run_reviewq("scan", "--json", cwd=path)
    assert result.returncode == 0, result.stderr
    records = {}
    for line in result.stdout.splitlines():
        record = json.loads(line)
        records[shas[record["sha"]]] = record
    return records


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_marker(case: Case, scanned: dict[str, dict]) -> None:
    record = scanned.get(case.name)
    if case.agent is None:
        assert record is None, f"{case.name} must not be AI-authored: {record}"
        return
    assert record is not None, f"{case.name} was not detected"
    assert record["agent"] == case.agent
    assert record["family"] == case.family
    assert record["role"] == case.role
    if case.model is not None or case.name.endswith("bare"):
        assert record["model"] == case.model
    assert record["evidence"], "a detection always says why"
    if case.prompted_by is not None:
        assert [p["email"] for p in record["prompted_by"]] == list(case.prompted_by)
