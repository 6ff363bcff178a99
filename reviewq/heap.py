"""How the C heap is used around large one-shot work, in one place (glibc's `mallopt` and
`malloc_trim`; each call a no-op off glibc).

A million-record log makes arrays of megabytes. By default glibc maps a large allocation on its
own and gives it back when freed; the next one of that size is then mapped afresh, and each of
its pages costs a fault (~2-3 µs here, and a million-row float column is 2,000 pages). Which is
better depends on the phase: memory used again while a first build reads its blocks, arrays
mapped on their own while it joins them (the peak), and kept for reuse while figures are
computed from them. docs/speed.md has the figures.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

#: glibc's `mallopt` parameters.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@functools.cache
def _libc() -> Any:
    import ctypes  # start-up: only for a large build

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - glibc has both; other C libraries may not
    except (OSError, AttributeError):
        return None
    return libc


def _mallopt(mmap_threshold: int, trim_threshold: int) -> None:
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(OSError):
            libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
            libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)


def blocks_reuse_memory() -> None:
    """While a large first build reads its blocks, the memory a block's bytes and lines took is
    used again for the next block's instead of given back and faulted in again (a page fault
    for every page of the log, a second or more of system time at a million records): blocks
    below 64 MiB come from the heap, and the heap keeps up to 64 MiB free at its top (`trim`
    gives it back once the blocks are read)."""
    _mallopt(64 << 20, 64 << 20)


def big_arrays_mapped() -> None:
    """From here on (the join of a large first build, once the blocks are read), large
    allocations (a column of a million rows) are mapped on their own, so that each is given
    back to the system as soon as it is freed: glibc otherwise raises its threshold to the
    largest block freed, and a freed column leaves a hole in the heap that the next, larger
    one cannot use (every column then counts twice at the join)."""
    _mallopt(1 << 20, 128 << 10)  # the trim threshold: glibc's default again


def temporaries_reuse_memory() -> None:
    """For a command that computes figures over a million rows and then ends (`stats`,
    `report`): each grouping's temporaries (a column's worth each, freed before the next
    grouping makes its own) are kept in the heap and used again, not mapped and faulted in
    afresh. After a first build (`big_arrays_mapped`) the figures took 0.40 s, 73,000 faults
    of them; kept, 0.25 s and 9,000, at the same peak memory. A long-lived process (the TUI)
    does not call this: it would hold the freed memory."""
    _mallopt(32 << 20, 512 << 20)


def _huge_page_switch() -> Any:
    """numpy's switch for asking the kernel for transparent huge pages (`madvise`) on each
    array of 4 MiB or more (what NUMPY_MADVISE_HUGEPAGE sets at import); None if it has none."""
    try:
        from numpy._core import multiarray  # numpy 2
    except ImportError:
        try:
            from numpy.core import multiarray  # numpy 1.26
        except ImportError:
            return None
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """Within: numpy's new arrays are not marked for huge pages. For a first build's sorts and
    joins (a worker's whole range, the main process's final join): they make arrays of
    megabytes, each mapped on its own (`big_arrays_mapped`) and faulted in fresh; marked, each
    2 MiB page is taken whole from the kernel's free memory and zeroed at once. On the
    measuring machine, a VM whose free 2 MiB blocks go back to its host, that made them the
    slow part: in traced 1M-record first builds the worker's sorts and hand-over took 770 ms
    marked against 460 ms not; joining two ranges' change ids, 416 against 52 ms. The main
    process's join went small only once the cache's file was written past the page cache
    (`store.direct_file`): a buffered write then found no freed huge pages to reuse, took
    0.6-1.0 s instead of 0.1 s and held its arrays through the figures (peak 289-313 MB
    against 275). `stats` and `report` keep numpy from marking any array from the start
    (`workflow.table_prefetch.set_up_numpy`); this is for the other commands' first builds."""
    switch = _huge_page_switch()
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def trim() -> None:
    """Give the C heap's free memory back to the system: the blocks' lines and records were
    freed, but glibc keeps what it had, and what comes next (the join) would count on top."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
