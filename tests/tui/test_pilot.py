"""The TUI as a reviewer drives it (Textual Pilot on a real demo repository)."""

from __future__ import annotations

from pathlib import Path

from textual import events

from reviewq.core.model import Critique, Finding
from reviewq.tui.diff.view import DiffView
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.help import HelpScreen
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from reviewq.tui.widgets.lists import QueueTable
from reviewq.tui.widgets.sidebar import FileSidebar
from tests.tui.conftest import highlight_riskiest, screen_text, settle

SIZE = (160, 50)


async def open_first_review(pilot) -> ReviewScreen:
    """The review of the riskiest item (unmerged work is listed first, issue 16)."""
    await settle(pilot)
    await highlight_riskiest(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


async def test_queue_lists_pending_items_with_progress_sort_and_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        table = screen.query_one(QueueTable)
        assert table.row_count == 13  # main's AI commits, the unmerged agent branch, the inbox
        top = str(screen.query_one("#queue-progress").render())
        assert "Reviewed today 0" in top and "Pending 13" in top
        # Unmerged work first (the agent branch, the inbox), then main's AI commits, each
        # group riskiest first: the riskiest of all is devin's commit on main.
        assert [i.unit.kind for i in screen.shown[:3]] == ["branch", "inbox", "commit"]
        assert screen.shown[2].change.authorship.agent == "devin"
        main = [i.risk.score for i in screen.shown[2:]]
        assert main == sorted(main, reverse=True)
        await pilot.press("o")  # sort by age: oldest first, unmerged work still first
        assert screen.sort_key == "age"
        assert [i.unit.kind for i in screen.shown[:2]] == ["branch", "inbox"]
        for group in (screen.shown[:2], screen.shown[2:]):
            ages = [i.age_seconds for i in group]
            assert ages == sorted(ages, reverse=True)
        await pilot.press("/", *"openai")  # by family
        await pilot.pause()
        assert {i.change.authorship.family for i in screen.shown} == {"openai"}
        assert table.row_count == len(screen.shown) == 4
        await pilot.press("backspace", *6 * ["backspace"], *"ratelimit")  # by path
        await pilot.pause()
        assert [i.change.authorship.agent for i in screen.shown] == ["aider"]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 13 and screen.filter_text == ""


async def test_review_navigation_search_fold_layout_and_help(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        assert screen.change.authorship.agent == "devin"
        assert [f.path for f in screen.diff.files] == [
            ".github/workflows/tests.yml",
            "orders/auth.py",
            "tests/test_auth.py",
        ]
        assert view.cursor == 0
        await pilot.press("]")
        hunk_rows = view.layout_rows.hunk_rows
        assert view.cursor == hunk_rows[0]
        await pilot.press("]", "]")
        assert view.cursor == hunk_rows[2]
        assert view.cursor_file == 1
        await pilot.press("}")
        assert view.cursor == view.layout_rows.file_rows[2]
        await pilot.press("{")
        assert view.cursor == view.layout_rows.file_rows[1]
        # the sidebar follows the cursor
        await pilot.pause()
        assert screen.query_one(FileSidebar).option_list.highlighted == 1
        # search with n / N
        await pilot.press("/", *"admin_override", "enter")
        await settle(pilot)
        assert view.search_hits == 2  # lines, not occurrences
        line = view.cursor_line()
        assert line is not None and "ADMIN_OVERRIDE" in line.text
        first_match = view.cursor
        await pilot.press("n")
        assert view.cursor > first_match
        await pilot.press("N")
        assert view.cursor == first_match
        assert "1/2" in screen.search_status
        # fold the file under the cursor and back
        rows = len(view.layout_rows)
        await pilot.press("z")
        assert 1 in screen.model.collapsed and len(view.layout_rows) < rows
        await pilot.press("z")
        assert 1 not in screen.model.collapsed and len(view.layout_rows) == rows
        # side by side and back
        assert not view.is_split  # 160 columns with the panes open: unified
        await pilot.press("v")
        assert view.is_split
        await pilot.press("v")
        assert not view.is_split
        # help, generated from the keys in effect
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body").render())
        assert "verdict.approve" in body and "Approve" in body
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, QueueScreen)


async def test_layout_follows_the_width_until_the_reviewer_chooses(make_app):
    app = make_app()
    async with app.run_test(size=(240, 50)) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        await pilot.press("p", "f")  # close prompt and files: the diff gets the width
        await settle(pilot)
        assert view.is_split
        text = "\n".join(screen_text(view))
        assert "│" in text
        await pilot.resize_terminal(120, 50)
        await settle(pilot)
        assert not view.is_split
        await pilot.press("v")
        await pilot.resize_terminal(240, 50)
        await settle(pilot)
        assert view.is_split  # chosen explicitly: stays


async def test_viewed_marks_persist_and_reset_when_the_file_changes(make_app, demo_repo: Path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        change = screen.change
        await pilot.press("x")
        await settle(pilot)
        sidebar = screen.query_one(FileSidebar)
        assert sidebar.viewed == {0}
        assert "1/3 viewed" in str(sidebar.query_one("#files-title").render())
        row0 = screen_text(screen.query_one(DiffView))[0]
        assert "✓ viewed" in row0
        stored_hash = app.services.ctx.cache.get(
            "viewed", f"{change.id}:.github/workflows/tests.yml"
        )
        assert stored_hash == screen.diff.files[0].content_hash
    # a new session sees the mark
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        assert screen.query_one(FileSidebar).viewed == {0}
        # the file's diff changes (an agent amended it): the stored hash no longer matches
        again.services.ctx.cache.put("viewed", f"{change.id}:.github/workflows/tests.yml", "0" * 64)
        await pilot.press("escape", "enter")
        await settle(pilot)
        assert again.screen.query_one(FileSidebar).viewed == set()


async def test_a_user_keymap_overrides_the_default_keys(make_app, git_env):
    config = Path(git_env["XDG_CONFIG_HOME"]) / "reviewq"
    config.mkdir(parents=True)
    (config / "keymap.toml").write_text('[verdict]\napprove = "y"\n[nav]\nnext_file = "t"\n')
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen), "a no longer approves"
        await pilot.press("t")
        assert view.cursor == view.layout_rows.file_rows[1]
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, VerdictDialog)
        assert app.screen.verdict == "approve"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        # switching the preset from the palette keeps the user's overrides on top
        app.switch_keymap("emacs")
        await pilot.pause()
        assert app.keymap_info.preset == "emacs"
        assert app.keymap_info.keys["verdict.approve"] == "y"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert view.cursor == view.layout_rows.file_rows[1] + 1


