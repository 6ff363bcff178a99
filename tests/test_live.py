"""Live refresh: a cheap `changed()`, an incremental `refresh()`, and a Pilot-driven poller."""

from __future__ import annotations

import asyncio
import os
import time

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from reviewq.context import Context
from reviewq.core.queue import build_queue
from reviewq.tui.live import LiveRefresh
from reviewq.workflow.queue import QueueSource
from reviewq.workflow.scan import scan_inbox, scan_scope
from tests.conftest import FIXED_NOW

CLAUDE = ("Claude", "noreply@anthropic.com")


def ai(subject: str) -> str:
    return f"{subject}\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


class Spy:
    """The real queue (scope scan + inbox), recording how many commits each load read."""

    def __init__(self) -> None:
        self.reads: list[int] = []

    def __call__(self, ctx, now, snapshot=None):
        result = scan_scope(ctx, now=now, snapshot=snapshot)
        self.reads.append(result.commits_read)
        return build_queue([*result.changes, *scan_inbox(ctx)], now=now)


def make_agent_repo(repo):
    repo.commit("base")
    for i in range(20):
        repo.commit(f"history {i}")
    repo.commit(ai("AI on main"), author=CLAUDE)
    repo.git("checkout", "-q", "-b", "claude/feature")
    repo.commit(ai("Feature step 1"), author=CLAUDE)
    repo.git("checkout", "-q", "main")
    repo.write(".reviewq.toml", 'inbox = "inbox"\n[scope]\nmain_since = "2099-01-01"\n')
    (repo.path / "inbox").mkdir()
    return repo


def subjects(update_or_items) -> set[str]:
    items = getattr(update_or_items, "items", update_or_items)
    return {i.change.commit.subject for i in items}


def test_changed_is_false_until_something_moves_and_refresh_is_incremental(repo):
    make_agent_repo(repo)
    repo.write(".reviewq.toml", 'inbox = "inbox"\n')  # all of main counts: the whole history
    spy = Spy()
    source = QueueSource(Context.open(repo.path), now=lambda: FIXED_NOW, load=spy)
    first = source.poll()
    assert first is not None and subjects(first.added) == {"AI on main", "Feature step 1"}
    assert spy.reads == [int(repo.git("rev-list", "--count", "--all"))]
    assert source.poll() is None and not source.changed()
    assert len(spy.reads) == 1  # unchanged: no queue computed at all

    # A new commit lands on the agent branch: one commit read, one item added.
    repo.git("checkout", "-q", "claude/feature")
    repo.commit(ai("Feature step 2"), author=CLAUDE)
    update = source.poll()
    assert update is not None and subjects(update.added) == {"Feature step 2"}
    assert update.removed == [] and spy.reads[-1] == 1

    # A pull-request ref for the branch: nothing new to read, the items moved.
    repo.git("update-ref", "refs/pull/3/head", "claude/feature")
    update = source.poll()
    assert update is not None and update.added == [] and spy.reads[-1] == 0
    assert subjects(update.moved) == {"Feature step 1", "Feature step 2"}
    assert all("pull/3/head" in i.change.refs for i in update.moved)

    # Merged: the merge commit is the one commit read; the items are now on main.
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "claude/feature")
    update = source.poll()
    assert update is not None and spy.reads[-1] == 3  # main ^old-main: merge + 2 branch commits
    assert subjects(update.moved) == {"Feature step 1", "Feature step 2"}
    assert all(i.change.merged and i.change.location == "main" for i in update.moved)


def test_merged_and_abandoned_work_leaves_with_a_main_window(repo):
    make_agent_repo(repo)
    source = QueueSource(Context.open(repo.path), now=lambda: FIXED_NOW)
    assert subjects(source.poll()) == {"Feature step 1"}
    repo.git("branch", "other", "claude/feature")
    repo.git("checkout", "-q", "other")
    repo.commit(ai("Other work"), author=CLAUDE)
    repo.git("checkout", "-q", "main")
    assert subjects(source.poll().added) == {"Other work"}
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "claude/feature")
    update = source.poll()
    assert subjects(update.removed) == {"Feature step 1"}
    repo.git("branch", "-D", "other")
    update = source.poll()
    assert subjects(update.removed) == {"Other work"} and update.items == []


