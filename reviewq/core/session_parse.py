"""Reading what sessions hold, shared by the format parsers and the linker: times, commands
(test, build, commit; hooks skipped), their outcomes, text of content blocks, JSON lines.

(The parsers are in `core.session_formats`; the data model and linking in `core.session_link`.)
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from reviewq.core.jsonio import parse_line


def short_command(command: str, width: int = 120) -> str:
    """A command on one line: its first line, cut at `width` (a heredoc message is elided)."""
    first = command.strip().split("\n", 1)[0]
    cut = len(first) > width or "\n" in command.strip()
    return (first[:width].rstrip() + " …") if cut else first


#: git's commit summary: `[branch abc1234] subject`, `[main (root-commit) abc1234] subject`,
#: `[detached HEAD abc1234] subject` (the words may be translated; only the shape is matched).
COMMIT_SUMMARY = re.compile(
    r"^\[(?P<ref>[^\]\n]+?) (?P<sha>[0-9a-f]{7,40})\] (?P<subject>.*?)\s*$", re.M
)
AIDER_COMMIT = re.compile(r"^> Commit (?P<sha>[0-9a-f]{7,40}) (?P<subject>.*?)\s*$")
_EXIT_CODE = re.compile(
    r"(?:^|\n)(?:Exit code:?|Process exited with code|Exit Code:)\s*(-?\d+)", re.IGNORECASE
)
_COUNTS = re.compile(
    r"\b(\d+) (failed|passed|errors?|error|skipped|xfailed|xpassed|failures?|tests? failed)\b"
)
_TEST_CMD = re.compile(
    r"(?:^|[\s;&|(/])(?:pytest|py\.test|tox|nox|unittest|jest|vitest|mocha|rspec|phpunit|ctest"
    r"|(?:npm|yarn|pnpm|bun|deno)(?: run)? test|go test|cargo (?:test|nextest)|make (?:test|check)"
    r"|mvn (?:\S+ )*test|gradle(?:w)? test|\./gradlew test|dotnet test|mix test|swift test)\b"
)
_BUILD_CMD = re.compile(
    r"(?:^|[\s;&|(/])(?:make|cargo (?:build|check|clippy)|go (?:build|vet)|tsc|(?:npm|yarn|pnpm|bun)"
    r" run (?:build|lint|typecheck)|mvn|gradle|cmake|ninja|ruff|mypy|pyright|eslint|dotnet build"
    r"|python -m build|uv build)\b"
)
_GIT_COMMIT = re.compile(r"\bgit\b(?:\s+-[cC]\s+\S+|\s+--?[\w-]+(?:=\S+)?)*\s+commit\b")


def parse_time(value: Any, local_offset: float = 0.0) -> float | None:
    """An ISO 8601 string, or epoch seconds / milliseconds -> epoch seconds; None if unreadable.

    A string without a zone is local time; `local_offset` (seconds east of UTC) says which."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
        return v / 1000.0 if v > 1e11 else v
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone(timedelta(seconds=local_offset)))
    return dt.timestamp()


@lru_cache(maxsize=4096)
def command_kind(command: str) -> str:
    if _GIT_COMMIT.search(command):
        return "commit"
    if _TEST_CMD.search(command):
        return "test"
    if _BUILD_CMD.search(command):
        return "build"
    return "other"


_MAY_SKIP = re.compile(r"--no-verify|(?:^|\s)-[A-Za-z]*n|hookspath", re.IGNORECASE)


@lru_cache(maxsize=4096)
def hooks_skipped(command: str) -> bool:
    """A `git commit` that skips its hooks: `--no-verify`, `-n` (alone or in a cluster), or a
    `core.hooksPath` pointed elsewhere for this one command."""
    if not _MAY_SKIP.search(command) or not _GIT_COMMIT.search(command):
        return False
    if "core.hookspath" in command.lower():
        return True
    try:
        tokens = shlex.split(command, comments=False, posix=True)
    except ValueError:
        tokens = command.split()
    in_commit = False
    skip_next = False
    for tok in tokens:
        if tok in {"&&", "||", ";", "|"}:
            in_commit = False
            continue
        if not in_commit:
            in_commit = tok == "commit"
            continue
        if skip_next:
            skip_next = False
            continue
        if tok == "--no-verify":
            return True
        if tok.startswith("-") and not tok.startswith("--"):
            flags = tok[1:]
            for i, ch in enumerate(flags):
                if ch == "n":
                    return True
                if ch in "mFCcSt":  # takes an argument: the rest, or the next token
                    skip_next = i == len(flags) - 1
                    break
    return False


def outcome_of(output: str, exit_code: int | None, failed: bool | None) -> str:
    counts = []
    seen: set[str] = set()
    for m in _COUNTS.finditer(output[-1500:]):
        word = m.group(2)
        key = word.rstrip("s")
        if key in seen:
            continue
        seen.add(key)
        counts.append(f"{m.group(1)} {word}")
    if counts:
        return ", ".join(counts)
    if exit_code is not None:
        return "ok" if exit_code == 0 else f"exit {exit_code}"
    if failed is not None:
        return "failed" if failed else "ok"
    return "outcome not recorded"


def exit_from_text(text: str) -> int | None:
    """The exit code a tool wrote into its output: at the head (Claude Code, Codex) or the
    tail (Gemini); the middle is the command's own output and is not searched."""
    m = _EXIT_CODE.search(text[:400]) or (
        _EXIT_CODE.search(text[-400:]) if len(text) > 400 else None
    )
    return int(m.group(1)) if m else None


def text_of(content: Any) -> str:
    """Text of a message content: a string, or a list of blocks with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict):
                t = block.get("text")
                if isinstance(t, str):
                    parts.append(t)
                elif block.get("type") == "tool_result" or "content" in block:
                    parts.append(text_of(block.get("content")))
        return "\n".join(p for p in parts if p)
    if isinstance(content, dict):
        for key in ("text", "output", "content", "stdout"):
            if isinstance(content.get(key), str):
                return content[key]
    return ""


def json_lines(data: bytes) -> list[dict[str, Any]]:
    rows = []
    for raw in data.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        try:
            value = parse_line(raw)
        except ValueError:
            continue  # a torn last line, a stray log line: the rest still reads
        if isinstance(value, dict):
            rows.append(value)
    return rows
