"""The demo repository's commits by subject, as Changes (for critic tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reviewq.context import Context
from reviewq.workflow.lookup import lookup

DEVIN = "Let support engineers impersonate customers; simplify CI"
EXPORT = "Add CSV export"
CLAUDE = "Use constant-time comparison for session tokens"
CURRENCY = "Add the currency table for multi-currency orders"


def sha_of(repo: Path, subject: str) -> str:
    out = subprocess.run(
        ["git", "log", "--all", "--format=%H %s"], cwd=repo, capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        sha, _, subj = line.partition(" ")
        if subj == subject:
            return sha
    raise AssertionError(f"no commit {subject!r}")


def change(ctx: Context, subject: str):
    found = lookup(ctx, sha_of(ctx.repo_root, subject))
    assert found.change is not None
    return found.change
