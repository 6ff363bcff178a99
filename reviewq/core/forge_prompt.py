"""The task a cloud agent was given, as its forge keeps it (pure: text in, dataclasses out).

GitHub's Copilot coding agent ends the pull request body with the prompt it was given:
`<details>\n\n<summary>Original prompt</summary>\n\n> …quoted…\n\n</details>` (between
`<!-- START COPILOT … -->` comments). Codex cloud, Jules and Devin put a link to the task or
session in the body instead; Copilot, Claude Code on the web and Amp put one in a commit trailer
(`Agent-Logs-Url:`, `Claude-Session:`, `Amp-Thread-ID:`); docs/sessions.md lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ORIGINAL = re.compile(
    r"<summary>\s*Original prompt\s*</summary>\s*(?P<body>.*?)</details>", re.S | re.IGNORECASE
)
_BODY_LINKS = (
    ("codex", re.compile(r"https://chatgpt\.com/codex/tasks/task_[a-z]_[0-9a-f]{8,64}")),
    ("jules", re.compile(r"https://jules\.google\.com/task/[\w-]+")),
    ("devin", re.compile(r"https://app\.devin\.ai/sessions/[0-9a-f]{8,64}")),
)
_TRAILERS = (
    ("copilot", re.compile(r"^Agent-Logs-Url:\s*(https://github\.com/\S+/sessions/\S+)\s*$", re.M)),
    ("claude-code", re.compile(r"^Claude-Session:\s*(https://claude\.ai/code/\S+)\s*$", re.M)),
    ("amp", re.compile(r"^Amp-Thread-ID:\s*(https://ampcode\.com/threads/\S+)\s*$", re.M)),
)
_GITHUB = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True, slots=True)
class ForgeTask:
    """What the forge says the agent was asked: the prompt when it keeps one, else a link."""

    agent: str
    prompt: str | None
    link: str | None


def task_from_pr_body(body: str | None) -> ForgeTask | None:
    if not body:
        return None
    m = _ORIGINAL.search(body)
    if m:
        lines = []
        for line in m.group("body").strip().splitlines():
            if line.startswith(">"):
                line = line[1:].removeprefix(" ")
            lines.append(line)
        text = "\n".join(lines).strip()
        if text:
            return ForgeTask("copilot", text, None)
    for agent, pattern in _BODY_LINKS:
        found = pattern.search(body)
        if found:
            return ForgeTask(agent, None, found.group(0))
    return None


def session_link_in_message(message: str) -> ForgeTask | None:
    """The agent session a commit's own trailer points at (no token needed to show it)."""
    for agent, pattern in _TRAILERS:
        m = pattern.search(message)
        if m:
            return ForgeTask(agent, None, m.group(1))
    return None


def github_repo(url: str) -> tuple[str, str] | None:
    """(owner, name) of a GitHub remote URL (https, scp-like ssh or ssh://)."""
    m = _GITHUB.match(url.strip())
    return (m.group("owner"), m.group("name")) if m else None


__all__ = ["ForgeTask", "github_repo", "session_link_in_message", "task_from_pr_body"]
