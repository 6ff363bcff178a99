"""Agents' session transcripts -> what happened, and which commit a span of a session made.

Pure: bytes or text in, dataclasses out. `sources/sessions` finds the files and caches what
these parsers return; this module reads the formats and links commits to sessions.

Formats (all unofficial, all drifting, see ../shared/reference/agent-sessions.md): Claude Code
JSONL transcripts, Codex CLI rollouts, Gemini CLI chats (JSONL and the older JSON document),
OpenCode's pre-1.2 JSON tree, aider's `.aider.chat.history.md` and SpecStory's Markdown.
Unknown record types are skipped; a file with no record we understand raises `SessionFormatError`
(the caller skips it with one line).

Linking (`link_commits`):
- **exact**: the transcript shows the commit (git's `[branch abc1234] subject` summary in a
  command's output, or aider's `> Commit abc1234 subject`), the abbreviated sha is a unique
  prefix of the commit and the subject is the commit's;
- **strong**: the session ran in this repository or one of its worktrees, the commit falls in
  the session's time window, and the files the agent edited before it cover the commit's files;
  exactly one session may qualify (two candidates are a guess, and nothing is shown).
Below strong nothing is linked.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from reviewq.core.jsonio import parse_line

#: Seconds a strong link's time window reaches beyond the session's first and last record.
SLACK = 300.0
#: Most agent explanations carried per link (the latest), and their length.
MAX_CLAIMS = 6
CLAIM_CHARS = 600


class SessionFormatError(ValueError):
    """The file is not a session transcript this module can read."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing in a session. kind: user | agent | command | edit | commit | delegated."""

    kind: str
    at: float | None = None  # epoch seconds (UTC); None when the format has no time here
    text: str = ""  # user / agent text, the command line, the edited path
    exit_code: int | None = None
    failed: bool | None = None
    outcome: str = ""  # a command's short outcome: "2 failed, 10 passed", "exit 1", "ok"
    sha: str = ""  # commit: the abbreviated sha the transcript names
    subject: str = ""
    cwd: str | None = None

    def to_json(self) -> list[Any]:
        return [
            self.kind,
            self.at,
            self.text,
            self.exit_code,
            self.failed,
            self.outcome,
            self.sha,
            self.subject,
            self.cwd,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> Event:
        return cls(*row)


@dataclass(frozen=True, slots=True)
class Session:
    """One session file, parsed (a Claude Code sub-agent file is its own Session with the same
    id as its parent; `merge_sessions` folds them together)."""

    agent: str
    id: str
    path: str
    model: str | None = None
    cwds: tuple[str, ...] = ()
    start: float | None = None
    end: float | None = None
    events: tuple[Event, ...] = ()
    subagent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "id": self.id,
            "path": self.path,
            "model": self.model,
            "cwds": list(self.cwds),
            "start": self.start,
            "end": self.end,
            "subagent": self.subagent,
            "events": [e.to_json() for e in self.events],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Session:
        return cls(
            agent=d["agent"],
            id=d["id"],
            path=d["path"],
            model=d.get("model"),
            cwds=tuple(d.get("cwds") or ()),
            start=d.get("start"),
            end=d.get("end"),
            events=tuple(Event.from_json(r) for r in d.get("events") or ()),
            subagent=bool(d.get("subagent")),
        )


@dataclass(frozen=True, slots=True)
class CommitFacts:
    """What linking needs of a commit: files are repository-relative paths."""

    sha: str
    subject: str
    committed_at: float
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandRun:
    command: str
    kind: str  # test | build | commit | other
    outcome: str
    failed: bool | None
    no_verify: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "kind": self.kind,
            "outcome": self.outcome,
            "failed": self.failed,
            "hooks_skipped": self.no_verify,
        }


