"""Pair sessions in the app: start, walk through hunk by hunk, notes, ticks, handovers, verdict.

The record is read back from the provenance log and judged by `reviewq gate`, so the pair's
approval is known to count (or not) exactly as the gate sees it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewq.core.verdict import verify_chain
from reviewq.store.log import read_records
from reviewq.tui.pair.dialogs import PairStartDialog
from reviewq.tui.pair.panes import PairBanner, SessionPane
from reviewq.tui.pair.screen import PairScreen
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.help import HelpScreen
from reviewq.tui.screens.queue import QueueScreen
from tests.conftest import FIXED_NOW
from tests.tui.conftest import highlight_riskiest, settle

SIZE = (160, 50)
ME = {"name": "Dana Reyes", "email": "dana@acme.example"}  # the demo repository's user
LEE = {"name": "Lee Park", "email": "lee@acme.example"}
KIM = {"name": "Kim Ito", "email": "kim@acme.example"}
SAM = {"name": "Sam Okafor", "email": "sam@acme.example"}  # prompted the risky demo change
AS_OF = FIXED_NOW.isoformat()

#: The longest Pilot flows (8-14 s each) run in CI's slow suite (`.ci/run`), so the default run
#: keeps its budget of 5 minutes (docs/reliability.md).
long_flow = pytest.mark.slow


def person(p: dict) -> str:
    return f"{p['name']} <{p['email']}>"


async def start_session(pilot, *co_reviewers: dict) -> PairScreen:
    """From the queue: P, name the co-reviewers (the driver is git's user), enter."""
    app = pilot.app
    await settle(pilot)
    assert isinstance(app.screen, QueueScreen)
    await highlight_riskiest(pilot)  # unmerged work is listed first (issue 16)
    await pilot.press("P")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, PairStartDialog)
    assert dialog.query_one("#driver").value == person(ME)  # git's user.name/email
    assert dialog.focused is dialog.query_one("#co-1")
    await pilot.press(*person(co_reviewers[0]))
    if len(co_reviewers) > 1:
        await pilot.press("tab", *person(co_reviewers[1]))
    await pilot.press("enter")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, PairScreen)
    return screen


def banner_text(screen: PairScreen) -> str:
    return str(screen.query_one(PairBanner).query_one("#banner-text").render())


def gate(cli, repo: Path, sha: str) -> dict:
    out = cli("--repo", str(repo), "gate", f"{sha}^..{sha}", "--as-of", AS_OF, "--json")
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)["commits"][0]


