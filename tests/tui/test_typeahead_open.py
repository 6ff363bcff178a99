"""Keys typed while a screen opens (issue 18: speed as a reviewer feels it).

A reviewer who knows the queue types `Down Down Enter PageDown PageDown` in one go. The review
screen's diff is not on screen when the page downs arrive (it is read in a worker, or taken from
the queue's prepare after the screen mounts), and they used to go nowhere. Navigation typed
ahead is now held and replayed in order once the rows exist, ending where the same keys typed
slowly end; a key that records something (a verdict, a viewed mark) typed before the diff was
on screen is refused with a notice, and the keys typed with it are dropped; leaving still works
at once. The queue screen holds keys typed before its rows are in the same way.

Every test types ahead for real: `burst` queues all its keys before the app handles the first,
and the slow-load tests keep the diff (or the queue) from arriving until the keys are in.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import reviewq.tui.screens.queue as queue_module
from reviewq.store.log import read_records
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.conftest import Repo
from tests.tui.conftest import burst, settle

SIZE = (160, 50)
AI = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
POLICY = "[policy]\napprovals = 1\nmin_seconds_per_100_lines = 30\n"


def _large_change(repo: Repo, files: int = 6, lines: int = 300) -> str:
    """A base by a person, then one AI commit changing every third line of `files` files:
    many hunks over several screens (the demo's large change is a generated file, folded)."""
    base = {
        f"src/m{f}.py": "".join(f"v{f}_{n} = {n}\n" for n in range(lines)) for f in range(files)
    }
    base[".reviewq.toml"] = POLICY
    repo.commit("Base", files=base)
    changed = {
        f"src/m{f}.py": "".join(
            f"v{f}_{n} = {n * 7}  # reworked\n" if n % 3 == 0 else f"v{f}_{n} = {n}\n"
            for n in range(lines)
        )
        for f in range(files)
    }
    return repo.commit("Rework the values" + AI, files=changed)


@pytest.fixture
def big(repo: Repo, monkeypatch) -> Path:
    _large_change(repo)
    # No prepare unless a test asks (it sets its own pause): the screen reads the diff.
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 1e6)
    return repo.path


async def typed(pilot, *keys: str) -> None:
    """`burst` without waiting for the workers (one of them is held on purpose): the keys
    are queued at once, then the app handles them."""
    app = pilot.app
    real = app.workers.wait_for_complete

    async def no_wait(*_args, **_kwargs) -> None:
        return None

    app.workers.wait_for_complete = no_wait
    try:
        await burst(pilot, *keys)
    finally:
        app.workers.wait_for_complete = real


def _where(screen: ReviewScreen) -> tuple[int, int]:
    view = screen.view
    return view.cursor, round(view.scroll_y)


def _notices(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


class SlowDiff:
    """The review screen's diff arrives only when `go()` (the queue prepares none: its cursor
    never rests long enough)."""

    def __init__(self, services) -> None:
        assert services._prepared is None
        self.gate = threading.Event()
        real = services.load_diff

        def slow(change):
            self.gate.wait(30)
            return real(change)

        services.load_diff = slow

    def go(self) -> None:
        self.gate.set()


async def _queue_ready(pilot) -> QueueScreen:
    await settle(pilot)
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen) and queue.loaded
    return queue


async def _opened(pilot) -> ReviewScreen:
    """Enter on the queue's row, handled and drawn: the review screen with its diff."""
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen) and screen.model is not None
    return screen


async def _typed_slowly(make_app, repo_path: Path, keys: list[str], preset: str | None) -> tuple:
    """Where the same keys end, each handled (and drawn) before the next."""
    app = make_app(repo_path, keymap_preset=preset)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        screen = await _opened(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        return _where(screen)


# -- navigation typed ahead ends where slow typing ends ------------------------------------------


_NAVIGATION = [
    (None, ["pagedown", "pagedown"]),
    (None, ["right_square_bracket", "right_square_bracket", "down", "pagedown"]),
    (None, ["end", "pageup", "up"]),
    (None, ["right_curly_bracket", "pagedown", "left_curly_bracket"]),
    # the keymap's own keys for the same actions (vim: ctrl+f pages, G is the bottom)
    ("vim", ["ctrl+f", "ctrl+f", "k"]),
    ("vim", ["G", "ctrl+b"]),
]
#: The default run: the unprepared open (the one that lost keys) with pages and with the vim
#: keymap; every other pairing runs under `-m slow` (each is a whole app run twice, ~4 s).
_DEFAULT_RUN = {(False, 0), (False, 4)}


@pytest.mark.parametrize(
    ("prepared", "preset", "keys"),
    [
        pytest.param(
            prepared,
            preset,
            keys,
            marks=() if (prepared, n) in _DEFAULT_RUN else pytest.mark.slow,
            id=f"{'prepared' if prepared else 'unprepared'}-{preset or 'default'}-{n}",
        )
        for prepared in (False, True)
        for n, (preset, keys) in enumerate(_NAVIGATION)
    ],
)
async def test_navigation_typed_with_enter_ends_where_slow_typing_ends(
    make_app, big, monkeypatch, preset, keys, prepared
):
    # The queue prepares the highlighted diff once the cursor rests (`prepare_diff`); an Enter
    # right after moving comes before it, and the keys used to be lost (`prepared=False`
    # fails on the old code). The prepared open drew its rows in time before; it now holds
    # the keys until its first frame too, and must still end in the same place.
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01 if prepared else 1e6)
    slow = await _typed_slowly(make_app, big, keys, preset)
    assert slow != (0, 0), "the keys move the cursor (else the test proves nothing)"
    app = make_app(big, keymap_preset=preset)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        if prepared:
            await pilot.pause(0.1)
            await settle(pilot)
            assert app.services._prepared is not None
        await burst(pilot, "enter", *keys)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert _where(screen) == slow


