"""The clock, read in one place: now, with this machine's UTC offset.

The core never reads the clock (it takes `now`); the shells and the TUI call `local_now`, and
tests pass their own `now` or clock instead.
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def local_now() -> datetime:
    """Now, aware, in the local time zone (what a verdict's `at` records)."""
    return datetime.now().astimezone()


def local_zone() -> tzinfo | None:
    """This machine's time zone now (its current offset)."""
    return local_now().tzinfo
