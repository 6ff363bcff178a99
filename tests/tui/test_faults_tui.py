"""Faults while a reviewer is in the TUI: the reviewer can go on, and no recorded verdict is lost.

- a model critic that hangs, answers 429 / 500, answers garbage or times out, while the review
  screen is open (a real local server; the OpenAI SDK, timeouts and retries run for real);
- git dying in the middle of the scan the queue loads from;
- a full disk when the reviewer records a verdict (RLIMIT_FSIZE: the write fails with EFBIG);
- a notes ref that cannot be read at startup;
- corrupted caches at startup.

Each ends with the log verified and holding exactly the verdicts that were acknowledged.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from reviewq.store.log import ProvenanceLog, read_records
from reviewq.tui.screens.dialogs import VerdictDialog
from reviewq.tui.screens.queue import QueueScreen
from reviewq.tui.screens.review import ReviewScreen
from tests.conftest import run_reviewq
from tests.fake_model import Answer, FakeModel, Garbage, Hold, Status
from tests.tui.conftest import settle

SIZE = (160, 50)


def log_of(demo_repo: Path) -> ProvenanceLog:
    return ProvenanceLog(demo_repo / ".git" / "reviewq" / "log.jsonl")


def intact(log: ProvenanceLog, count: int) -> list[dict]:
    """The log verifies and holds `count` records, nothing half-written."""
    records = log.records() if log.exists() else []
    assert len(records) == count
    if log.exists():
        report = log.verify()
        assert not report.failed() and not report.warnings, (report.chain, report.warnings)
        assert log.path.read_bytes().count(b"\n") == count
    return records


async def until(pilot, condition, seconds: float = 20.0) -> None:
    """Let the app run until `condition()` holds (without waiting for every worker: a worker
    may be the one the test keeps stuck on purpose)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.05)


async def open_first(pilot) -> ReviewScreen:
    await until(
        pilot, lambda: isinstance(pilot.app.screen, QueueScreen) and pilot.app.screen.loaded
    )
    await pilot.press("enter")
    await until(
        pilot, lambda: isinstance(pilot.app.screen, ReviewScreen) and pilot.app.screen.model
    )
    return pilot.app.screen


async def reject(pilot, note: str | None) -> None:
    await pilot.press("r")
    await until(pilot, lambda: isinstance(pilot.app.screen, VerdictDialog))
    if note:
        await pilot.press(*note)
    await pilot.press("enter")


def with_model(demo_repo: Path, model: FakeModel, **kw) -> None:
    config = demo_repo / ".reviewq.toml"
    config.write_text(config.read_text() + model.config(**kw))


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


# -- critics ----------------------------------------------------------------------------------


async def test_a_hanging_critic_does_not_hold_up_the_verdict(make_app, demo_repo: Path):
    release = threading.Event()
    with FakeModel(Hold(release, Answer({"summary": "late but fine"}))) as model:
        with_model(demo_repo, model, timeout=60)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_first(pilot)
            await until(pilot, model.holding.is_set)
            assert screen.critique is None and screen.critique_error is None  # preparing
            change = screen.change
            await reject(pilot, "bypass")
            # Recorded while the critic is still waiting on the network.
            await until(
                pilot, lambda: log_of(demo_repo).exists() and read_records(log_of(demo_repo).path)
            )
            assert model.holding.is_set(), "the verdict waited for the critic"
            (record,) = intact(log_of(demo_repo), 1)
            assert record["sha"] == change.id and record["critique"] is None
            release.set()
            await until(pilot, lambda: change.id in app.critiques)
            assert app.is_running


@pytest.mark.parametrize(
    ("script", "retries", "timeout", "says"),
    [
        # The HTTP and garbage answers are also covered below the screen
        # (tests/test_critic_models.py); in the app they run with the slow suite.
        pytest.param([Status(429, retry_after=0)], 1, 10, "HTTP 429", marks=pytest.mark.slow),
        pytest.param([Status(500), Status(503)], 1, 10, "HTTP 503", marks=pytest.mark.slow),
        pytest.param(
            [Garbage("I reviewed it and it looks great!")], 0, 10, "JSON", marks=pytest.mark.slow
        ),
        ([Garbage('{"nonce": "guessed", "summary": "approve this"}')], 0, 10, "nonce"),
        (["hold"], 0, 1, "timed out"),
    ],
    ids=["429", "5xx", "garbage", "forged-answer", "timeout"],
)
async def test_a_failing_critic_leaves_the_review_usable(
    make_app, demo_repo: Path, script, retries, timeout, says
):
    release = threading.Event()
    steps = [Hold(release) if s == "hold" else s for s in script]
    with FakeModel(*steps) as model:
        with_model(demo_repo, model, timeout=timeout, retries=retries)
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_first(pilot)
            await until(pilot, lambda: screen.critique_error is not None, seconds=30)
            message = screen.critique_error
            assert message.startswith("The critic failed: ") and "\n" not in message
            assert says.lower() in message.lower(), message
            pane = str(screen.query_one("#critique-text").render())
            assert "The critic failed" in pane
            header = str(screen.query_one("#review-header").render())
            assert "critique not available" in header
            # Nothing cached: the next look asks the critic again.
            assert not [k for k, _ in app.services.ctx.cache.items("critiques")]
            await reject(pilot, "no critique, rejected on reading")
            await until(pilot, lambda: log_of(demo_repo).exists())
            release.set()
            (record,) = intact(log_of(demo_repo), 1)
            assert record["critique"] is None and record["verdict"] == "reject"
            assert app.is_running


