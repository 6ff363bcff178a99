"""The queue screen draws the last open's stored answer at once, then the real queue: the same
rows and top line either way; Enter on a stored row opens the real item of that id once it is
in; a forged answer can make the first second lie but cannot open anything that is not queued."""

from __future__ import annotations

import threading
from pathlib import Path

from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from reviewq.tui.services import Services
from reviewq.workflow.queue_answer import answer_path
from tests.test_queue_answer import read_answer, write_answer
from tests.tui.conftest import settle
from tests.tui.test_faults_tui import until

SIZE = (160, 50)


def on_screen(screen: QueueScreen) -> tuple[list[tuple[str, ...]], str, str]:
    """What the table's rows say, and the top line's two halves."""
    rows = [screen._row(r).texts for r in screen.shown_rows]
    title = str(screen.query_one("#queue-title").render())
    progress = str(screen.query_one("#queue-progress").render())
    return rows, title, progress


def held_load(monkeypatch) -> threading.Event:
    """The real queue waits for the returned event (the stored answer stays on screen)."""
    release = threading.Event()
    real = Services.load_queue_rows

    def slow(self, key=None, **kwargs):
        release.wait(30)
        return real(self, key, **kwargs)

    monkeypatch.setattr(Services, "load_queue_rows", slow)
    return release


async def test_the_stored_rows_are_the_real_ones_and_enter_waits_for_them(
    make_app, monkeypatch
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        real = on_screen(app.screen)
        shown = [i.change.id for i in app.screen.shown]
    assert len(shown) > 3
    release = held_load(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.provisional)
        screen = app.screen
        assert not screen.loaded and screen.table.row_count == len(shown)
        assert on_screen(screen) == real
        assert screen.current_item() is None  # a stored row is no item
        screen.table.move_cursor(row=2)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen) and screen.open_when_loaded == shown[2]
        release.set()
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await settle(pilot)
        assert screen.loaded and not screen.provisional and on_screen(screen) == real
        opened = app.screen
        assert opened.change is screen.shown[2].change  # the real item, from the real load
        assert opened.change.id == shown[2]


async def test_a_forged_answer_opens_nothing_but_real_items(make_app, demo_repo: Path, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        real = on_screen(app.screen)
        first = app.screen.shown[0]
    path = answer_path(demo_repo / ".git" / "reviewq", "daily")
    data, rows = read_answer(path)
    fake = "f" * 40
    top = next(r for r in rows if r[0] == first.change.id)
    # A row for a commit that is in no queue, first; the real first item renamed and "low".
    forged = [fake, "high", 99, *top[3:]]
    top[7], top[1], top[2] = "harmless typo fix", "low", 0
    write_answer(path, data, [forged, *rows])  # sealed: a shell of this user can read the key
    release = held_load(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.provisional)
        screen = app.screen
        assert screen.shown_rows[0].id == fake  # shown (it is only display)
        await pilot.press("enter")
        release.set()
        await until(pilot, lambda: screen.loaded)
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)  # nothing opened for the forged row
        assert on_screen(screen) == real  # the real queue replaced every forged row
        assert fake not in {r.id for r in screen.shown_rows}
        screen.table.move_cursor(row=0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await settle(pilot)
        assert app.screen.change.id == first.change.id
        assert app.screen.change.commit.subject == first.change.commit.subject


async def test_a_failed_load_takes_the_stored_rows_away(make_app, monkeypatch) -> None:
    """Stored rows are never left standing as if they were the queue."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    release = threading.Event()

    def broken(self, key=None, **kwargs):
        release.wait(30)
        raise OSError("the disk went away")

    monkeypatch.setattr(Services, "load_queue_rows", broken)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.provisional)
        screen = app.screen
        assert screen.table.row_count > 0
        await pilot.press("enter")  # asked before the failure: nothing opens after it
        release.set()
        await settle(pilot)
        assert not screen.provisional and not screen.loaded and not screen.shown_rows
        assert not screen.table.display and screen.table.row_count == 0
        assert "could not be loaded" in str(screen.query_one("#queue-empty").render())
        assert isinstance(app.screen, QueueScreen)


def widths(screen: QueueScreen) -> list[int]:
    return [column.width for column in screen.table.ordered_columns]


async def test_the_first_frame_from_the_answer_read_at_start_is_the_real_queue(
    make_app, monkeypatch
) -> None:
    """As `reviewq tui` opens: the answer read in a thread while the app starts is on screen
    in the queue screen's first frame, in the order and column widths it kept (no row read
    but those drawn), the same as the real queue's once that is in."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        real, real_widths = on_screen(app.screen), widths(app.screen)
    release = held_load(monkeypatch)
    app = make_app()
    app.services.prefetch_stored_queue()
    app.services._prefetch[0].join()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueueScreen) and screen.provisional and not screen.loaded
        assert screen._stored is not None  # drawn from the kept order, not sorted here
        assert on_screen(screen) == real and widths(screen) == real_widths
        release.set()
        await until(pilot, lambda: screen.loaded)
        await settle(pilot)
        assert on_screen(screen) == real and widths(screen) == real_widths


async def test_an_edited_answer_is_never_drawn(make_app, demo_repo: Path, monkeypatch) -> None:
    """Someone without this user's key takes the riskiest item out of the stored answer: the
    screen draws nothing from it and waits for the real queue, which has the item."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.shown[0].change.id
    path = answer_path(demo_repo / ".git" / "reviewq", "daily")
    seal = path.read_bytes().split(b"\n", 1)[0]
    header, rows = read_answer(path)
    write_answer(path, {**header, "display": None}, [r for r in rows if r[0] != first])
    path.write_bytes(seal + b"\n" + path.read_bytes().split(b"\n", 1)[1])
    release = held_load(monkeypatch)
    app = make_app()
    app.services.prefetch_stored_queue()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        assert not screen.provisional and screen.table.row_count == 0
        release.set()
        await until(pilot, lambda: screen.loaded)
        await settle(pilot)
        assert screen.shown[0].change.id == first
