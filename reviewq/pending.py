"""The pending queue as the app and the CLI both see it: scope scan, inbox, settled, risk."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from reviewq.context import Context
from reviewq.core.queue import QueueItem, build_queue

if TYPE_CHECKING:
    from reviewq.sources.refs import RefSnapshot


def local_now() -> datetime:
    return datetime.now().astimezone()


def pending_queue(
    ctx: Context, now: datetime | None = None, *, snapshot: RefSnapshot | None = None
) -> list[QueueItem]:
    """AI-authored work in the configured scope (`[scope]`) and the patch inbox, without a
    settling verdict (by sha, or by patch-id when rebased).

    `snapshot`: the refs as already read (live refresh read them to notice a change).
    """
    from reviewq.scan import scan_inbox, scan_scope
    from reviewq.verdicts import settled_filter

    now = now or local_now()
    changes = list(scan_scope(ctx, now=now, snapshot=snapshot).changes)
    changes += scan_inbox(ctx)
    return build_queue(changes, now=now, is_settled=settled_filter(ctx, changes))