@dataclass(frozen=True, slots=True)
class SessionLink:
    """A commit tied to the span of the session that produced it."""

    sha: str
    agent: str
    session_id: str
    path: str
    model: str | None
    kind: str  # exact | strong
    prompt: str | None
    claims: tuple[str, ...] = ()
    commands: tuple[CommandRun, ...] = ()
    uncommitted: tuple[str, ...] = ()
    hooks_skipped: bool = False
    tests_failing: bool = False

    def summary(self) -> list[str]:
        """What the agent ran, one line each ("ran `pytest -q`: 2 failed, then committed")."""
        out = []
        for c in self.commands:
            if c.kind == "commit":
                hooks = " with hooks skipped" if c.no_verify else ""
                out.append(f"committed{hooks}: `{_short(c.command)}`")
            else:
                out.append(f"ran `{_short(c.command)}`: {c.outcome}")
        if self.tests_failing:
            out.append("the last test run before this commit failed, then it committed")
        if self.uncommitted:
            out.append("edited but not in this commit: " + ", ".join(self.uncommitted))
        return out

    def to_state(self) -> list[Any]:
        """A compact, lossless form for the link cache."""
        return [
            self.sha,
            self.agent,
            self.session_id,
            self.path,
            self.model,
            self.kind,
            self.prompt,
            list(self.claims),
            [[c.command, c.kind, c.outcome, c.failed, c.no_verify] for c in self.commands],
            list(self.uncommitted),
            self.hooks_skipped,
            self.tests_failing,
        ]

    @classmethod
    def from_state(cls, row: list[Any]) -> SessionLink:
        return cls(
            *row[:7],
            claims=tuple(row[7]),
            commands=tuple(CommandRun(*c) for c in row[8]),
            uncommitted=tuple(row[9]),
            hooks_skipped=bool(row[10]),
            tests_failing=bool(row[11]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "id": self.session_id,
            "store": "local",
            "model": self.model,
            "link": self.kind,
            "claims": list(self.claims),
            "commands": [c.to_json() for c in self.commands],
            "uncommitted": list(self.uncommitted),
            "hooks_skipped": self.hooks_skipped,
            "tests_failing": self.tests_failing,
        }


# --------------------------------------------------------------------------------------------
# Shared helpers


def _short(command: str, width: int = 120) -> str:
    """A command on one line: its first line, cut at `width` (a heredoc message is elided)."""
    first = command.strip().split("\n", 1)[0]
    cut = len(first) > width or "\n" in command.strip()
    return (first[:width].rstrip() + " …") if cut else first


#: git's commit summary: `[branch abc1234] subject`, `[main (root-commit) abc1234] subject`,
#: `[detached HEAD abc1234] subject` (the words may be translated; only the shape is matched).
_SUMMARY = re.compile(r"^\[(?P<ref>[^\]\n]+?) (?P<sha>[0-9a-f]{7,40})\] (?P<subject>.*?)\s*$", re.M)
_AIDER_COMMIT = re.compile(r"^> Commit (?P<sha>[0-9a-f]{7,40}) (?P<subject>.*?)\s*$")
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


def _exit_from_text(text: str) -> int | None:
    """The exit code a tool wrote into its output: at the head (Claude Code, Codex) or the
    tail (Gemini); the middle is the command's own output and is not searched."""
    m = _EXIT_CODE.search(text[:400]) or (
        _EXIT_CODE.search(text[-400:]) if len(text) > 400 else None
    )
    return int(m.group(1)) if m else None


def _text_of(content: Any) -> str:
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
                    parts.append(_text_of(block.get("content")))
        return "\n".join(p for p in parts if p)
    if isinstance(content, dict):
        for key in ("text", "output", "content", "stdout"):
            if isinstance(content.get(key), str):
                return content[key]
    return ""


def _command_events(
    command: str, output: str, exit_code: int | None, failed: bool | None, at, cwd
) -> list[Event]:
    if failed is None and exit_code is not None:
        failed = exit_code != 0
    events = [
        Event(
            "command",
            at,
            command,
            exit_code,
            failed,
            outcome_of(output, exit_code, failed),
            cwd=cwd,
        )
    ]
    for m in _SUMMARY.finditer(output) if "] " in output else ():
        events.append(Event("commit", at, command, sha=m.group("sha"), subject=m.group("subject")))
    return events


def _jsonl(data: bytes) -> list[dict[str, Any]]:
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


def _finish(
    agent: str,
    sid: str,
    path: str,
    model: str | None,
    cwds: Iterable[str | None],
    events: list[Event],
    times: Iterable[float | None] = (),
    subagent: bool = False,
) -> Session:
    stamps = [t for t in (*times, *(e.at for e in events)) if t is not None]
    return Session(
        agent=agent,
        id=sid,
        path=path,
        model=model,
        cwds=tuple(dict.fromkeys(c for c in cwds if c)),
        start=min(stamps) if stamps else None,
        end=max(stamps) if stamps else None,
        events=tuple(events),
        subagent=subagent,
    )


# --------------------------------------------------------------------------------------------
# Claude Code: ~/.claude/projects/<enc-cwd>/<session>.jsonl (+ sub-agent files)

_META_PREFIXES = ("<command-name>", "<local-command", "<command-message>", "Caveat:")
_EDIT_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}


