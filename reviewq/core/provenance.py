"""Provenance records that live beside commits: git-ai notes, Agent Trace records, our prompt note.

Each parser takes text or decoded JSON and returns a `ProvenanceHint` (or None when the record
says nothing about AI authorship). Malformed records are ignored, not fatal: they are written by
other tools and a scan must not stop because one note is broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewq.core import safejson
from reviewq.core.families import normalize_model
from reviewq.core.lazy_re import lazy
from reviewq.core.message import parse_identity
from reviewq.core.model import Identity, _set, _value_methods

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: git-ai `agent_id.tool` / Agent Trace `tool.name` -> our agent slug.
TOOL_AGENTS: dict[str, str] = {
    "claude": "claude-code",
    "claude-code": "claude-code",
    "claude_code": "claude-code",
    "claudecode": "claude-code",
    "codex": "codex",
    "codex-cli": "codex",
    "cursor": "cursor",
    "cursor-agent": "cursor",
    "copilot": "copilot",
    "github-copilot": "copilot",
    "github-copilot-agent": "copilot",
    "gemini": "gemini-cli",
    "gemini-cli": "gemini-cli",
    "windsurf": "windsurf",
    "amp": "amp",
    "droid": "factory-droid",
    "opencode": "opencode",
    "cline": "cline",
    "continue": "continue",
    "jules": "jules",
    "devin": "devin",
    "aider": "aider",
    "qwen": "qwen-code",
    "qwen-code": "qwen-code",
    "openhands": "openhands",
    "roo": "roo-code",
    "roo-code": "roo-code",
    "kiro": "kiro",
    "pi": "pi",
}

_SLUG = lazy(r"[^a-z0-9]+")


def agent_slug(name: str) -> str:
    """A tool name as written -> the contract's lower-case hyphenated agent id."""
    key = name.strip().lower()
    if key in TOOL_AGENTS:
        return TOOL_AGENTS[key]
    slug = _SLUG.sub("-", key).strip("-")
    return TOOL_AGENTS.get(slug, slug or "other")


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class ProvenanceHint:
    """What a side record says about one commit."""

    source: str  # note (git-ai) | agent-trace | prompt-note | sidecar
    agent: str | None
    model: str | None
    ai_lines: int  # attested AI lines; -1 when the record does not count lines
    prompt: str | None = None
    prompted_by: Identity | None = None
    marker: str = ""
    #: A prompt note attached from an agent session: (agent, session id, link kind, model).
    session: tuple[str, str, str | None, str | None] | None = None

    def __init__(
        self,
        source: str,
        agent: str | None,
        model: str | None,
        ai_lines: int,
        prompt: str | None = None,
        prompted_by: Identity | None = None,
        marker: str = "",
        session: tuple[str, str, str | None, str | None] | None = None,
    ) -> None:
        _set(self, "source", source)
        _set(self, "agent", agent)
        _set(self, "model", model)
        _set(self, "ai_lines", ai_lines)
        _set(self, "prompt", prompt)
        _set(self, "prompted_by", prompted_by)
        _set(self, "marker", marker)
        _set(self, "session", session)


def _as_identity(value: Any) -> Identity | None:
    if isinstance(value, dict):
        name, email = str(value.get("name", "")).strip(), str(value.get("email", "")).strip()
        return Identity(name, email) if (name or email) else None
    if isinstance(value, str) and value.strip():
        parsed = parse_identity(value)
        if parsed:
            return Identity(*parsed)
        return Identity(value.strip(), "")
    return None


def _user_turns(messages: Any) -> list[str]:
    """The human side of a transcript in any of the common message shapes."""
    turns: list[str] = []
    if not isinstance(messages, list):
        return turns
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        role = str(msg.get("type") or msg.get("role") or "").lower()
        if role not in ("user", "human"):
            continue
        text = msg.get("text", msg.get("content"))
        if isinstance(text, list):  # content blocks
            text = "\n".join(
                str(b.get("text", "")) for b in text if isinstance(b, dict) and b.get("text")
            )
        if isinstance(text, str) and text.strip():
            turns.append(text.strip())
    return turns


_RANGE = lazy(r"^(\d+)(?:-(\d+))?$")


def _count_ranges(ranges: str) -> int:
    total = 0
    for part in ranges.split(","):
        m = _RANGE.match(part.strip())
        if m:
            start, end = int(m.group(1)), int(m.group(2) or m.group(1))
            total += max(0, end - start + 1)
    return total


def parse_git_ai_note(text: str) -> ProvenanceHint | None:
    """A git-ai authorship note (`refs/notes/ai`, standard v3) -> hint, or None.

    AI lines are the attested ranges of every key that is not a known human (`h_…`). The agent
    and model come from the prompt or session records those keys point at.
    """
    attest, sep, meta_text = text.partition("\n---\n")
    if not sep:
        if text.startswith("---\n"):
            attest, meta_text = "", text[4:]
        else:
            return None
    try:
        meta = safejson.loads(meta_text)
    except ValueError:
        return None
    if not isinstance(meta, dict):
        return None
    records: dict[str, dict[str, Any]] = {}
    for table in ("prompts", "sessions"):
        value = meta.get(table)
        if isinstance(value, dict):
            records.update({k: v for k, v in value.items() if isinstance(v, dict)})

    ai_lines = 0
    keys_used: list[str] = []
    for line in attest.split("\n"):
        if not line.startswith("  "):
            continue
        key, _, ranges = line.strip().partition(" ")
        if not key or key.startswith("h_"):
            continue
        ai_lines += _count_ranges(ranges)
        keys_used.append(key)
    if ai_lines == 0:
        return None

    agent = model = None
    prompts: list[str] = []
    prompted_by = None
    for key in keys_used:
        # Session keys are `s_<id>::t_<id>`; their record is keyed by the session part.
        record = records.get(key) or records.get(key.split("::", 1)[0])
        if record is None:
            continue
        agent_id = record.get("agent_id") if isinstance(record.get("agent_id"), dict) else {}
        if agent is None and agent_id.get("tool"):
            agent = agent_slug(str(agent_id["tool"]))
        if model is None and agent_id.get("model"):
            model = normalize_model(str(agent_id["model"]))
        if prompted_by is None:
            prompted_by = _as_identity(record.get("human_author"))
        prompts.extend(t for t in _user_turns(record.get("messages")) if t not in prompts)
    return ProvenanceHint(
        source="note",
        agent=agent,
        model=model,
        ai_lines=ai_lines,
        prompt="\n\n".join(prompts) or None,
        prompted_by=prompted_by,
        marker=f"refs/notes/ai: {ai_lines} AI line(s)"
        + (f" by {agent}" if agent else "")
        + (f" ({model})" if model else ""),
    )


