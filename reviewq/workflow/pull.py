"""`reviewq pull`: bring a remote's unmerged work and review notes in, then say what is new.

One `git fetch` of plain refspecs works with any host: branches, GitHub `refs/pull/*/head`,
GitLab `refs/merge-requests/*/head`, Gerrit `refs/changes/*` (the `[scope] pull_refs`), and
every notes ref. Everything lands in remote-tracking namespaces (`refs/remotes/<remote>/...`,
notes in `refs/reviewq/remotes/<remote>/notes/...`); `--refmap=` stops git from also updating
refs through the remote's configured mappings (a mirror clone maps onto `refs/heads/*`). Local
branches are never written; local notes only gain records through a merge.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reviewq.context import Context
from reviewq.core.queue import QueueItem
from reviewq.core.scope import fetch_refspecs, review_number, scope_of, short_ref
from reviewq.errors import ReviewqError
from reviewq.sources.forge import fetch_tasks, load_tasks, repo_for, store_tasks, token_from
from reviewq.sources.gitcmd import GitError
from reviewq.sources.notes import list_notes
from reviewq.sources.notesync import (
    NotesMerge,
    describe,
    merge_fetched_notes,
    notes_changed,
    notes_refspec,
    tracking_ref,
)
from reviewq.sources.refs import list_remotes
from reviewq.store.notes_log import NOTES_REF
from reviewq.store.sync import merge_remote
from reviewq.store.sync import tracking_ref as review_tracking_ref
from reviewq.workflow.queue import pending_queue
from reviewq.workflow.recording import notes_lock_path


@dataclass
class PullReport:
    remote: str
    new_refs: list[str] = field(default_factory=list)
    updated_refs: list[str] = field(default_factory=list)
    deleted_refs: list[str] = field(default_factory=list)
    notes: list[NotesMerge] = field(default_factory=list)
    new_items: list[QueueItem] = field(default_factory=list)
    left_items: list[QueueItem] = field(default_factory=list)
    queue_size: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "refs": {
                "new": self.new_refs,
                "updated": self.updated_refs,
                "deleted": self.deleted_refs,
            },
            "notes": [
                {"ref": n.ref, "status": n.status, "notes_changed": n.notes_changed}
                for n in self.notes
            ],
            "new": [i.to_json() for i in self.new_items],
            "left": [i.to_json() for i in self.left_items],
            "pending": self.queue_size,
        }


def choose_remote(ctx: Context, remote: str | None) -> str:
    """REMOTE, else `[scope] remote`, else the only remote, else `origin`; it must exist."""
    remotes = list_remotes(ctx.git)
    configured = scope_of(ctx.config).remote
    name = remote or configured or (remotes[0] if len(remotes) == 1 else "origin")
    if name not in remotes:
        known = f" (remotes here: {', '.join(remotes)})" if remotes else ""
        raise ReviewqError(
            f"no remote named {name!r}{known}; pass REMOTE or add one with "
            f"`git remote add {name} URL`"
        )
    return name


def pull(ctx: Context, remote: str | None, *, now: datetime, transport: Any = None) -> PullReport:
    git = ctx.git
    name = choose_remote(ctx, remote)
    scope = scope_of(ctx.config)
    before_items = {i.change.id: i for i in pending_queue(ctx, now=now)}
    prefix = f"refs/remotes/{name}/"
    before = git.ref_tips(prefix)
    try:
        git.run(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--prune",
                "--refmap=",
                "--no-write-fetch-head",
                name,
                *fetch_refspecs(name, scope),
                notes_refspec(name),
            ],
            what="fetch",
        )
    except GitError as exc:
        raise ReviewqError(
            f"cannot fetch from {name!r}: {exc.message}; check the remote's URL and access"
        ) from None
    if f"{prefix}HEAD" not in before and f"{prefix}HEAD" not in git.ref_tips(f"{prefix}HEAD"):
        # Which branch is main comes from <remote>/HEAD; `git fetch` alone never sets it.
        git.succeeds(["remote", "set-head", name, "--auto"])
    after = git.ref_tips(prefix)
    report = PullReport(remote=name)
    report.new_refs = sorted(short_ref(r) for r in after.keys() - before.keys())
    report.deleted_refs = sorted(short_ref(r) for r in before.keys() - after.keys())
    report.updated_refs = sorted(
        short_ref(r) for r in after.keys() & before.keys() if after[r] != before[r]
    )
    report.notes = [*_merge_review_notes(ctx, name), *merge_fetched_notes(git, name)]
    _forge_tasks(ctx, name, before, after, transport)
    after_items = pending_queue(ctx, now=now)
    after_ids = {i.change.id for i in after_items}
    report.new_items = [i for i in after_items if i.change.id not in before_items]
    report.left_items = [i for cid, i in before_items.items() if cid not in after_ids]
    report.queue_size = len(after_items)
    return report


def _merge_review_notes(ctx: Context, remote: str) -> list[NotesMerge]:
    """Verdict notes go through `sync`'s merge (same tracking ref, same lock, same rule)."""
    git = ctx.git
    fetched = git.try_resolve(tracking_ref(remote, NOTES_REF))
    if fetched is None:
        return []
    git.run(["update-ref", review_tracking_ref(remote), fetched], what="update-ref")
    old = git.try_resolve(NOTES_REF)
    before = list_notes(git, NOTES_REF)
    for warning in merge_remote(git, remote, notes_lock_path(ctx)).warnings:
        print(f"reviewq: warning: {warning}", file=sys.stderr)
    new = git.try_resolve(NOTES_REF)
    changed = notes_changed(before, list_notes(git, NOTES_REF))
    return [describe(NOTES_REF, old, new, fetched, changed)]


def _forge_tasks(
    ctx: Context, remote: str, before: dict[str, str], after: dict[str, str], transport: Any
) -> None:
    """The task text cloud agents were given, from the pull requests' bodies on GitHub, when a
    token is configured; kept for `show`, `scan` and the queue (no network there)."""

    token = token_from({**os.environ, **ctx.env})
    if token is None:
        return
    repo = repo_for(ctx.git, remote)
    if repo is None:
        return
    known = load_tasks(ctx.state_dir)
    wanted: dict[int, str] = {}
    for ref, sha in after.items():
        number = review_number(ref, [remote])
        if number is None or number[0] != "pull-request":
            continue
        short = short_ref(ref)
        if before.get(ref) != sha or short not in known:
            wanted[number[1]] = short
    if not wanted:
        return
    tasks, problems = fetch_tasks(*repo, sorted(wanted), token, transport=transport)
    for problem in problems:
        print(f"reviewq pull: no task text for {problem}", file=sys.stderr)
    try:
        store_tasks(ctx.state_dir, {wanted[n]: task for n, task in tasks.items()})
    except OSError as exc:
        print(f"reviewq pull: cannot keep the pull requests' tasks ({exc})", file=sys.stderr)
