"""Where agents keep their sessions, honouring each tool's own override.

| agent       | where                                                       | override            |
|-------------|-------------------------------------------------------------|---------------------|
| claude-code | `~/.claude/projects/<dir>/<id>.jsonl` (+ sub-agent files)    | `CLAUDE_CONFIG_DIR` |
| codex       | `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`, archived    | `CODEX_HOME`        |
| gemini-cli  | `~/.gemini/tmp/<project>/chats/session-*.json[l]`           | `GEMINI_CLI_HOME`   |
| opencode    | `~/.local/share/opencode/opencode.db` (1.2+), `storage/` JSON | `XDG_DATA_HOME`     |
| aider       | `<worktree>/.aider.chat.history.md`                         |                     |
| specstory   | `<worktree>/.specstory/history/*.md`                        |                     |

Nothing here writes to a store; every listing tolerates missing or unreadable directories.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewq.core.model import _set, _value_methods
from reviewq.xdg import cache_home, data_home

#: The session index (`sources/sessions/index.py`) keeps what each file holds here.
INDEX_NAME = "index.json"


def index_dir(env: Mapping[str, str]) -> Path:
    """Where the session index lives (`<XDG cache>/reviewq/sessions`)."""
    return cache_home(env) / "reviewq" / "sessions"


def nothing_indexed(env: Mapping[str, str], roots: Sequence[str]) -> bool:
    """No session file for these worktrees on this machine and no index ever written: reading
    the index would find nothing and change nothing (`SessionIndex.refresh` of no file over
    no entries), so a caller can skip it and the transcript parsers' imports."""
    return not discover(env, roots) and not (index_dir(env) / INDEX_NAME).exists()


@_value_methods
@dataclass(slots=True, init=False, repr=False, eq=False)
class Found:
    """One session file (or, for OpenCode, one session document) to read."""

    agent: str
    path: Path
    #: The repository root the file belongs to, when the store says so (aider, SpecStory, a
    #: Gemini project directory); None when the transcript names its own working directory.
    root: str | None = None

    def __init__(self, agent: str, path: Path, root: str | None = None) -> None:
        _set(self, "agent", agent)
        _set(self, "path", path)
        _set(self, "root", root)


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def _files(directory: Path, suffixes: tuple[str, ...], depth: int) -> Iterator[Path]:
    """Files under `directory` (at most `depth` levels down) ending in one of `suffixes`."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth > 0:
                    yield from _files(Path(entry.path), suffixes, depth - 1)
            elif entry.name.endswith(suffixes) and entry.is_file():
                yield Path(entry.path)
        except OSError:
            continue


def claude_dir(env: Mapping[str, str]) -> Path:
    override = env.get("CLAUDE_CONFIG_DIR")
    return Path(override).expanduser() if override else _home(env) / ".claude"


def codex_dir(env: Mapping[str, str]) -> Path:
    override = env.get("CODEX_HOME")
    return Path(override).expanduser() if override else _home(env) / ".codex"


def gemini_dir(env: Mapping[str, str]) -> Path:
    override = env.get("GEMINI_CLI_HOME")
    return (Path(override).expanduser() if override else _home(env)) / ".gemini"


def opencode_dir(env: Mapping[str, str]) -> Path:
    return data_home(env) / "opencode"


def discover(env: Mapping[str, str], roots: Sequence[str]) -> list[Found]:
    """Every session file of every supported agent this machine holds (for the in-repo kinds,
    those of the given worktree roots)."""
    out: list[Found] = []
    # Claude Code: projects/<dir>/<id>.jsonl, projects/<dir>/agent-*.jsonl (older sub-agents),
    # projects/<dir>/<id>/subagents/agent-*.jsonl (newer).
    # `agent-acompact-*` files are Claude Code's own context compaction: copies, not work.
    out += [
        Found("claude-code", p)
        for p in _files(claude_dir(env) / "projects", (".jsonl",), 3)
        if not p.name.startswith("agent-acompact")
    ]
    codex = codex_dir(env)
    out += [
        Found("codex", p)
        for base in (codex / "sessions", codex / "archived_sessions")
        for p in _files(base, (".jsonl",), 3)
        if p.name.startswith("rollout-")
    ]
    out += _gemini(gemini_dir(env), roots)
    out += [
        Found("opencode", p)
        for p in _files(opencode_dir(env) / "storage" / "session", (".json",), 1)
    ]
    database = opencode_dir(env) / "opencode.db"  # OpenCode >= 1.2
    if database.is_file():
        out.append(Found("opencode-db", database))
    for root in roots:
        history = Path(root) / ".aider.chat.history.md"
        if history.is_file():
            out.append(Found("aider", history, root))
        out += [
            Found("specstory", p, root)
            for p in _files(Path(root) / ".specstory" / "history", (".md",), 0)
        ]
    return out


def _gemini(base: Path, roots: Sequence[str]) -> list[Found]:
    """Gemini keeps no working directory in its chats: the project directory says whose they
    are (`.project_root` in slug directories; sha256 of the root as the name before v0.29)."""
    out: list[Found] = []
    try:
        projects = list(os.scandir(base / "tmp"))
    except OSError:
        return out
    if not projects:
        return out
    import hashlib  # start-up: only with Gemini's projects to name

    hashes = {hashlib.sha256(r.encode()).hexdigest(): r for r in roots}
    for project in projects:
        root = hashes.get(project.name)
        if root is None:
            try:
                marker = (Path(project.path) / ".project_root").read_text(encoding="utf-8").strip()
            except OSError:
                marker = ""
            root = os.path.realpath(marker) if marker else None
        out += [
            Found("gemini-cli", p, root)
            for p in _files(Path(project.path) / "chats", (".json", ".jsonl"), 1)
        ]
    return out
