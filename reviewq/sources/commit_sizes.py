"""Every commit of the history with the lines it changed: the denominator of the automation share.

The scan counts lines only for AI-authored commits; the share needs all of them. `git log
--shortstat` over a long history costs seconds (git diffs every commit), so the result is kept
in `<git dir>/reviewq/commit-sizes.npz` keyed by the tip it covers, and a history that only grew
is read from the old tip to the new one. It is a cache: deleting it loses nothing.

Merges are left out (`--no-merges`): their first-parent diff repeats lines already counted on the
branch they bring in. Renames count as moves (`-M`), binary files as no lines.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import numpy as np

from reviewq.core import safejson
from reviewq.core.metrics import CommitSize, CommitTable
from reviewq.files import replace_file
from reviewq.sources.git_log import DIFF_ALGORITHM, NO_LAZY_FETCH, commit_stats
from reviewq.sources.gitcmd import Git, GitError

CACHE_NAME = "commit-sizes.npz"
#: 3: lines counted with git's minimal (myers) diff whatever `diff.algorithm` says.
CACHE_VERSION = 3
_INSERTIONS = re.compile(rb"(\d+) insertions?\(\+\)")
_DELETIONS = re.compile(rb"(\d+) deletions?\(-\)")


def read_commit_sizes(
    git: Git, revs: list[str], incomplete: list[str] | None = None
) -> list[CommitSize]:
    """`git log --no-merges --shortstat` of `revs`: one entry per commit, newest first.

    A missing object (a partial clone) never fails it: the history is then sized through
    `commit_stats`, which counts only what can be read (`_sizes_with_missing`); the commits
    whose size is not fully known are appended to `incomplete`.
    """
    args = [
        "log",
        "--no-merges",
        "--root",
        "-M",
        DIFF_ALGORITHM,
        "--shortstat",
        "--no-ext-diff",
        "--no-textconv",
        "--format=%x01%H %cI",
        "--no-color",
        *revs,
        "--",
    ]
    try:
        out = git.run(args, env=NO_LAZY_FETCH, what="log --shortstat")
    except GitError:
        return _sizes_with_missing(git, revs, incomplete)
    sizes = []
    for chunk in out.split(b"\x01")[1:]:
        head, _, rest = chunk.partition(b"\n")
        sha, _, when = head.decode("ascii", "replace").strip().partition(" ")
        ins = _INSERTIONS.search(rest)
        dels = _DELETIONS.search(rest)
        lines = (int(ins.group(1)) if ins else 0) + (int(dels.group(1)) if dels else 0)
        sizes.append(CommitSize(sha, when, lines))
    return sizes


#: Commits per `commit_stats` batch when the history must be sized around missing objects.
_BATCH = 2000


def _sizes_with_missing(
    git: Git, revs: list[str], incomplete: list[str] | None = None
) -> list[CommitSize]:
    """Every commit's lines, counting only files whose objects are present (the scan warns)."""
    out = git.run(["log", "--no-merges", "--format=%H %cI", *revs, "--"], what="log")
    listed = [line.split(" ", 1) for line in out.decode("ascii", "replace").splitlines() if line]
    sizes = []
    for start in range(0, len(listed), _BATCH):
        batch = listed[start : start + _BATCH]
        stats = commit_stats(git, [sha for sha, _ in batch])
        for sha, when in batch:
            size = stats.get(sha)
            if incomplete is not None and (size is None or not size[0].size_known):
                incomplete.append(sha)
            sizes.append(CommitSize(sha, when, size[0].lines_changed if size else 0))
    return sizes


def commit_sizes(git: Git, state_dir: Path | None, rev: str = "HEAD") -> CommitTable:
    """Every non-merge commit reachable from `rev` with its size, from the cache where it holds."""
    if not git.has_commits():
        return CommitTable.from_sizes([])
    tip = git.resolve(rev)
    path = state_dir / CACHE_NAME if state_dir is not None else None
    cached_tip, cached = _load(path) if path is not None else (None, None)
    incomplete: list[str] = []
    if cached is not None and cached_tip == tip:
        return cached
    if (
        cached is not None
        and cached_tip
        and git.succeeds(["merge-base", "--is-ancestor", cached_tip, tip])
    ):
        table = _concat(
            CommitTable.from_sizes(read_commit_sizes(git, [tip, f"^{cached_tip}"], incomplete)),
            cached,
        )
    else:
        table = CommitTable.from_sizes(read_commit_sizes(git, [tip], incomplete))
    if path is not None and not incomplete:  # counts short of missing objects are not kept
        _store(path, tip, table)
    return table


def _concat(new: CommitTable, old: CommitTable) -> CommitTable:
    return CommitTable(
        sha=new.sha + old.sha,
        epoch=np.concatenate([new.epoch, old.epoch]),
        offset=np.concatenate([new.offset, old.offset]),
        lines=np.concatenate([new.lines, old.lines]),
    )


def _load(path: Path) -> tuple[str | None, CommitTable | None]:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = safejson.loads(bytes(data["meta"]).decode("utf-8"))
            if meta.get("version") != CACHE_VERSION:
                return None, None
            table = CommitTable(
                sha=[s.decode("ascii") for s in data["sha"].tolist()],
                epoch=data["epoch"],
                offset=data["offset"],
                lines=data["lines"],
            )
    except (OSError, ValueError, KeyError, TypeError, EOFError, UnicodeDecodeError):
        return None, None  # missing, damaged or foreign: rebuilt from git
    lengths = {len(table.sha), len(table.epoch), len(table.offset), len(table.lines)}
    return (str(meta.get("tip")), table) if len(lengths) == 1 else (None, None)


def _store(path: Path, tip: str, table: CommitTable) -> None:
    """A read-only place (a CI mirror) just means no cache."""
    arrays = {
        "meta": np.frombuffer(
            json.dumps({"version": CACHE_VERSION, "tip": tip}).encode(), dtype=np.uint8
        ),
        "sha": np.array([s.encode("ascii") for s in table.sha], dtype=np.bytes_),
        "epoch": table.epoch,
        "offset": table.offset,
        "lines": table.lines,
    }
    with contextlib.suppress(OSError):
        replace_file(
            path, lambda fh: np.savez(fh, **arrays), prefix=".commit-sizes-", suffix=".npz"
        )
