"""Pausing the cyclic garbage collector around bulk allocation.

Parsing a million log records or building a million-row column makes tens of millions of small
objects and no reference cycles; left on, the collector rescans them again and again for nothing
(most of the time of a large read). Pure: no I/O.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; restore its state after (even on errors)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def keep_as_long_lived() -> int:
    """After a large load: collect once, then take every surviving object out of the collector's
    sight (`gc.freeze`). What the load built lives for the session, and full collections that
    walk it again and again stall the UI: at 10,000 queue items over a million-record log they
    took 150-560 ms, in the middle of a page down. The previous freeze is undone first, so what
    it held and has since become garbage is collected now rather than never. Returns the frozen
    count."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


#: Objects taken out of sight (`keep_out_of_sight`) beyond which returning to the queue collects
#: once: a reviewed screen and its diff live in reference cycles, and a frozen cycle is never
#: freed. A small diff's screen is a few thousand objects; a 56,000-line one is hundreds of
#: thousands.
FROZEN_SLACK = 200_000


def keep_out_of_sight() -> None:
    """Take every object alive now out of the collector's sight, without a collection.

    Called once a diff is on screen, and again as paging adds highlighted chunks: without it,
    each full collection while the reviewer pages walks start-up's objects and the diff's again
    (measured: 130 ms pauses inside page downs of a 56,000-line change; 10-30 ms after).
    `gc.freeze` is a list splice, no pause. It does not count what is frozen: in CPython
    `gc.get_freeze_count` walks the whole frozen list (about a million objects with that diff
    open: 30-150 ms, on the UI thread, each time the rationale, the findings or a page's
    highlights arrived). What this freezes and later becomes garbage in a cycle (the screen,
    when it is closed) is only freed by `keep_as_long_lived`; `needs_collection` says when that
    is worth its pause."""
    gc.freeze()


def needs_collection(frozen_after_last_collection: int) -> bool:
    """Whether what was frozen since the last full collection is large enough to collect now."""
    return gc.get_freeze_count() - frozen_after_last_collection > FROZEN_SLACK


_paused_by_us = False


def pause_collection() -> None:
    """No collections until the screen being built is drawn (`resume_collection`).

    Starting the TUI (importing Textual and reviewq, the first screen) and opening a large diff
    make hundreds of thousands of objects that live on, and the collector walked them in full
    collections of 40-100 ms before the first row was drawn. Little of it is cyclic garbage."""
    global _paused_by_us
    if gc.isenabled():
        gc.disable()
        _paused_by_us = True


def resume_collection() -> None:
    """The screen is drawn: what was built stays out of sight (`keep_out_of_sight`, no pause),
    and collection resumes if `pause_collection` paused it. Safe to call more than once."""
    global _paused_by_us
    keep_out_of_sight()
    if _paused_by_us:
        _paused_by_us = False
        gc.enable()
