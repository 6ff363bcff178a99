"""How the review screen loads a change: the diff first, parsed once; the rest after it shows."""

from __future__ import annotations

import time

from reviewq.tui.screens.review import ReviewScreen
from reviewq.tui.widgets.diff_view import DiffView
from tests.tui.conftest import settle

SIZE = (160, 50)


async def test_rationale_and_prefetch_start_after_the_diff_is_on_screen(make_app):
    """The rationale (which reads and parses every changed file) and the next items' critiques
    wait until the diff is drawn, and the rationale reuses the screen's parsed diff instead of
    reading and parsing it again (issue 18)."""
    app = make_app()
    services = app.services
    seen: list[tuple[str, object]] = []
    load_diff, rationale = services.load_diff, services.rationale

    def slow_load_diff(change):
        time.sleep(0.3)  # a big diff: whatever starts "meanwhile" starts before it is shown
        return load_diff(change)

    def recording_rationale(change, diff=None):
        screen = app.screen
        shown = isinstance(screen, ReviewScreen) and screen.query_one(DiffView).model is not None
        seen.append(("rationale", (shown, diff is not None and diff is screen.diff)))
        return rationale(change, diff)

    services.load_diff = slow_load_diff
    services.rationale = recording_rationale
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prefetch = app.prefetch_after

        def recording_prefetch(change_id, queue):
            screen = app.screen
            shown = isinstance(screen, ReviewScreen) and screen.view.model is not None
            seen.append(("prefetch", shown))
            prefetch(change_id, queue)

        app.prefetch_after = recording_prefetch
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.rationale_text  # it did arrive
        assert ("rationale", (True, True)) in seen
        assert ("prefetch", True) in seen
        assert len([s for s in seen if s[0] == "rationale"]) == 1


async def test_a_critique_that_arrives_while_the_diff_loads_is_shown_after_it(make_app):
    """A critique finished before the diff is on screen is not lost: it is shown with the diff
    (its findings marked on it)."""
    app = make_app()
    services = app.services
    load_diff = services.load_diff

    def slow_load_diff(change):
        time.sleep(0.3)
        return load_diff(change)

    services.load_diff = slow_load_diff
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the queue prefetched the first items' critiques
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.critique is not None
        assert screen.critique is app.critiques[screen.change.id]
        assert "critique ready" in screen._header_plain or "critique opened" in (
            screen._header_plain
        )
