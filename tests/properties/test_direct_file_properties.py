"""`DirectFile` (a large cache written past the page cache) against a buffered write of the
same arrays: the same bytes for any arrays and any header length around its blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.store import direct_file
from tests.properties.strategies import at_most, scratch_dir
from tests.test_direct_file import SMALL_BLOCK, _arrays, _buffered, _direct

pytestmark = pytest.mark.property


@at_most(2_000)
@given(
    sizes=st.lists(st.integers(0, 5_000), max_size=6),
    meta_len=st.integers(0, 3 * SMALL_BLOCK),
)
def test_any_arrays_and_any_header_write_the_same_bytes(sizes, meta_len) -> None:
    """A header of any length: its room more than a block too (the held head grows to it)."""
    saved = direct_file.BLOCK
    direct_file.BLOCK = SMALL_BLOCK  # every path through the blocks in a few KiB
    try:
        arrays = _arrays(sizes)
        meta = {"text": "x" * meta_len}
        with scratch_dir() as scratch:
            data, _ = _direct(Path(scratch) / "f.arrays", arrays, meta)
    finally:
        direct_file.BLOCK = saved
    assert data == _buffered(arrays, meta)
