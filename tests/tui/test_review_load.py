"""How the review screen loads a change: the diff first, parsed once; the rest after it shows."""

from __future__ import annotations

import time

from reviewq.tui.diff.view import DiffView
from reviewq.tui.screens.review import ReviewScreen
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


async def test_page_down_does_not_walk_the_binding_chain_each_key(make_app, monkeypatch):
    """Whether a key opens a box (type-ahead) is worked out once per screen, focus and keymap,
    not by walking every binding of the focus chain for each key of a page-down storm."""
    from textual.screen import Screen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        walks = 0
        real = Screen._modal_binding_chain

        def counting(self):
            nonlocal walks
            walks += 1
            return real.fget(self)

        monkeypatch.setattr(Screen, "_modal_binding_chain", property(counting))
        await pilot.press("pagedown")
        first = walks
        for _ in range(10):
            await pilot.press("pagedown")
        # Textual's own dispatch still walks it once a key; the type-ahead check no more
        assert walks - first <= 10
        assert app._opens_box("a")  # approve opens the verdict box
        assert not app._opens_box("pagedown")


def test_the_rationale_pauses_between_files_for_the_foreground() -> None:
    """`reviewq.core.pace`: a thread that set a hook has it called before each file."""
    from reviewq.core.pace import PAUSE
    from reviewq.core.rationale import build_rationale
    from tests.critic_eval.harness import input_for

    subject = input_for({f"m{i}.py": ("x = 1\n", "x = 2\n") for i in range(5)})
    calls = 0

    def hook() -> None:
        nonlocal calls
        calls += 1

    build_rationale(subject.diff, old_texts=subject.old_texts, new_texts=subject.new_texts)
    assert calls == 0
    token = PAUSE.set(hook)
    try:
        build_rationale(subject.diff, old_texts=subject.old_texts, new_texts=subject.new_texts)
    finally:
        PAUSE.reset(token)
    assert calls == 5


async def test_background_work_waits_while_keys_are_pressed(make_app, monkeypatch) -> None:
    import reviewq.tui.app as app_module

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sleeps = 0
        real_sleep = time.sleep

        def counting(seconds: float) -> None:
            nonlocal sleeps
            sleeps += 1
            real_sleep(seconds)

        monkeypatch.setattr(app_module.time, "sleep", counting)
        app.foreground_until = 0.0
        app.opening_until = 0.0
        app.background_pause()
        assert sleeps == 0  # nothing in the foreground: carry on at once
        app.foreground_until = time.monotonic() + 0.2  # a key was just pressed
        app.background_pause()
        assert sleeps >= 1
        sleeps = 0
        app.foreground_until = 0.0
        app.opening_until = time.monotonic() + 0.2  # a diff is being opened
        app.background_pause()
        assert sleeps >= 1


def test_a_spawned_worker_does_not_run_the_command_line(monkeypatch) -> None:
    """The TUI's worker process is started with "spawn", which imports `python -m reviewq`'s
    main module as `__mp_main__`: that import must not run the command line again."""
    import runpy

    import reviewq.cli

    def refuse(*args, **kw):
        raise AssertionError("the command line ran in the worker")

    monkeypatch.setattr(reviewq.cli, "main", refuse)
    runpy.run_module("reviewq.__main__", run_name="__mp_main__")


def test_services_offload_runs_in_a_worker_process_with_the_same_result(demo_repo) -> None:
    import os

    from reviewq.context import Context
    from reviewq.core.rationale import FileStructure, _python_structure_job
    from reviewq.tui.services import Services

    ctx = Context.open(demo_repo)
    services = Services(ctx)
    try:
        services.start_worker_process()
        fs = FileStructure("a.py", None, "modified", "python", 1, 1, "none")
        there = services.offload(_python_structure_job, fs, "x = 1\n", "x = 2\n")
        assert there == _python_structure_job(
            FileStructure("a.py", None, "modified", "python", 1, 1, "none"), "x = 1\n", "x = 2\n"
        )
        assert not services._pool_broken
        assert services.offload(os.getpid) != os.getpid()  # it did run elsewhere
    finally:
        services.close()
        ctx.close()