def _find_prompt(obj: Any, depth: int = 0) -> str | None:
    """A `prompt` string anywhere shallow in vendor metadata (Agent Trace leaves it open)."""
    if depth > 3:
        return None
    if isinstance(obj, dict):
        for key in ("prompt", "user_prompt", "request"):
            value = obj.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        for value in obj.values():
            found = _find_prompt(value, depth + 1)
            if found:
                return found
    return None


def agent_trace_revision(record: dict[str, Any]) -> str | None:
    vcs = record.get("vcs")
    if isinstance(vcs, dict) and isinstance(vcs.get("revision"), str):
        return vcs["revision"].strip().lower() or None
    return None


def parse_agent_trace(record: dict[str, Any]) -> ProvenanceHint | None:
    """An Agent Trace record (v0.1 / 1.0) -> hint when any range is contributed by AI."""
    files = record.get("files")
    if not isinstance(files, list):
        return None
    ai_lines = 0
    model = None
    for entry in files:
        if not isinstance(entry, dict):
            continue
        for conv in entry.get("conversations") or []:
            if not isinstance(conv, dict):
                continue
            contributor = (
                conv.get("contributor") if isinstance(conv.get("contributor"), dict) else {}
            )
            conv_type = str(contributor.get("type", "")).lower()
            for rng in conv.get("ranges") or []:
                if not isinstance(rng, dict):
                    continue
                r_contrib = (
                    rng.get("contributor") if isinstance(rng.get("contributor"), dict) else {}
                )
                r_type = str(r_contrib.get("type", conv_type)).lower()
                if r_type not in ("ai", "mixed"):
                    continue
                try:
                    ai_lines += max(0, int(rng["end_line"]) - int(rng["start_line"]) + 1)
                except (KeyError, TypeError, ValueError):
                    ai_lines += 1
                model = model or r_contrib.get("model_id") or contributor.get("model_id")
    if ai_lines == 0:
        return None
    tool = record.get("tool") if isinstance(record.get("tool"), dict) else {}
    agent = agent_slug(str(tool["name"])) if tool.get("name") else None
    model_name = normalize_model(str(model)) if model else None
    return ProvenanceHint(
        source="agent-trace",
        agent=agent,
        model=model_name,
        ai_lines=ai_lines,
        prompt=_find_prompt(record.get("metadata")) or _find_prompt(record),
        marker=f"agent-trace {record.get('id', '?')}: {ai_lines} AI line(s)"
        + (f" by {agent}" if agent else ""),
    )


def parse_prompt_note(text: str) -> ProvenanceHint | None:
    """Our own prompt note (`refs/notes/reviewq-prompt`): JSON, or plain text from elsewhere."""
    stripped = text.strip()
    if not stripped:
        return None
    data: Any = None
    if stripped.startswith("{"):
        try:
            data = safejson.loads(stripped)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return ProvenanceHint("prompt-note", None, None, -1, prompt=stripped)
    prompt = data.get("prompt")
    agent = data.get("agent")
    model = data.get("model")
    session = data.get("session")
    ref = None
    if isinstance(session, dict) and isinstance(session.get("id"), str):
        link = session.get("link")
        ref = (
            str(session.get("agent") or agent or "other"),
            session["id"],
            link if link in {"exact", "strong"} else None,
            str(model) if model else None,
        )
    return ProvenanceHint(
        source="prompt-note",
        agent=agent_slug(str(agent)) if agent else None,
        model=normalize_model(str(model)) if model else None,
        ai_lines=-1,
        prompt=prompt.strip() if isinstance(prompt, str) and prompt.strip() else None,
        prompted_by=_as_identity(data.get("prompted_by")),
        session=ref,
    )


_TURN = lazy(r"^(USER|ASSISTANT|SYSTEM)\s*:\s?(.*)$")
_TURN_FIRST = frozenset("UAS")


def aider_user_turns(transcript: str) -> str | None:
    """The USER turns of aider's `# Aider chat conversation:` transcript, joined."""
    turns: list[list[str]] = []
    role = None
    for line in transcript.split("\n"):
        # Only a line starting U, A or S can open a turn: the rest skip the regex.
        m = _TURN.match(line) if line[:1] in _TURN_FIRST else None
        if m:
            role = m.group(1)
            if role == "USER":
                turns.append([m.group(2)])
            continue
        if role == "USER" and turns:
            turns[-1].append(line)
    texts = ["\n".join(t).strip() for t in turns]
    texts = [t for t in texts if t]
    return "\n\n".join(texts) or None
