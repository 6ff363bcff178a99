"""Hostile content, end to end: a repository whose every untrusted field tries to drive the
reviewer's terminal or the app, rendered through the real app headless and read off the screen.

The payloads (Textual/Rich markup, ANSI CSI colour and cursor moves, OSC 0/2 title changes,
OSC 52 clipboard writes ended by BEL and by ST, OSC 8 hyperlinks, the C1 CSI, bell, backspace,
carriage-return overwrites, bidi overrides and isolates, zero-width characters) sit in a commit
subject and body, the prompt note, diff lines (added, removed, context), a file name, an inbox
patch and its sidecar prompt, and a model critic's answer (summary, concerns, rationale, finding
title, body, file, label and quote).

For the queue, the review screen (prompt, critique and rationale panes open, a finding chosen,
a verdict dialog), the inbox item and the command palette, each check:

- the frame as it would be written to the terminal holds no control character but the CSI
  sequences the compositor itself writes (no OSC, no BEL, no C1, no bidi or zero-width char);
- no cell carries a link or an action (`@click`) and the markup is on screen literally;
- every payload is on screen as a visible placeholder (`<ESC>]52;c;...`), styled apart;
- the app is still running, with its title and clipboard untouched.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.conftest import Repo
from tests.fake_model import FakeModel
from tests.hostile import (
    PAYLOADS,
    TERMINAL_CONTROL,
    build_hostile_repo,
    hostile_answer,
)
from tests.tui.conftest import settle

SIZE = (160, 50)
#: Placeholders the screen must draw in a style of their own.
PLACEHOLDERS = (
    "<ESC>",
    "<BEL>",
    "<0x9B>",
    "<BS>",
    "<CR>",
    "<U+202E>",
    "<U+2066>",
    "<U+200B>",
    "<U+FEFF>",
)
#: What the compositor itself writes: SGR colours and cursor positioning.
OWN_SEQUENCE = re.compile(r"\x1b\[[0-9;:]*[mHABCDGJK]")


def terminal_frame(app) -> str:
    """The current screen exactly as Textual would write it to the terminal."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(console)


def screen_lines(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


def check_inert(app, where: str) -> str:
    """The frame holds nothing that drives a terminal, and no cell is a link or an action.
    Returns the screen's text for the caller's own checks."""
    frame = terminal_frame(app)
    leftover = OWN_SEQUENCE.sub("", frame)
    bad = TERMINAL_CONTROL.search(leftover)
    assert bad is None, (
        f"{where}: raw {bad.group()!r} reached the terminal: {leftover[max(0, bad.start() - 40) : bad.start() + 40]!r}"
    )
    assert "\x1b" not in leftover, f"{where}: an escape sequence not the compositor's own"
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            assert not style.link, f"{where}: {segment.text!r} became a link"
            # `[@click=...]` markup would attach an action (scrollbars' own `@mouse.down` aside)
            assert "@click" not in (style.meta or {}), f"{where}: action in {segment.text!r}"
    assert app.is_running and app.return_code is None, f"{where}: the app quit"
    assert app.title == "reviewq"
    assert app.clipboard == ""
    return "\n".join(screen_lines(app))


def marked(app, token: str) -> bool:
    """`token` is on screen in a segment of its own style (a placeholder drawn apart)."""
    for strip in app.screen._compositor.render_strips():
        segments = list(strip)
        for i, segment in enumerate(segments):
            if token in segment.text and segment.text.strip().startswith("<"):
                neighbours = [s.style for s in segments[max(0, i - 1) : i + 2] if s is not segment]
                if any(n != segment.style for n in neighbours):
                    return True
    return False


@pytest.fixture
def hostile_repo(repo: Repo) -> tuple[Repo, str]:
    return repo, build_hostile_repo(repo)


async def open_item(pilot, change_id: str) -> ReviewScreen:
    queue = pilot.app.screen
    assert isinstance(queue, QueueScreen)
    index = [i.change.id for i in queue.shown].index(change_id)
    queue.table.move_cursor(row=index)
    await pilot.pause()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen) and screen.change.id == change_id
    return screen


