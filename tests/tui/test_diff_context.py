"""Issue 20, reading the diff: more of the file around a hunk (a key, 10 lines a press, read
from git through the services), and dragging the split between the diff and the side panes."""

from __future__ import annotations

import re

from reviewq.tui.diff.model import CTX, LINE
from reviewq.tui.diff.view import DiffView
from tests.tui.conftest import burst, screen_text, settle
from tests.tui.test_reviewer_day import open_first_review

AI = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
OLD = "".join(f"line {n}\n" for n in range(1, 61))
# Line 30 becomes three lines: below the hunk, new numbers run two ahead of old ones.
NEW = OLD.replace("line 30\n", "new a\nnew b\nnew c\n")


def context_repo(make_repo):
    repo = make_repo("ctx")
    repo.commit("init", files={"app.py": OLD, "gone.txt": "bye\n", "logo.bin": b"\0\1\2"})
    repo.git("rm", "-q", "gone.txt")
    repo.commit(
        "Edit app, drop gone, new logo" + AI,
        files={"app.py": NEW, "logo.bin": b"\0\1\2\3\4"},
    )
    return repo


def _messages(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


def _ctx_numbers(view: DiffView) -> list[int]:
    model, rows = view.model, view.layout_rows.rows
    return [
        model.context_line(r.file, r.hunk, r.b, r.a).new_no
        for r in rows
        if r.kind == CTX and not r.part
    ]


async def _to_hunk_of(pilot, view: DiffView, path: str) -> None:
    file = next(i for i, fd in enumerate(view.model.files) if fd.path == path)
    view.jump_to_file(file)
    await pilot.press("]")
    await settle(pilot)
    assert view.cursor_hunk() == (file, 0)


async def test_more_context_shows_the_file_around_the_hunk(make_app, make_repo):
    repo = context_repo(make_repo)
    app = make_app(repo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        model = screen.model
        await _to_hunk_of(pilot, view, "app.py")
        total, viewed = model.hunks_total, model.hunks_viewed
        hunks = list(view.layout_rows.hunk_rows)
        assert _ctx_numbers(view) == []

        await pilot.press("plus")
        await settle(pilot)
        # 10 lines above (new 17..26) and 10 below (new 36..45, old 34..43)
        assert _ctx_numbers(view) == [*range(17, 27), *range(36, 46)]
        above = model.context_line(*view.cursor_hunk(), 0, 0)
        assert (above.old_no, above.new_no, above.text) == (17, 17, "line 17")
        below = model.context_line(*view.cursor_hunk(), 1, 0)
        assert (below.old_no, below.new_no, below.text) == (34, 36, "line 34")
        text = "\n".join(screen_text(view))
        assert re.search(r"\b34 36 +line 34\b", text), text
        assert re.search(r"\b17 17 +line 17\b", text), text
        # not hunks: navigation, the totals and "hunks seen" (verdict records) are unchanged
        assert model.hunks_total == total and len(view.layout_rows.hunk_rows) == len(hunks)
        assert model.hunks_viewed == viewed
        header = str(screen.query_one("#review-header").render())
        assert f"hunks seen {viewed}/{total}" in header

        # a fast typist: three presses before anything is drawn, the cursor on an added line
        cursor = next(
            y
            for y, r in enumerate(view.layout_rows.rows)
            if r.kind == LINE and model.files[r.file].hunks[r.hunk].lines[r.a].kind == "+"
        )
        view.move_cursor(cursor)
        await burst(pilot, "plus", "equals_sign", "plus")
        numbers = _ctx_numbers(view)
        assert numbers == [*range(1, 27), *range(36, 63)]  # the file's ends stop it
        line = view.cursor_line()
        assert line is not None and line.kind == "+"  # the cursor kept its line
        await pilot.press("plus")
        await settle(pilot)
        assert "No more lines around this hunk" in _messages(app)

        # wrap and the side-by-side layout keep the context, with both line numbers
        await pilot.press("W")
        await settle(pilot)
        assert _ctx_numbers(view) == numbers
        await pilot.press("v")
        await settle(pilot)
        assert view.is_split and _ctx_numbers(view) == numbers
        view.move_cursor(view.layout_rows.hunk_rows[0] - 1)
        await settle(pilot)
        row = [x for x in screen_text(view) if "line 26" in x]
        assert row and re.search(r"26 +line 26 *│.*26 +line 26", row[0]), row
        await pilot.press("v", "W")
        await settle(pilot)
        assert not view.is_split and _ctx_numbers(view) == numbers
        assert model.hunks_viewed >= viewed and model.hunks_total == total


async def test_no_new_side_is_a_notice_not_a_crash(make_app, make_repo):
    repo = context_repo(make_repo)
    app = make_app(repo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        await _to_hunk_of(pilot, view, "gone.txt")
        await pilot.press("plus")
        await settle(pilot)
        assert "gone.txt is deleted by this change" in _messages(app)
        assert _ctx_numbers(view) == []
        # the cursor on a file header: told where to put it
        view.jump_to_file(0)
        await pilot.press("plus")
        await settle(pilot)
        assert "Put the cursor in a hunk" in _messages(app)
        assert app.screen is screen


async def test_a_file_that_does_not_match_the_diff_is_refused(make_app, make_repo):
    """The file read from git must hold the diff's new-side lines where the diff says; any
    other version (a rewritten ref, a wrong commit) is refused, not shown as context."""
    repo = context_repo(make_repo)
    app = make_app(repo.path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        await _to_hunk_of(pilot, view, "app.py")
        screen._new_side_rev = lambda: "HEAD~1"  # the old version: not the diff's new side
        await pilot.press("plus")
        await settle(pilot)
        assert "does not match the diff" in _messages(app)
        assert _ctx_numbers(view) == []


# -- dragging the split -------------------------------------------------------------------------


async def test_dragging_the_edge_of_the_panes_moves_the_split(make_app, make_repo):
    from reviewq.tui.widgets.splitter import PaneSplitter

    repo = context_repo(make_repo)
    app = make_app(repo.path)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        panes = screen.query_one("#panes")
        handle = screen.query_one(PaneSplitter)
        before, diff_before = panes.outer_size.width, view.size.width
        start = handle.region.x
        assert handle.region.width == 1 and start == panes.region.x

        # press on the handle, drag 20 columns left, let go: the panes are 20 columns wider
        await pilot.mouse_down(handle)
        await pilot.hover(screen, offset=(start - 20, 10))
        await pilot.hover(screen, offset=(start - 20, 12))
        await pilot.mouse_up(screen, offset=(start - 20, 12))
        await settle(pilot)
        assert panes.outer_size.width == before + 20
        assert view.size.width == diff_before - 20
        assert screen.query_one(PaneSplitter).region.x == start - 20
        assert not handle.dragging and app.mouse_captured is None

        # after the release, moving the mouse moves nothing
        await pilot.hover(screen, offset=(start + 10, 12))
        await settle(pilot)
        assert panes.outer_size.width == before + 20

        # dragged far right: the panes keep a readable minimum, the keys still work after
        await pilot.mouse_down(handle)
        await pilot.hover(screen, offset=(159, 12))
        await pilot.mouse_up(screen, offset=(159, 12))
        await settle(pilot)
        assert panes.outer_size.width == 30  # the panes' min-width
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert panes.outer_size.width == 36


async def test_a_units_commit_shows_that_commits_file_not_the_tips(make_app, repo):
    """Stepped to a unit's first commit, the context is that commit's file: the tip's version
    (changed later, near the same lines) would show lines the commit never had."""
    from tests.tui.test_unit_review import open_unit

    repo.commit("base", files={"app.py": OLD})
    repo.git("checkout", "-q", "-b", "claude/fix")
    repo.commit("one" + AI, files={"app.py": OLD.replace("line 30\n", "one\n")})
    tip = repo.commit(
        "two" + AI, files={"app.py": OLD.replace("line 30\n", "one\n").replace("line 36", "two")}
    )
    repo.git("update-ref", "refs/pull/7/head", tip)
    repo.git("checkout", "-q", "main")
    app = make_app(repo.path)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_unit(app, pilot)
        view = screen.query_one(DiffView)
        await pilot.press("t")  # the first commit alone
        await settle(pilot)
        assert screen.unit_mode == "commit" and screen.unit_step == 0
        await _to_hunk_of(pilot, view, "app.py")
        await pilot.press("plus")
        await settle(pilot)
        file, hunk = view.cursor_hunk()
        texts = {n: screen.model.context_line(file, hunk, 1, n - 34).text for n in range(34, 44)}
        assert texts[36] == "line 36"  # the tip says "two" here
        await pilot.press("u")  # the whole unit: the tip's file
        await settle(pilot)
        await _to_hunk_of(pilot, view, "app.py")
        await pilot.press("plus")
        await settle(pilot)
        rows = [r for r in view.layout_rows.rows if r.kind == CTX]
        assert rows and all(
            "two" not in screen.model.context_line(r.file, r.hunk, r.b, r.a).text for r in rows
        )
        assert "two" in "\n".join(
            line.text for h in screen.model.files[0].hunks for line in h.lines
        )