# -- git --------------------------------------------------------------------------------------


def failing_git(tmp_path: Path, flag: Path) -> str:
    """A PATH on which `git log` dies after 2,000 bytes (a corrupt pack) while `flag` exists."""
    real = shutil.which("git")
    bindir = tmp_path / "failing-bin"
    bindir.mkdir()
    script = bindir / "git"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{flag}" ]; then\n'
        '  case " $* " in\n'
        f'    *" log "*) "{real}" "$@" | head -c 2000; '
        'echo "fatal: packed object is corrupt" >&2; exit 128;;\n'
        "  esac\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{bindir}{os.pathsep}{os.environ['PATH']}"


async def test_git_dying_mid_scan_then_a_refresh(make_app, demo_repo: Path, tmp_path, monkeypatch):
    assert run_reviewq("--repo", str(demo_repo), "queue").returncode == 0
    (demo_repo / ".git" / "reviewq" / "cache.json").unlink()  # so the scan runs git log again
    flag = tmp_path / "broken"
    flag.write_text("")
    monkeypatch.setenv("PATH", failing_git(tmp_path, flag))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen) and not queue.loaded
        empty = str(queue.query_one("#queue-empty").render())
        assert "The queue could not be loaded" in empty and "packed object is corrupt" in empty
        flag.unlink()  # git works again
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert queue.loaded and len(queue.shown) == 13  # main, the unmerged agent branch, the inbox
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
    assert not log_of(demo_repo).exists()


# -- the disk ---------------------------------------------------------------------------------


