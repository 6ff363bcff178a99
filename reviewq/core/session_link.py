"""Agents' session transcripts -> what happened, and which commit a span of a session made.

Pure: bytes or text in, dataclasses out. `sources/sessions` finds the files and caches what
these parsers return; this module reads the formats and links commits to sessions.

Formats (all unofficial, all drifting, see docs/sessions.md): Claude Code
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
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reviewq.core.session_parse import command_kind, hooks_skipped, short_command

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
                out.append(f"committed{hooks}: `{short_command(c.command)}`")
            else:
                out.append(f"ran `{short_command(c.command)}`: {c.outcome}")
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
    "relevant",
]
