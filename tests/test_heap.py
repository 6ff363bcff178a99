"""`reviewq.heap`: the C heap's settings around large one-shot work.

Each check runs in its own interpreter: the settings are the whole process's, and a test
worker's other tests must not run under them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from reviewq import heap

#: Page faults of making and freeing a float column of a million rows 30 times, after a
#: setting: printed by the child as one number.
FAULTS_AFTER = """
import resource, sys
import numpy as np
from reviewq import heap
getattr(heap, sys.argv[1])()
x = np.arange(1 << 20, dtype=np.float64)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    y = x * 2.0
    z = np.where(x > 5, y, 0.0)
    del y, z
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults_after(setting: str, script: str = FAULTS_AFTER) -> int:
    """The number a child running `script` with the argument `setting` prints."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), setting],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.skipif(heap._libc() is None, reason="glibc's mallopt is not here")
def test_kept_temporaries_are_used_again_instead_of_faulted_in_afresh() -> None:
    # Mapped on its own, each of the 60 columns made faults its pages in afresh (numpy asks
    # for huge pages where it can: ~650 faults a column here, not 2,048); kept, the first
    # ones' pages serve the rest.
    mapped = faults_after("big_arrays_mapped")
    if mapped < 2_000:
        # Transparent huge pages for every mapping (`always`): a column is a few faults either
        # way, and there is nothing to tell apart here.
        pytest.skip(f"{mapped} faults for 60 mapped columns: huge pages, no difference to see")
    kept = faults_after("temporaries_reuse_memory")
    assert kept * 10 < mapped


def test_every_setting_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_libc", lambda: None)
    heap.blocks_reuse_memory()
    heap.big_arrays_mapped()
    heap.temporaries_reuse_memory()
    heap.trim()


def test_small_pages_turns_numpy_huge_page_marking_off_within_and_back_after() -> None:
    switch = heap._huge_page_switch()
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    original = switch(True)
    try:
        for before in (True, False):
            switch(before)
            with heap.small_pages():
                assert switch(False) is False  # the call answers the setting it replaces
            assert switch(before) is before
            with pytest.raises(RuntimeError), heap.small_pages():
                raise RuntimeError("the build failed")
            assert switch(before) is before
    finally:
        switch(original)


#: Page faults of filling a new 64 MiB array, with numpy's huge-page marking as it is or
#: under `heap.small_pages`: printed by the child as one number.
FAULTS_OF_A_NEW_ARRAY = """
import contextlib, resource, sys
import numpy as np
from reviewq import heap
heap.big_arrays_mapped()  # mapped on its own, as a first build's join makes them
with heap.small_pages() if sys.argv[1] == "small" else contextlib.nullcontext():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    x = np.ones(8 << 20, dtype=np.float64)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_an_array_made_with_small_pages_is_faulted_in_small_pages() -> None:
    if heap._huge_page_switch() is None:
        pytest.skip("this numpy has no huge-page switch")
    marked = faults_after("marked", FAULTS_OF_A_NEW_ARRAY)
    if marked > 4_000:
        pytest.skip(f"{marked} faults for a marked 64 MiB array: no huge pages here to turn off")
    # 64 MiB in 4 KiB pages: 16,384 faults, less what the kernel maps around a fault.
    assert faults_after("small", FAULTS_OF_A_NEW_ARRAY) > 4 * marked
