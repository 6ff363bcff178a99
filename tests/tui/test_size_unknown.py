"""The TUI says "size unknown" where objects are missing, instead of a count that is really 0."""

from __future__ import annotations

from pathlib import Path

from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from reviewq.tui.widgets.lists import QueueTable
from tests.conftest import Repo
from tests.tui.conftest import settle

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


async def test_queue_row_and_change_header_say_size_unknown(make_app, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit("Start", files={"a.txt": "1\n"})
    sha = repo.commit("Grow a" + CLAUDE, files={"a.txt": "1\n2\n3\n"})
    oid = repo.git("rev-parse", f"{sha}:a.txt")
    (repo.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    app = make_app(repo.path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.query_one(QueueTable)
        assert table.row_count == 1
        assert screen.shown[0].change.stats.sizes == "unknown"
        row = " ".join(str(c) for c in screen._cells(screen.shown[0]))
        assert "size unknown" in row and "+0/-0" not in row
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        shown = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "size unknown" in shown
