"""Finding one change by what a user types: a revision, or an inbox id / file name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewq.context import Context
from reviewq.core.detect import Detector
from reviewq.core.model import Change, Commit, Diff, DiffStats, Prompt
from reviewq.core.prompts import candidate_prompts
from reviewq.errors import ReviewqError
from reviewq.sources.diffs import read_commit_diff
from reviewq.sources.git_log import commit_stats, iter_commits
from reviewq.sources.notes import load_side_records
from reviewq.workflow.scan import scan_inbox


@dataclass
class Lookup:
    """A commit (AI-authored or not) and, when it is AI-authored, its Change."""

    commit: Commit
    change: Change | None
    prompts: list[Prompt]


def is_inbox_ref(text: str) -> bool:
    return text.startswith("inbox:") or text.endswith((".patch", ".diff", ".mbox"))


def lookup(ctx: Context, rev: str) -> Lookup:
    if is_inbox_ref(rev):
        return _lookup_inbox(ctx, rev)
    git = ctx.git
    if not git.has_commits():
        raise ReviewqError("the repository has no commits yet; commit something first")
    sha = git.resolve(rev)
    commit = next(iter_commits(git, [sha], max_count=1), None)
    if commit is None:  # pragma: no cover - resolve() guarantees a commit
        raise ReviewqError(f"unknown revision {rev!r}")
    side = load_side_records(git, sha)
    hints = side.for_commit(sha)
    authorship = Detector(ctx.config.agents).detect(commit, hints)
    prompts = candidate_prompts(commit.message, hints)
    if authorship is None:
        return Lookup(commit, None, prompts)
    stats, files = commit_stats(git, [sha]).get(sha, (DiffStats(), ()))
    change = Change(
        id=sha,
        commit=commit,
        authorship=authorship,
        prompt=prompts[0] if prompts else None,
        stats=stats,
        files=files,
    )
    return Lookup(commit, change, prompts)


def _lookup_inbox(ctx: Context, ref: str) -> Lookup:
    wanted = ref.removeprefix("inbox:")
    matches = [
        c
        for c in scan_inbox(ctx)
        if c.id.removeprefix("inbox:").startswith(wanted)
        or (c.patch_path or "").endswith(wanted)
        or (c.location or "").endswith(wanted)
    ]
    if not matches:
        raise ReviewqError(f"no inbox patch matches {ref!r}; list them with `reviewq queue`")
    if len(matches) > 1 and len({c.id for c in matches}) > 1:
        raise ReviewqError(f"{ref!r} matches {len(matches)} inbox patches; give more of the id")
    change = matches[0]
    prompts = [change.prompt] if change.prompt else []
    return Lookup(change.commit, change, prompts)


def diff_of(ctx: Context, change: Change) -> Diff:
    """The diff a change introduces: the commit's (first parent), or its inbox patch's."""
    if change.source == "inbox":
        # start-up: the email parser, only for an inbox patch
        from reviewq.sources.inbox import read_patch_file

        patches = read_patch_file(Path(change.patch_path or ""), change.commit.committed_at)
        if not patches:
            raise ReviewqError(f"{change.patch_path}: the inbox patch holds no diff any more")
        return next(
            (p.diff for p in patches if p.commit.message == change.commit.message),
            patches[0].diff,
        )

    return read_commit_diff(ctx.git, change.commit.sha)
