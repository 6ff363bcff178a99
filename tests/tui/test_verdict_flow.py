"""Queue -> review -> verdict -> a record in the provenance log, with the time it took."""

from __future__ import annotations

from pathlib import Path

from reviewq.core.model import Critique
from reviewq.core.verdict import verify_chain
from reviewq.store.log import read_records
from reviewq.tui.app import PREFETCH
from reviewq.tui.diff.view import DiffView
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.tui.conftest import highlight_riskiest, settle

SIZE = (160, 50)


async def test_approve_with_a_note_records_active_time_hunks_and_critique(
    make_app, clock, demo_repo: Path, cli
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
        second = queue.shown[queue.table.cursor_row + 1].change
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        change = screen.change
        # read for a while: 40 s of keys, then a 10-minute interruption, then 5 s more
        for _ in range(4):
            clock.advance(10)
            await pilot.press("j")
        clock.advance(600)
        await pilot.press("G")
        await settle(pilot)
        clock.advance(5)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        await pilot.press(*"checked the token path", "enter")
        await settle(pilot)
        # the next item opens by itself; the queue lost the decided one
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.change.id == second.id
        assert queue.mine[change.id] == "approve"
        assert queue.shown[-1].change.id == change.id  # decided by me: listed last
        assert queue.reviewed_today == 1

    records = read_records(app.services.ctx.log_path)
    assert len(records) == 1
    record = records[0]
    assert record["verdict"] == "approve"
    assert record["sha"] == change.id
    assert record["note"] == "checked the token path"
    # 40 s of reading, 60 s of the interruption before the timer paused, then 5 s
    assert record["active_seconds"] == 105.0
    assert record["wall_seconds"] == 645.0
    assert record["hunks_total"] == 4
    assert record["hunks_viewed"] == 4
    assert record["reviewer"] == app.services.reviewer().to_json()  # the repository's user
    critique = record["critique"]
    assert critique["critic"] == "static" and critique["opened_before_verdict"] is False
    assert verify_chain(records) is None
    # a new session counts it as today's; the policy (two approvals for auth and ci) still
    # wants another reviewer, so it stays listed, last, with this reviewer's verdict
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        top = str(again.screen.query_one("#queue-progress").render())
        assert "Reviewed today 1" in top and "Pending 12" in top
        assert again.screen.mine == {change.id: "approve"}
        assert again.screen.shown[-1].change.id == change.id
    # the command line sees the same record
    shown = cli("--repo", str(demo_repo), "log", "--json")
    assert shown.returncode == 0, shown.stderr
    assert change.id in shown.stdout


async def test_reject_after_reading_the_critique_says_so(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen.critique, Critique)
        assert screen.critique.findings, "the static critic flags the risky demo change"
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("enter")  # first finding
        await settle(pilot)
        line = screen.query_one(DiffView).cursor_line()
        first = screen.critique.findings[0]
        if first.start_line is not None:
            assert line is not None and line.new_no == first.start_line
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"auth bypass", "enter")
        await settle(pilot)
    record = read_records(app.services.ctx.log_path)[0]
    assert record["verdict"] == "reject"
    assert record["critique"]["opened_before_verdict"] is True


async def test_changes_and_escalate_need_a_note(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, VerdictDialog), "no note, no verdict"
        assert "needs a note" in str(app.screen.query_one("#verdict-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
    assert read_records(app.services.ctx.log_path) == []


async def test_the_next_items_critiques_are_prepared_in_the_background(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = app.screen.shown
        await pilot.press("enter")
        await settle(pilot)
        ready = set(app.critiques)
        for item in shown[: 1 + PREFETCH]:
            assert item.change.id in ready
        assert isinstance(app.critiques[shown[1].change.id], Critique)


async def test_rationale_pane_shows_the_structure_summary(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        text = str(app.screen.query_one("#rationale-text").render())
        assert "Structure:" in text and "orders/auth.py" in text


async def test_the_dialog_says_whether_the_policy_would_count_the_approval(make_app, clock):
    """The demo's policy puts the risky change in the auth and ci domains: 120 s per 100
    lines, three checklist items, and a critique of another family opened first."""
    from textual.widgets import Checkbox

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert "auth" in screen.item.domain and "ci" in screen.item.domain
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        problems = dialog.query_one("#policy-problems")
        assert "too fast" in str(problems.render())  # 28 lines need 34 s; none spent yet
        await pilot.press("escape")
        for _ in range(4):
            clock.advance(10)
            await pilot.press("j")
        await pilot.press("a")
        await pilot.pause()
        text = str(app.screen.query_one("#policy-problems").render())
        assert "too fast" not in text and "checklist" in text
        for _ in range(3):
            await pilot.press("tab", "space")
        await pilot.pause()
        text = str(app.screen.query_one("#policy-problems").render())
        assert "checklist" not in text and "second-family critique" in text
        await pilot.press("escape")
        await pilot.press("i")  # the critique (the rules family) opened before the verdict
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        dialog = app.screen
        problems = dialog.query_one("#policy-problems")
        boxes = list(dialog.query(Checkbox))
        assert len(boxes) == 3
        for _ in boxes:
            await pilot.press("tab", "space")  # from the note to each box in turn
        await pilot.pause()
        assert all(b.value for b in boxes)
        assert str(problems.render()) == ""
        dialog.query_one("#note").focus()
        await pilot.press(*"checked", "enter")
        await settle(pilot)
    record = read_records(app.services.ctx.log_path)[0]
    assert record["checklist"] == [str(b.label) for b in boxes]
    assert record["critique"]["opened_before_verdict"] is True
    assert record["active_seconds"] == 40.0
