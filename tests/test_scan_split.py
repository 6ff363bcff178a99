"""The cold table's log rest, detected by a helper process forked once git has ended
(`workflow.scan_split`).

Each test compares the table with the plain path (no prefetch, no helper) byte for byte and
checks which way the helper went, so a test cannot pass with the helper silently never forked.
The thresholds are lowered so that small repositories fork one, and the fork is allowed beside
the test runner's own threads (the helper touches none of what they hold).
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.workflow import scan, scan_fast, scan_split
from tests.conftest import Repo
from tests.test_scan_prefetch import CLAUDE, cold, plain

CODEX = "\n\nCo-authored-by: Codex <noreply@openai.com>\n"


@pytest.fixture(autouse=True)
def helper_for_small_logs(monkeypatch: pytest.MonkeyPatch):
    """A helper for any rest, beside the runner's threads; its part read in small chunks."""
    monkeypatch.setattr(scan_split, "_CHUNK", 64)
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "REVIEWQ_SESSIONS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(scan_split, "SPLIT_REST", 1)
    monkeypatch.setattr(scan_split, "FORK_WITH_THREADS", True)
    scan_fast.discard_log()
    scan_split.last_split = None
    yield
    scan_fast.discard_log()
    scan_split.reap()


def history(repo: Repo, n: int = 24) -> None:
    repo.commit("base", files={"a.py": "a\n"})
    for i in range(n):
        if i % 3 == 0:
            repo.commit(f"Add {i}" + CLAUDE, files={f"c{i}.py": "c\n"})
        elif i % 3 == 1:
            repo.commit(f"Human {i}\n\nCo-authored-by: Bo <bo@example.com>", files={f"h{i}": "h"})
        else:
            repo.commit(f"Fix {i}\n\nA body\nof lines." + CODEX, files={f"x{i}.py": "x\n"})


def same_as_plain(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> str:
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "used"
    outcome = scan_split.last_split
    slow = plain(repo, monkeypatch, "scan")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    return outcome


def test_the_helper_detects_the_rest_as_the_main_loop_would(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    assert same_as_plain(repo, monkeypatch) == "helper"
    assert cold(repo, "scan").stdout.count("claude-code") == 8  # every AI commit, once


def test_a_short_rest_forks_no_helper(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    history(repo)
    monkeypatch.setattr(scan_split, "SPLIT_REST", 1 << 30)
    assert same_as_plain(repo, monkeypatch) == "alone"


def test_other_threads_fork_no_helper(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    history(repo)
    monkeypatch.setattr(scan_split, "FORK_WITH_THREADS", False)
    monkeypatch.setattr("threading.active_count", lambda: 2)
    assert same_as_plain(repo, monkeypatch) == "alone"


def test_a_fork_refused_reads_the_rest_here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    history(repo)

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(scan_split.os, "fork", no_fork)
    assert same_as_plain(repo, monkeypatch) == "alone"


def _in_helper(action):
    """`_Detection.part` that does `action` in the helper (a forked child) only."""
    main_pid = os.getpid()
    real = scan._Detection.part

    def part(self, records):
        if os.getpid() != main_pid:
            return action(self, records, real)
        return real(self, records)

    return part


@pytest.mark.parametrize(
    "action",
    [
        # fails: the child ends with exit code 1 and writes nothing
        lambda self, records, real: 1 / 0,
        # killed while it works
        lambda self, records, real: os.kill(os.getpid(), signal.SIGKILL),
        # a well-formed pickle that is not an answer
        lambda self, records, real: ("not", "an answer"),
        # an answer of the wrong shape: commits that are strings
        lambda self, records, real: (3, [("c", "a", None)]),
    ],
    ids=["fails", "killed", "not-an-answer", "wrong-shape"],
)
def test_a_helper_that_gives_no_answer_is_recovered_here(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, action
) -> None:
    history(repo)
    monkeypatch.setattr(scan._Detection, "part", _in_helper(action))
    assert same_as_plain(repo, monkeypatch) == "recovered"


def test_a_helper_cut_off_mid_answer_is_recovered(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper's pickle cut short (it died while writing): not a whole answer."""
    history(repo)
    real_dumps = scan_split._dumps
    main_pid = os.getpid()

    def cut(obj, *args, **kwargs):
        out = real_dumps(obj, *args, **kwargs)
        return out[: len(out) // 2] if os.getpid() != main_pid else out

    monkeypatch.setattr(scan_split, "_dumps", cut)
    assert same_as_plain(repo, monkeypatch) == "recovered"


def test_an_error_in_the_main_loop_kills_the_helper(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error after the fork (here: in the main loop's own part) stops the helper: no child
    is left running, and the error is the plain one."""
    history(repo)
    started: list[scan_split.RestHelper] = []
    real_on_ended = scan_split.RestHelper.on_ended

    def on_ended(self, fd, offset, size):
        started.append(self)
        return real_on_ended(self, fd, offset, size)

    monkeypatch.setattr(scan_split.RestHelper, "on_ended", on_ended)
    real_rest = scan_split.RestHelper.rest

    def rest(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_split.RestHelper, "rest", rest)
    out = cold(repo, "scan")
    assert out.returncode == 130 and "interrupted" in out.stderr
    assert started and started[0]._pid == 0  # killed and handed to `reap`
    monkeypatch.setattr(scan_split.RestHelper, "rest", real_rest)
    for _ in range(500):  # the killed helper is reaped once it has ended (never waited for)
        scan_split.reap()
        if not scan_split._unreaped:
            break
        time.sleep(0.01)
    assert scan_split._unreaped == []


def test_a_scan_that_reads_its_log_itself_forks_no_helper(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scan --json` (sized) and a scan of a range never have a prefetched log: no helper."""
    history(repo)
    cold(repo, "scan", "--json")
    assert scan_split.last_split is None
    cold(repo, "scan", "HEAD~3..HEAD")
    assert scan_split.last_split is None


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kinds=st.lists(st.sampled_from(["claude", "codex", "human", "long"]), min_size=2, max_size=9),
    at=st.sampled_from([0.01, 0.3, 0.5, 0.9]),
    chunk=st.sampled_from([7, 4096, 1 << 18]),
)
def test_any_history_and_any_cut_read_as_the_plain_scan(
    tmp_path_factory, monkeypatch: pytest.MonkeyPatch, kinds, at, chunk
) -> None:
    """Any history, cut anywhere, the helper's part read in chunks of any size (records cut
    by a chunk's end): the plain table."""
    repo = Repo(tmp_path_factory.mktemp("split") / "repo")
    repo.commit("base", files={"a.py": "a\n"})
    for n, kind in enumerate(kinds):
        if kind == "claude":
            repo.commit(f"AI {n}" + CLAUDE, files={f"f{n}.py": "x\n"})
        elif kind == "codex":
            repo.commit(f"AI {n}\n\nbody" + CODEX, files={f"g{n}.py": "x\n"})
        elif kind == "long":
            repo.commit(f"Long {n}\n\n" + "words " * 3000 + CLAUDE, files={f"l{n}": "l"})
        else:
            repo.commit(f"Human {n}", files={f"h{n}.txt": "h\n"})
    monkeypatch.setattr(scan_split, "SPLIT_AT", at)
    monkeypatch.setattr(scan_split, "_CHUNK", chunk)
    scan_split.last_split = None
    assert same_as_plain(repo, monkeypatch) in ("helper", "alone")
