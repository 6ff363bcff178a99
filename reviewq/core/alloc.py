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