def parse_claude(data: bytes, path: str) -> Session:
    rows = _jsonl(data)
    known = [r for r in rows if r.get("type") in {"user", "assistant"} and "message" in r]
    if not known:
        raise SessionFormatError("no Claude Code user or assistant records")
    stem = posixpath.basename(path).rsplit(".", 1)[0]
    sid = next((r["sessionId"] for r in rows if isinstance(r.get("sessionId"), str)), stem)
    subagent = any(r.get("isSidechain") is True for r in known) or stem.startswith("agent-")
    events: list[Event] = []
    pending: dict[str, tuple[str, float | None, str | None]] = {}
    model = None
    cwds: list[str | None] = []
    seen: set[str] = set()
    for r in rows:
        uid = r.get("uuid")
        if isinstance(uid, str):
            if uid in seen:  # resumed sessions repeat history
                continue
            seen.add(uid)
        at = parse_time(r.get("timestamp"))
        cwd = r.get("cwd") if isinstance(r.get("cwd"), str) else None
        cwds.append(cwd)
        kind = r.get("type")
        msg = r.get("message")
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        if kind == "assistant":
            if isinstance(msg.get("model"), str) and not msg["model"].startswith("<"):
                model = msg["model"]
            for block in content if isinstance(content, list) else [content]:
                if isinstance(block, str) and block.strip():
                    events.append(Event("agent", at, block.strip()))
                if not isinstance(block, dict):
                    continue
                btype = block.get("type")
                if btype == "text" and isinstance(block.get("text"), str):
                    if block["text"].strip():
                        events.append(Event("agent", at, block["text"].strip()))
                elif btype == "tool_use":
                    name = block.get("name")
                    inp = block.get("input") if isinstance(block.get("input"), dict) else {}
                    if name == "Bash" and isinstance(inp.get("command"), str):
                        pending[str(block.get("id"))] = (inp["command"], at, cwd)
                    elif name in _EDIT_TOOLS:
                        target = inp.get("file_path") or inp.get("notebook_path")
                        if isinstance(target, str):
                            events.append(Event("edit", at, target, cwd=cwd))
        elif kind == "user":
            if r.get("isMeta") is True:
                continue
            if isinstance(content, str):
                text = content.strip()
                if text and not text.startswith(_META_PREFIXES):
                    events.append(Event("delegated" if subagent else "user", at, text))
                continue
            if not isinstance(content, list):
                continue
            texts = []
            for block in content:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_result":
                    call = pending.pop(str(block.get("tool_use_id")), None)
                    if call is None:
                        continue
                    command, call_at, call_cwd = call
                    output = _text_of(block.get("content"))
                    extra = r.get("toolUseResult")
                    if isinstance(extra, dict):
                        output = (
                            "\n".join(str(extra.get(k) or "") for k in ("stdout", "stderr"))
                            or output
                        )
                    exit_code = _exit_from_text(output)
                    is_error = block.get("is_error")
                    failed = bool(is_error) if isinstance(is_error, bool) else None
                    if exit_code is None and failed is False:
                        exit_code = 0
                    events.extend(
                        _command_events(command, output, exit_code, failed, at or call_at, call_cwd)
                    )
                elif block.get("type") == "text" and isinstance(block.get("text"), str):
                    texts.append(block["text"])
            text = "\n".join(texts).strip()
            if text and not text.startswith(_META_PREFIXES):
                events.append(Event("delegated" if subagent else "user", at, text))
    for command, at, cwd in pending.values():  # no result recorded (interrupted, torn file)
        events.append(Event("command", at, command, outcome="outcome not recorded", cwd=cwd))
    times = [parse_time(r.get("timestamp")) for r in rows]
    return _finish("claude-code", sid, path, model, cwds, events, times, subagent)


# --------------------------------------------------------------------------------------------
# Codex CLI: ~/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl

_CODEX_SHELLS = {"exec_command", "shell", "shell_command", "local_shell", "container.exec"}
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+?)\s*$", re.M)
_SCAFFOLD = ("<environment_context>", "<user_instructions>", "<permissions", "# AGENTS.md")


def _codex_command(args: Any) -> str | None:
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return args or None
    if not isinstance(args, dict):
        return None
    cmd = args.get("cmd", args.get("command"))
    if isinstance(cmd, list) and cmd:
        parts = [str(p) for p in cmd]
        if len(parts) >= 3 and parts[1] in {"-lc", "-c"}:
            return parts[2]
        return shlex.join(parts)
    return cmd if isinstance(cmd, str) else None


def _codex_output(output: Any) -> tuple[str, int | None]:
    text = output if isinstance(output, str) else _text_of(output)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            code = meta.get("exit_code")
            return str(data.get("output") or ""), code if isinstance(code, int) else None
    return text, _exit_from_text(text)