@long_flow
async def test_a_pair_walkthrough_ends_in_a_verdict_with_co_reviewers_checklist_and_notes(
    make_app, clock, demo_repo: Path, cli
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot, LEE)
        change = screen.change
        assert "impersonate" in change.commit.subject  # the riskiest item comes first
        paths = [screen.where(i)[0] for i in range(len(screen.steps))]
        # tests first (a deleted one), then the CI workflow (configuration), then the code
        assert paths[0] == "tests/test_auth.py" and paths[-1] == "orders/auth.py"
        assert paths.index(".github/workflows/tests.yml") < paths.index("orders/auth.py")
        total = len(screen.steps)
        assert banner_text(screen).startswith(f"Hunk 1 of {total}  tests/test_auth.py")
        assert screen.checklist == (
            "threat model reviewed",
            "no secrets or override tokens in code",
            "no new permissions or untrusted checkouts",
        )

        # Dana drives: a note on the deleted test, written under the hunk (which stays in view)
        await pilot.press("n")
        await settle(pilot)
        box = screen.query_one("#note-input")
        assert box.has_focus and box.border_title.startswith("Dana Reyes's note on hunk 1 of")
        await pilot.press(*"why was this test deleted?", "enter")
        await settle(pilot)
        # the next hunk; Lee takes the keyboard and leaves a note there
        clock.advance(20)
        await pilot.press("space")
        await settle(pilot)
        assert screen.index == 1 and banner_text(screen).startswith(f"Hunk 2 of {total}")
        await pilot.press("d")
        await settle(pilot)
        assert screen.session.driver.email == LEE["email"]
        people = str(screen.query_one(SessionPane).query_one("#people").render())
        assert people.startswith("▶ Lee Park drives")
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"pull_request_target with write-all", "enter")
        await settle(pilot)
        # back and forth: the left arrow goes back, the right arrow on
        await pilot.press("left")
        await settle(pilot)
        assert screen.index == 0
        await pilot.press("right", "right")
        await settle(pilot)
        walked = 0
        while screen.index < total - 1:
            clock.advance(15)
            walked += 1
            await pilot.press("space")
            await settle(pilot)
        await pilot.press("space")  # past the last: a hint, no move
        await settle(pilot)
        assert screen.index == total - 1
        # Lee hands the keyboard back; the checklist is ticked with number keys
        await pilot.press("d", "1", "2", "3")
        await settle(pilot)
        assert screen.session.driver.email == ME["email"]
        assert screen.ticked == screen.checklist
        # the critique read before deciding (the auth domain wants a second-family one)
        await pilot.press("i")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert screen.critique_opened and screen.critique is not None
        clock.advance(10)
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, VerdictDialog)
        assert dialog.ticked() == screen.checklist  # ticked in the session: ticked here
        context = str(dialog.query_one("#verdict-context").render())
        assert "Dana Reyes records it as the reviewer, with Lee Park as co-reviewer" in context
        assert "2 hunk note(s)" in context
        await pilot.press(*"walked through together", "enter")
        await settle(pilot)
        # one item in this session? no: the session moves on to the next riskiest item
        assert isinstance(app.screen, PairScreen) and app.screen.change.id != change.id
        assert app.screen.session is screen.session

    records = read_records(app.services.ctx.log_path)
    assert len(records) == 1 and verify_chain(records) is None
    record = records[0]
    assert record["verdict"] == "approve" and record["sha"] == change.id
    assert record["reviewer"] == ME
    assert record["co_reviewers"] == [LEE]
    assert record["checklist"] == list(screen.checklist)
    assert record["note"] == "walked through together"
    assert record["hunks_viewed"] == record["hunks_total"] == total
    assert record["critique"]["opened_before_verdict"] is True
    # 20 s, then 15 s per step to the end, then 10 s
    assert record["active_seconds"] == 20 + 15 * walked + 10
    assert record["hunk_notes"] == [
        {
            "file": "tests/test_auth.py",
            "hunk": screen.where(0)[1],
            "new_start": 0,
            "note": "why was this test deleted?",
            "by": ME,
        },
        {
            "file": ".github/workflows/tests.yml",
            "hunk": screen.where(1)[1],
            "new_start": screen.where(1)[2],
            "note": "pull_request_target with write-all",
            "by": LEE,
        },
    ]
    session = record["session"]
    assert session["mode"] == "pair" and session["host"] == ME
    assert session["participants"] == [ME, LEE]
    assert [(c["from"], c["to"], c["step"]) for c in session["driver_changes"]] == [
        (ME, LEE, 2),
        (LEE, ME, total),
    ]
    # The gate counts the pair's approval once, as the driver's (auth wants two reviewers and a
    # 10-day cooldown, so the change does not pass yet, but nothing about this approval fails).
    judged = gate(cli, demo_repo, change.id)
    assert judged["approved_by"] == [ME]
    assert judged["not_counted"] == []
    assert {n["code"] for n in judged["needs"]} == {"approvals", "cooldown"}