async def test_hostile_text_is_shown_marked_and_never_interpreted(make_app, hostile_repo):
    repo, sha = hostile_repo
    with FakeModel(hostile_answer()) as model:
        (repo.path / ".reviewq.toml").write_text('inbox = "inbox"\n' + model.config())
        app = make_app(repo.path)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            queue = app.screen
            assert isinstance(queue, QueueScreen) and len(queue.shown) == 2
            # The inbox patch (unmerged work) is listed first: highlight the hostile commit.
            row = [i.change.id for i in queue.shown].index(sha)
            queue.table.move_cursor(row=row)
            await settle(pilot)
            text = check_inert(app, "queue")
            # the subject column (cut at 60) and the highlighted item's prompt below the list
            assert "Fix [bold red]x[/] | [@click=app.quit]y[/]" in text
            assert "<ESC>[31mRED<ESC>[0m<ESC>[2J<ESC>[H" in text

            # The commit: diff, files, prompt, critique (a model's answer), rationale.
            screen = await open_item(pilot, sha)
            await pilot.press("i", "w")
            await settle(pilot)
            assert screen.critique is not None and screen.critique.critic == "openai"
            text = check_inert(app, "review")
            seen = {token for token in PLACEHOLDERS if marked(app, token)}
            # Panes hold the full payloads, literally.
            prompt = str(screen.query_one("#prompt-text").render())
            critique = str(screen.query_one("#critique-text").render())
            rationale = str(screen.query_one("#rationale-text").render())
            for name, (_, shown) in PAYLOADS.items():
                assert shown in prompt, f"prompt: {name}"
                assert shown in critique, f"critique: {name}"
            assert "evil-<ESC>]0;t<BEL>-[b]x[/b]-<U+202E>exe.md" in rationale
            # The diff as drawn, page by page: every payload on a context, removed and added
            # line, and the hostile file name in its header and in the file list.
            drawn = text
            screen.view.focus()
            for _ in range(4):
                await pilot.press("pagedown")
                await settle(pilot)
                drawn += check_inert(app, "diff")
                seen |= {token for token in PLACEHOLDERS if marked(app, token)}
            assert seen == set(PLACEHOLDERS), f"not drawn apart: {set(PLACEHOLDERS) - seen}"
            for name, (_, shown) in PAYLOADS.items():
                for kind in ("ctx", "del", "add"):
                    assert f"{kind} {name}: {shown}" in drawn, f"{kind} {name}"
            assert "docs/evil-<ESC>]0;t<BEL>-[b]x[/b]-<U+202E>exe.md" in drawn
            assert "<U+202E>exe.md" in text  # the file list

            # A finding about a file outside the diff: the notification names it literally.
            screen.query_one("#finding-list").focus()
            await pilot.press("end", "enter")
            await settle(pilot)
            text = check_inert(app, "notification")
            assert (
                "This finding is about" in text and "elsewhere/[@click=app.quit]y[/]<ESC>" in text
            )
            (toast,) = [t for t in app.screen.query("Toast") if "finding" in str(t.render())]
            assert "elsewhere/[@click=app.quit]y[/]<ESC>]52;c;aGk=<BEL>.py" in str(toast.render())

            # The verdict dialog shows the subject.
            screen.view.focus()
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, VerdictDialog)
            check_inert(app, "verdict dialog")
            await pilot.press("escape")
            await settle(pilot)

            # The palette lists queue items by subject.
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Fix")
            await settle(pilot)
            text = check_inert(app, "palette")
            assert "Open queue item" in text and "[bold red]x[/]" in text
            await pilot.press("escape")
            await settle(pilot)

            # The inbox patch and its sidecar prompt.
            await pilot.press("escape")
            await settle(pilot)
            inbox_id = next(i.change.id for i in app.screen.shown if i.change.source == "inbox")
            screen = await open_item(pilot, inbox_id)
            text = check_inert(app, "inbox review")
            prompt = str(screen.query_one("#prompt-text").render())
            assert prompt.startswith("sidecar markup: [bold red]x[/]")
            for _, shown in PAYLOADS.values():
                assert shown in prompt
            assert app.is_running