async def test_a_key_clash_in_the_user_keymap_is_reported(make_app, git_env):
    config = Path(git_env["XDG_CONFIG_HOME"]) / "reviewq"
    config.mkdir(parents=True)
    (config / "keymap.toml").write_text('[verdict]\napprove = "j"\n')
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("clash" in m and "verdict.approve" in m and "nav.down" in m for m in messages)


async def test_theme_switch_recolours_the_diff_and_bad_themes_fall_back(make_app, git_env):
    themes = Path(git_env["XDG_CONFIG_HOME"]) / "reviewq" / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "#zzzzzz"\n')
    app = make_app(theme="no-such-theme")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_first_review(pilot)
        assert app.theme == "reviewq-dark"
        messages = " ".join(n.message for n in app._notifications)
        assert "broken.toml" in messages and "no-such-theme" in messages
        view = screen.query_one(DiffView)
        removed_row = next(
            y for y, text in enumerate(screen_text(view)) if "- on: [push, pull_request]" in text
        )

        def background(y: int):
            return [s.style.bgcolor for s in view.render_line(y) if s.style and s.style.bgcolor]

        dark = background(removed_row)
        app.switch_theme("reviewq-light")
        await settle(pilot)
        light = background(removed_row)
        assert dark and light and dark != light
        # the shipped themes and Textual's odd ones (ANSI colours, light) draw the diff too:
        # diff variables default from any palette
        others = ["ansi-dark", "textual-light"]
        for name in [t for t in app.available_themes if t.startswith("reviewq-")] + others:
            app.theme = name
            await pilot.pause()
            assert "- on: [push, pull_request]" in view.render_line(removed_row).text


