"""Opening a change whose diff was prepared while its queue row was highlighted (issue 18).

The queue prepares the highlighted item's diff, model, rows and viewed marks in a worker once
the cursor rests (`screens.review.prepare_diff`); the review screen opened on that item takes
them and draws the diff in its first frame. Everything it shows must be what the plain path
(the diff read in the screen's own worker) shows.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import reviewq.tui.screens.queue as queue_module
from reviewq.core.model import Diff
from reviewq.tui.diff.view import DiffView
from reviewq.tui.screens.review import PreparedDiff, ReviewScreen, prepare_diff
from reviewq.tui.typeahead import key_clock
from reviewq.tui.widgets.sidebar import FileSidebar
from tests.tui.conftest import screen_text, settle

SIZE = (160, 50)


async def _rest(pilot) -> None:
    """The cursor rests on its row: the prepare timer fires and its worker finishes."""
    await settle(pilot)
    await pilot.pause(0.1)
    await settle(pilot)


def _counting_loads(services) -> list[str]:
    loads: list[str] = []
    real = services.load_diff

    def counting(change):
        loads.append(change.id)
        return real(change)

    services.load_diff = counting
    return loads


def _shown(screen: ReviewScreen) -> dict:
    view = screen.query_one(DiffView)
    sidebar = screen.query_one(FileSidebar)
    options = sidebar.option_list
    return {
        "rows": list(view.layout_rows.rows),
        "file_rows": list(view.layout_rows.file_rows),
        "hunk_rows": list(view.layout_rows.hunk_rows),
        "cursor": view.cursor,
        "split": view.is_split,
        "viewed": set(view.viewed_files),
        "files": [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)],
        "text": screen_text(view),
        "header": screen._header_plain,
        "hunks": (screen.model.hunks_viewed, screen.model.hunks_total),
    }


async def _open(make_app, monkeypatch, *, prepare: bool, mark_first: bool) -> tuple[dict, list]:
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01 if prepare else 1e6)
    app = make_app()
    services = app.services
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        item = app.screen.current_item()
        assert item is not None
        if mark_first:
            diff = services.load_diff(item.change)
            services.set_viewed(item.change, diff.files[0], True)
            app.screen._prepare_soon()  # a mark set here: the prepared diff is made again
            await _rest(pilot)
        if prepare:
            assert services._prepared is not None
            assert services._prepared.change_id == item.change.id
        else:
            assert services._prepared is None
        loads = _counting_loads(services)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.change.id == item.change.id
        opened = [c for c in loads if c == item.change.id]
        return _shown(screen), opened


@pytest.mark.parametrize("mark_first", [False, True])
async def test_a_prepared_diff_opens_as_the_plain_path_does(make_app, monkeypatch, mark_first):
    """Same rows, viewed marks, file list, screen and header with and without the prepared
    diff; and the prepared open reads nothing (the plain one reads the diff in its worker)."""
    plain, plain_loads = await _open(make_app, monkeypatch, prepare=False, mark_first=mark_first)
    fast, fast_loads = await _open(make_app, monkeypatch, prepare=True, mark_first=mark_first)
    assert plain_loads and not fast_loads
    assert fast == plain
    assert bool(fast["viewed"]) == mark_first


async def test_a_prepared_diff_is_used_once(make_app, monkeypatch) -> None:
    """The model keeps the screen's seen hunks and folds: the next open of the same change
    gets a model of its own (prepared again when the queue shows the row again)."""
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        prepared = app.services._prepared
        assert prepared is not None
        await pilot.press("enter")
        await settle(pilot)
        first = app.screen
        assert first.model is prepared.model
        assert app.services._prepared is None  # taken
        await pilot.press("escape")
        await _rest(pilot)
        again = app.services._prepared
        assert again is not None and again.model is not prepared.model
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.model is again.model


async def test_a_viewed_mark_set_elsewhere_after_the_prepare_is_shown(make_app, monkeypatch):
    """Another reviewq of this user marks a file viewed after the diff was prepared (its cache
    write is not this app's `set_viewed`): the opened screen reads the marks again and shows
    it."""
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01)
    app = make_app()
    services = app.services
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        prepared = services._prepared
        assert prepared is not None and not prepared.viewed_paths
        item = app.screen.current_item()
        fd = prepared.diff.files[0]
        cache = services.ctx.cache
        cache.put("viewed", services._viewed_key(item.change, fd.path), fd.content_hash)
        cache.flush()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.model is prepared.model
        assert screen.view.viewed_files == {0}
        assert "files viewed 1/" in screen._header_plain


def test_take_prepared_hands_out_only_the_change_and_commit_it_was_made_for(make_app) -> None:
    app = make_app()
    services = app.services
    items = services.load_queue()
    first, second = items[0], items[1]
    made = prepare_diff(services, first)
    assert isinstance(made, PreparedDiff)
    assert services.take_prepared(second.change) is None  # another change: forgotten too
    assert services.take_prepared(first.change) is None
    assert prepare_diff(services, first) is not None
    # the same change id on another commit (a rewritten history): not that diff
    moved = replace(first.change, commit=replace(first.change.commit, sha="0" * 40))
    assert services.take_prepared(moved) is None
    assert services.take_prepared(first.change) is None  # forgotten by the refusal
    assert prepare_diff(services, first) is not None
    assert services.take_prepared(first.change).change_id == first.change.id


def test_a_viewed_mark_set_while_preparing_drops_the_prepared_diff(make_app) -> None:
    """The prepare read the marks, then this app set one: what it made is not kept."""
    app = make_app()
    services = app.services
    item = services.load_queue()[0]
    real = services.viewed_paths

    def mark_meanwhile(change, diff):
        paths = real(change, diff)
        services.set_viewed(change, diff.files[0], True)  # after the read, before the keep
        return paths

    services.viewed_paths = mark_meanwhile
    assert prepare_diff(services, item) is None
    assert services._prepared is None
    services.viewed_paths = real
    made = prepare_diff(services, item)
    assert made is not None and made.viewed_paths == {item_diff_first_path(services, item)}
    services.set_viewed(item.change, made.diff.files[0], False)  # its marks changed: dropped
    assert services._prepared is None


def item_diff_first_path(services, item) -> str:
    return services.load_diff(item.change).files[0].path


async def test_opening_a_review_does_not_repr_the_diff(make_app, monkeypatch) -> None:
    """Textual describes a worker by the repr of its arguments, on the UI thread; a 56,000-line
    diff's repr took ~140 ms after the diff was drawn (the rationale's worker). No worker the
    open starts takes that repr."""
    calls = 0
    real = Diff.__repr__

    def counting(self):
        nonlocal calls
        calls += 1
        return real(self)

    monkeypatch.setattr(Diff, "__repr__", counting)
    for prepare in (0.01, 1e6):
        monkeypatch.setattr(queue_module, "PREPARE_PAUSE", prepare)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await _rest(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)
            assert app.screen.rationale_text or app.screen.diff is not None
    assert calls == 0


@pytest.mark.parametrize("prepare", [0.01, 1e6])
async def test_a_file_marked_before_the_file_list_is_drawn_is_marked_on_it(
    make_app, monkeypatch, prepare
) -> None:
    """The first diff's file list is loaded a frame after its lines; a viewed mark set in
    between (a key pressed at once) is on the list when it comes, and on the diff."""
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", prepare)
    loaded = ReviewScreen._diff_loaded
    early: list[int] = []

    def and_mark_at_once(self, *args, **kwargs):
        loaded(self, *args, **kwargs)
        early.append(len(self.sidebar.files))
        # A key is held until the diff is drawn (docs/tui.md, "Keys typed ahead"), so the mark
        # comes as if its key had been typed once the lines were there: the list is still not.
        self.shown_at = key_clock()
        self.action_toggle_viewed()  # before any refresh: the list is not loaded yet

    monkeypatch.setattr(ReviewScreen, "_diff_loaded", and_mark_at_once)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert early == [0]  # the list came after the mark
        assert screen.view.viewed_files == {0}
        assert screen.sidebar.viewed == {0}
        assert screen.sidebar.files is screen.diff.files
        assert str(screen.sidebar.option_list.get_option_at_index(0).prompt).startswith("✓")


async def test_no_collection_while_the_review_screen_is_built(make_app, monkeypatch) -> None:
    """Composing and mounting the screen made 10-15 ms of collections between Enter and the
    first frame: collection is paused from the screen's construction until its diff is drawn,
    and back on after."""
    import gc

    compose = ReviewScreen.compose
    during: list[bool] = []

    def recording(self):
        during.append(gc.isenabled())
        yield from compose(self)

    monkeypatch.setattr(ReviewScreen, "compose", recording)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        assert gc.isenabled()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert during == [False]
        assert gc.isenabled()


async def test_enter_during_the_prepare_waits_for_it_instead_of_doing_it_twice(
    make_app, monkeypatch
) -> None:
    """Enter came while the queue was still preparing the row's diff: the screen's worker
    waits for that prepare and shows its model; the model is built once."""
    import asyncio
    import time

    import reviewq.tui.screens.review as review_module

    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01)
    built: list[object] = []
    real_model = review_module.DiffModel

    class CountingModel(real_model):
        def __init__(self, diff, *args, **kwargs):
            built.append(diff)
            super().__init__(diff, *args, **kwargs)

    monkeypatch.setattr(review_module, "DiffModel", CountingModel)
    app = make_app()
    services = app.services
    real_viewed = services.viewed_paths

    def slow_viewed(change, diff):
        time.sleep(0.4)  # the prepare is under way for a while
        return real_viewed(change, diff)

    services.viewed_paths = slow_viewed
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):
            await asyncio.sleep(0.01)
            under_way = services._preparing
            if under_way is not None and not under_way[1].is_set() and built:
                break
        else:
            raise AssertionError("the prepare did not start")
        item = app.screen.current_item()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.change.id == item.change.id
        assert screen.diff is not None
        assert [d for d in built if d is screen.diff] == [screen.diff]  # built once
        assert isinstance(screen.model, CountingModel)
        assert services._prepared is None


@pytest.mark.parametrize("warm", [True, False])
async def test_the_review_screens_css_is_parsed_before_enter(make_app, monkeypatch, warm):
    """The queue parses the review screen's widgets' CSS while the reviewer reads it
    (`warm_css`): the open parses none (a widget class missing from the list fails this)."""
    from textual.css.stylesheet import Stylesheet

    import reviewq.tui.screens.review as review_module

    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01)
    if not warm:
        monkeypatch.setattr(review_module, "warm_css", lambda app: None)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        parses = 0
        real = Stylesheet.parse

        def counting(self):
            nonlocal parses
            parses += 1
            return real(self)

        monkeypatch.setattr(Stylesheet, "parse", counting)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert (parses == 0) is warm


async def test_the_pane_splitter_draws_as_before_with_one_style_a_frame(make_app, monkeypatch):
    """The splitter asks for its style once a frame, and draws what asking on each row drew."""
    from textual.widget import Widget

    from reviewq.tui.widgets.splitter import PaneSplitter

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await _rest(pilot)
        await pilot.press("enter")
        await settle(pilot)
        splitter = app.screen.query_one(PaneSplitter)
        real = PaneSplitter.rich_style
        asked = 0

        def counting(self):
            nonlocal asked
            asked += 1
            return real.fget(self)

        monkeypatch.setattr(PaneSplitter, "rich_style", property(counting))
        region = splitter.region.reset_offset
        splitter._styles_cache.clear()
        lines = splitter.render_lines(region)
        assert asked == 1 and len(lines) == region.height > 10
        splitter._styles_cache.clear()
        plain = Widget.render_lines(splitter, region)  # each row asks for the style
        assert asked == 1 + region.height
        assert [list(line) for line in lines] == [list(line) for line in plain]
        assert {line.text for line in lines} == {"│"}
