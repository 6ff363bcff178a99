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


def keep_as_long_lived() -> None:
    """After a large load: collect once, then take every surviving object out of the collector's
    sight (`gc.freeze`). What the load built lives for the session, and full collections that
    walk it again and again stall the UI: at 10,000 queue items over a million-record log they
    took 150-560 ms, in the middle of a page down. The previous freeze is undone first, so what
    it held and has since become garbage is collected now rather than never."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
