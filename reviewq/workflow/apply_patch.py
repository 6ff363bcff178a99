"""Applying an inbox patch to a branch with `git am`, only when the user asks.

The inbox is agent output nobody has committed yet. Applying turns it into commits on a branch
the user names; the result must be indistinguishable from the agent having pushed it, minus
nothing: the sidecar's agent, model and prompt go into the prompt note of each new commit (so
the scan still knows who wrote it), and the patch-id is kept there too (a verdict recorded
against the inbox item's patch-id matches the commit, which `git am` gives the same patch-id).

Where it runs:
- the branch is checked out here: `git am` in this worktree, which must be clean;
- the branch is not checked out anywhere (or does not exist yet, with `create`): `git am` in a
  temporary detached worktree, then a compare-and-swap `update-ref`: the user's checkout is
  never touched, and a bare repository works too;
- the branch is checked out in another worktree: refused (its files would go stale).
A patch that does not apply is `git am --abort`ed: branch, index and files are as they were.
"""

from __future__ import annotations

import email.utils
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.model import Change, Identity
from reviewq.core.queue import parse_time
from reviewq.core.scope import scope_of
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.inbox import read_patch_file, sidecar_candidates
from reviewq.sources.notes import write_prompt_note
from reviewq.sources.refs import list_remotes, read_snapshot, scope_view
from reviewq.workflow.recording import settled_index
from reviewq.workflow.scan import scan_inbox

ZERO = "0" * 40


@dataclass
class Applied:
    ids: list[str]
    branch: str
    commits: list[str]
    created: bool
    archived: list[str]
    #: The latest verdict on each applied patch (None: not reviewed yet). A settling verdict
    #: carries over to the commit through its patch-id; without one the commit is queued.
    verdicts: list[str | None]

    def to_json(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            "branch": self.branch,
            "commits": self.commits,
            "created": self.created,
            "archived": self.archived,
            "verdicts": self.verdicts,
        }


def find_patches(ctx: Context, ref: str) -> list[Change]:
    """The inbox patches `ref` names, in file order: an id (prefix) or a file name.

    A file holding a series applies as a whole: applying one middle patch of a series on its
    own is how a branch ends up with half a change.
    """
    if ctx.inbox_dir() is None:
        raise ReviewqError('no patch inbox is configured; set `inbox = "DIR"` in .reviewq.toml')
    inbox = scan_inbox(ctx)
    wanted = ref.removeprefix("inbox:")
    by_id = [
        c
        for c in inbox
        if ref.startswith("inbox:") and c.id.removeprefix("inbox:").startswith(wanted)
    ]
    name = Path(ref.removeprefix("inbox/")).name
    by_file = [c for c in inbox if c.patch_path and Path(c.patch_path).name == name]
    matches = by_id or by_file
    if not matches:
        raise ReviewqError(f"no inbox patch matches {ref!r}; list them with `reviewq queue`")
    files = {c.patch_path for c in matches}
    if len(files) > 1 or len({c.id for c in by_id}) > 1:
        raise ReviewqError(f"{ref!r} matches more than one inbox patch; give more of the id")
    path = files.pop()
    series = [c for c in inbox if c.patch_path == path]
    if by_id and len(series) > 1:
        raise ReviewqError(
            f"{Path(path).name} holds a series of {len(series)} patches; apply it whole with "
            f"`reviewq apply inbox/{Path(path).name} --branch B`"
        )
    return series


def _mbox(git: Git, change: Change, raw: bytes) -> bytes:
    """What `git am` reads: the file's own mail, or one built around a bare diff."""
    if raw.lstrip().startswith((b"From ", b"From:", b"Subject:", b"Date:")):
        return raw  # format-patch mail: `git am` reads it as it is
    who = change.authorship.prompted_by[0] if change.authorship.prompted_by else _ident(git)
    when = parse_time(change.commit.authored_at) or local_now()
    subject, _, body = change.commit.message.partition("\n")
    head = (
        f"From {ZERO} Mon Sep 17 00:00:00 2001\n"
        f"From: {email.utils.formataddr((who.name, who.email))}\n"
        f"Date: {email.utils.format_datetime(when)}\n"
        f"Subject: {subject}\n\n{body.strip()}\n---\n"
    )
    return head.encode("utf-8") + raw


def _ident(git: Git) -> Identity:
    """The user's own identity (as `git commit` would use it) for a patch that names nobody."""
    try:
        ident = git.text(["var", "GIT_AUTHOR_IDENT"], what="var").strip()
    except GitError:
        raise ReviewqError(
            "the patch names no author and git has no identity for you; "
            "set `git config user.name` and `user.email`"
        ) from None
    name, _, rest = ident.partition(" <")
    return Identity(name, rest.partition(">")[0])


def _worktree_of(git: Git, branch_ref: str) -> Path | None:
    """The worktree that has `branch_ref` checked out, if any."""
    out = git.text(["worktree", "list", "--porcelain"], what="worktree list")
    current: Path | None = None
    for line in out.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree ") :])
        elif line == f"branch {branch_ref}":
            return current
    return None


def _am(git: Git, mbox: bytes, where: str, tree: Path | None = None) -> None:
    at = ["-C", str(tree)] if tree is not None else []
    try:
        git.run([*at, "am", "--3way", "--quiet"], input=mbox, what="am")
    except GitError as exc:
        git.succeeds([*at, "am", "--abort"])
        raise ReviewqError(
            f"the patch does not apply to {where} ({exc.message.removeprefix('git am: ')}); "
            "nothing was changed: rebase the agent's work or apply it to another branch"
        ) from None


