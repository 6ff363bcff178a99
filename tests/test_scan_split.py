"""The cold scan's detection split between two processes (`reviewq.forked.in_two`).

Once the prefetched `git log` has ended, the records still to detect are split: the second part
is worked out in a forked child and its answer comes back pickled. The scan must give exactly
the plain answer (no prefetch, no split) whatever happens: a child that fails, is killed or
answers nothing usable has its part worked out again here; with another thread running no
child is forked at all. Each scan test counts the forks, so none passes with the split silently
never taken.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq import forked
from reviewq.workflow import scan, scan_fast
from tests.conftest import Repo, run_reviewq
from tests.test_detect_record import LINES, PEOPLE, REAL_COMMITS, real_commits


@pytest.fixture(autouse=True)
def clean():
    scan_fast.discard_log()
    scan_fast.last_outcome = None
    yield
    scan_fast.discard_log()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every fork the code under test makes (its child pid), with the split forced on small
    histories: a lot of 2 records is split, a batch (git's own log) holds 4."""
    made: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    monkeypatch.setattr(scan, "MARKED_BATCH", 4)
    monkeypatch.setattr(scan, "SPLIT_RECORDS", 2)
    return made


def fast_import(repo: Repo, commits: list[tuple[tuple[str, str], tuple[str, str], str]]) -> None:
    """A linear history of (author, committer, message), one small file change each."""
    stream = []
    for i, (author, committer, message) in enumerate(commits):
        when = 1_700_000_000 + i * 60
        data = message.encode("utf-8", "surrogatepass")
        body = f"line {i}\n".encode()
        stream += [
            b"commit refs/heads/main\n",
            f"mark :{i + 1}\n".encode(),
            f"author {author[0]} <{author[1]}> {when} +0000\n".encode(),
            f"committer {committer[0]} <{committer[1]}> {when} +0000\n".encode(),
            f"data {len(data)}\n".encode() + data + b"\n",
            f"from :{i}\n".encode() if i else b"",
            f"M 100644 inline f{i % 7}.txt\ndata {len(body)}\n".encode() + body + b"\n",
        ]
    subprocess.run(
        ["git", "fast-import", "--quiet", "--force"],
        cwd=repo.path,
        input=b"".join(stream),
        check=True,
        capture_output=True,
    )
    repo.git("reset", "-q", "--hard", "main")


def cold(repo: Repo, *args: str):
    """`reviewq args...` with no state dir (no scan cache), in process; then what the scan
    stored, as `scan --json` answers from it (every field of every change found)."""
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    scan_fast.last_outcome = None
    out = run_reviewq(*args, cwd=repo.path)
    outcome = scan_fast.last_outcome
    stored = run_reviewq("scan", "--json", cwd=repo.path)
    scan_fast.last_outcome = outcome
    return out, stored


def plain(repo: Repo, monkeypatch: pytest.MonkeyPatch, *args: str):
    """The same scan with no prefetch (so no split): git's own log, detected in one process."""
    with monkeypatch.context() as m:
        m.setattr(scan_fast, "start_log", lambda argv: None)
        out = cold(repo, *args)
    assert scan_fast.last_outcome is None
    return out