@pytest.mark.slow  # ~6 s; the default run's navigation pairings type ahead of a load too
async def test_keys_typed_while_a_slow_diff_loads_are_applied_once_it_is_there(make_app, big):
    keys = ["pagedown", "pagedown", "right_square_bracket", "down"]
    slow = await _typed_slowly(make_app, big, keys, None)
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "pagedown")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.model is None
        await typed(pilot, *keys[1:])  # typed a moment later, the diff still loading
        assert screen.model is None and screen.view.cursor == 0
        load.go()
        await settle(pilot)
        assert screen.model is not None
        assert _where(screen) == slow
        # and keys typed after it is on screen act at once, as before
        await pilot.press("up")
        await settle(pilot)
        assert screen.view.cursor == slow[0] - 1


async def test_a_search_typed_ahead_gets_its_text_and_finds(make_app, big):
    """`/` opens a box: the keys after it are its text, replayed into it in order."""
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "slash", *"v3_", "enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.model is None
        load.go()
        await settle(pilot)
        assert screen.search_text == "v3_"
        assert screen.view.search_hits > 0
        assert not read_records(app.services.ctx.log_path)


# -- keys that record something, typed before the diff was on screen ------------------------------


@pytest.mark.parametrize("prepared", [False, True])
async def test_enter_approve_enter_in_one_burst_records_nothing(
    make_app, big, monkeypatch, prepared
):
    """The rubber stamp: open, approve and confirm in one burst, the diff never seen."""
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 0.01 if prepared else 1e6)
    app = make_app(big)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _queue_ready(pilot)
        if prepared:
            await pilot.pause(0.1)
            await settle(pilot)
        await burst(pilot, "enter", "a", *"lgtm", "enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen), "no dialog, and the note's s did not skip"
        assert screen.model is not None
        assert "Approve not taken" in _notices(app)
        assert not read_records(app.services.ctx.log_path)
        # read, then approve: recorded as always
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, VerdictDialog)
        await pilot.press("enter")
        await settle(pilot)
    records = read_records(app.services.ctx.log_path)
    assert [r["verdict"] for r in records] == ["approve"]


@pytest.fixture
def small(repo: Repo, monkeypatch) -> Path:
    """A change of a few hunks: the speed limit asks for tens of seconds, not a quarter hour
    (each simulated minute of typing costs the test real time)."""
    _large_change(repo, files=2, lines=60)
    monkeypatch.setattr(queue_module, "PREPARE_PAUSE", 1e6)
    return repo.path


async def test_type_ahead_cannot_count_a_slow_load_as_review_time(make_app, small, clock):
    """The attack on the speed limit: the policy wants 30 s per 100 lines; the timer runs from
    the open (reading the prompt is review). A verdict held through a slow load and replayed
    when the diff arrives would carry the load's seconds and pass the limit without a line
    read. It is refused: typed before the diff was on screen."""
    app = make_app(small)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        queue = await _queue_ready(pilot)
        item = queue.current_item()
        lines = item.change.stats.lines_changed
        needed = 30 * lines / 100
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "a")
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and screen.model is None
        # the reviewer's "activity" while it loads: a key every 50 s (the timer idles after 60)
        for _ in range(int(needed // 50) + 2):
            clock.advance(50)
            await typed(pilot, "down")
        await typed(pilot, "enter")  # the dialog's confirm, typed ahead too
        assert screen.timer.active_seconds() > needed
        load.go()
        await settle(pilot)
        assert app.screen is screen
        assert "Approve not taken" in _notices(app)
        assert not read_records(app.services.ctx.log_path)
        requirements = app.services.requirements(screen.change)
        assert requirements is not None and requirements.approvals == 1


async def test_a_viewed_mark_typed_before_the_diff_is_not_saved(make_app, big):
    app = make_app(big)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _queue_ready(pilot)
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "x", "pagedown")
        screen = app.screen
        load.go()
        await settle(pilot)
        assert screen.view.viewed_files == set()
        assert not app.services.viewed_paths(screen.change, screen.diff)
        assert "Mark viewed not taken" in _notices(app)
        assert screen.view.cursor == 0, "the keys typed with it were dropped"
        await pilot.press("x")
        await settle(pilot)
        assert screen.view.viewed_files == {0}


# -- leaving while it loads ------------------------------------------------------------------


@pytest.mark.parametrize("leave", ["escape", "q"])
async def test_escape_typed_while_the_diff_loads_closes_the_screen_at_once(make_app, big, leave):
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        queue = await _queue_ready(pilot)
        row = queue.table.cursor_row
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "pagedown", leave)
        assert app.screen is queue, "closed without waiting for the diff"
        assert queue.table.cursor_row == row, "the page down was for the review, not the queue"
        load.go()
        await settle(pilot)
        assert app.screen is queue
        assert not [w for w in app.workers if w.is_running]
        assert [type(s).__name__ for s in app.screen_stack] == ["Screen", "QueueScreen"]
        # the queue takes keys as before
        await pilot.press("down")
        await settle(pilot)
        assert queue.table.cursor_row == row + 1 or len(queue.shown) == 1


