"""The rationale and the static critique in a worker process (`reviewq.tui.worker_process`):
the same answers as in the TUI's own process, a process that dies or runs too long shown as a
reason (never a hang), and no process left once its screen or the app is closed."""

from __future__ import annotations

import os
import pickle
import time
from datetime import UTC, datetime

import pytest

from reviewq.context import Context
from reviewq.core import pace
from reviewq.tui.services import Services
from reviewq.tui.widgets.panes import RationalePane
from reviewq.tui.worker_process import (
    CANCELLED,
    WorkerCancelled,
    WorkerFailed,
    WorkerProcesses,
)
from reviewq.workflow import critiquing
from tests.conftest import Repo
from tests.tui.conftest import settle
from tests.tui.test_pilot import open_first_review

SIZE = (160, 50)
FIXED = datetime(2026, 1, 1, tzinfo=UTC)


# Jobs for the worker process: module-level, so the child finds them by name.


def _die(code: int) -> None:
    os._exit(code)


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _boom() -> None:
    raise ValueError("the job's own error")


def _die_as_rationale(subject) -> None:
    os._exit(7)


def _die_as_static(binary, subject) -> None:
    os._exit(7)


def _slow_rationale(subject) -> None:
    time.sleep(120)


def _alive(pid: int) -> bool:
    """Running (not reaped, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _python_change(repo: Repo, files: int = 3, lines: int = 400) -> None:
    """A person's base, then an AI change to several Python modules (functions and classes
    added, removed and changed), large enough that its rows and files are not trivial."""
    base = {
        f"svc/mod{f}.py": "\n".join(
            [f"import os\n\n\nclass Handler{f}:\n    def run(self):\n        return {f}\n"]
            + [f"def old_{f}_{n}(x):\n    return x + {n}\n" for n in range(lines // 3)]
        )
        for f in range(files)
    }
    repo.commit("base", files=base)
    change = {
        path: text.replace("return x + 1", "return eval(x)")
        .replace(f"class Handler{f}:", f"class Handler{f}(Base):\n    retries = 3")
        .replace(f"def old_{f}_5(", f"def new_{f}_5(")
        + "\n\ndef added(payload):\n    password = 'hunter2-secret-value'\n    return payload\n"
        for f, (path, text) in enumerate(base.items())
    }
    change["tests/test_mod0.py"] = "def test_run():\n    assert True\n"
    repo.commit(
        "Rework the handlers\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n",
        files=change,
    )


def _changes(ctx: Context):
    services = Services(ctx, now=lambda: FIXED)
    items = services.load_queue()
    assert items, "the fixture has AI changes pending"
    return [item.change for item in items]


def _both_ways(ctx: Context, change, pool: WorkerProcesses, monkeypatch):
    """(in-process, worker-process) rationale JSON and static critique JSON of `change`."""
    subject = critiquing.critique_input(ctx, change)
    here = critiquing.rationale_for(ctx, change, subject=subject)
    critic = critiquing.make_critic(ctx, "static")
    here_critique = critiquing._review(critic, subject)
    monkeypatch.setattr(pace, "OFFLOAD_MIN_CHARS", 0)
    calls: list[str] = []

    def hook(fn, *args):
        calls.append(fn.__name__)
        return pool.run(fn, *args)

    token = pace.OFFLOAD.set(hook)
    try:
        there = critiquing.rationale_for(ctx, change, subject=subject)
        there_critique = critiquing._review(critic, subject)
    finally:
        pace.OFFLOAD.reset(token)
    assert calls == ["rationale_job", "static_review_job"]
    return (here, there), (here_critique, there_critique)


@pytest.mark.parametrize("fixture", ["demo", "python"])
def test_the_worker_gives_the_same_rationale_and_findings(fixture, demo_repo, repo, monkeypatch):
    if fixture == "python":
        _python_change(repo)
        path = repo.path
    else:
        path = demo_repo
    ctx = Context.open(path)
    pool = WorkerProcesses()
    try:
        for change in _changes(ctx):
            (here, there), (c_here, c_there) = _both_ways(ctx, change, pool, monkeypatch)
            assert there.to_text() == here.to_text()
            assert there.to_json() == here.to_json()
            assert c_there.to_json() == c_here.to_json()
            if fixture == "python":
                assert any(f.symbols for f in here.files)
                assert c_here.findings
    finally:
        pool.close()
        ctx.close()


def test_a_lazy_hunk_travels_as_its_text(repo):
    """Sending a diff to the worker builds no rows in this process; the copy is equal."""
    _python_change(repo, files=1)
    ctx = Context.open(repo.path)
    try:
        change = _changes(ctx)[0]
        diff = critiquing.diff_of(ctx, change)
        hunks = [h for fd in diff.files for h in fd.hunks]
        assert hunks and not any(h.built for h in hunks)
        copy = pickle.loads(pickle.dumps(diff))
        assert not any(h.built for h in hunks)
        assert copy == diff
        assert all(h.built for fd in diff.files for h in fd.hunks)  # `==` read the rows
        again = pickle.loads(pickle.dumps(diff))  # built hunks travel as rows
        assert again == diff
    finally:
        ctx.close()


def test_a_job_that_dies_raises_with_the_exit_code_and_the_next_job_runs():
    pool = WorkerProcesses()
    try:
        with pytest.raises(WorkerFailed, match="exit code 3"):
            pool.run(_die, 3)
        assert pool.pids() == []
        assert pool.run(_sleep, 0) == 0  # a fresh process
    finally:
        pool.close()


def test_a_job_over_its_time_limit_is_ended():
    pool = WorkerProcesses(timeout=0.5)
    try:
        pool.prestart()
        (pid,) = pool.pids()
        with pytest.raises(WorkerFailed, match=r"longer than 0\.5 s"):
            pool.run(_sleep, 60)
        assert not _alive(pid)
        assert pool.pids() == []
    finally:
        pool.close()


def test_the_jobs_own_error_comes_back_as_itself():
    pool = WorkerProcesses()
    try:
        with pytest.raises(ValueError, match="the job's own error"):
            pool.run(_boom)
        assert len(pool.pids()) == 1  # the process is fine: kept for the next job
    finally:
        pool.close()


def test_a_cancelled_job_ends_its_process():
    pool = WorkerProcesses()
    wanted = [True]
    token = CANCELLED.set(lambda: not wanted[0])
    try:
        pool.prestart()
        (pid,) = pool.pids()
        started = time.monotonic()
        wanted[0] = False
        with pytest.raises(WorkerCancelled):
            pool.run(_sleep, 60)
        assert time.monotonic() - started < 30
        assert not _alive(pid)
    finally:
        CANCELLED.reset(token)
        pool.close()


def test_close_ends_idle_processes_and_refuses_later_jobs():
    pool = WorkerProcesses()
    pool.prestart()
    (pid,) = pool.pids()
    pool.close()
    assert not _alive(pid)
    with pytest.raises(WorkerCancelled):
        pool.run(_sleep, 0)


# -- on the review screen ----------------------------------------------------------------------


async def test_a_dead_worker_shows_the_rationale_unavailable_with_why(make_app, monkeypatch):
    monkeypatch.setattr(pace, "OFFLOAD_MIN_CHARS", 0)
    monkeypatch.setattr(critiquing, "rationale_job", _die_as_rationale)
    monkeypatch.setattr(critiquing, "static_review_job", _die_as_static)
    app = make_app()
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_first_review(pilot)
            pane = screen.query_one(RationalePane)
            for _ in range(100):
                await settle(pilot)
                title = str(pane.query_one(".pane-title").render())
                text = title + "\n" + str(pane.query_one("#rationale-text").render())
                if "not available" in text and screen.critique_error:
                    break
            assert screen.rationale_text is None
            assert "Rationale: not available" in text
            assert "worker process stopped (exit code 7)" in text
            assert "worker process stopped (exit code 7)" in screen.critique_error
            await pilot.press("j")  # the screen still answers keys
    finally:
        app.services.close()
    assert app.services.worker_pids() == []


async def test_closing_the_screen_ends_the_rationales_process(make_app, monkeypatch):
    monkeypatch.setattr(pace, "OFFLOAD_MIN_CHARS", 0)
    monkeypatch.setattr(critiquing, "rationale_job", _slow_rationale)
    monkeypatch.setattr(critiquing, "_review", lambda critic, subject: critic.review(subject))
    app = make_app()
    services = app.services
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            busy: list[int] = []
            for _ in range(400):  # until the rationale's job runs in a process
                await pilot.pause(0.05)
                pool = services._pool
                if pool is not None and pool._busy:
                    busy = [w.pid for w in pool._busy]
                    if any(_alive(p) for p in busy):
                        break
            assert busy, "the rationale did not start in a worker process"
            await pilot.press("escape")
            for _ in range(200):
                await pilot.pause(0.05)
                if not any(_alive(p) for p in busy):
                    break
            assert not any(_alive(p) for p in busy), "the closed screen's job runs on"
    finally:
        services.close()
    assert services.worker_pids() == []
