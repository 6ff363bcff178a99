"""Session transcripts in each agent's format, written from the public format descriptions
(../shared/reference/agent-sessions.md: Claude Code §3, Codex §4, Gemini §5, aider §6,
OpenCode §7, SpecStory §11). Minimal invented records, shaped like the tools write them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def claude_dir_name(cwd: Path) -> str:
    """Claude Code's project directory: the launch cwd with non-alphanumerics as `-`."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(cwd))


class ClaudeSession:
    """Builds `~/.claude/projects/<enc-cwd>/<id>.jsonl` line by line."""

    def __init__(self, sid: str, cwd: Path, *, model: str = "claude-opus-4-5", sidechain=False):
        self.sid, self.cwd, self.model, self.sidechain = sid, str(cwd), model, sidechain
        self.lines: list[dict] = []
        self._n = 0

    def _base(self, kind: str, at: datetime) -> dict:
        self._n += 1
        rec = {
            "type": kind,
            "uuid": f"{self.sid[:4]}-{self._n}",
            "parentUuid": f"{self.sid[:4]}-{self._n - 1}" if self._n > 1 else None,
            "isSidechain": self.sidechain,
            "sessionId": self.sid,
            "cwd": self.cwd,
            "gitBranch": "main",
            "version": "2.1.230",
            "timestamp": iso(at),
        }
        if self.sidechain:
            rec["agentId"] = "a1b2c3"
        return rec

    def user(self, at: datetime, text: str) -> ClaudeSession:
        self.lines.append({**self._base("user", at), "message": {"role": "user", "content": text}})
        return self

    def say(self, at: datetime, text: str) -> ClaudeSession:
        self.lines.append(
            {
                **self._base("assistant", at),
                "message": {
                    "id": f"msg_{self._n}",
                    "model": self.model,
                    "role": "assistant",
                    "content": [{"type": "text", "text": text}],
                },
            }
        )
        return self

    def tool(self, at: datetime, name: str, inp: dict) -> str:
        tool_id = f"toolu_{self.sid[:4]}_{self._n + 1}"
        self.lines.append(
            {
                **self._base("assistant", at),
                "message": {
                    "id": f"msg_{self._n}",
                    "model": self.model,
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": tool_id, "name": name, "input": inp}],
                },
            }
        )
        return tool_id

    def result(self, at: datetime, tool_id: str, output: str, *, error: bool = False) -> None:
        extra = (
            f"Error: {output}"
            if error
            else {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}
        )
        self.lines.append(
            {
                **self._base("user", at),
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": tool_id,
                            "is_error": error,
                            "content": output,
                        }
                    ],
                },
                "toolUseResult": extra,
            }
        )

    def bash(self, at: datetime, command: str, output: str, *, code: int = 0) -> ClaudeSession:
        tool_id = self.tool(at, "Bash", {"command": command, "description": "run"})
        if code:
            output = f"Exit code {code}\n{output}"
        self.result(at, tool_id, output, error=code != 0)
        return self

    def edit(self, at: datetime, path: Path | str) -> ClaudeSession:
        tool_id = self.tool(
            at, "Edit", {"file_path": str(path), "old_string": "a", "new_string": "b"}
        )
        self.result(at, tool_id, f"The file {path} has been updated.")
        return self

    def write(self, home: Path, *, name: str | None = None, sub: str = "") -> Path:
        base = home / ".claude" / "projects" / claude_dir_name(Path(self.cwd))
        path = base / sub / (name or f"{self.sid}.jsonl")
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = {"type": "ai-title", "sessionId": self.sid, "title": "work"}  # unknown type
        path.write_text("\n".join(json.dumps(r) for r in [extra, *self.lines]) + "\n")
        return path


