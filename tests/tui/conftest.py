"""TUI fixtures: the app on a private copy of the demo repository, with a clock we drive."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW


class FakeClock:
    """A monotonic clock the test moves by hand (the active-time timer reads it)."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_app(demo_repo: Path, clock: FakeClock):
    from reviewq.context import Context
    from reviewq.tui.app import ReviewqApp
    from reviewq.tui.services import Services

    contexts, services = [], []

    def make(repo: Path | None = None, **kwargs):
        ctx = Context.open(repo or demo_repo)
        contexts.append(ctx)
        kwargs.setdefault("remember", False)
        kwargs.setdefault("repo_label", "orders")
        kwargs.setdefault("clock", clock)
        # Polls on a timer would make the other tests' queues change under them at random
        # moments; live refresh has its own tests (test_live_queue.py) that turn it on.
        kwargs.setdefault("live_interval", None)
        made = Services(ctx, now=lambda: FIXED_NOW)
        services.append(made)
        return ReviewqApp(made, **kwargs)

    yield make
    # As `reviewq tui` does when the app ends: the worker processes (rationale, critic) end
    # with it, not with the test worker (41 were left running after one suite run).
    for made in services:
        made.close()
    for ctx in contexts:
        ctx.close()


async def settle(pilot) -> None:
    """Let messages, workers (git, highlighting, critiques) and the refreshes they cause finish.

    A refresh can start more work (drawing rows asks for their highlighting), so this repeats
    until a round starts no worker.
    """
    app = pilot.app
    for _ in range(20):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            break


async def highlight_riskiest(pilot) -> None:
    """Put the queue's cursor on its riskiest item, as a reviewer would: the queue lists
    unmerged work first (issue 16) and the demo's riskiest item is an AI commit on main."""
    screen = pilot.app.screen
    shown = screen.shown
    best = max(range(len(shown)), key=lambda i: (shown[i].risk.score, -i))
    screen.table.move_cursor(row=best)
    await pilot.pause()


def screen_text(widget) -> list[str]:
    """What a line-API widget shows, row by row."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def burst(pilot, *keys: str) -> None:
    """Send keys as a terminal delivers a fast typist's burst: every key is queued before the
    first is handled (`pilot.press` waits for the app to go idle between keys, which hides
    what happens to keys typed while a box is still opening). Then settle."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    app = pilot.app
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)