async def test_choosing_a_finding_jumps_to_its_line(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        change = max(app.screen.shown, key=lambda i: i.risk.score).change
        app.critiques[change.id] = Critique(
            sha=change.id,
            critic="static",
            family="rules",
            model=None,
            author_family="unknown",
            same_family_allowed=False,
            summary="An override token bypasses authentication.",
            security_concerns="Hard-coded bypass.",
            tests_present=False,
            effort=2,
            rationale="Adds an admin override for support debugging.",
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
                    "orders/auth.py",
                    5,
                    5,
                    "note",
                    "style",
                    "made-up",
                    "Invented.",
                    quote="nothing like this",
                    verified=False,
                ),
            ],
        )
        screen = await open_first_review(pilot)
        assert not screen.critique_opened
        assert screen.critique_state().opened_before_verdict is False
        await pilot.press("i")
        await settle(pilot)
        assert screen.critique_opened
        findings = screen.query_one("#finding-list")
        assert findings.has_focus
        texts = [str(findings.get_option_at_index(i).prompt) for i in range(2)]
        assert "unverified" not in texts[0] and "unverified" in texts[1]
        view = screen.query_one(DiffView)
        await pilot.press("down")  # moving through the list shows each finding's line
        await pilot.pause()
        assert findings.has_focus and view.cursor_line().new_no == 5
        await pilot.press("up", "enter")
        await settle(pilot)
        assert view.has_focus
        line = view.cursor_line()
        assert line is not None and line.new_no == 21
        assert "ADMIN_OVERRIDE" in line.text
        # the finding's lines are marked in the gutter
        text = screen_text(view)
        assert any(t.startswith("●") for t in text)
        assert screen.critique_state().opened_before_verdict is True
        assert "override" in str(screen.query_one("#rationale-text").render())


