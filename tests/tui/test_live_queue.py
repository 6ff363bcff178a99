"""Live refresh in the real app: agent work that lands while the queue is open appears in it."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.widgets.lists import QueueTable
from tests.conftest import run_reviewq
from tests.tui.conftest import settle

SIZE = (160, 50)
CLAUDE_TRAILER = "\n\nCo-Authored-By: Claude Sonnet 4.5 <noreply@anthropic.com>\n"


def git(path: Path, *args: str, env: dict | None = None) -> str:
    import os

    proc = subprocess.run(
        ["git", *args],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout.strip()


def agent_commit(worktree: Path, subject: str) -> str:
    """An agent commits on its branch in its own worktree, as Claude Code does."""
    (worktree / "orders" / "jitter.py").write_text("JITTER = 0.1\n")
    git(worktree, "add", "-A")
    who = {"GIT_AUTHOR_NAME": "Claude", "GIT_AUTHOR_EMAIL": "noreply@anthropic.com"}
    git(worktree, "commit", "-q", "-m", subject + CLAUDE_TRAILER, env=who)
    return git(worktree, "rev-parse", "HEAD")


async def wait_for(pilot, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the queue did not update in time"
        await pilot.pause(0.05)


def row_ids(screen: QueueScreen) -> list[str]:
    return [i.change.id for i in screen.shown]


async def test_new_commit_on_an_agent_branch_appears_while_the_app_runs(
    make_app, demo_repo: Path, tmp_path: Path
):
    worktree = tmp_path / "agent"
    git(demo_repo, "worktree", "add", "-q", str(worktree), "claude/export-retry")
    app = make_app(live_interval=0.1)
    notices: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        before = len(screen.items)
        original = app.notify

        def notify(message, *args, **kwargs):
            notices.append(f"{kwargs.get('title', '')}: {message}")
            return original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

        loop = asyncio.get_running_loop()
        sha = await loop.run_in_executor(None, agent_commit, worktree, "Add jitter to retries")
        await wait_for(pilot, lambda: sha in row_ids(screen))
        table = screen.query_one(QueueTable)
        # One row per unit (issue 16): the branch's row now ends at the new commit.
        assert table.row_count == before == len(screen.items)
        item = next(i for i in screen.items if i.change.id == sha)
        assert item.change.location == "claude/export-retry" and item.change.merged is False
        assert item.unit.commits[-1] == sha and len(item.unit.commits) == 2
        assert any(n.startswith("1 new in the queue: Add jitter to retries") for n in notices)

        # A verdict recorded from the command line (another terminal) settles it: it leaves.
        proc = await loop.run_in_executor(
            None,
            lambda: run_reviewq("verdict", sha, "approve", "--seconds", "60", cwd=demo_repo),
        )
        assert proc.returncode == 0, proc.stderr
        await wait_for(pilot, lambda: sha not in row_ids(screen))
        assert len(screen.items) == before
        assert screen.mine.get(sha) == "approve"  # read from the log; no restart

        # The branch is deleted (abandoned): its remaining item leaves too.
        await loop.run_in_executor(
            None, lambda: git(demo_repo, "worktree", "remove", str(worktree))
        )
        await loop.run_in_executor(
            None, lambda: git(demo_repo, "branch", "-D", "claude/export-retry")
        )
        await wait_for(pilot, lambda: len(screen.items) == before - 1)
        assert not any(i.change.location == "claude/export-retry" for i in screen.items)
        assert any("left the queue" in n for n in notices)


async def test_nothing_moved_means_nothing_recomputed(make_app):
    app = make_app(live_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        live = screen.live
        assert live is not None
        start = live.polls
        await wait_for(pilot, lambda: live.polls >= start + 5)
        assert live.refreshes == 0


async def test_live_refresh_is_off_when_asked(make_app):
    app = make_app(live_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.live is None


async def test_apply_an_inbox_patch_from_the_review_screen(make_app, demo_repo: Path):
    from reviewq.tui.screens.dialogs import ApplyDialog
    from reviewq.tui.screens.review import ReviewScreen

    app = make_app(live_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        inbox = next(i for i in queue.items if i.change.source == "inbox")
        app.open_review(inbox, queue.shown)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ApplyDialog)
        assert dialog.query_one("#branch").value == "codex/add-order-cancellation"
        await pilot.press("enter")
        await wait_for(pilot, lambda: inbox.change.id not in [i.change.id for i in queue.items])
        applied = [i for i in queue.items if i.change.location == "codex/add-order-cancellation"]
        assert len(applied) == 1 and applied[0].change.authorship.agent == "codex"
        assert git(demo_repo, "symbolic-ref", "HEAD") == "refs/heads/main"  # checkout untouched
        assert git(demo_repo, "status", "--porcelain", "--untracked-files=no") == ""


async def test_apply_refuses_a_commit_and_reports_a_patch_that_does_not_apply(
    make_app, demo_repo: Path
):
    from reviewq.tui.screens.review import ReviewScreen

    (demo_repo / "orders/repository.py").write_text("class OrderStore:\n    pass\n")
    git(demo_repo, "commit", "-qam", "Rewrite the store")
    app = make_app()
    notices: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        original = app.notify

        def notify(message, *args, **kwargs):
            notices.append(f"{kwargs.get('title', '')}: {message}")
            return original(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        queue = app.screen
        commit = next(i for i in queue.items if i.change.source == "git")
        app.open_review(commit, queue.shown)
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)  # no dialog for a commit
        assert any("Only inbox patches are applied" in n for n in notices)
        inbox = next(i for i in queue.items if i.change.source == "inbox")
        app.open_review(inbox, queue.shown)
        await settle(pilot)
        await pilot.press("A")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(n.startswith("Not applied:") for n in notices))
        assert any("does not apply" in n for n in notices)
        assert "codex/add-order-cancellation" not in git(demo_repo, "branch", "--list")