class CodexRollout:
    """Builds `~/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl`."""

    def __init__(self, sid: str, cwd: Path, at: datetime, *, model: str = "gpt-5-codex"):
        self.sid, self.cwd, self.at = sid, str(cwd), at
        self.lines: list[dict] = [
            {
                "timestamp": iso(at),
                "type": "session_meta",
                "payload": {
                    "id": sid,
                    "timestamp": iso(at),
                    "cwd": self.cwd,
                    "originator": "codex_cli_rs",
                    "cli_version": "0.130.0",
                    "source": "cli",
                    "git": {"branch": "main"},
                },
            },
            {
                "timestamp": iso(at),
                "type": "turn_context",
                "payload": {"cwd": self.cwd, "model": model, "approval_policy": "on-request"},
            },
            {
                "timestamp": iso(at),
                "type": "response_item",
                "payload": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "<environment_context>x"}],
                },
            },
        ]
        self._call = 0

    def _add(self, at: datetime, kind: str, payload: dict) -> None:
        self.lines.append({"timestamp": iso(at), "type": kind, "payload": payload})

    def user(self, at: datetime, text: str) -> CodexRollout:
        self._add(
            at,
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
        )
        self._add(at, "event_msg", {"type": "user_message", "message": text, "images": []})
        return self

    def say(self, at: datetime, text: str) -> CodexRollout:
        self._add(
            at,
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            },
        )
        self._add(at, "event_msg", {"type": "agent_message", "message": text})
        return self

    def exec(self, at: datetime, cmd: str, output: str, *, code: int = 0) -> CodexRollout:
        self._call += 1
        call = f"call_{self._call}"
        self._add(
            at,
            "response_item",
            {
                "type": "function_call",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": cmd}),
                "call_id": call,
            },
        )
        self._add(
            at,
            "response_item",
            {
                "type": "function_call_output",
                "call_id": call,
                "output": f"Chunk ID: 1\nWall time: 0.21 seconds\nProcess exited with code {code}"
                f"\nOriginal token count: 9\nOutput:\n{output}\n",
            },
        )
        return self

    def shell(self, at: datetime, argv: list[str], output: str, *, code: int = 0):
        """The older `shell` tool: argv array in, JSON output with metadata.exit_code."""
        self._call += 1
        call = f"call_{self._call}"
        self._add(
            at,
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "arguments": json.dumps({"command": argv}),
                "call_id": call,
            },
        )
        self._add(
            at,
            "response_item",
            {
                "type": "function_call_output",
                "call_id": call,
                "output": json.dumps(
                    {"output": output, "metadata": {"exit_code": code, "duration_seconds": 0.1}}
                ),
            },
        )
        return self

    def patch(self, at: datetime, *paths: str) -> CodexRollout:
        self._call += 1
        body = "*** Begin Patch\n" + "".join(f"*** Update File: {p}\n@@\n-a\n+b\n" for p in paths)
        self._add(
            at,
            "response_item",
            {
                "type": "custom_tool_call",
                "name": "apply_patch",
                "call_id": f"call_{self._call}",
                "input": body + "*** End Patch\n",
            },
        )
        self._add(
            at,
            "response_item",
            {
                "type": "custom_tool_call_output",
                "call_id": f"call_{self._call}",
                "output": json.dumps({"output": "Success.", "metadata": {"exit_code": 0}}),
            },
        )
        return self

    def write(self, codex_home: Path) -> Path:
        local = self.at.astimezone()
        path = (
            codex_home
            / "sessions"
            / local.strftime("%Y/%m/%d")
            / f"rollout-{local.strftime('%Y-%m-%dT%H-%M-%S')}-{self.sid}.jsonl"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(json.dumps(r) for r in self.lines) + "\n")
        return path


def aider_history(blocks: list[tuple[datetime, list[str]]]) -> str:
    """`.aider.chat.history.md`: a `# aider chat started at` header (local time) per run."""
    out = []
    for at, lines in blocks:
        out.append(f"\n# aider chat started at {at.astimezone().strftime('%Y-%m-%d %H:%M:%S')}\n")
        out.append(
            "> Aider v0.86.1  \n> Main model: anthropic/claude-sonnet-4-5 with diff edit format  \n"
        )
        out.extend(lines)
    return "\n".join(out) + "\n"


def gemini_jsonl(sid: str, start: datetime, messages: list[dict]) -> str:
    head = {
        "sessionId": sid,
        "projectHash": "0" * 64,
        "startTime": iso(start),
        "lastUpdated": iso(start),
        "kind": "main",
    }
    rows = [head, *messages, {"$set": {"lastUpdated": iso(start)}}]
    return "\n".join(json.dumps(r) for r in rows) + "\n"