async def test_quit_typed_while_the_diff_loads_quits(make_app, big):
    app = make_app(big)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        load = SlowDiff(app.services)
        await typed(pilot, "enter", "pagedown", "ctrl+q")
        load.go()
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    assert not app.is_running


# -- the queue, before its rows are in --------------------------------------------------------


class SlowQueue:
    def __init__(self, services) -> None:
        self.gate = threading.Event()
        real = services.load_queue_rows

        def slow(*args, **kwargs):
            self.gate.wait(30)
            return real(*args, **kwargs)

        services.load_queue_rows = slow

    def go(self) -> None:
        self.gate.set()


async def test_keys_typed_before_the_queue_is_in_wait_for_its_rows(make_app, demo_repo):
    app = make_app(demo_repo)
    load = SlowQueue(app.services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        assert isinstance(queue, QueueScreen) and not queue.loaded and not queue.provisional
        await typed(pilot, "down", "down")
        assert not queue.loaded
        load.go()
        await settle(pilot)
        assert queue.loaded and queue.table.cursor_row == 2


async def test_an_enter_right_after_start_up_opens_the_row_it_was_typed_on(make_app, demo_repo):
    app = make_app(demo_repo)
    load = SlowQueue(app.services)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        queue = app.screen
        await typed(pilot, "down", "enter", "pagedown")
        load.go()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.change.id == queue.shown[1].change.id
        assert queue.table.cursor_row == 1


async def test_keys_typed_after_enter_on_a_stored_row_go_to_the_review_it_opens(
    make_app, monkeypatch
):
    """The queue's first frame is the last open's stored rows; Enter on one opens the real
    item once the queue is in. The page downs typed after that Enter are for that review: not
    for the queue's table (they used to page the table while it waited)."""
    from tests.tui.test_faults_tui import until
    from tests.tui.test_stored_queue import held_load

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:  # the first open keeps its answer
        await settle(pilot)
        app.screen.table.move_cursor(row=2)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for key in ("pagedown", "pagedown"):
            await pilot.press(key)
            await settle(pilot)
        slow = _where(app.screen)
        wanted = app.screen.change.id
    assert slow != (0, 0)
    release = held_load(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.provisional)
        queue = app.screen
        await typed(pilot, "down", "down", "enter", "pagedown", "pagedown")
        assert app.screen is queue and queue.table.cursor_row == 2
        release.set()
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await settle(pilot)
        screen = app.screen
        assert screen.change.id == wanted
        assert queue.table.cursor_row == 2
        assert _where(screen) == slow


@pytest.mark.parametrize("preset", ["default", "vim", "emacs"])
async def test_what_a_held_key_is_judged_to_do_is_what_textual_runs(make_app, big, preset):
    """While the diff loads, a key's id comes from the keymap (`keymap.command_at`: its diff
    view cannot have focus yet); once it is there Textual runs the binding of the focus chain.
    The two agree on every key any id of the preset binds (a leave judged wrong would close
    the screen, or a held key never be released)."""
    from reviewq.tui import keymap

    app = make_app(big, keymap_preset=preset)
    async with app.run_test(size=SIZE) as pilot:
        await _queue_ready(pilot)
        screen = await _opened(pilot)
        assert app.focused is screen.view
        chain = screen._binding_chain
        keys = {k for spec in app._keymap.values() for k in spec.split(",") if k}
        checked = 0
        for key in sorted(keys):
            textual = None
            for priority in (True, False):
                links = reversed(chain) if priority else chain
                for _node, bindings in links:
                    found = [
                        b for b in bindings.key_to_bindings.get(key, ()) if b.priority == priority
                    ]
                    if found:
                        textual = found[0].id
                        break
                if textual is not None:
                    break
            assert keymap.command_at(app._keymap, "diff", [key]) == textual, key
            checked += textual is not None
        assert checked > 30