def same_as_plain(repo: Repo, monkeypatch: pytest.MonkeyPatch, forks: list[int], *args: str):
    before = len(forks)
    fast, fast_stored = cold(repo, *args)
    assert scan_fast.last_outcome == "used"
    assert len(forks) > before, "the split was never taken"
    slow, slow_stored = plain(repo, monkeypatch, *args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    assert fast_stored.stdout == slow_stored.stdout
    return fast, fast_stored


def sample_history() -> list[tuple[tuple[str, str], tuple[str, str], str]]:
    """Real commits of public repositories with AI-agent commits where the machine has them,
    else generated ones from the detector's marker lines."""
    if REAL_COMMITS.is_dir():
        rows = real_commits()[::25]
        return [
            (
                (r["author_name"], r["author_email"]),
                (r["committer_name"], r["committer_email"]),
                r["message"].rstrip("\n") or "(empty)",
            )
            for r in rows
        ]
    return [
        (PEOPLE[i % len(PEOPLE)], PEOPLE[(i * 3) % len(PEOPLE)], f"Change {i}\n\n{LINES[i % 25]}")
        for i in range(120)
    ]


@pytest.mark.parametrize("args", [("scan",), ("scan", "--no-sessions")])
def test_the_split_scan_gives_the_plain_answer(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, forks: list[int], args: tuple[str, ...]
) -> None:
    fast_import(repo, sample_history())
    out, stored = same_as_plain(repo, monkeypatch, forks, *args)
    assert out.returncode == 0 and out.stdout.strip() and stored.stdout.strip()


@given(
    commits=st.lists(
        st.tuples(
            st.sampled_from(PEOPLE),
            st.sampled_from(PEOPLE),
            st.lists(
                st.one_of(st.sampled_from(LINES), st.text(max_size=20)), min_size=1, max_size=6
            ).map("\n".join),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_histories_split_alike(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
    commits: list,
) -> None:
    # (`forks` and `monkeypatch` hold for every example alike: the counter only grows.)
    repo = Repo(tmp_path_factory.mktemp("split") / "repo")
    # git keeps no NUL in a message and ends it at the first; a message all blank is git's
    # "(empty)" as fast-import writes it.
    fast_import(repo, [(a, c, m.replace("\0", "") or "x") for a, c, m in commits])
    before = len(forks)
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "used"
    slow = plain(repo, monkeypatch, "scan")
    assert [(p.returncode, p.stdout) for p in fast] == [(p.returncode, p.stdout) for p in slow]
    # git writes a history this small at once: one lot, split unless it is one record.
    assert len(forks) > before or len(commits) < scan.SPLIT_RECORDS


@pytest.mark.parametrize("failure", ["raises", "killed", "unpicklable"])
def test_a_failing_child_is_worked_out_again_here(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, forks: list[int], failure: str
) -> None:
    fast_import(repo, sample_history())
    parent = os.getpid()
    real = scan._Detected.detect

    def broken(self, records):
        if failure == "raises":
            raise RuntimeError("a bug in the child")
        if failure == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        return (0, [lambda: None])  # pickle cannot send a function made here

    def detect(self, records):
        return real(self, records) if os.getpid() == parent else broken(self, records)

    monkeypatch.setattr(scan._Detected, "detect", detect)
    same_as_plain(repo, monkeypatch, forks, "scan")


def test_another_thread_running_means_no_fork(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    fast_import(repo, sample_history())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        fast, stored = cold(repo, "scan")
    finally:
        stop.set()
        other.join()
    assert scan_fast.last_outcome == "used" and forks == []
    slow, slow_stored = plain(repo, monkeypatch, "scan")
    assert (fast.stdout, stored.stdout) == (slow.stdout, slow_stored.stdout)


def test_git_failing_after_its_log_splits_nothing(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """git wrote its whole log, then failed: the prefetch is discarded before any split."""
    fast_import(repo, sample_history())

    def fail(prefetch) -> None:
        prefetch.proc.wait()
        prefetch.proc.returncode = 1

    monkeypatch.setattr(scan_fast, "_after_start", fail)
    fast, _ = cold(repo, "scan")
    monkeypatch.setattr(scan_fast, "_after_start", None)
    assert scan_fast.last_outcome == "discarded" and forks == []
    assert (fast.returncode, fast.stdout) == (0, plain(repo, monkeypatch, "scan")[0].stdout)


# -- `in_two` itself ---------------------------------------------------------------------------


def _pid_and_sum(items):
    return os.getpid(), sum(items)


def test_in_two_works_the_second_part_out_in_a_child() -> None:
    items = list(range(100))
    (mine, first), (theirs, second) = forked.in_two(
        items, _pid_and_sum, weight=lambda _: 1, minimum=2
    )
    assert mine == os.getpid() != theirs
    assert first + second == sum(items)
    # In order, the child's part about CHILD_SHARE of the weight (each item weighs 1 here).
    cut = math.ceil(len(items) * (1 - forked.CHILD_SHARE))
    assert first == sum(items[:cut]) and second == sum(items[cut:])
    with pytest.raises(ChildProcessError):  # the child was reaped
        os.waitpid(theirs, os.WNOHANG)


def test_in_two_below_the_minimum_or_with_one_item_forks_nothing() -> None:
    assert forked.in_two([1, 2, 3], _pid_and_sum, weight=lambda _: 1, minimum=4) == [
        (os.getpid(), 6)
    ]
    assert forked.in_two([5], _pid_and_sum, weight=lambda _: 1, minimum=0) == [(os.getpid(), 5)]


def test_a_failing_first_part_stops_and_reaps_the_child(forks: list[int]) -> None:
    parent = os.getpid()

    def work(items):
        if os.getpid() == parent:
            raise ValueError("the parent's part failed")
        return sum(items)

    with pytest.raises(ValueError):
        forked.in_two(list(range(10)), work, weight=lambda _: 1, minimum=2)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)


def test_a_short_answer_is_no_answer() -> None:
    """A child that ended well but whose answer does not unpickle (cut short) counts as none."""
    import pickle

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    data = pickle.dumps(list(range(1000)))
    assert forked._answer_of(pid, data[: len(data) // 2]) is forked._NO_ANSWER


def test_sample_history_holds_ai_commits(repo: Repo) -> None:
    """The histories above are worth splitting: they hold AI commits and others."""
    fast_import(repo, sample_history())
    _, stored = cold(repo, "scan")
    found = [json.loads(line) for line in stored.stdout.splitlines()]
    total = int(repo.git("rev-list", "--count", "HEAD"))
    assert 5 < len(found) < total
    assert Path(repo.path / ".git").is_dir()
