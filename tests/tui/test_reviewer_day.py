"""Issue 20, "a reviewer's day": what a new user tripped over in the TUI, each reproduced."""

from __future__ import annotations

from textual.widgets import Checkbox, Input

from reviewq.store.log import read_records
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.tui.conftest import burst, settle

SIZE = (160, 50)


async def open_first_review(pilot) -> ReviewScreen:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


# -- 1. the verdict dialog's checklist ----------------------------------------------------------


async def test_focused_checklist_item_shows_its_label_and_enter_records(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_first_review(pilot)  # the riskiest demo item: auth+ci, with a checklist
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog) and dialog.checklist
        await pilot.press("tab")
        await pilot.pause()
        item = dialog.query_one("#check-0", Checkbox)
        assert app.focused is item
        # the focused line keeps its row for the box and the label (a border ate both)
        assert item.content_region.height == 1
        shown = item.render_line(0).text
        assert dialog.checklist[0] in shown and "X" in shown
        await pilot.press("space")
        await pilot.pause()
        assert item.value is True
        await pilot.press("enter")  # "Approve (enter, ^s)": enter records, it does not untick
        await settle(pilot)
        assert not isinstance(app.screen, VerdictDialog)
    record = read_records(app.services.ctx.log_path)[0]
    assert record["verdict"] == "approve"
    assert record["checklist"] == [dialog.checklist[0]]


# -- 2. keys typed while a box opens --------------------------------------------------------------


async def test_keys_typed_right_after_slash_go_to_the_queue_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        sort = queue.sort_key
        await burst(pilot, "/", *"zzznomatch", "enter")
        assert app.screen is queue, "the Enter must not open a review"
        assert queue.sort_key == sort, "the o of the filter text must not re-sort the queue"
        assert queue.query_one("#filter", Input).value == "zzznomatch"
        assert queue.shown == []


async def test_keys_typed_right_after_the_search_and_verdict_keys_go_to_their_box(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        await burst(pilot, "/", "a", "b")
        assert app.screen is screen  # the `a` did not open the approve dialog
        assert screen.query_one("#search", Input).value == "ab"
        await burst(pilot, "escape")
        await burst(pilot, "c", *"needs tests")
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog) and dialog.verdict == "changes"
        assert dialog.query_one("#note", Input).value == "needs tests"
        await burst(pilot, "enter")
    record = read_records(app.services.ctx.log_path)[0]
    assert record["verdict"] == "changes" and record["note"] == "needs tests"


# -- 5. flow ------------------------------------------------------------------------------------


async def test_a_verdict_after_a_skip_moves_on_not_back_to_the_skipped_item(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        queue = [i.change.id for i in screen.queue]
        await pilot.press("s")
        await settle(pilot)
        assert app.screen.change.id == queue[1]
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"no", "enter")
        await settle(pilot)
        assert app.screen.change.id == queue[2], "not back to the item just skipped"


async def test_the_dialog_follows_the_active_time_and_rate_warnings_are_for_approvals(
    make_app, clock
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_first_review(pilot)
        clock.advance(2)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        assert not [w for w in dialog.warnings if w.key == "rate"], "a reject's speed is fine"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert [w for w in dialog.warnings if w.key == "rate"]
        problems = str(dialog.query_one("#policy-problems").render())
        assert "too fast" in problems
        # the reviewer stays in the dialog reading the checklist: the time counts there
        for _ in range(5):
            clock.advance(50)
            await pilot.press("tab")
        dialog.refresh_live()
        await pilot.pause()
        facts = str(dialog.query_one("#verdict-facts").render())
        assert "active 4:12" in facts
        assert not [w for w in dialog.warnings if w.key == "rate"]
        assert "too fast" not in str(dialog.query_one("#policy-problems").render())
