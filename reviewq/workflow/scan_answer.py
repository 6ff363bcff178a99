"""`scan --json`'s answer kept as bytes: an unchanged history is answered by copying them.

The scan cache (`workflow/scan.py`, in `store/cache.py`) holds every AI commit found; turning
4,000 cached records back into changes and JSON costs more than the raw `git log` it saves. So
the command's own output is kept too, in `<state dir>/scan-answers/<key>.jsonl`: one header line
saying what it answers, then the records exactly as printed. It is replayed only when
everything the answer depends on is what it was:

- the question: detector version, revisions as given, the repository's detection rules (`key`);
- the history: the revisions as resolved now, and the tips of the notes refs the scan reads;
- the prompts from agents' sessions: every session file this repository's worktrees have
  (path, size and mtime, as the session index keys them), or that reading them is switched off.

Answers with sizes that could not be read (missing objects) are never kept: those go through the
scan, which counts again and warns. This module imports nothing heavy: the replay runs before the
scan machinery is loaded.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from reviewq.errors import ReviewqError
from reviewq.files import replace_file
from reviewq.sources.gitcmd import GitError

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

#: Bump when detection rules change so cached results are recomputed.
DETECTOR_VERSION = "2026.12.1"
#: 3: sizes ignore attributes (a `-diff` file's lines count); older caches are recomputed.
#: 4: sizes are git's minimal (myers) diff whatever `diff.algorithm` a user configured.
STATE_VERSION = 4
#: The answer file's own layout.
ANSWER_VERSION = 1
FOLDER = "scan-answers"


def rules_key(rules: Sequence[Any]) -> list[Any]:
    """The detection rules of `.reviewq.toml` as plain data (part of every scan cache key)."""
    return [
        [
            r.agent,
            r.model,
            r.family,
            r.role,
            r.email,
            r.name,
            r.trailer,
            r.value.pattern if r.value else None,
            r.confidence,
        ]
        for r in rules
    ]


def scan_key(revs: Sequence[str], rules: Sequence[Any]) -> str:
    """The scan cache's key: what was asked (revisions as given) under which rules."""
    from reviewq.core.digest import sha256_type  # not `hashlib`: OpenSSL's load, ~3 ms

    return sha256_type()(
        json.dumps([DETECTOR_VERSION, list(revs), rules_key(rules)]).encode()
    ).hexdigest()


def resolve_revs(git: Any, revs: Sequence[str]) -> list[str]:
    """`git rev-parse` of the scan's revisions; a bad one becomes a one-line error."""
    for rev in revs:
        if rev.startswith("-"):
            raise ReviewqError(f"{rev!r} is not a revision; options go before the revisions")
    try:
        out = git.text(["rev-parse", "--revs-only", "--end-of-options", *revs], what="rev-parse")
    except GitError:
        out = None
    lines = out.split() if out is not None else []
    if out is None or not lines:
        for rev in revs:
            for part in rev.replace("...", "..").split(".."):
                part = part.lstrip("^")
                if part and git.try_resolve(part) is None:
                    git.resolve(part)  # raises the friendly message
        raise ReviewqError(f"cannot resolve {' '.join(revs)!r}; check the revision names")
    return lines


def answer_path(state_dir: Path, key: str, worktree: str | None = None) -> Path:
    """Where the answer to `key` is kept; one per linked worktree (each has its own HEAD, and
    two worktrees asking about theirs would otherwise replace each other's answer)."""
    return (
        state_dir / FOLDER / (f"{key[:40]}-{worktree}.jsonl" if worktree else f"{key[:40]}.jsonl")
    )


def header(key: str, resolved: Sequence[str], notes: dict[str, str], sessions: str) -> bytes:
    """The first line of an answer file: everything the answer depends on."""
    return (
        json.dumps(
            {
                "v": ANSWER_VERSION,
                "state": STATE_VERSION,
                "key": key,
                "resolved": list(resolved),
                "notes": dict(sorted(notes.items())),
                "sessions": sessions,
            },
            sort_keys=True,
        ).encode()
        + b"\n"
    )


def replay(path: Path, expected: bytes, out: IO[Any]) -> bool:
    """Write the stored records to `out` if `path` answers `expected` (a `header`); else False."""
    try:
        with open(path, "rb") as fh:
            if fh.readline() != expected:
                return False
            body = fh.read()
    except OSError:
        return False
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        buffer.write(body)
        buffer.flush()
    else:  # an in-process stream (tests): text
        out.write(body.decode("utf-8"))
    return True


def store(path: Path, head: bytes, body: bytes) -> bool:
    """Keep an answer; a read-only place (a CI mirror) just means none is kept (False)."""

    def write(fh: IO[bytes]) -> None:
        fh.write(head)
        fh.write(body)

    try:
        replace_file(path, write, prefix=".answer-")
    except OSError:
        return False
    return True


def forget(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