def parse_codex(data: bytes, path: str) -> Session:
    rows = _jsonl(data)
    if not any(r.get("type") in {"session_meta", "response_item", "event_msg"} for r in rows):
        raise SessionFormatError("no Codex rollout records")
    sid = None
    cwds: list[str | None] = []
    model = None
    user_msgs: list[Event] = []
    user_items: list[Event] = []
    agent_items: list[Event] = []
    agent_msgs: list[Event] = []
    other: list[Event] = []
    calls: dict[str, tuple[str, float | None, str | None]] = {}
    ended: dict[str, Event] = {}
    cwd: str | None = None
    for r in rows:
        at = parse_time(r.get("timestamp"))
        p = r.get("payload")
        if not isinstance(p, dict):
            continue
        kind, ptype = r.get("type"), p.get("type")
        if kind == "session_meta":
            sid = sid or (p.get("id") if isinstance(p.get("id"), str) else None)
            cwd = p.get("cwd") if isinstance(p.get("cwd"), str) else cwd
            cwds.append(cwd)
        elif kind == "turn_context":
            cwd = p.get("cwd") if isinstance(p.get("cwd"), str) else cwd
            cwds.append(cwd)
            if isinstance(p.get("model"), str):
                model = p["model"]
        elif kind == "event_msg":
            if ptype == "user_message" and isinstance(p.get("message"), str):
                if p["message"].strip():
                    user_msgs.append(Event("user", at, p["message"].strip()))
            elif ptype == "agent_message" and isinstance(p.get("message"), str):
                agent_msgs.append(Event("agent", at, p["message"].strip()))
            elif ptype == "exec_command_end" and isinstance(p.get("call_id"), str):
                code = p.get("exit_code")
                out = p.get("aggregated_output") or p.get("stdout") or ""
                ended[p["call_id"]] = Event(
                    "command", at, "", code if isinstance(code, int) else None, text=str(out)
                )
        elif kind == "response_item":
            if ptype == "message":
                text = _text_of(p.get("content")).strip()
                if not text:
                    continue
                if p.get("role") == "user" and not text.startswith(_SCAFFOLD):
                    user_items.append(
                        Event("user", at, text.removeprefix("## My request for Codex:").strip())
                    )
                elif p.get("role") == "assistant":
                    agent_items.append(Event("agent", at, text))
            elif ptype in {"function_call", "custom_tool_call", "local_shell_call"}:
                name = p.get("name") or ptype
                call_id = str(p.get("call_id") or p.get("id") or "")
                raw = p.get("arguments", p.get("input", p.get("action")))
                if name == "apply_patch":
                    patch = raw if isinstance(raw, str) else json.dumps(raw)
                    for m in _PATCH_FILE.finditer(patch.replace("\\n", "\n")):
                        other.append(Event("edit", at, m.group(1), cwd=cwd))
                    continue
                command = (
                    _codex_command(raw)
                    if name in _CODEX_SHELLS or ptype == "local_shell_call"
                    else None
                )
                if command is None:
                    continue
                for m in _PATCH_FILE.finditer(command):  # `apply_patch <<'EOF'` through the shell
                    other.append(Event("edit", at, m.group(1), cwd=cwd))
                calls[call_id] = (command, at, cwd)
            elif ptype in {"function_call_output", "custom_tool_call_output"}:
                call = calls.pop(str(p.get("call_id") or ""), None)
                if call is None:
                    continue
                command, call_at, call_cwd = call
                output, code = _codex_output(p.get("output"))
                other.extend(_command_events(command, output, code, None, at or call_at, call_cwd))
    for call_id, (command, at, ccwd) in calls.items():
        end = ended.get(call_id)
        if end is not None:
            other.extend(_command_events(command, end.text, end.exit_code, None, end.at, ccwd))
        else:
            other.append(Event("command", at, command, outcome="outcome not recorded", cwd=ccwd))
    if sid is None:
        m = re.search(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", path)
        sid = m.group(1) if m else posixpath.basename(path)
    events = (user_msgs or user_items) + (agent_items or agent_msgs) + other
    events.sort(key=lambda e: (e.at is None, e.at or 0.0))
    times = [parse_time(r.get("timestamp")) for r in rows]
    return _finish("codex", sid, path, model, cwds, events, times)


# --------------------------------------------------------------------------------------------
# Gemini CLI: ~/.gemini/tmp/<project>/chats/session-*.jsonl (JSON document before v0.39)


def parse_gemini(data: bytes, path: str, project_root: str | None = None) -> Session:
    text = data.decode("utf-8", "replace").strip()
    header: dict[str, Any] = {}
    messages: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    if text.startswith("{") and "\n" not in text.rstrip():
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
            header = doc
            for i, m in enumerate(doc["messages"]):
                if isinstance(m, dict):
                    key = str(m.get("id", i))
                    order.append(key)
                    messages[key] = m
    if not header:
        for row in _jsonl(data):
            if "sessionId" in row and "type" not in row:
                header = {**header, **row}
            elif isinstance(row.get("$set"), dict):
                header = {**header, **row["$set"]}
            elif isinstance(row.get("$rewindTo"), str):
                cut = row["$rewindTo"]
                if cut in order:
                    for key in order[order.index(cut) :]:
                        messages.pop(key, None)
                    order = order[: order.index(cut)]
            elif "type" in row and "id" in row:
                key = str(row["id"])
                if key not in messages:
                    order.append(key)
                messages[key] = row  # a re-appended message: the last line wins
    if not header.get("sessionId") or not messages:
        raise SessionFormatError("no Gemini CLI session header or messages")
    events: list[Event] = []
    model = None
    for key in order:
        m = messages[key]
        at = parse_time(m.get("timestamp"))
        if m.get("type") == "user":
            t = _text_of(m.get("content")).strip()
            if t:
                events.append(Event("user", at, t))
        elif m.get("type") == "gemini":
            model = m.get("model") if isinstance(m.get("model"), str) else model
            t = _text_of(m.get("content")).strip()
            if t:
                events.append(Event("agent", at, t))
            for call in m.get("toolCalls") or ():
                if not isinstance(call, dict):
                    continue
                args = call.get("args") if isinstance(call.get("args"), dict) else {}
                cat = parse_time(call.get("timestamp")) or at
                if call.get("name") == "run_shell_command" and isinstance(args.get("command"), str):
                    output = _gemini_result(call.get("result"))
                    code = _exit_from_text(output)
                    status = call.get("status")
                    if code is None and status == "success":
                        code = 0
                    failed = None if status not in {"success", "error"} else status == "error"
                    events.extend(
                        _command_events(args["command"], output, code, failed, cat, project_root)
                    )
                elif call.get("name") in {"write_file", "replace", "edit"}:
                    target = args.get("file_path") or args.get("path")
                    if isinstance(target, str):
                        events.append(Event("edit", cat, target, cwd=project_root))
    times = [parse_time(header.get("startTime")), parse_time(header.get("lastUpdated"))]
    return _finish(
        "gemini-cli",
        str(header["sessionId"]),
        path,
        model,
        [project_root, *(header.get("directories") or [])],
        events,
        times,
        header.get("kind") == "subagent",
    )


def _gemini_result(result: Any) -> str:
    if isinstance(result, str):
        return result
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k in ("output", "text", "response", "functionResponse", "content"):
                if k in v:
                    walk(v[k])

    walk(result)
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# OpenCode: the same documents from storage/ JSON files (before 1.2) or opencode.db rows (1.2+)


def parse_opencode(
    session: dict[str, Any],
    messages: Sequence[dict[str, Any]],
    parts: Sequence[dict[str, Any]],
    path: str,
) -> Session:
    """One OpenCode session from its session, message and part JSON documents."""
    sid = session.get("id")
    if not isinstance(sid, str):
        raise SessionFormatError("no OpenCode session id")
    roles = {m.get("id"): m for m in messages if isinstance(m, dict)}
    directory = session.get("directory") if isinstance(session.get("directory"), str) else None
    events: list[Event] = []
    model = None
    for part in sorted(parts, key=lambda p: str(p.get("id", ""))):
        msg = roles.get(part.get("messageID"), {})
        role = msg.get("role")
        model = msg.get("modelID") if isinstance(msg.get("modelID"), str) else model
        t = part.get("time") if isinstance(part.get("time"), dict) else {}
        mt = msg.get("time") if isinstance(msg.get("time"), dict) else {}
        at = parse_time(t.get("start") or mt.get("created"))
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            if part.get("synthetic"):
                continue
            events.append(Event("user" if role == "user" else "agent", at, part["text"].strip()))
        elif part.get("type") == "tool":
            state = part.get("state") if isinstance(part.get("state"), dict) else {}
            inp = state.get("input") if isinstance(state.get("input"), dict) else {}
            st = state.get("time") if isinstance(state.get("time"), dict) else {}
            at = parse_time(st.get("start")) or at
            if part.get("tool") == "bash" and isinstance(inp.get("command"), str):
                meta = state.get("metadata") if isinstance(state.get("metadata"), dict) else {}
                code = meta.get("exit") if isinstance(meta.get("exit"), int) else None
                failed = state.get("status") == "error" if state.get("status") else None
                events.extend(
                    _command_events(
                        inp["command"], str(state.get("output") or ""), code, failed, at, directory
                    )
                )
            elif part.get("tool") in {"edit", "write", "patch", "multiedit"}:
                target = inp.get("filePath") or inp.get("file_path") or inp.get("path")
                if isinstance(target, str):
                    events.append(Event("edit", at, target, cwd=directory))
    events.sort(key=lambda e: (e.at is None, e.at or 0.0))
    st = session.get("time") if isinstance(session.get("time"), dict) else {}
    return _finish(
        "opencode",
        sid,
        path,
        model,
        [directory],
        events,
        [parse_time(st.get("created")), parse_time(st.get("updated"))],
        bool(session.get("parentID")),
    )


# --------------------------------------------------------------------------------------------
# aider: <repo>/.aider.chat.history.md

_AIDER_START = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)\s*$")
_AIDER_MODEL = re.compile(r"^> (?:Main )?[Mm]odel: (\S+)")
_AIDER_EDIT = re.compile(r"^> Applied edit to (.+?)\s*$")


