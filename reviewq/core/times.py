"""Times and durations: one parser for recorded instants, one formatter for people.

**Instants.** Every time reviewq records (a verdict's `at`, a commit's `committed_at` from git's
`%cI`) carries its UTC offset: `core.verdict.new_record` refuses one without. So a recorded time
without an offset was not written by reviewq and is not an instant: `parse_instant` returns None
for it, and every reader (the log's order, the gate's cooldowns, metrics, the queue's ages)
treats such a record the same way, as having no time. `Z` is read as `+00:00`.

(Times a person types, `--since 2026-11-01`, are another matter: a date or a naive time there
means the person's own zone; `workflow.stats.parse_since` reads those.)

**Durations.** `duration` is how a span reads to a person: `42s`, `3m 05s`, `2h 10m`,
`3d 4h`. The ticking review timer alone uses the clock style (`3:05`, `1:02:03`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal


def parse_instant(text: Any) -> datetime | None:
    """An RFC 3339 time with an offset, or None (naive, malformed, or not a string)."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.utcoffset() is not None else None


def duration(seconds: float | None, style: Literal["words", "clock"] = "words") -> str:
    """A span for people. "words": two units at most (`3m 05s`); "clock": `m:ss` / `h:mm:ss`.

    Both count whole seconds (cut, not rounded), so the ticking clock's `0:13` and a line's
    `13s` never differ by one.

    None or NaN (no figure) reads `–`.
    """
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    if style == "clock":
        whole = int(seconds)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    s = int(seconds)  # whole seconds, cut as the clock ticks: 13.9s is 13s on both
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"
