"""Full collections must not stall page downs: the open diff is out of the collector's sight,
and returning to the queue collects what was frozen meanwhile (no frozen leak)."""

from __future__ import annotations

import gc
import weakref

from reviewq.core import alloc
from tests.tui.conftest import settle
from tests.tui.test_pilot import open_first_review

SIZE = (160, 50)


class _Cycle:
    """Garbage in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _frozen_garbage() -> weakref.ref:
    cycle = _Cycle()
    alloc.keep_out_of_sight()  # frozen with the open diff, as a closed screen's cycles are
    return weakref.ref(cycle)


async def test_back_on_the_queue_frozen_garbage_is_freed(make_app, monkeypatch):
    monkeypatch.setattr(alloc, "FROZEN_SLACK", 0)  # every freeze counts as large
    gc.unfreeze()
    async with make_app().run_test(size=SIZE) as pilot:
        await open_first_review(pilot)
        garbage = _frozen_garbage()
        gc.collect()
        assert garbage() is not None  # frozen: no collection frees it
        await pilot.press("escape")
        await settle(pilot)
        await pilot.pause()
        assert garbage() is None, "what the review froze stayed after the return"


async def test_a_small_freeze_waits_for_a_large_one(make_app, monkeypatch):
    monkeypatch.setattr(alloc, "FROZEN_SLACK", 10**12)
    gc.unfreeze()
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = gc.get_freeze_count()
        await open_first_review(pilot)
        await pilot.pause()
        # The open diff is out of the collector's sight, and the collector is on again.
        assert gc.get_freeze_count() > before and gc.isenabled()
        garbage = _frozen_garbage()
        await pilot.press("escape")
        await settle(pilot)
        await pilot.pause()
        assert gc.isenabled()
        # Below the slack the return costs no full collection: the garbage waits, frozen.
        assert garbage() is not None
    gc.unfreeze()
    gc.collect()
    assert garbage() is None


def test_needs_collection_counts_growth_since_the_last_collection(monkeypatch):
    monkeypatch.setattr(alloc, "FROZEN_SLACK", 10)
    gc.unfreeze()
    try:
        base = alloc.keep_as_long_lived()
        assert not alloc.needs_collection(base)
        keep = [[i] for i in range(100)]  # noqa: F841 - alive while frozen
        alloc.keep_out_of_sight()
        assert gc.get_freeze_count() >= base + 100
        assert alloc.needs_collection(base)
    finally:
        gc.unfreeze()


def test_pause_and_resume_collection():
    gc.unfreeze()
    try:
        alloc.pause_collection()
        assert not gc.isenabled()
        alloc.resume_collection()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        # Paused by someone else (a bulk load): resuming ours leaves theirs alone.
        gc.disable()
        alloc.pause_collection()
        alloc.resume_collection()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_keeping_out_of_sight_does_not_count_the_frozen(monkeypatch):
    """`gc.get_freeze_count` walks every frozen object: never on the UI's way (page downs)."""

    def walk() -> int:
        raise AssertionError("counted the frozen objects")

    gc.unfreeze()
    try:
        keep = [[i] for i in range(100)]
        monkeypatch.setattr(gc, "get_freeze_count", walk)
        alloc.keep_out_of_sight()
        monkeypatch.undo()
        assert gc.get_freeze_count() >= len(keep)
    finally:
        gc.unfreeze()