def parse_aider(text: str, path: str, repo_root: str, local_offset: float = 0.0) -> list[Session]:
    """Every `# aider chat started at` block of a chat history file is one session. The header
    is local time without a zone; the rest has no times, so a block spans from its header to
    the next one; the last block has no end, so only its `Commit` lines link (exactly)."""
    blocks: list[tuple[float | None, list[str]]] = []
    for line in text.splitlines():
        m = _AIDER_START.match(line)
        if m:
            blocks.append((parse_time(m.group(1), local_offset), []))
        elif blocks:
            blocks[-1][1].append(line)
    if not blocks:
        raise SessionFormatError("no `# aider chat started at` header")
    sessions = []
    for i, (start, lines) in enumerate(blocks):
        end = blocks[i + 1][0] if i + 1 < len(blocks) else None
        events, model = _aider_block(lines, repo_root)
        sessions.append(
            Session(
                agent="aider",
                id=f"aider@{datetime.fromtimestamp(start or 0, UTC).strftime('%Y%m%dT%H%M%SZ')}",
                path=path,
                model=model,
                cwds=(repo_root,),
                start=start,
                end=end,
                events=tuple(events),
            )
        )
    return sessions


def _aider_block(lines: list[str], repo_root: str) -> tuple[list[Event], str | None]:
    events: list[Event] = []
    model = None
    prose: list[str] = []
    user: list[str] = []

    def flush_prose() -> None:
        if "".join(prose).strip():
            events.append(Event("agent", None, "\n".join(prose).strip()))
        prose.clear()

    def flush_user() -> None:
        if user:
            joined = "\n".join(user).strip()
            if joined.startswith(("/run ", "/test ", "!")):
                cmd = joined.split(" ", 1)[1] if joined.startswith("/") else joined[1:]
                events.append(Event("command", None, cmd.strip(), outcome="outcome not recorded"))
            elif joined and not joined.startswith("/"):
                events.append(Event("user", None, joined))
            user.clear()

    for line in lines:
        if line.startswith("####"):
            flush_prose()
            user.append(line[4:].removeprefix(" "))
            continue
        flush_user()
        if line.startswith(">"):
            flush_prose()
            body = line.rstrip()
            if model is None and (mm := _AIDER_MODEL.match(body)):
                model = mm.group(1)
            elif mm := _AIDER_EDIT.match(body):
                events.append(Event("edit", None, mm.group(1), cwd=repo_root))
            elif mm := _AIDER_COMMIT.match(body):
                events.append(
                    Event("commit", None, "", sha=mm.group("sha"), subject=mm.group("subject"))
                )
            continue
        prose.append(line)
    flush_user()
    flush_prose()
    return events, model


