"""Today's agents' own markers (issue 15), each in the exact form the agent writes it, and the
generic long-tail rules, with the negatives that keep them precise. One real repository, one
`reviewq scan --json` subprocess, every case checked against its record.

Sources for each form are in docs/detection.md ("Where each marker comes from").
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import Repo, run_reviewq
from tests.test_detect_markers import ADA, NOREPLY, Case

CASES: list[Case] = [
    # Codex: its own identity, as author and as co-author
    Case(
        "codex-author",
        "Add retries",
        author=("Codex", "codex@openai.com"),
        committer=("Ada Lovelace", "ada@example.com"),
        agent="codex",
        family="openai",
    ),
    Case(
        "codex-coauthor-own-address",
        "Add retries\n\nCo-authored-by: Codex <codex@openai.com>",
        agent="codex",
        family="openai",
    ),
    # OpenHands: OpenDevin's sandbox identity, OpenHands-<Model> names (the model gives family)
    Case(
        "opendevin-identity",
        "Fix lint",
        author=("OpenDevin", "opendevin@all-hands.dev"),
        agent="openhands",
        family="unknown",
    ),
    Case(
        "openhands-model-author",
        "Fix lint",
        author=("OpenHands-GPT-5", "openhands@all-hands.dev"),
        agent="openhands",
        model="gpt-5",
        family="openai",
    ),
    Case(
        "openhands-model-coauthor",
        "Fix lint\n\nCo-authored-by: OpenHands-Claude <openhands-claude@all-hands.dev>",
        agent="openhands",
        family="anthropic",
    ),
    Case(
        "openhands-model-coauthor-no-brackets",
        "Fix lint\n\nCo-authored-by: OpenHands-GPT-4.1 openhands@all-hands.dev",
        agent="openhands",
        model="gpt-4.1",
        family="openai",
    ),
    # Gemini CLI's own address; its release robot is not the agent
    Case(
        "gemini-cli-address",
        "Add test\n\nCo-authored-by: Gemini CLI <gemini-cli@google.com>",
        agent="gemini-cli",
        family="google",
    ),
    Case(
        "gemini-cli-robot-release",
        "chore(release): v0.9.0\n\nCo-authored-by: gemini-cli-robot <gemini-cli-robot@google.com>",
        author=("gemini-cli-robot", "gemini-cli-robot@google.com"),
    ),
    # Devin's integration login without the [bot] suffix
    Case(
        "devin-login-without-bot",
        "Add endpoint",
        author=("Devin AI", f"158243242+devin-ai-integration@{NOREPLY}"),
        agent="devin",
        family="unknown",
    ),
    # OpenCode
    Case(
        "opencode-agent-bot",
        "Refactor\n\nCo-authored-by: opencode <opencode-agent[bot]@users.noreply.github.com>",
        agent="opencode",
        family="unknown",
    ),
    Case(
        "opencode-agent-author",
        "Refactor",
        author=("opencode-agent[bot]", f"219766164+opencode-agent[bot]@{NOREPLY}"),
        agent="opencode",
        family="unknown",
    ),
    # Crush (charmbracelet/crush internal/agent/tools/bash.tpl): tool and model apart
    Case(
        "crush-coauthor",
        "Fix\n\n💘 Generated with Crush\n\nCo-Authored-By: Crush <crush@charm.land>",
        agent="crush",
        family="unknown",
    ),
    Case(
        "crush-assisted-via",
        "Fix\n\n💘 Generated with Crush\n\n"
        "Assisted-by: Claude Opus 4.6 via Crush <crush@charm.land>",
        agent="crush",
        model="claude-opus-4.6",
        family="anthropic",
    ),
    Case(
        "crush-assisted-via-glm",
        "Fix\n\nAssisted-by: GLM-5 via Crush <crush@charm.land>",
        agent="crush",
        model="glm-5",
        family="zhipu",
        role="assist",
    ),
    Case(
        "crush-assisted-colon-display-name",
        "Fix\n\nAssisted-by: Crush:AWS Claude Opus 4.6",
        agent="crush",
        model="claude-opus-4.6",
        family="anthropic",
        role="assist",
    ),
    Case(
        "crush-assisted-colon-id",
        "Fix\n\nAssisted-by: Crush:qwen3.7-max",
        agent="crush",
        model="qwen3.7-max",
        family="qwen",
        role="assist",
    ),
    # Amp, Factory's Droid, Warp's Oz, Roo Code's Roomote, Kilo Code, Nori, Ona
    Case(
        "droid-address",
        "Port\n\nCo-authored-by: Droid <droid@factory.ai>",
        agent="factory-droid",
        family="unknown",
    ),
    Case(
        "droid-bot",
        f"Port\n\nCo-authored-by: factory-droid[bot] <138933559+factory-droid[bot]@{NOREPLY}>",
        agent="factory-droid",
        family="unknown",
    ),
    Case(
        "warp-oz",
        "Migrate\n\nCo-Authored-By: Oz <oz-agent@warp.dev>",
        agent="warp",
        family="unknown",
    ),
    Case(
        "warp-agent",
        "Migrate\n\nCo-Authored-By: Warp <agent@warp.dev>",
        agent="warp",
        family="unknown",
    ),
    Case(
        "roomote-identity",
        "Fix workflow",
        author=("Roo Code", "roomote@roocode.com"),
        agent="roo-code",
        family="unknown",
    ),
    Case(
        "roomote-v0-bot",
        "Fix workflow",
        author=("roomote-v0[bot]", f"219738659+roomote-v0[bot]@{NOREPLY}"),
        agent="roo-code",
        family="unknown",
    ),
    Case(
        "kilo-code",
        "Refactor\n\nCo-authored-by: KiloCode <noreply@kilocode.ai>",
        agent="kilo-code",
        family="unknown",
    ),
    Case(
        "nori",
        "Fix\n\n🤖 Generated with [Nori](https://nori.ai)\n\n"
        "Co-Authored-By: Nori <contact@tilework.tech>",
        agent="nori",
        family="unknown",
    ),
    Case(
        "ona",
        "Add section\n\nCo-authored-by: Ona <no-reply@ona.com>",
        agent="ona",
        family="unknown",
    ),
    # Gas Town: crew identities and its Executed-By trailer
    Case(
        "gastown-crew-author",
        "Fix convoy",
        author=("gastown/crew/max", "steve@example.com"),
        committer=("Steve", "steve@example.com"),
        agent="gastown",
        family="unknown",
    ),
    Case(
        "gastown-mayor",
        "Sling beads",
        author=("mayor", "steve@example.com"),
        committer=("beads/crew/dave", "steve@example.com"),
        agent="gastown",
        family="unknown",
    ),
    Case(
        "gastown-executed-by",
        "Fix\n\nExecuted-By: gastown/crew/zhora",
        author=("zhora", "chris@example.com"),
        agent="gastown",
        family="unknown",
    ),
    Case(
        "gastown-crew-with-claude-trailer",
        "Fix\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>",
        author=("gastown/crew/max", "steve@example.com"),
        agent="claude-code",  # the stronger marker names the agent that wrote it
        model="claude-opus-4.6",
        family="anthropic",
    ),
    # Claude-Plan: a trailer that opens a multi-line block; markers inside the block don't count
    Case(
        "claude-plan-tagged-block",
        "Add cache\n\nClaude-Session: https://claude.ai/code/session_01\nClaude-Plan:\n"
        "<claude-plan>\n# Plan\n\nCo-authored-by: Codex <noreply@openai.com>\n\n1. add it\n"
        "</claude-plan>",
        agent="claude-code",
        family="anthropic",
    ),
    Case(
        "claude-plan-trailer-opens-paragraph",
        "Add cache\n\nCo-Authored-By: Claude Sonnet 4.6 <noreply@anthropic.com>\nClaude-Plan:\n"
        "1. read the code\n2. add the cache",
        agent="claude-code",
        model="claude-sonnet-4.6",
        family="anthropic",
    ),
    Case(
        "marker-only-inside-a-tagged-block",
        "Document the plan\n\n<claude-plan>\nCo-authored-by: Codex <noreply@openai.com>\n"
        "</claude-plan>",
    ),
    # Final blocks as agents really leave them (seen in public history)
    Case(
        "trailer-before-bot-html-badge",
        "Harden scripts\n\n- use mktemp\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\n"
        '<!-- devin-review-badge-begin -->\n\n---\n<a href="https://app.devin.ai/review/x">Open</a>',
        agent="claude-code",
        model="claude-opus-4.6",
        family="anthropic",
    ),
    Case(
        "trailer-with-own-attribution-line",
        "Fix done\n\nCo-authored-by: Claude Opus 4.6 <noreply@anthropic.com>\n"
        "Co-authored by [Claude: ce568489-43a4-4050-8a9d-d7d3d5db12f1]",
        agent="claude-code",
        model="claude-opus-4.6",
        family="anthropic",
    ),
    Case(
        "trailer-then-heredoc-leftovers",
        "Add docs\n\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>\nEOF\n)",
        agent="claude-code",
        model="claude-opus-4.6",
        family="anthropic",
    ),
    Case(
        "crush-provider-prefixed-model",
        "Fix\n\n💘 Generated with Crush\n\nAssisted-by: Z.ai: GLM 5.1 via Crush <crush@charm.land>",
        agent="crush",
        model="glm-5.1",
        family="zhipu",
    ),
    Case(
        "prose-final-paragraph-quoting-a-trailer",
        "Explain\n\nWe saw this line in a commit\nCo-authored-by: Codex <noreply@openai.com>\n"
        "and it is how Codex signs.",
    ),
    # Medium evidence loses to a stronger agent marker in the same commit
    Case(
        "made-with-cursor-loses-to-claude",
        "Fix\n\nMade-with: Cursor\nCo-Authored-By: Claude Opus 4.6 <noreply@anthropic.com>",
        agent="claude-code",
        model="claude-opus-4.6",
        family="anthropic",
    ),
    # Generic long-tail rules
    Case(
        "generic-emoji-generated-with",
        "Fix\n\n✨ Generated with Zed Agent",
        agent="zed-agent",
        family="unknown",
    ),
    Case(
        "generic-model-named-coauthor",
        "Fix\n\nCo-authored-by: GPT-5.1 Codex <bot@tools.example>",
        agent="other",
        model="gpt-5.1-codex",
        family="openai",
    ),
    Case(
        "generic-claude-model-coauthor",
        "Fix\n\nCo-authored-by: Claude Sonnet 4.5 <assistant@corp.example>",
        agent="claude-code",
        model="claude-sonnet-4.5",
        family="anthropic",
    ),
    Case(
        "generic-ai-assisted-model",
        "Fix\n\nAI-assisted: GPT-4o",
        agent="other",
        model="gpt-4o",
        family="openai",
        role="assist",
    ),
    Case(
        "generic-agent-bot-login",
        "Fix",
        author=("acme-coding-agent[bot]", f"1234+acme-coding-agent[bot]@{NOREPLY}"),
        agent="acme-coding-agent",
        family="unknown",
    ),
    # Forms observed in public commits by other agents
    Case(
        "harness-on-model-vendor-address",
        "Fix\n\nCo-authored-by: goose <noreply@anthropic.com>",
        agent="goose",
        family="unknown",
    ),
    Case("kiro", "Fix\n\nCo-Authored-By: Kiro <noreply@kiro.dev>", agent="kiro", family="unknown"),
    Case(
        "trae-cli",
        "Fix\n\nCo-authored-by: TRAE CLI <traecli@bytedance.com>",
        agent="trae",
        family="unknown",
    ),
    Case(
        "windsurf-cascade-author",
        "Fix",
        author=("Cascade", "cascade@windsurf.ai"),
        agent="windsurf",
        family="unknown",
    ),
    Case(
        "replit-checkpoint",
        "Checkpoint\n\nReplit-Commit-Author: Agent",
        agent="replit",
        family="unknown",
    ),
    Case("replit-user-checkpoint", "Checkpoint\n\nReplit-Commit-Author: User"),
    Case(
        "codex-kernel-assisted-by",
        "pwm: fix a thing\n\nAssisted-by: Codex:gpt-5.6-sol",
        agent="codex",
        model="gpt-5.6-sol",
        family="openai",
        role="assist",
    ),
    Case(
        "copilot-agent-on-review-address",
        "Add endpoint",
        author=("copilot-swe-agent", "copilot@github.com"),
        agent="copilot",
        family="unknown",
    ),
    Case(
        "squash-dashes-then-trailer",
        "feat: squashed (#12)\n\n* one\n* two\n\n---------\nCo-authored-by: Codex <noreply@openai.com>",
        agent="codex",
        family="openai",
    ),
    Case(
        "opencode-model-in-parens",
        "Fix\n\nCo-authored-by: OpenCode (glm-5) <noreply@opencode.ai>",
        agent="opencode",
        model="glm-5",
        family="zhipu",
    ),
    Case(
        "generic-agent-address",
        "Fix\n\nCo-authored-by: Helper <build-agent@acme.dev>",
        agent="acme",
        family="unknown",
    ),
    Case(
        "generic-agent-named-identity",
        "Fix parser",
        author=("joestump-agent", "agent@stump.example-host.dev"),
        agent="joestump-agent",
        family="unknown",
    ),
    Case(
        "generic-reviewing-bot-assists",
        "Apply suggestion\n\nCo-authored-by: acme-ai-review[bot] "
        f"<1+acme-ai-review[bot]@{NOREPLY}>",
        agent="acme-ai-review",
        family="unknown",
        role="assist",
    ),
    # Negatives: people and tools that merely look like the rules
    Case("person-surnamed-agent", "Fix\n\nCo-authored-by: Jane Agent <jane.agent@acme.io>"),
    Case(
        "person-called-claude-2019",
        "feat: a thing\n\nCo-Authored-By: Claude Dioudonnat <claude@dioudonnat.fr>",
    ),
    Case("assisted-by-people", "Docs\n\nAssisted-by: Daniel Gustafsson\nAssisted-by: Rich Salz"),
    Case("placeholder-agent", "x\n\nCo-authored-by: Debug Agent <debug@example.com>"),
    Case(
        "vendor-employee", "fix: adjust the retry backoff", author=("Boris", "boris@anthropic.com")
    ),
    Case("person-named-claude", "Pair\n\nCo-authored-by: Claude Martin <claude@example.com>"),
    Case("person-named-kiro", "Pair\n\nCo-authored-by: Kiro Tanaka <kiro@example.com>"),
    Case(
        "claude-shannon-elsewhere",
        "Pair\n\nCo-authored-by: Claude <claude.shannon@bell-labs.example>",
    ),
    Case("plain-generated-with", "Regenerate\n\nGenerated with protoc"),
    Case(
        "non-agent-bot",
        "Autofix",
        author=("aikido-autofix[bot]", f"119856028+aikido-autofix[bot]@{NOREPLY}"),
    ),
    Case("human-mentions-claude", "Explain why claude models time out\n\nThe claude-3 API..."),
    Case(
        "trailer-then-prose-is-prose",
        "Explain\n\nCo-authored-by: Codex <noreply@openai.com> is what Codex adds\nwhen it commits.",
    ),
    Case("person-named-mayor-capitalised", "Fix", author=("Mayor", "mayor@example.com")),
    Case("executed-by-a-ci-job", "Fix\n\nExecuted-By: nightly build"),
]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    path = tmp_path_factory.mktemp("agents") / "repo"
    repo = Repo(path)
    shas = {}
    for case in CASES:
        shas[repo.commit(case.message, author=case.author, committer=case.committer)] = case.name
    result = run_reviewq("scan", "--json", cwd=path)
    assert result.returncode == 0, result.stderr
    return {shas[r["sha"]]: r for r in map(json.loads, result.stdout.splitlines())}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_agent_marker(case: Case, scanned: dict[str, dict]) -> None:
    record = scanned.get(case.name)
    if case.agent is None:
        assert record is None, f"{case.name} must not be AI-authored: {record}"
        return
    assert record is not None, f"{case.name} was not detected"
    assert (record["agent"], record["family"], record["role"]) == (
        case.agent,
        case.family,
        case.role,
    )
    if case.model is not None:
        assert record["model"] == case.model
    assert record["evidence"]


def test_every_generic_rule_states_its_confidence(scanned: dict[str, dict]) -> None:
    """Long-tail rules are medium evidence at most: they never outrank an agent's own marker."""
    for name in (
        "generic-emoji-generated-with",
        "generic-model-named-coauthor",
        "generic-claude-model-coauthor",
        "generic-ai-assisted-model",
        "generic-agent-bot-login",
    ):
        assert scanned[name]["confidence"] == "medium", name
    assert scanned["made-with-cursor-loses-to-claude"]["confidence"] == "high"


