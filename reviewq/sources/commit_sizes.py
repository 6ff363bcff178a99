"""Every commit of the history with the lines it changed: the denominator of the automation share.

The scan counts lines only for AI-authored commits; the share needs all of them. `git log
--shortstat` over a long history costs seconds (git diffs every commit), so the result is kept
in `<git dir>/reviewq/commit-sizes.tsv` keyed by the tip it covers, and a history that only grew
is read from the old tip to the new one. It is a cache: deleting it loses nothing.

Merges are left out (`--no-merges`): their first-parent diff repeats lines already counted on the
branch they bring in. Renames count as moves (`-M`), binary files as no lines.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from reviewq.core.metrics import CommitSize
from reviewq.sources.gitcmd import Git

CACHE_NAME = "commit-sizes.tsv"
CACHE_VERSION = 1
_INSERTIONS = re.compile(rb"(\d+) insertions?\(\+\)")
_DELETIONS = re.compile(rb"(\d+) deletions?\(-\)")


def read_commit_sizes(git: Git, revs: list[str]) -> list[CommitSize]:
    """`git log --no-merges --shortstat` of `revs`: one entry per commit, newest first."""
    out = git.run(
        [
            "log",
            "--no-merges",
            "--root",
            "-M",
            "--shortstat",
            "--format=%x01%H %cI",
            "--no-color",
            *revs,
            "--",
        ],
        what="log --shortstat",
    )
    sizes = []
    for chunk in out.split(b"\x01")[1:]:
        head, _, rest = chunk.partition(b"\n")
        sha, _, when = head.decode("ascii", "replace").strip().partition(" ")
        ins = _INSERTIONS.search(rest)
        dels = _DELETIONS.search(rest)
        lines = (int(ins.group(1)) if ins else 0) + (int(dels.group(1)) if dels else 0)
        sizes.append(CommitSize(sha, when, lines))
    return sizes


def commit_sizes(git: Git, state_dir: Path | None, rev: str = "HEAD") -> list[CommitSize]:
    """Sizes of every non-merge commit reachable from `rev`, from the cache where it holds."""
    if not git.has_commits():
        return []
    tip = git.resolve(rev)
    path = state_dir / CACHE_NAME if state_dir is not None else None
    cached_tip, cached = _load(path) if path is not None else (None, [])
    if cached_tip == tip:
        return cached
    if cached_tip and git.succeeds(["merge-base", "--is-ancestor", cached_tip, tip]):
        sizes = read_commit_sizes(git, [tip, f"^{cached_tip}"]) + cached
    else:
        sizes = read_commit_sizes(git, [tip])
    if path is not None:
        _store(path, tip, sizes)
    return sizes


def _load(path: Path) -> tuple[str | None, list[CommitSize]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None, []
    head, _, body = text.partition("\n")
    try:
        meta = json.loads(head)
        if meta.get("version") != CACHE_VERSION:
            return None, []
        sizes = []
        for line in body.splitlines():
            sha, when, lines = line.split("\t")
            sizes.append(CommitSize(sha, when, int(lines)))
    except (ValueError, AttributeError):
        return None, []  # a damaged cache is rebuilt, never trusted
    return str(meta.get("tip")), sizes


def _store(path: Path, tip: str, sizes: list[CommitSize]) -> None:
    """Write beside and rename over: a reader never sees half a file. A read-only place
    (a CI mirror) just means no cache."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".commit-sizes-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps({"version": CACHE_VERSION, "tip": tip}) + "\n")
            fh.writelines(f"{s.sha}\t{s.committed_at}\t{s.lines_changed}\n" for s in sizes)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