# --------------------------------------------------------------------------------------------
# SpecStory: <repo>/.specstory/history/*.md

_SPEC_SESSION = re.compile(
    r"<!--\s*(?P<agent>[\w .-]+?) Session (?P<id>\S+) \((?P<ts>[^)]*)\)\s*-->"
)
_SPEC_TURN = re.compile(r"^_\*\*(?P<who>User|Assistant|Agent)(?: \((?P<info>[^)]*)\))?\*\*_\s*$")
_SPEC_TS = re.compile(r"(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?(?:Z|[+-]\d\d:?\d\d)?)")
_SPEC_TOOL = re.compile(
    r'<tool-use data-tool-type="(?P<type>[\w-]+)"[^>]*>(?P<body>.*?)</tool-use>', re.S
)
_SPEC_AGENTS = {
    "claude code": "claude-code",
    "cursor": "cursor",
    "codex cli": "codex",
    "gemini cli": "gemini-cli",
    "cursor cli": "cursor",
}


def parse_specstory(text: str, path: str, repo_root: str, local_offset: float = 0.0) -> Session:
    head = _SPEC_SESSION.search(text)
    if "SpecStory" not in text[:500] and head is None:
        raise SessionFormatError("no SpecStory header")
    agent = "other"
    sid = posixpath.basename(path).rsplit(".", 1)[0]
    if head:
        agent = _SPEC_AGENTS.get(head.group("agent").strip().lower(), head.group("agent").lower())
        sid = head.group("id")
    events: list[Event] = []
    model = None
    who = None
    at: float | None = None
    buf: list[str] = []

    def flush() -> None:
        body = "\n".join(buf)
        buf.clear()
        if who is None:
            return
        for m in _SPEC_TOOL.finditer(body):
            inner = re.sub(r"<[^>]+>", "", m.group("body")).strip()
            if m.group("type") == "shell" and inner:
                first, _, rest = inner.partition("\n")
                cmd = first.strip().strip("`").removeprefix("$ ").strip()
                code = _exit_from_text(rest)
                events.extend(_command_events(cmd, rest, code, None, at, repo_root))
            elif m.group("type") == "write" and inner:
                target = inner.split("\n", 1)[0].strip().strip("`")
                if target:
                    events.append(Event("edit", at, target, cwd=repo_root))
        plain = _SPEC_TOOL.sub("", body).strip().strip("-").strip()
        if plain:
            events.append(Event("user" if who == "User" else "agent", at, plain))

    for line in text.splitlines():
        m = _SPEC_TURN.match(line.strip())
        if m:
            flush()
            who = m.group("who")
            info = m.group("info") or ""
            ts = _SPEC_TS.search(info)
            at = parse_time(ts.group(1), local_offset) if ts else at
            if who != "User" and info:
                name = _SPEC_TS.sub("", info).replace("model ", "").split(",")[0].strip()
                model = name or model
            continue
        if line.strip() == "---":
            continue
        buf.append(line)
    flush()
    if not any(e.kind == "user" for e in events):
        raise SessionFormatError("no user turn in the SpecStory file")
    stamp = parse_time(head.group("ts"), local_offset) if head else None
    return _finish(agent, sid, path, model, [repo_root], events, [stamp])


# --------------------------------------------------------------------------------------------
# Linking


def merge_sessions(sessions: Iterable[Session]) -> list[Session]:
    """Sub-agent files folded into their parent session (same agent and id), events in time
    order; a sub-agent file with no parent file stays a session of its own."""
    groups: dict[tuple[str, str], list[Session]] = {}
    for s in sessions:
        groups.setdefault((s.agent, s.id), []).append(s)
    out = []
    for parts in groups.values():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        parts.sort(key=lambda s: (s.subagent, s.path))
        main = parts[0]
        events = [e for s in parts for e in s.events]
        if all(e.at is not None for e in events):
            events.sort(key=lambda e: e.at or 0.0)
        starts = [s.start for s in parts if s.start is not None]
        ends = [s.end for s in parts if s.end is not None]
        out.append(
            replace(
                main,
                cwds=tuple(dict.fromkeys(c for s in parts for c in s.cwds)),
                start=min(starts) if starts else None,
                end=max(ends) if ends else None,
                events=tuple(events),
                model=main.model or next((s.model for s in parts if s.model), None),
            )
        )
    return out


