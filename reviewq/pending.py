"""The pending queue as the app and the CLI both see it: scan, inbox, settled, risk."""

from __future__ import annotations

from datetime import datetime

from reviewq.context import Context
from reviewq.core.queue import QueueItem, build_queue


def local_now() -> datetime:
    return datetime.now().astimezone()


def pending_queue(ctx: Context, now: datetime | None = None) -> list[QueueItem]:
    """AI-authored changes without a settling verdict (by sha, or by patch-id when rebased)."""
    from reviewq.scan import scan_history, scan_inbox
    from reviewq.verdicts import settled_filter

    changes = list(scan_history(ctx).changes)
    changes += scan_inbox(ctx)
    return build_queue(changes, now=now or local_now(), is_settled=settled_filter(ctx, changes))
