"""Issue 20 (a): a key wraps long lines (nothing hidden); again, they are cut with a mark."""

from __future__ import annotations

from reviewq.tui.diff.model import LINE
from reviewq.tui.diff.view import CUT_RIGHT, DiffView
from tests.tui.conftest import screen_text, settle
from tests.tui.test_reviewer_day import PLANTED, long_line_repo, open_first_review


def _text_of_rows(view: DiffView, lines: list[str]) -> str:
    """The text column of consecutive screen lines (after the gutter), joined."""
    gutter = view._gutter_width()
    return "".join(line[gutter:].rstrip() for line in lines)


async def test_wrap_shows_the_whole_line_and_unwrap_cuts_it_again(make_app, make_repo):
    repo = long_line_repo(make_repo)
    app = make_app(repo.path)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        assert not view.is_split
        hunks = list(view.layout_rows.hunk_rows)
        total = screen.model.hunks_total
        text = screen_text(view)
        planted = [i for i, line in enumerate(text) if "b = 2" in line]
        assert planted and text[planted[0]].rstrip().endswith(CUT_RIGHT)
        assert not any(PLANTED in line for line in text)  # past the edge: cut, marked

        await pilot.press("W")
        await settle(pilot)
        assert view.wrap_lines and view.layout_rows.wrapped
        text = screen_text(view)
        start = next(i for i, line in enumerate(text) if "b = 2" in line)
        end = next(i for i, line in enumerate(text) if "c = 3" in line)
        joined = _text_of_rows(view, text[start:end])
        assert PLANTED in joined  # nothing hidden
        assert not any(line.rstrip().endswith(CUT_RIGHT) for line in text)
        # continuation rows belong to the same line: navigation and counts are unchanged
        rows = view.layout_rows.rows
        assert len(view.layout_rows.hunk_rows) == len(hunks)
        assert screen.model.hunks_total == total
        parts = [r for r in rows if r.kind == LINE and r.part]
        assert parts and all(r.part > 0 for r in parts)
        assert screen.model.hunks_viewed == 1  # the one hunk, seen in full

        # side by side, wrapped per side
        await pilot.press("v")
        await settle(pilot)
        assert view.is_split and view.layout_rows.wrapped
        assert not any(line.rstrip().endswith(CUT_RIGHT) for line in screen_text(view))
        long_rows = [r for r in view.layout_rows.rows if r.kind == LINE and r.b == 1]
        assert len(long_rows) > 5 and [r.part for r in long_rows] == list(range(len(long_rows)))

        # again: cut with the mark
        await pilot.press("v", "W")
        await settle(pilot)
        assert not view.wrap_lines and not view.layout_rows.wrapped
        text = screen_text(view)
        planted = [line for line in text if "b = 2" in line]
        assert planted and planted[0].rstrip().endswith(CUT_RIGHT)


async def test_the_wrap_key_is_in_the_help(make_app):
    from reviewq.tui import keymap

    assert any(c.id == "diff.wrap" and c.action == "toggle_wrap" for c in keymap.COMMANDS)
    assert "W" in keymap.DEFAULT_KEYS["diff.wrap"].split(",")
