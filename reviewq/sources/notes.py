"""Side records in git: git-ai notes, Agent Trace files and notes, and our own prompt notes.

Notes are read in bulk (one `git notes list`, one `git cat-file --batch`) and parsed by the pure
functions in `core.provenance`. A broken record from another tool is skipped, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from reviewq.core import safejson
from reviewq.core.model import _FACTORY, _value_methods
from reviewq.core.provenance import (
    ProvenanceHint,
    agent_trace_revision,
    parse_agent_trace,
    parse_git_ai_note,
    parse_prompt_note,
)
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.log_format import AGENT_TRACE_FILE, trace_file_args  # noqa: F401 (re-exported)

NOTES_GIT_AI = "refs/notes/ai"
NOTES_AGENT_TRACE = "refs/notes/agent-trace"
NOTES_PROMPT = "refs/notes/reviewq-prompt"
#: Refs whose change can change what a scan finds (part of the scan cache key).
SCAN_NOTE_REFS = (NOTES_GIT_AI, NOTES_AGENT_TRACE, NOTES_PROMPT)


def _list_args(ref: str) -> list[str]:
    return ["notes", f"--ref={ref}", "list"]


def list_notes(git: Git, ref: str) -> dict[str, str]:
    """commit sha -> note blob id for every note on `ref` (empty when the ref is absent)."""
    try:
        out = git.text(_list_args(ref), what="notes list")
    except GitError:
        return {}
    notes: dict[str, str] = {}
    for line in out.splitlines():
        blob, _, commit = line.partition(" ")
        if commit:
            notes[commit.strip()] = blob.strip()
    return notes


def read_notes(git: Git, ref: str, only: Iterable[str] | None = None) -> dict[str, str]:
    """commit sha -> note text on `ref`, optionally only for the given commits."""
    listing = list_notes(git, ref)
    if only is not None:
        wanted = set(only)
        listing = {c: b for c, b in listing.items() if c in wanted}
    blobs = git.cat_blobs(sorted(set(listing.values())))
    return {
        commit: blobs[blob].decode("utf-8", "replace")
        for commit, blob in listing.items()
        if blob in blobs
    }


def _trace_records(text: str) -> Iterable[dict]:
    stripped = text.strip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped):
        try:
            data = safejson.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            yield data
            return
        if isinstance(data, list):
            yield from (d for d in data if isinstance(d, dict))
            return
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = safejson.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


@_value_methods(frozen=False)
@dataclass(slots=True, init=False, repr=False, eq=False)
class SideRecords:
    """Every side record of a repository, keyed by commit sha."""

    hints: dict[str, list[ProvenanceHint]] = field(default_factory=dict)

    def __init__(self, hints: dict[str, list[ProvenanceHint]] = _FACTORY) -> None:
        self.hints = {} if hints is _FACTORY else hints

    def add(self, sha: str, hint: ProvenanceHint | None) -> None:
        if hint is not None:
            self.hints.setdefault(sha, []).append(hint)

    def for_commit(self, sha: str) -> list[ProvenanceHint]:
        return self.hints.get(sha, [])


def load_side_records(
    git: Git, tip: str | None, present: Collection[str] | None = None
) -> SideRecords:
    """git-ai notes, Agent Trace (notes and the worktree file at `tip`) and prompt notes.

    `present`: the notes refs that exist, as the caller's own `for-each-ref` saw them (the tips
    its answer is keyed by); the others are not listed (an absent ref has no notes). The git
    questions are started together (`Git.start`) and read one after the other."""
    side = SideRecords()
    refs = [r for r in SCAN_NOTE_REFS if present is None or r in present]
    trace_args = trace_file_args(tip) if tip is not None else None
    start = getattr(git, "start", None)  # tests may pass a fake Git
    if start is not None:
        for ref in refs:
            start(_list_args(ref))
        if trace_args is not None:
            start(trace_args)
    if NOTES_GIT_AI in refs:
        for sha, text in read_notes(git, NOTES_GIT_AI).items():
            side.add(sha, parse_git_ai_note(text))
    if NOTES_AGENT_TRACE in refs:
        for sha, text in read_notes(git, NOTES_AGENT_TRACE).items():
            for record in _trace_records(text):
                side.add(sha, parse_agent_trace(record))
    if trace_args is not None:
        try:
            blob = git.run(trace_args, ok_codes=(0,), what="cat-file")
        except GitError:
            blob = b""
        if blob:
            shas = _abbrev_index(git, blob)
            for record in _trace_records(blob.decode("utf-8", "replace")):
                revision = agent_trace_revision(record)
                full = shas.get(revision or "")
                if full:
                    side.add(full, parse_agent_trace(record))
    if NOTES_PROMPT in refs:
        for sha, text in read_notes(git, NOTES_PROMPT).items():
            side.add(sha, parse_prompt_note(text))
    return side


def _abbrev_index(git: Git, blob: bytes) -> dict[str, str]:
    """Agent Trace revisions may be abbreviated; map each to a full sha in one git call."""
    revisions = {
        rev
        for r in _trace_records(blob.decode("utf-8", "replace"))
        if (rev := agent_trace_revision(r))
    }
    if not revisions:
        return {}
    ordered = sorted(revisions)
    out = git.run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        input=("\n".join(ordered) + "\n").encode(),
    ).decode()
    index: dict[str, str] = {}
    for rev, line in zip(ordered, out.splitlines()):
        parts = line.split()
        if len(parts) == 2 and parts[1] == "commit":
            index[rev] = parts[0]
    return index


def write_prompt_note(git: Git, sha: str, payload: dict) -> None:
    """Attach (replace) the prompt note of `sha`; notes travel with `git push refs/notes/*`."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    git.run(
        ["notes", f"--ref={NOTES_PROMPT}", "add", "-f", "-F", "-", sha],
        input=text.encode("utf-8"),
        what="notes add",
    )
