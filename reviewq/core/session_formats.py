"""Agents' session formats -> `Session`: Claude Code JSONL transcripts, Codex CLI rollouts,
Gemini CLI chats (JSONL and the older JSON document), OpenCode's pre-1.2 JSON tree, aider's
`.aider.chat.history.md` and SpecStory's Markdown.

All unofficial, all drifting (see docs/sessions.md). Unknown record types are
skipped; a file with no record we understand raises `SessionFormatError` (the caller skips it
with one line). Pure: bytes or text in, dataclasses out.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from reviewq.core import safejson
from reviewq.core.session_link import Event, Session, SessionFormatError
from reviewq.core.session_parse import (
    AIDER_COMMIT,
    COMMIT_SUMMARY,
    exit_from_text,
    json_lines,
    outcome_of,
    parse_time,
    text_of,
)


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
    for m in COMMIT_SUMMARY.finditer(output) if "] " in output else ():
        events.append(Event("commit", at, command, sha=m.group("sha"), subject=m.group("subject")))
    return events


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
    rows = json_lines(data)
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
                    output = text_of(block.get("content"))
                    extra = r.get("toolUseResult")
                    if isinstance(extra, dict):
                        output = (
                            "\n".join(str(extra.get(k) or "") for k in ("stdout", "stderr"))
                            or output
                        )
                    exit_code = exit_from_text(output)
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
            args = safejson.loads(args)
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
    text = output if isinstance(output, str) else text_of(output)
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = safejson.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
            code = meta.get("exit_code")
            return str(data.get("output") or ""), code if isinstance(code, int) else None
    return text, exit_from_text(text)


def parse_codex(data: bytes, path: str) -> Session:
    rows = json_lines(data)
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
                text = text_of(p.get("content")).strip()
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
            doc = safejson.loads(text)
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
        for row in json_lines(data):
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
            t = text_of(m.get("content")).strip()
            if t:
                events.append(Event("user", at, t))
        elif m.get("type") == "gemini":
            model = m.get("model") if isinstance(m.get("model"), str) else model
            t = text_of(m.get("content")).strip()
            if t:
                events.append(Event("agent", at, t))
            for call in m.get("toolCalls") or ():
                if not isinstance(call, dict):
                    continue
                args = call.get("args") if isinstance(call.get("args"), dict) else {}
                cat = parse_time(call.get("timestamp")) or at
                if call.get("name") == "run_shell_command" and isinstance(args.get("command"), str):
                    output = _gemini_result(call.get("result"))
                    code = exit_from_text(output)
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
            elif mm := AIDER_COMMIT.match(body):
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
                code = exit_from_text(rest)
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