def apply_patches(
    ctx: Context,
    ref: str,
    branch: str,
    *,
    create: bool = False,
    start: str | None = None,
    keep: bool = False,
    now: datetime | None = None,
) -> Applied:
    """`git am` the inbox patches `ref` names onto `branch`; see the module docstring."""
    git = ctx.git
    series = find_patches(ctx, ref)
    raws = _raw_parts(series)
    mbox = b"".join(_mbox(git, c, raw) for c, raw in zip(series, raws))
    if branch.startswith("-") or not git.succeeds(["check-ref-format", "--branch", branch]):
        raise ReviewqError(f"{branch!r} is not a valid branch name")
    branch_ref = f"refs/heads/{branch}"
    old = git.try_resolve(branch_ref)
    if old is None and not create:
        raise ReviewqError(
            f"branch {branch!r} does not exist; pass --create to start it from main (or --from REV)"
        )
    if old is not None and (create and start):
        raise ReviewqError(f"branch {branch!r} exists already; drop --from to apply on top of it")
    base = old or _start_point(ctx, start)
    here = _worktree_of(git, branch_ref)
    paths = git.paths()
    if (
        here is not None
        and paths.work_tree is not None
        and here.resolve() == paths.work_tree.resolve()
    ):
        if git.text(["status", "--porcelain", "--untracked-files=no"]).strip():
            raise ReviewqError(
                f"{branch!r} is checked out here with uncommitted changes; commit or stash them first"
            )
        _am(git, mbox, branch)
        new = git.resolve("HEAD")
    elif here is not None:
        raise ReviewqError(
            f"{branch!r} is checked out in {here}; run `reviewq apply` there "
            "or check out another branch in it"
        )
    else:
        new = _am_elsewhere(git, mbox, base, branch)
        try:
            git.run(
                ["update-ref", "-m", f"reviewq apply {ref}", branch_ref, new, old or ""],
                what="update-ref",
            )
        except GitError:
            raise ReviewqError(
                f"{branch!r} moved while the patch was being applied; nothing was changed, "
                "run the command again"
            ) from None
    commits = git.text(["rev-list", "--reverse", f"{base}..{new}"]).split()
    for sha, change in zip(commits, series):
        write_prompt_note(git, sha, _note(change, now))
    archived = [] if keep else _archive(Path(series[0].patch_path or ""))
    return Applied(
        [c.id for c in series], branch, commits, old is None, archived, _verdicts(ctx, series)
    )


def _verdicts(ctx: Context, series: Sequence[Change]) -> list[str | None]:
    index = settled_index(ctx)
    return [
        index.latest(sha=None, patch_id=c.id.removeprefix("inbox:"), change_id=c.id) for c in series
    ]


def _raw_parts(series: Sequence[Change]) -> list[bytes]:
    path = Path(series[0].patch_path or "")
    parts = read_patch_file(path, series[0].commit.committed_at)
    return [p.raw for p in parts]


def _start_point(ctx: Context, start: str | None) -> str:
    if start:
        return ctx.git.resolve(start)

    view = scope_view(read_snapshot(ctx.git), scope_of(ctx.config), list_remotes(ctx.git))
    if view.main is None:
        raise ReviewqError("the repository has no commits to start a branch from; commit first")
    return view.mainline[view.main]


def _am_elsewhere(git: Git, mbox: bytes, base: str, branch: str) -> str:
    """`git am` in a temporary detached worktree at `base`; returns the new tip."""
    tmp = Path(tempfile.mkdtemp(prefix="reviewq-apply-"))
    tree = tmp / "wt"
    try:
        git.run(["worktree", "add", "--quiet", "--detach", str(tree), base], what="worktree add")
        _am(git, mbox, branch, tree)
        return git.text(["-C", str(tree), "rev-parse", "HEAD"]).strip()
    finally:
        git.succeeds(["worktree", "remove", "--force", str(tree)])
        shutil.rmtree(tmp, ignore_errors=True)
        git.succeeds(["worktree", "prune"])


def _note(change: Change, now: datetime | None) -> dict[str, Any]:
    a = change.authorship
    payload: dict[str, Any] = {
        "v": 1,
        "prompt": change.prompt.text if change.prompt else None,
        "agent": a.agent,
        "model": a.model,
        "prompted_by": a.prompted_by[0].to_json() if a.prompted_by else None,
        "source": "inbox",
        "patch_id": change.id.removeprefix("inbox:"),
        "inbox_file": Path(change.patch_path or "").name,
        "at": (now or local_now()).isoformat(timespec="seconds"),
    }
    return payload


def _archive(path: Path) -> list[str]:
    """Move the patch and its sidecars to `<inbox>/applied/` (kept, out of the queue)."""
    moved = []
    sidecars = {c for c in sidecar_candidates(path) if c.is_file()}
    target_dir = path.parent / "applied"
    target_dir.mkdir(exist_ok=True)
    for item in [path, *sorted(sidecars)]:
        target = target_dir / item.name
        n = 1
        while target.exists():
            n += 1
            target = target_dir / f"{item.stem}.{n}{item.suffix}"
        os.replace(item, target)
        moved.append(str(target))
    return moved