AIDER_CONTEXT = (
    "aider: Added a --apply flag\n\n# Context:\nUSER: add an --apply flag to main\n"
    "so it applies a diff file\nASSISTANT: Here is the change:\n\n```python\nx = 1\n```\n"
    "USER: also document it\nASSISTANT: Done."
)


def test_aider_context_transcript_gives_the_prompt(repo: Repo) -> None:
    sha = repo.commit(AIDER_CONTEXT, author=("Paul", "paul@example.com"))
    untagged = repo.commit(AIDER_CONTEXT.removeprefix("aider: "), author=ADA)
    result = run_reviewq("scan", "--json", cwd=repo.path)
    records = {r["sha"]: r for r in map(json.loads, result.stdout.splitlines())}
    for s in (sha, untagged):
        assert records[s]["agent"] == "aider"
        assert records[s]["prompt_source"] == "aider-transcript"
        assert records[s]["prompt"] == (
            "add an --apply flag to main\nso it applies a diff file\n\nalso document it"
        )


def test_aider_header_without_turns_is_the_users_own_edit(repo: Repo) -> None:
    sha = repo.commit(
        "Changed the badge colour\n\n# Aider chat conversation:",
        author=ADA,
        committer=("Ada Lovelace (aider)", "ada@example.com"),
    )
    heading = repo.commit("Notes\n\n# Context:\nWe handle USER: lines in the parser.", author=ADA)
    result = run_reviewq("scan", "--json", cwd=repo.path)
    found = {r["sha"] for r in map(json.loads, result.stdout.splitlines())}
    assert sha not in found and heading not in found