def relevant(
    summaries: Sequence[Any],
    commits: Sequence[CommitFacts],
    roots: Sequence[str],
    slack: float = SLACK,
) -> list[Any]:
    """The summaries (anything with agent, id, cwds, start, end, shas) of sessions that could
    have made one of `commits`: run in one of `roots`, and either naming one of the commits'
    abbreviated shas or open while one was made. A sub-agent file comes with its parent."""
    roots = [r.rstrip("/") or "/" for r in roots]
    by_sha = sorted(c.sha for c in commits)
    times = sorted(c.committed_at for c in commits)
    wanted: set[tuple[str, str]] = set()
    for s in summaries:
        if not any(_under(c, roots) for c in s.cwds):
            continue
        hit = False
        for abbrev in s.shas:
            i = bisect.bisect_left(by_sha, abbrev)
            if i < len(by_sha) and by_sha[i].startswith(abbrev):
                hit = True
                break
        if not hit and s.start is not None and s.end is not None:
            i = bisect.bisect_left(times, s.start - slack)
            hit = i < len(times) and times[i] <= s.end + slack
        if hit:
            wanted.add((s.agent, s.id))
    return [s for s in summaries if (s.agent, s.id) in wanted]


def _under(path: str, roots: Sequence[str]) -> str | None:
    for root in roots:
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return root
    return None


def _relative(target: str, cwd: str | None, roots: Sequence[str]) -> str | None:
    """An edited path as a repository-relative path, or None when outside every worktree."""
    if not posixpath.isabs(target):
        if cwd is None:
            return posixpath.normpath(target)
        target = posixpath.join(cwd, target)
    target = posixpath.normpath(target)
    root = _under(target, roots)
    if root is None or target == root:
        return None
    return target[len(root.rstrip("/")) + 1 :]


@dataclass
class _Anchor:
    position: int  # index into the session's events
    sha: str
    kind: str
    at: float | None = None
    event: Event | None = None


@dataclass
class _Candidate:
    session: Session
    edits: list[tuple[float | None, str, int]] = field(default_factory=list)  # at, rel path, pos


def link_commits(
    commits: Sequence[CommitFacts],
    sessions: Iterable[Session],
    roots: Sequence[str],
    slack: float = SLACK,
    pinned: tuple[str, str] | None = None,
) -> dict[str, SessionLink]:
    """Each commit linked to the span of the session that made it, exact or strong; commits
    that no session shows, or that more than one could have made, are left out.

    `pinned` (agent, session id): the commit was made inside that session, as the agent's own
    environment said when it committed (`CLAUDE_CODE_SESSION_ID`, `CODEX_THREAD_ID` read by the
    post-commit hook). Only that session is considered, and it links exactly from its start on
    even before its transcript shows the commit (the hook runs before the output is written)."""
    roots = sorted({r.rstrip("/") or "/" for r in roots}, key=len, reverse=True)
    by_sha = sorted(c.sha for c in commits)
    facts = {c.sha: c for c in commits}
    mine = [s for s in merge_sessions(sessions) if any(_under(c, roots) for c in s.cwds)]
    if pinned is not None:
        mine = [s for s in mine if (s.agent, s.id) == pinned]
    anchors: dict[str, list[_Anchor]] = {}  # session key -> anchors
    exact: dict[str, tuple[Session, _Anchor]] = {}
    ambiguous: set[str] = set()
    for s in mine:
        key = f"{s.agent}\0{s.id}"
        for pos, e in enumerate(s.events):
            if e.kind != "commit" or not e.sha:
                continue
            i = bisect.bisect_left(by_sha, e.sha)
            hits = []
            while i < len(by_sha) and by_sha[i].startswith(e.sha) and len(hits) < 2:
                hits.append(by_sha[i])
                i += 1
            if len(hits) != 1:
                continue
            sha = hits[0]
            if e.subject.strip() != facts[sha].subject.strip():
                continue
            anchor = _Anchor(pos, sha, "exact", e.at, e)
            if sha in exact and exact[sha][0] is not s:
                ambiguous.add(sha)
            elif sha in exact:
                continue  # the same commit shown twice in one session (a copy in a sub-agent)
            exact.setdefault(sha, (s, anchor))
            anchors.setdefault(key, []).append(anchor)
    for sha in ambiguous:  # two sessions both claim it (copied transcripts): no guess
        exact.pop(sha, None)

    cands: list[_Candidate] = []
    for s in mine:
        c = _Candidate(s)
        for pos, e in enumerate(s.events):
            if e.kind == "edit":
                rel = _relative(e.text, e.cwd or (s.cwds[0] if s.cwds else None), roots)
                if rel is not None:
                    c.edits.append((e.at, rel, pos))
        if c.edits and s.start is not None and s.end is not None:
            cands.append(c)
    cands.sort(key=lambda c: c.session.start or 0.0)
    starts = [c.session.start or 0.0 for c in cands]
    reach: list[float] = []  # the latest end among cands[: i + 1]: when to stop looking back
    for c in cands:
        reach.append(max(reach[-1] if reach else float("-inf"), c.session.end or 0.0))
    for commit in commits:
        if pinned is not None and mine and commit.sha not in exact:
            s = mine[0]
            t = commit.committed_at
            if s.start is not None and s.start - slack <= t:
                pos = max(
                    (i for i, e in enumerate(s.events) if e.at is None or e.at <= t + 1.0),
                    default=-1,
                )
                anchors.setdefault(f"{s.agent}\0{s.id}", []).append(
                    _Anchor(pos, commit.sha, "pinned", t)
                )
            continue
        if commit.sha in exact or commit.sha in ambiguous or not commit.files:
            continue
        t = commit.committed_at
        fits = []
        j = bisect.bisect_right(starts, t + slack) - 1
        while j >= 0 and reach[j] + slack >= t:
            c = cands[j]
            j -= 1
            s = c.session
            if not (s.start - slack <= t <= s.end + slack):
                continue
            edited = {rel for at, rel, _ in c.edits if at is None or at <= t + slack}
            if set(commit.files) <= edited:
                fits.append(c)
        if len(fits) != 1:
            continue
        c = fits[0]
        s = c.session
        pos = max(
            (i for i, e in enumerate(s.events) if e.at is None or e.at <= t + 1.0), default=-1
        )
        anchors.setdefault(f"{s.agent}\0{s.id}", []).append(_Anchor(pos, commit.sha, "strong", t))

    links: dict[str, SessionLink] = {}
    for s in mine:
        mine_anchors = sorted(
            anchors.get(f"{s.agent}\0{s.id}", ()), key=lambda a: (a.position, a.kind != "exact")
        )
        bounds = _boundaries(s)
        previous = -1
        for a in mine_anchors:
            if a.kind == "exact" and exact.get(a.sha, (None,))[0] is not s:
                continue
            own = _own_start(s, a, bounds, slack)
            before = [b for b in bounds if b < own]
            start = max(previous, before[-1] if before else -1)
            links[a.sha] = _span_link(s, a, start, facts[a.sha], roots)
            previous = a.position
    return links