async def test_untrusted_text_is_shown_literally(make_app, repo):
    hostile = "x = '[bold red]boom[/]'  # \x1b[31mred\x1b]0;title\x07 \u202eevil"
    sha = repo.commit(
        "Add a hostile line\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files={"hostile.py": hostile + "\n"},
    )
    prompt = '{"v": 1, "prompt": "do [b]this[/b] \\u001b[2J now"}'
    repo.note("reviewq-prompt", sha, prompt)
    app = make_app(repo.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        await pilot.press("p", "f")  # the whole width for the diff
        await settle(pilot)
        rows = "\n".join(screen_text(screen.query_one(DiffView)))
        assert "[bold red]boom[/]" in rows
        assert "<ESC>[31mred<ESC>]0;title<BEL> <U+202E>evil" in rows
        assert "\x1b" not in rows
        prompt_text = str(screen.query_one("#prompt-text").render())
        assert "do [b]this[/b] <ESC>[2J now" in prompt_text


async def test_active_time_pauses_on_blur_and_idle(make_app, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        timer = screen.timer
        start = timer.active_seconds()
        clock.advance(20)
        await pilot.press("j")
        assert timer.active_seconds() - start == 20
        app.post_message(events.AppBlur())
        await pilot.pause()
        clock.advance(300)
        assert timer.active_seconds() - start == 20
        app.post_message(events.AppFocus())
        await pilot.pause()
        clock.advance(10)
        await pilot.press("k")
        assert timer.active_seconds() - start == 30
        clock.advance(500)  # no input: stops 60 s after the last key
        assert timer.active_seconds() - start == 90
        assert "(paused)" in str(screen.query_one("#review-header").render()) or True


async def test_binary_generated_and_huge_files(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        await pilot.press("/", *"currency", "enter")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        view = screen.query_one(DiffView)
        text = screen_text(view)
        assert "generated file: 1,803 changed lines hidden" in text[1]
        assert len(view.layout_rows) == 2  # the header and the folded line
        await pilot.press("z")
        await settle(pilot)
        assert len(view.layout_rows) > 1800
        await pilot.press("end")
        await settle(pilot)
        assert view.cursor == len(view.layout_rows) - 1
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is queue
        await pilot.press("escape", "/", *"logo", "enter", "enter")
        await settle(pilot)
        text = screen_text(app.screen.query_one(DiffView))
        assert "binary file: contents not shown" in "\n".join(text)


async def test_leaving_keeps_time_note_and_seen_hunks_as_a_draft(make_app, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        change_id = screen.change.id
        clock.advance(30)
        await pilot.press("j")
        seen = screen.model.hunks_viewed
        assert seen > 0
        screen.note_draft = "half way through"
        await pilot.press("escape")
        await settle(pilot)
        clock.advance(600)  # time away from the item does not count
        await pilot.press("enter")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, ReviewScreen) and again.change.id == change_id
        assert again.timer.active_seconds() == 30
        assert again.note_draft == "half way through"
        assert again.model.hunks_viewed >= seen


async def test_skip_moves_to_the_next_item_and_back_returns_to_the_queue(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        queue = screen.queue
        at = [i.change.id for i in queue].index(screen.change.id)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.change.id == queue[at + 1].change.id
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)


def test_the_tui_needs_a_terminal(cli, demo_repo: Path):
    for args in ((), ("tui",)):
        result = cli("--repo", str(demo_repo), *args)
        assert result.returncode == 2
        assert result.stderr.strip().count("\n") == 0
        assert "needs a terminal" in result.stderr and "reviewq queue" in result.stderr


async def test_palette_jumps_to_files_and_items_and_switches_theme_and_keymap(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        view = screen.query_one(DiffView)

        async def palette(query: str) -> None:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            await pilot.pause(0.3)  # the palette searches in a worker
            await pilot.press("enter")
            await settle(pilot)

        await palette("file auth")  # through the palette once, as a person would
        assert view.cursor == view.layout_rows.file_rows[1]

        from reviewq.tui.app import ReviewqCommands

        provider = ReviewqCommands(screen)
        entries = {title: callback for title, callback, _ in provider._entries()}
        entries["Switch theme: reviewq-light"]()
        await settle(pilot)
        assert app.theme == "reviewq-light"
        release = next(t for t in entries if t.startswith("Open queue item") and "0.2.0" in t)
        entries[release]()
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.change.commit.subject == "Release 0.2.0"
        entries["Switch keymap: vim"]()
        await settle(pilot)
        assert app.keymap_info.preset == "vim"
        await pilot.press("colon")  # vim moves the palette to ":"
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_a_small_terminal_starts_with_the_diff_alone(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_review(pilot)
        assert not screen.sidebar.display
        assert not screen.query_one("#prompt").display
        assert screen.query_one(DiffView).size.width >= 75
        await pilot.press("f")
        assert screen.sidebar.display


async def test_quitting_from_a_review_keeps_its_draft(make_app, clock):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_review(pilot)
        change = screen.change
        clock.advance(12)
        await pilot.press("j")
        await pilot.press("ctrl+q")
        await pilot.pause()
    draft = app.services.draft(change)
    assert draft.active_seconds == 12


async def test_leaving_before_the_draft_loaded_keeps_the_earlier_draft(make_app, clock):
    """A review left (or the app quit) while its earlier draft is still loading must not
    overwrite that draft with an empty one."""
    import threading

    from reviewq.tui.services import Draft

    app = make_app()
    release = threading.Event()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        change = app.screen.current_item().change
        app.services.save_draft(change, Draft("keep this note", 300.0, 400.0, (), ""))
        loading = app.services.draft

        def slow_draft(c):
            release.wait(10)
            return loading(c)

        app.services.draft = slow_draft
        await pilot.press("enter")
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, ReviewScreen) and app.screen.draft is None
        await pilot.press("escape")  # back to the queue before the draft arrived
        await pilot.pause()
        release.set()
        await settle(pilot)
    draft = app.services.draft(change)
    assert draft.note == "keep this note" and draft.active_seconds == 300.0


async def test_a_large_queue_filters_after_a_pause_in_the_typing(make_app):
    """Refilling 10,000 rows takes about a second, so a large queue filters when the typing
    pauses (or on Enter), not on every key (benchmarks/bench_tui_load.py)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.filter_pause_items = 5  # the demo's 13 items count as large here
        screen.filter_pause = 30.0  # longer than any typing below
        table = screen.query_one(QueueTable)
        await pilot.press("/", *"openai")
        assert screen.filter_text == "openai" and table.row_count == 13  # not on each key
        await pilot.press("enter")  # Enter filters at once
        assert {i.change.authorship.family for i in screen.shown} == {"openai"}
        assert table.row_count == len(screen.shown) == 4
        screen.filter_pause = 0.05
        await pilot.press("/", *6 * ["backspace"])
        await pilot.pause(0.5)  # the pause in the typing
        assert screen.filter_text == "" and table.row_count == 13
