"""Live refresh: notice that the queue's inputs moved, and reload only what moved.

The queue depends on refs (agent branches, pull requests, main, notes), the patch inbox and the
provenance log. `QueueSource.changed()` compares a fingerprint of all three, taken with one
`git for-each-ref`, one `git rev-parse HEAD` and a few `stat`s (milliseconds, so a screen can
poll it every couple of seconds from a worker). `refresh()` then runs the ordinary pending
queue, which is incremental: the scope scan reads only commits new since the last scan, the
inbox rereads only changed files. New agent work appears, settled and merged items leave.

No Textual here: the TUI's poller (`reviewq.tui.live`) and any other front end drive this.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.queue import QueueItem
from reviewq.sources.refs import RefSnapshot, read_snapshot
from reviewq.workflow.scan import Scanner
from reviewq.workflow.units import build_units

if TYPE_CHECKING:
    from reviewq.workflow.scan import Scanner


def pending_queue(
    ctx: Context,
    now: datetime | None = None,
    *,
    snapshot: RefSnapshot | None = None,
    include_notes: bool = True,
    scanner: Scanner | None = None,
    view: str = "daily",
) -> list[QueueItem]:
    """AI-authored work in the configured scope (`[scope]`) and the patch inbox that the policy
    still wants a reviewer for, with their domains and needs.

    Verdicts match by sha, or by patch-id when a change was rebased or amended. A change leaves
    the queue when it passes, waits only for its cooldown, or was rejected (docs/policy.md).
    `snapshot`: the refs as already read (live refresh read them to notice a change).
    `include_notes=False` leaves the team's verdicts (the notes ref) out: the TUI's fallback
    when that ref cannot be read, so the reviewer can go on with this machine's verdicts.
    `scanner`: the one a long-lived front end keeps (a refresh then decodes only what is new).

    One item per unit of review (`reviewq.workflow.units`): a branch, a pull/merge request, a Gerrit
    change, an inbox patch series, or a commit on main. `view`: `daily` (unmerged work, then AI
    commits on main since `[scope] recent`), `audit` (older ones on main) or `all`.
    """
    now = now or local_now()
    queue = build_units(
        ctx,
        now,
        snapshot=snapshot,
        include_notes=include_notes,
        scanner=scanner,
        for_view=view,
    )
    return queue.items(view, sort=None)


def _stat(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _dir_listing(folder: Path | None) -> tuple[tuple[str, int, int], ...]:
    if folder is None:
        return ()
    try:
        with os.scandir(folder) as entries:
            return tuple(
                sorted(
                    (e.name, s.st_size, s.st_mtime_ns)
                    for e in entries
                    if e.is_file() and (s := e.stat())
                )
            )
    except OSError:
        return ()


@dataclass(frozen=True)
class Fingerprint:
    """What the queue was computed from; equal fingerprints, equal queues."""

    refs: tuple
    inbox: tuple
    log: tuple[int, int] | None
    snapshot: RefSnapshot | None = field(default=None, compare=False)


@dataclass(frozen=True)
class QueueUpdate:
    items: list[QueueItem]
    added: list[QueueItem]
    removed: list[QueueItem]
    #: Items present before and after whose place changed (a new ref, a merge).
    moved: list[QueueItem]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.moved)


class QueueSource:
    """The pending queue as something to poll: `changed()` is cheap, `refresh()` incremental.

    `lock` guards the repository's cache (not thread-safe); pass the lock the rest of the
    front end holds around cache access. `load` is the queue function (the pending queue).
    """

    def __init__(
        self,
        ctx: Context,
        *,
        now: Callable[[], datetime] = local_now,
        lock: AbstractContextManager | None = None,
        load: Callable[..., list[QueueItem]] = pending_queue,
    ) -> None:
        if load is pending_queue:  # kept across refreshes: each decodes only what is new
            load = partial(pending_queue, scanner=Scanner(ctx))
        self.ctx = ctx
        self.now = now
        self.lock = lock if lock is not None else threading.RLock()
        self.load = load
        self.items: list[QueueItem] = []
        self._seen: Fingerprint | None = None
        self._fresh: Fingerprint | None = None

    def fingerprint(self) -> Fingerprint:
        snapshot = read_snapshot(self.ctx.git)
        return Fingerprint(
            refs=snapshot.key(),
            inbox=_dir_listing(self.ctx.inbox_dir()),
            log=_stat(self.ctx.log_path),
            snapshot=snapshot,
        )

    def changed(self) -> bool:
        """Has anything the queue depends on moved since the last refresh?"""
        self._fresh = self.fingerprint()
        return self._seen is None or self._fresh != self._seen

    def refresh(self) -> QueueUpdate:
        """Recompute the queue (incrementally) and say what came, went and moved.

        The fingerprint is taken before the queue is computed: anything that lands while the
        queue is being computed shows up as a change at the next poll, never lost.
        """
        with self.lock:  # the initial load, a manual refresh and the poller may overlap
            return self._refresh()

    def _refresh(self) -> QueueUpdate:
        fingerprint = self._fresh or self.fingerprint()
        self._fresh = None
        try:
            items = self.load(self.ctx, now=self.now(), snapshot=fingerprint.snapshot)
        except Exception:
            # Report a broken input (a malformed patch, a vanished ref) once, not every poll:
            # the next attempt waits for something to change again.
            self._seen = fingerprint
            raise
        before = {i.change.id: i for i in self.items}
        after = {i.change.id: i for i in items}
        update = QueueUpdate(
            items=items,
            added=[i for cid, i in after.items() if cid not in before],
            removed=[i for cid, i in before.items() if cid not in after],
            moved=[
                i for cid, i in after.items() if cid in before and _place(before[cid]) != _place(i)
            ],
        )
        self.items = items
        self._seen = fingerprint
        return update

    def poll(self) -> QueueUpdate | None:
        """`refresh()` when something moved, else None (the cheap path)."""
        with self.lock:
            return self.refresh() if self.changed() else None


def _place(item: QueueItem) -> tuple:
    c = item.change
    return (c.location, c.merged, c.refs)
