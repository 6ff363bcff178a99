"""Paging a large diff makes no cyclic garbage: the view's caches (`Lru`) and Textual's strips
(`_no_self_in_strip_caches`) free what they drop by reference counting, so the full collections
that stalled page downs find nothing to do. The answers are the same as before."""

from __future__ import annotations

import gc

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

from reviewq.tui.diff.view import TEXTUAL_STRIP, Lru


class _Thing:
    """An object the cyclic collector tracks (as a strip is)."""

    def __init__(self, n: int) -> None:
        self.n = n


def _cyclic_garbage_of(work) -> int:
    """How many objects only the cyclic collector frees after `work()` (0: none)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        if was:
            gc.enable()


def test_lru_drops_entries_without_cycles():
    def fill_and_clear(cache) -> None:
        for n in range(300):
            cache[(n, "row")] = _Thing(n)
        for n in range(0, 300, 3):
            cache.get((n, "row"))
        cache.clear()
        for n in range(300):
            cache[(n, "again")] = _Thing(n)  # past maxsize: evictions

    assert _cyclic_garbage_of(lambda: fill_and_clear(Lru(100))) == 0
    # Textual's LRUCache, which the view used, left its ring of entries to the collector.
    assert _cyclic_garbage_of(lambda: fill_and_clear(LRUCache(100))) > 0


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.tuples(st.sampled_from(["get", "set", "has"]), st.integers(0, 9)), max_size=80),
)
def test_lru_keeps_what_textuals_lru_cache_keeps(maxsize, ops):
    ours: Lru[int, int] = Lru(maxsize)
    theirs: LRUCache[int, int] = LRUCache(maxsize)
    for i, (op, key) in enumerate(ops):
        if op == "set":  # the view sets a key after a miss (Textual's keeps a present value)
            found = ours.get(key)
            assert found == theirs.get(key)
            if found is None:
                ours[key] = i
                theirs[key] = i
        elif op == "get":
            assert ours.get(key) == theirs.get(key)
        else:
            assert (key in ours) == (key in theirs)
    assert len(ours) == len(theirs)
    assert {k: ours.get(k) for k in range(10)} == {k: theirs.get(k) for k in range(10)}


_segments = st.lists(
    st.tuples(st.text("ab é漢", min_size=1, max_size=6), st.sampled_from([None, "bold", "red"])),
    min_size=0,
    max_size=5,
)


def _strip(parts) -> Strip:
    return Strip([Segment(text, Style.parse(style) if style else None) for text, style in parts])


@settings(max_examples=300, deadline=None)
@given(_segments, st.integers(0, 30), st.integers(0, 30), st.lists(st.integers(0, 30), max_size=4))
def test_strips_answer_as_textuals_own_methods(parts, a, b, cuts):
    strip, plain = _strip(parts), _strip(parts)
    width = strip.cell_length
    pad = Style.parse("on blue")
    for length in (a, width):
        assert strip.adjust_cell_length(length, pad) == TEXTUAL_STRIP["adjust_cell_length"](
            plain, length, pad
        )
    for start, end in ((0, width), (min(a, b), max(a, b)), (0, b)):
        assert strip.crop_extend(start, end, pad) == TEXTUAL_STRIP["crop_extend"](
            plain, start, end, pad
        )
    for cut in (sorted(cuts), [width], sorted({*cuts, width})):
        assert list(strip.divide(cut)) == list(TEXTUAL_STRIP["divide"](plain, cut))


def test_a_strip_at_its_own_width_is_not_a_cycle():
    def draw() -> None:
        for n in range(50):
            strip = Strip([Segment(f"row {n:03d}", Style(bold=True))])
            width = strip.cell_length
            assert strip.adjust_cell_length(width) is strip
            assert strip.crop_extend(0, width, None) is strip
            assert strip.divide([width]) == [strip]
            strip.divide([2, width])  # a real cut is still remembered, as Textual does

    assert _cyclic_garbage_of(draw) == 0


def test_the_originals_made_cycles():
    """The reason for the above: Textual's own methods remember `self`."""

    def draw() -> None:
        for n in range(50):
            strip = Strip([Segment(f"row {n:03d}")])
            TEXTUAL_STRIP["divide"](strip, [strip.cell_length])

    assert _cyclic_garbage_of(draw) > 0


async def test_highlights_are_out_of_the_collectors_sight_once_drawn(make_app, repo):
    from tests.tui.conftest import settle
    from tests.tui.test_pilot import open_first_review

    repo.commit("base", files={"svc/app.py": "".join(f"x_{n} = {n}\n" for n in range(600))})
    repo.commit(
        "Rework the values\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={"svc/app.py": "".join(f"x_{n} = {n} * 2\n" for n in range(600))},
    )
    gc.unfreeze()
    async with make_app(repo.path).run_test(size=(160, 50)) as pilot:
        screen = await open_first_review(pilot)
        await settle(pilot)
        view = screen.view
        await settle(pilot)  # the rationale and the critique are in (each froze what was)
        before = set(map(id, view._highlights.values()))
        for _ in range(3):
            await pilot.press("pagedown")
            await settle(pilot)
        assert set(map(id, view._highlights.values())) - before, "paging highlighted more"
        tracked = {id(o) for o in gc.get_objects()}
        chunks = [lines for lines in view._highlights.values()]
        assert not any(id(lines) in tracked for lines in chunks)
