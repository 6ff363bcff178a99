"""What a page down draws: the review screen's own changes, not the queue screen under it
(issue 18: the queue's live-refresh poll repainted the whole review screen every two seconds)."""

from __future__ import annotations

import pytest

from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from reviewq.tui.widgets.lists import QueueTable
from tests.tui.conftest import settle
from tests.tui.test_pilot import open_first_review

SIZE = (160, 50)


def _frames(screen) -> list[list[tuple]]:
    """Spy on `screen`'s compositor: the dirty regions of each frame it composes."""
    compositor = screen._compositor
    seen: list[list[tuple]] = []
    render_update = compositor.render_update

    def spy(*args, **kwargs):
        seen.append(sorted(tuple(region) for region in compositor._dirty_regions))
        return render_update(*args, **kwargs)

    compositor.render_update = spy
    return seen


def _plain(screen) -> list[str]:
    return [strip.text for strip in screen._compositor.render_strips()]


async def test_a_covered_queue_does_not_repaint_the_review(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        review = await open_first_review(pilot)
        queue = app.screen_stack[-2]
        assert isinstance(queue, QueueScreen)
        frames = _frames(review)
        # What the live-refresh poll's worker does to the covered queue: messages, a repaint.
        for _ in range(3):
            queue.query_one(QueueTable).refresh()
            queue.refresh()
            await pilot.pause()
        await pilot.pause()
        assert app.screen is review
        full = (0, 0, *SIZE)
        assert not [f for f in frames if full in f or f], (
            f"the review screen was redrawn for the queue under it: {frames}"
        )


async def test_a_translucent_screen_still_shows_the_review_behind_it(make_app):
    """An opaque screen on top (reviewq's dialogs have the app's opaque screen background)
    hides the review; a translucent one keeps Textual's answer: the review shows through."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        review = await open_first_review(pilot)
        assert app._background_screens == []
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        assert app._background_screens == [] and not review.is_current
        dialog.styles.background = "red 50%"
        assert app._background_screens == [review] and review.is_current
        await pilot.pause()
        # Drawn through: the review's cells, tinted, around the dialog's box.
        assert _plain(dialog)[0] == _plain(review)[0], (_plain(dialog)[0], _plain(review)[0])


async def test_the_queue_is_drawn_for_the_new_size_after_a_resize_under_a_review(make_app):
    """Covered, the queue gets no resize; shown again, it is laid out for the terminal's size
    and drawn in full: the same cells as a queue laid out and drawn from scratch."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_first_review(pilot)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("escape")
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        assert queue.size == (120, 40)
        shown = _plain(queue)
        assert len(shown) == 40 and all(len(line) == 120 for line in shown)
        queue._refresh_layout(app.size)
        queue.refresh()
        await settle(pilot)
        assert _plain(queue) == shown


async def test_the_highlighter_holds_back_from_a_key_on(make_app):
    """From the key the app receives, not only from the frame drawn after it: in between the
    UI thread gives the interpreter up at each turn of its event loop."""
    from reviewq.tui.diff.view import UI_BUSY_SECONDS, DiffView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        review = await open_first_review(pilot)
        view = review.query_one(DiffView)
        before = app.input_at
        view._ui_busy_until = 0.0  # no frame since: only the key counts
        await pilot.press("j")
        assert app.input_at > before
        view._ui_busy_until = 0.0
        assert view._busy_until() == app.input_at + UI_BUSY_SECONDS


def test_the_tui_runs_with_a_short_switch_interval_and_restores_it(monkeypatch, tmp_path):
    import argparse
    import sys

    from reviewq.commands import tui

    seen = []
    monkeypatch.setattr(tui, "check_terminal", lambda *a, **k: None)
    monkeypatch.setattr(tui, "_run_app", lambda args, ctx: seen.append(sys.getswitchinterval()))
    before = sys.getswitchinterval()
    tui.run(argparse.Namespace(ref=None), None)
    assert seen == [tui.UI_SWITCH_INTERVAL] and tui.UI_SWITCH_INTERVAL < 0.005
    assert sys.getswitchinterval() == before


def _paging_repo(make_repo):
    """An AI change of four files, a few screens each, with changed pairs (word spans)."""
    repo = make_repo("paging")
    base = {f"m{f}.py": "".join(f"v{f}_{n} = {n}\n" for n in range(120)) for f in range(4)}
    base["m0.py"] += "wide = '" + "w" * 300 + "'\n"  # wider than the view
    repo.commit("init", files=base)
    changed = {
        name: "".join(
            line.replace("= ", "= 1 + ") if n % 3 == 0 else line
            for n, line in enumerate(text.splitlines(keepends=True))
        )
        for name, text in base.items()
    }
    repo.commit(
        "Rework\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n", files=changed
    )
    return repo


def _segments(strip) -> list[tuple]:
    return [(seg.text, seg.style) for seg in strip] + [strip.cell_length]


async def _fresh_rows(view) -> list[list[tuple]]:
    """What the view shows, each row drawn now, bypassing every cache."""
    width, styles = view.content_width, view._styles()
    rows = view.layout_rows.rows
    top = round(view.scroll_y)
    out = []
    for index in range(top, min(top + view.page_height, len(rows))):
        out.append(_segments(view._render_row(rows[index], index, width, styles)))
    return out


def _shown_rows(view) -> list[list[tuple]]:
    rows = view.layout_rows.rows
    top = round(view.scroll_y)
    count = min(view.page_height, len(rows) - top)
    return [_segments(view.render_line(y)) for y in range(count)]


@pytest.mark.slow  # ~9 s: the longest Pilot flow of the default run
async def test_rows_drawn_ahead_are_the_rows_a_page_down_draws(make_app, make_repo, monkeypatch):
    """The fast path (the next page drawn ahead into the row cache, the seen counts in the
    file headers' keys instead of a cleared cache) against the plain one: after every step,
    each row on screen is the row drawn from scratch; and the screens match a run with
    nothing drawn ahead, step for step."""
    from reviewq.tui.diff import view as view_module
    from reviewq.tui.diff.view import DiffView

    steps = ["pagedown"] * 2 + ["j", "pagedown", "pageup", "G", "pageup", "g"]
    screens: dict[int, list] = {}
    for ahead in (view_module.PREFETCH_ROWS, 0):
        monkeypatch.setattr(view_module, "PREFETCH_ROWS", ahead)
        app = make_app(_paging_repo(make_repo).path)
        async with app.run_test(size=(120, 30)) as pilot:
            review = await open_first_review(pilot)
            view = review.query_one(DiffView)
            assert len(view.layout_rows.rows) > 6 * view.page_height
            seen = []
            for key in steps:
                await settle(pilot)
                await pilot.pause(0.15)  # time to draw ahead
                await pilot.press(key)
                await settle(pilot)
                assert _shown_rows(view) == await _fresh_rows(view), key
                seen.append((round(view.scroll_y), view.cursor, _shown_rows(view)))
            screens[ahead] = seen
    assert screens[view_module.PREFETCH_ROWS] == screens[0]


async def test_a_page_down_finds_its_rows_drawn(make_app, make_repo):
    from reviewq.tui.diff.model import LINE
    from reviewq.tui.diff.view import DiffView

    app = make_app(_paging_repo(make_repo).path)
    async with app.run_test(size=(120, 30)) as pilot:
        review = await open_first_review(pilot)
        view = review.query_one(DiffView)
        await pilot.pause(0.3)
        await settle(pilot)
        drawn = []
        render_row = view._render_row
        view._render_row = lambda row, index, *a: drawn.append(index) or render_row(row, index, *a)
        await pilot.press("pagedown")
        await settle(pilot)
        top = round(view.scroll_y)
        on_screen = [i for i in drawn if top <= i < top + view.page_height]
        # Drawn ahead: nothing of the new page is drawn by the press itself, save rows that
        # were not highlighted yet (none here: the highlighter had time) or file headers
        # whose seen count the page down changed.
        rows = view.layout_rows.rows
        assert not [i for i in on_screen if rows[i].kind == LINE], on_screen


async def test_a_page_down_redraws_only_the_view_and_the_header(make_app, make_repo):
    """The old cursor row's redraw was as wide as the diff's widest line: past the view's
    right edge, every frame composed the panes beside the diff too."""
    from reviewq.tui.diff.view import DiffView

    app = make_app(_paging_repo(make_repo).path)
    async with app.run_test(size=SIZE) as pilot:
        review = await open_first_review(pilot)
        view = review.query_one(DiffView)
        assert view.virtual_size.width > view.size.width
        await pilot.press("j")
        await settle(pilot)
        frames = _frames(review)
        await pilot.press("pagedown")
        await settle(pilot)
        header = review.query_one(f"#{review.HEADER_ID}").region
        allowed = [view.region, header]
        regions = [r for frame in frames for r in frame]
        assert regions
        for x, y, w, h in regions:
            assert any(
                x >= a.x and y >= a.y and x + w <= a.right and y + h <= a.bottom for a in allowed
            ), ((x, y, w, h), view.region)