@long_flow
async def test_an_approval_with_the_prompter_as_co_reviewer_does_not_count(
    make_app, demo_repo: Path, cli, clock
):
    """Sam asked the agent for the change; with Sam in the session the approval does not count,
    and the screen and the dialog say so before anything is recorded."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot, SAM)
        status = str(screen.query_one("#pair-status").render())
        assert status.startswith("⚠ Sam Okafor prompted this change")
        while screen.index < len(screen.steps) - 1:
            clock.advance(30)
            await pilot.press("space")
            await settle(pilot)
        await pilot.press("1", "2", "3", "i")
        await settle(pilot)
        await pilot.press("i", "a")
        await settle(pilot)
        problems = str(app.screen.query_one("#policy-problems").render())
        expected = (
            "the prompter's approval does not count (Sam Okafor <sam@acme.example> co-reviewed)"
        )
        assert expected in problems
        await pilot.press("enter")
        await settle(pilot)
        change = screen.change
    record = read_records(app.services.ctx.log_path)[0]
    assert record["co_reviewers"] == [SAM]
    judged = gate(cli, demo_repo, change.id)
    assert judged["approved_by"] == []
    assert [n["code"] for n in judged["not_counted"]] == ["prompter"]


@long_flow
async def test_three_people_hand_the_keyboard_round_the_table_and_the_driver_is_the_reviewer(
    make_app, clock
):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot, LEE, KIM)
        assert [p.email for p in screen.session.participants] == [
            ME["email"],
            LEE["email"],
            KIM["email"],
        ]
        drivers = []
        for _ in range(4):
            await pilot.press("d")
            await settle(pilot)
            drivers.append(screen.session.driver.name)
        assert drivers == ["Lee Park", "Kim Ito", "Dana Reyes", "Lee Park"]
        header = str(screen.query_one("#pair-header").render())
        assert "Lee Park drives · with Dana Reyes, Kim Ito" in header
        # nobody touches anything for 100 s: the timer stops after 60 idle seconds
        clock.advance(100)
        # Lee decides: Lee is the reviewer, the record unsigned (this machine's key is not Lee's)
        await pilot.press("r")
        await settle(pilot)
        context = str(app.screen.query_one("#verdict-context").render())
        assert "Lee Park is not this machine's git user (Dana Reyes): the record is left " in (
            context
        )
        assert f"not walked through yet: steps 2, 3, 4 of {len(screen.steps)}" in context
        await pilot.press(*"override token must go", "enter")
        await settle(pilot)
    record = read_records(app.services.ctx.log_path)[0]
    assert record["verdict"] == "reject"
    assert record["active_seconds"] == 60.0 and record["wall_seconds"] == 100.0
    assert record["reviewer"] == LEE and record["signature"] is None
    assert record["co_reviewers"] == [ME, KIM]
    assert len(record["session"]["driver_changes"]) == 4


@long_flow
async def test_leaving_keeps_notes_ticks_and_time_for_the_next_session(make_app, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot, LEE)
        change_id = screen.change.id
        await pilot.press("space", "n")
        await settle(pilot)
        await pilot.press(*"check the workflow", "enter", "2")
        clock.advance(30)
        # escape in the note line cancels that note; the session stays
        await pilot.press("n", *"never mind", "escape")
        await settle(pilot)
        assert app.screen is screen and [n.note for n in screen.notes] == ["check the workflow"]
        await pilot.press("escape")  # leave the session
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)
        # again, on the same change
        await pilot.press("P")
        await settle(pilot)
        await pilot.press(*person(LEE), "enter")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, PairScreen) and again.change.id == change_id
        assert [n.note for n in again.notes] == ["check the workflow"]
        assert again.ticked == ("no secrets or override tokens in code",)
        assert again.index == 1  # where the walkthrough was left
        assert again.timer.active_seconds() >= 30
        # the names are remembered for the next start dialog
        assert app.services.recent_people()[:2] == [person(ME), person(LEE)]


@long_flow
async def test_start_dialog_refuses_what_it_cannot_record(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        dialog = app.screen
        await pilot.press(*"lee@acme.example", "enter")
        await settle(pilot)
        error = str(dialog.query_one("#error").render())
        assert "co-reviewer: 'lee@acme.example' has no name" in error
        await pilot.press(*(["backspace"] * 20), *person(ME), "enter")
        await settle(pilot)
        assert "Dana Reyes <dana@acme.example> is named twice" in str(
            dialog.query_one("#error").render()
        )
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@long_flow
async def test_a_co_reviewer_typed_in_the_second_box_is_taken(make_app):
    """Found in tmux: a Tab too many puts the one co-reviewer in the optional box; that is
    still one co-reviewer, and only both boxes empty is refused."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)
        dialog = app.screen
        await pilot.press("enter")  # nobody named
        await settle(pilot)
        assert "co-reviewer: empty" in str(dialog.query_one("#error").render())
        await pilot.press("tab", *person(LEE), "enter")
        await settle(pilot)
        assert isinstance(app.screen, PairScreen)
        assert [p.email for p in app.screen.session.co_reviewers] == [LEE["email"]]


