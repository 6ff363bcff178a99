"""Snapshots of the main screens at 160x50 (pytest-textual-snapshot; textual is pinned).

Run `pytest tests/tui/test_snapshots.py --snapshot-update` after an intended change and look at
the SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

from textual.widgets import Input

from reviewq.core.model import Critique, Finding
from tests.tui.conftest import highlight_riskiest, settle

SIZE = (160, 50)


def critique_for(change_id: str) -> Critique:
    return Critique(
        sha=change_id,
        critic="static",
        family="rules",
        model=None,
        author_family="unknown",
        same_family_allowed=False,
        summary="Adds an authentication bypass and weakens CI.",
        security_concerns="A shared override token logs anyone in as admin.",
        tests_present=False,
        effort=3,
        rationale="Support asked to debug customer sessions; the change adds an override.",
        findings=[
            Finding(
                "orders/auth.py",
                21,
                22,
                "critical",
                "security",
                "auth-bypass",
                "A token equal to ADMIN_OVERRIDE logs in as admin.",
                quote="if token == ADMIN_OVERRIDE:",
                verified=True,
            ),
            Finding(
                ".github/workflows/tests.yml",
                2,
                3,
                "error",
                "ci",
                "pull-request-target",
                "pull_request_target with write-all runs untrusted code with secrets.",
                quote="on: [push, pull_request_target]",
                verified=True,
            ),
            Finding(
                "orders/auth.py",
                40,
                40,
                "warning",
                "tests",
                "made-up",
                "A quote the critic invented.",
                quote="nowhere",
                verified=False,
            ),
        ],
    )


def _fixed_critiques(app) -> None:
    """Every item gets the same made-up critique, so the screens do not depend on the critic
    (its rules and wording change; these snapshots are about the screens)."""
    for item in app.queue_items:
        app.critiques[item.change.id] = critique_for(item.change.id)


async def _open_first(pilot, *keys: str) -> None:
    await settle(pilot)
    _fixed_critiques(pilot.app)
    await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
    await pilot.press("enter")
    await settle(pilot)
    if keys:
        await pilot.press(*keys)
        await settle(pilot)
    # Toasts time out: a slow run would lose them and differ from the snapshot.
    pilot.app.clear_notifications()
    await pilot.pause()


def _no_blink(pilot) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


def test_queue_screen(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_review_screen(snap_compare, make_app):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_open_first)


def test_review_with_critique_open(snap_compare, make_app):
    app = make_app()

    async def run_before(pilot) -> None:
        await _open_first(pilot, "i", "p")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_side_by_side(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _open_first(pilot, "p", "f")  # the full width: side by side by itself

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_verdict_dialog_with_warnings(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await settle(pilot)
        queue = pilot.app.screen
        queue.filter_text = "currency"
        queue._fill()
        await _open_first(pilot, "c")
        _no_blink(pilot)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, make_app):
    async def run_before(pilot) -> None:
        await _open_first(pilot, "question_mark")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_colour_blind_theme(snap_compare, make_app):
    app = make_app(theme="reviewq-colorblind")
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_first)


def test_light_theme(snap_compare, make_app):
    app = make_app(theme="reviewq-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_first)


def test_review_on_a_small_terminal(snap_compare, make_app):
    """80x24: the diff alone at first (files and prompt are a key away), header cut, not wrapped."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_open_first)


def test_approve_dialog_with_the_policy_checklist(snap_compare, make_app):
    """The demo's policy: auth and ci domains, their checklist, and why the approval would not
    count yet."""

    async def run_before(pilot) -> None:
        await _open_first(pilot, "a")
        _no_blink(pilot)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