def _boundaries(s: Session) -> list[int]:
    """Where the session committed: a `git commit` that did not fail, or a commit line of its
    own (aider). The span of a commit starts after the previous one, whether or not that
    commit is among those asked about."""
    out = []
    for i, e in enumerate(s.events):
        if (e.kind == "command" and e.failed is not True and command_kind(e.text) == "commit") or (
            e.kind == "commit" and not e.text
        ):
            out.append(i)
    return out


def _own_start(s: Session, a: _Anchor, bounds: list[int], slack: float) -> int:
    """Where the commit an anchor stands for was made: the `git commit` whose output shows it
    (exact), or the commit command nearest its time (strong); else the anchor itself."""
    if a.kind == "exact" and a.event is not None:
        for i in range(a.position, -1, -1):
            e = s.events[i]
            if e.kind == "command" and e.text == a.event.text:
                return i
        return a.position
    near = [
        b
        for b in bounds
        if b <= a.position
        and s.events[b].at is not None
        and a.at is not None
        and abs((s.events[b].at or 0.0) - a.at) <= slack
    ]
    return near[-1] if near else a.position + 1


def _span_link(
    s: Session, anchor: _Anchor, previous: int, commit: CommitFacts, roots: Sequence[str]
) -> SessionLink:
    span = s.events[previous + 1 : anchor.position + 1]
    users = [e.text for e in span if e.kind == "user"]
    if not users:  # several commits from one request: the request that led to them
        users = [e.text for e in s.events[: previous + 1] if e.kind == "user"][-1:]
    claims = [e.text[:CLAIM_CHARS] for e in span if e.kind == "agent" and e.text][-MAX_CLAIMS:]
    commands: list[CommandRun] = []
    last_test_failed = False
    committing_event = None
    for e in span:
        if e.kind == "command":
            kind = command_kind(e.text)
            if kind == "commit":
                committing_event = e
            if kind == "test" and e.failed is not None:
                last_test_failed = bool(e.failed)
            if kind in {"test", "build", "commit"}:
                commands.append(
                    CommandRun(e.text, kind, e.outcome, e.failed, hooks_skipped(e.text))
                )
    if anchor.kind == "exact" and anchor.event is not None and anchor.event.text:
        skipped = hooks_skipped(anchor.event.text)
    else:
        skipped = committing_event is not None and hooks_skipped(committing_event.text)
    files = set(commit.files)
    uncommitted = []
    for e in span:
        if e.kind == "edit":
            rel = _relative(e.text, e.cwd or (s.cwds[0] if s.cwds else None), roots)
            if rel is not None and rel not in files and rel not in uncommitted:
                uncommitted.append(rel)
    return SessionLink(
        sha=commit.sha,
        agent=s.agent,
        session_id=s.id,
        path=s.path,
        model=s.model,
        kind="exact" if anchor.kind == "pinned" else anchor.kind,
        prompt="\n\n".join(users) if users else None,
        claims=tuple(claims),
        commands=tuple(commands),
        uncommitted=tuple(uncommitted),
        hooks_skipped=skipped,
        tests_failing=last_test_failed,
    )


__all__ = [
    "CommandRun",
    "CommitFacts",
    "Event",
    "Session",
    "SessionFormatError",
    "SessionLink",
    "command_kind",
    "hooks_skipped",
    "link_commits",
    "merge_sessions",
    "parse_aider",
    "parse_claude",
    "parse_codex",
    "parse_gemini",
    "parse_opencode",
    "parse_specstory",
    "relevant",
]