def test_inbox_log_and_notes_changes_are_noticed(repo):
    make_agent_repo(repo)
    ctx = Context.open(repo.path)
    source = QueueSource(ctx, now=lambda: FIXED_NOW)
    assert source.poll() is not None
    repo.write("inbox/fix.patch", "--- a/x.txt\n+++ b/x.txt\n@@ -0,0 +1 @@\n+hello\n")
    update = source.poll()
    assert update is not None and [i.change.location for i in update.added] == ["inbox/fix.patch"]
    os.unlink(repo.path / "inbox/fix.patch")
    update = source.poll()
    assert update is not None and [i.change.location for i in update.removed] == ["inbox/fix.patch"]
    ctx.log_path.parent.mkdir(parents=True, exist_ok=True)
    ctx.log_path.write_text("{}\n")  # a verdict was recorded (by this or another process)
    assert source.changed()
    source.refresh()
    sha = repo.git("rev-parse", "claude/feature")
    repo.note("refs/notes/reviewq", sha, '{"verdict": "approve"}')
    assert source.changed()


class QueueApp(App):
    """The smallest front end a queue screen is: a table kept current by `LiveRefresh`."""

    def __init__(self, source: QueueSource) -> None:
        super().__init__()
        self.source = source
        self.errors: list[Exception] = []

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("change", "where", "subject")
        self.live = LiveRefresh(
            self, self.source.poll, self.show, interval=0.05, on_error=self.errors.append
        )
        self.live.start()

    def show(self, update) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for item in update.items:
            c = item.change
            table.add_row(c.id[:10], c.location, c.commit.subject, key=c.id)


async def wait_until(pilot, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the queue to update"
        await pilot.pause(0.05)


def table_subjects(app) -> set[str]:
    table = app.query_one(DataTable)
    return {str(table.get_row_at(i)[2]) for i in range(table.row_count)}


async def test_new_agent_commit_appears_while_the_app_runs(repo):
    make_agent_repo(repo)
    source = QueueSource(Context.open(repo.path), now=lambda: FIXED_NOW)
    app = QueueApp(source)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: table_subjects(app) == {"Feature step 1"})
        polls_before = app.live.polls
        refreshes_before = app.live.refreshes
        await wait_until(pilot, lambda: app.live.polls >= polls_before + 3)
        assert app.live.refreshes == refreshes_before  # nothing moved: nothing recomputed

        # An agent pushes a new commit to its branch while the reviewer has the app open.
        def agent_commits() -> None:
            repo.git("checkout", "-q", "claude/feature")
            repo.commit(ai("Feature step 2"), author=CLAUDE)
            repo.git("checkout", "-q", "main")

        await asyncio.get_running_loop().run_in_executor(None, agent_commits)
        await wait_until(pilot, lambda: "Feature step 2" in table_subjects(app))
        table = app.query_one(DataTable)
        sha = repo.git("rev-parse", "claude/feature")
        assert table.get_row(sha)[1] == "claude/feature"

        # The branch is deleted (abandoned): its items leave without a restart.
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: repo.git("branch", "-D", "claude/feature")
        )
        await wait_until(pilot, lambda: table_subjects(app) == set())
        assert app.errors == []


def test_a_broken_inbox_patch_is_reported_once_then_recovers(repo):
    make_agent_repo(repo)
    source = QueueSource(Context.open(repo.path), now=lambda: FIXED_NOW)
    source.poll()
    repo.write("inbox/bad.patch", "this is not a diff\n")
    try:
        source.poll()
    except Exception as exc:  # the one-line error the TUI shows
        assert "bad.patch" in str(exc)
    else:
        raise AssertionError("a broken patch must be reported")
    assert source.poll() is None  # not re-raised on every poll
    os.unlink(repo.path / "inbox/bad.patch")
    update = source.poll()
    assert update is not None and subjects(update.items) == {"Feature step 1"}
