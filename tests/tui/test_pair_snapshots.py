"""Snapshots of the pair session at 160x50: the normal layout and the presenter layout.

Run `pytest tests/tui/test_pair_snapshots.py --snapshot-update` after an intended change and look
at the SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

import pytest

from tests.tui.conftest import highlight_riskiest, settle
from tests.tui.test_snapshots import _fixed_critiques

SIZE = (160, 50)


async def _pair(pilot, *keys: str) -> None:
    await settle(pilot)
    _fixed_critiques(pilot.app)
    await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
    await pilot.press("P")
    await settle(pilot)
    await pilot.press(*"Lee Park <lee@acme.example>", "enter")
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
        await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.mark.slow
def test_pair_session(snap_compare, make_app):
    """The second hunk (the CI workflow), a note on it, one checklist item ticked."""

    async def run_before(pilot) -> None:
        await _pair(pilot, "space", "n")
        await pilot.press(*"write-all on pull_request_target", "enter", "3")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_pair_presenter_layout(snap_compare, make_app):
    """Wider diff, side panes collapsed, big step keys and the big step number."""

    async def run_before(pilot) -> None:
        await _pair(pilot, "P")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_pair_start_dialog(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await highlight_riskiest(pilot)
        await pilot.press("P")
        await settle(pilot)
        for box in pilot.app.screen.query("Input"):
            box.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