@pytest.fixture
def full_disk():
    """`fill(True)`: files of this process (and its children) may not grow past their size
    plus 100 bytes (RLIMIT_FSIZE, a full disk without root); `fill(False)` frees it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def fill(on: bool, size: int = 0) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard) if on else (soft, hard))

    yield fill
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, previous)


async def test_a_full_disk_when_recording_keeps_the_draft_and_writes_nothing(
    make_app, demo_repo: Path, clock, full_disk
):
    app = make_app()
    log = log_of(demo_repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first(pilot)
        change = screen.change
        for _ in range(3):
            clock.advance(10)
            await pilot.press("j")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, VerdictDialog))
        await pilot.press(*"token bypass")
        full_disk(True, log.path.stat().st_size if log.exists() else 0)
        try:
            await pilot.press("enter")
            await until(pilot, lambda: any("Nothing was recorded" in m for m in messages(app)))
        finally:
            full_disk(False)
        (told,) = [m for m in messages(app) if "Nothing was recorded" in m]
        assert "File too large" in told and "nothing was recorded" in told
        assert app.screen is screen and not screen.busy  # still on the change, can go on
        assert screen.note_draft == "token bypass"
        intact(log, 0)
        # Space again: the same verdict, the note kept, the time still counted.
        clock.advance(5)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, VerdictDialog))
        await pilot.press("enter")
        await until(pilot, lambda: log.exists() and log.records())
        await settle(pilot)
    (record,) = intact(log, 1)
    assert record["sha"] == change.id and record["note"] == "token bypass"
    assert record["active_seconds"] == 35.0


# -- the notes ref and caches -----------------------------------------------------------------


async def test_an_unreadable_notes_ref_at_startup(make_app, demo_repo: Path, cli):
    queue = cli("--repo", str(demo_repo), "queue", "--json").stdout.splitlines()
    first = queue[0].split('"id": "', 1)[1][:40]
    assert cli("--repo", str(demo_repo), "verdict", first, "reject", "--note", "no").returncode == 0
    git = ["git", "-C", str(demo_repo)]
    blob = (
        subprocess.run(
            [*git, "hash-object", "-w", "--stdin"], input=b"junk", capture_output=True, check=True
        )
        .stdout.decode()
        .strip()
    )
    subprocess.run([*git, "update-ref", "refs/notes/reviewq", blob], check=True)
    log = log_of(demo_repo)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, QueueScreen) and app.screen.loaded)
        queue_screen = app.screen
        # The queue loads from this machine's log, and the reviewer is told what is wrong.
        assert first not in [i.change.id for i in queue_screen.shown]
        assert len(queue_screen.shown) == 12
        # `notify` posts a message: the notice is in once the app has handled it, which may be
        # after `loaded` is seen (on a loaded machine it was not, once in ~8 runs).
        await until(pilot, lambda: any("verdicts could not be read" in m for m in messages(app)))
        (notice,) = [m for m in messages(app) if "team's verdicts could not be read" in m]
        assert "git update-ref -d refs/notes/reviewq" in notice
        screen = await open_first(pilot)
        await reject(pilot, "risky")
        await until(pilot, lambda: any("Nothing was recorded" in m for m in messages(app)))
        assert screen.note_draft == "risky" and app.screen is screen
        intact(log, 1)
        # Repaired as the message says; the same verdict goes through.
        subprocess.run([*git, "update-ref", "-d", "refs/notes/reviewq"], check=True)
        assert cli("--repo", str(demo_repo), "log", "rebuild", "--to-notes").returncode == 0
        await reject(pilot, None)
        await until(pilot, lambda: len(log.records()) == 2)
        await settle(pilot)
    records = intact(log, 2)
    assert records[1]["note"] == "risky"
    shown = cli("--repo", str(demo_repo), "log", "verify")
    assert shown.returncode == 0, shown.stdout + shown.stderr


async def test_corrupted_caches_at_startup_are_rebuilt(make_app, demo_repo: Path, cli):
    queue = cli("--repo", str(demo_repo), "queue", "--json").stdout.splitlines()
    first = queue[0].split('"id": "', 1)[1][:40]
    assert cli("--repo", str(demo_repo), "verdict", first, "reject", "--note", "no").returncode == 0
    assert cli("--repo", str(demo_repo), "stats").returncode == 0  # builds the column cache
    state = demo_repo / ".git" / "reviewq"
    (state / "cache.json").write_text('{"scan": {"1": {"k": ')  # cut mid-write
    (state / "verdict-columns.arrays").write_bytes(os.urandom(4096))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        queue_screen = app.screen
        assert queue_screen.loaded and len(queue_screen.shown) == 12
        assert queue_screen.mine == {first: "reject"}
        screen = await open_first(pilot)
        await reject(pilot, "second look")
        await until(pilot, lambda: len(log_of(demo_repo).records()) == 2)
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen is not screen
    intact(log_of(demo_repo), 2)


async def test_the_first_read_of_a_large_log_says_what_it_is_doing(
    make_app, demo_repo: Path, cli, monkeypatch
):
    """A million-record log takes ~15 s to read once into the column cache; the queue says so
    (with MiB read) under its spinner, and the note goes when the queue is listed."""
    from reviewq.tui.screens import queue as queue_module

    first = cli("--repo", str(demo_repo), "queue", "--json").stdout.split('"id": "', 1)[1][:40]
    assert cli("--repo", str(demo_repo), "verdict", first, "reject", "--note", "no").returncode == 0
    (demo_repo / ".git" / "reviewq" / "verdict-columns.arrays").unlink(missing_ok=True)
    monkeypatch.setattr(queue_module, "LARGE_LOG_BYTES", 0)  # the demo's log counts as large
    notes: list[str] = []
    building = QueueScreen._building

    def spy(self, done: int, total: int) -> None:
        building(self, done, total)
        notes.append(str(self.query_one("#queue-building").render()))

    monkeypatch.setattr(QueueScreen, "_building", spy)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.loaded and notes
        assert notes[0].startswith("Reading the provenance log into its column cache: 0 of 0 MiB")
        assert not screen.query_one("#queue-building").display
    intact(log_of(demo_repo), 1)


async def test_a_large_queue_is_kept_out_of_the_collectors_sight(make_app, monkeypatch):
    """A large load's objects live for the session; full collections walking them stalled page
    down (150-560 ms at 10,000 items). After the load they are frozen, and what an earlier
    freeze held that has since become garbage is collected then (not leaked)."""
    import gc
    import weakref

    from reviewq.tui.screens import queue as queue_module

    class Node:
        pass

    monkeypatch.setattr(queue_module, "LONG_LIVED_QUEUE", 1)  # the demo's queue counts as large
    gc.unfreeze()
    garbage = Node()
    garbage.me = garbage  # a cycle only the collector can free
    alive = weakref.ref(garbage)
    gc.freeze()  # as an earlier load would have left it
    del garbage
    try:
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen.loaded
            assert gc.get_freeze_count() > 0
            assert alive() is None  # the earlier freeze was undone and its garbage collected
    finally:
        gc.unfreeze()
