"""The pending queue as the app and the CLI both see it: scope scan, inbox, policy, risk."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.queue import QueueItem

if TYPE_CHECKING:
    from reviewq.scan import Scanner
    from reviewq.sources.refs import RefSnapshot


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

    One item per unit of review (`reviewq.units`): a branch, a pull/merge request, a Gerrit
    change, an inbox patch series, or a commit on main. `view`: `daily` (unmerged work, then AI
    commits on main since `[scope] recent`), `audit` (older ones on main) or `all`.
    """
    from reviewq.units import build_units

    now = now or local_now()
    queue = build_units(ctx, now, snapshot=snapshot, include_notes=include_notes, scanner=scanner)
    return queue.items(view, sort=None)