@long_flow
async def test_the_pair_keys_are_in_the_help_screen_with_their_ids(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot, LEE)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-body").render())
        for binding_id in ("pair.next", "pair.prev", "pair.note", "pair.driver", "pair.presenter"):
            assert binding_id in text
        assert "Pair session" in text


def test_reviewq_pair_says_what_is_wrong_in_one_line(cli, demo_repo: Path) -> None:
    three = ["--with", "P1 <p1@x.example>", "--with", "P2 <p2@x.example>"]
    three += ["--with", "P3 <p3@x.example>"]
    cases = [
        (["pair", "--with", "lee@acme.example"], "--with: 'lee@acme.example' has no name"),
        (["pair", "--driver", "Dana"], "--driver: 'Dana' is not Name <email>"),
        (["pair", *three], "--with: at most 2 co-reviewers"),
        (["pair", "no-such-rev"], "unknown revision"),
        (["pair", "HEAD"], "is not AI-authored"),  # the demo's last commit is a person's
        (["pair"], "a pair session needs a terminal"),  # a pipe is no terminal
    ]
    for args, message in cases:
        out = cli("--repo", str(demo_repo), *args)
        assert out.returncode == 2, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr, out.stderr


@long_flow
async def test_reviewq_pair_rev_starts_on_that_change_with_the_names_given(
    make_app, demo_repo: Path
):
    """What `reviewq pair REV --with ...` does: the start dialog on that change, names filled."""
    from reviewq.tui.pair.screen import PairLaunch

    sha = subprocess.run(
        ["git", "log", "--format=%H", "--grep=constant-time", "-1"],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    probe = make_app()
    item = None
    async with probe.run_test(size=SIZE) as pilot:
        await settle(pilot)
        item = next(i for i in probe.queue_items if i.change.id == sha)
    app = make_app(pair=PairLaunch(item=item, co_reviewers=(person(KIM),), presenter=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PairStartDialog)
        assert dialog.query_one("#co-1").value == person(KIM)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PairScreen) and screen.change.id == sha
        assert screen.presenter and screen.queue == [item]  # this change alone
        # the walkthrough: the new test before the code it tests
        assert [screen.where(i)[0] for i in range(len(screen.steps))] == [
            "tests/test_auth.py",
            "orders/auth.py",
        ]
        await pilot.press("r", *"compare_digest on bytes", "enter")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)  # one change: the session ends there


@long_flow
async def test_the_palette_starts_a_pair_session_and_jumps_to_steps(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Start pair session: the pending")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PairStartDialog)
        await pilot.press(*person(LEE), "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PairScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Jump to step 3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.index == 2


async def test_p_in_a_review_moves_the_change_into_a_pair_session(make_app):
    from reviewq.tui.screens.review import ReviewScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await pilot.press("P")
        await settle(pilot)
        await pilot.press(*person(LEE), "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PairScreen) and screen.change.id == review.change.id
        # the review was replaced, not stacked: leaving the session goes back to the queue
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["QueueScreen", "PairScreen"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueueScreen)


@long_flow
async def test_the_mouse_goes_to_a_step_ticks_an_item_and_steps_in_presenter(make_app):
    from reviewq.tui.pair.panes import StepList, TickBox

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await start_session(pilot, LEE)
        options = screen.query_one(StepList).query_one("#step-list")
        await pilot.click(options, offset=(5, 2))  # the third step
        await settle(pilot)
        assert screen.index == 2
        await pilot.click(screen.query_one("#tick-2", TickBox))
        await settle(pilot)
        assert screen.ticked == ("no secrets or override tokens in code",)
        await pilot.press("P")
        await settle(pilot)
        await pilot.click("#step-back")
        await settle(pilot)
        assert screen.index == 1
        for _ in range(2):
            await pilot.pause(0.25)  # a Button ignores a click during its 0.2 s press effect
            await pilot.click("#step-next")
            await settle(pilot)
        assert screen.index == 3
