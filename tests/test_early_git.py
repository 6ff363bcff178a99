"""The git questions a cold scan starts from a thread before its command line loads
(`reviewq.sources.early_git`): who may take each answer, and that nothing is left behind."""

from __future__ import annotations

import threading

import pytest

from reviewq.sources import early_git
from reviewq.sources.gitcmd import Git, run_env
from reviewq.sources.log_format import HEAD_AT_ONCE, NOTE_TIPS, PATHS_AT_ONCE
from tests.conftest import Repo


@pytest.fixture(autouse=True)
def nothing_left():
    early_git.discard()
    yield
    early_git.discard()
    assert not any(t.name == "reviewq-early-git" for t in threading.enumerate())


def test_a_git_of_the_same_directory_takes_each_answer_once(repo: Repo) -> None:
    repo.commit("a")
    cwd = str(repo.path)
    early_git.start_in_background(cwd, run_env(), [("git", PATHS_AT_ONCE), ("git", NOTE_TIPS)])
    git = Git(cwd)
    answer = git.run(list(PATHS_AT_ONCE))  # waits for the thread, then takes the started one
    assert early_git.started() == [NOTE_TIPS]
    assert answer == git.run(list(PATHS_AT_ONCE))  # asked again: git itself, the same answer
    early_git.discard()
    assert early_git.started() == []


def test_a_question_is_taken_while_the_thread_still_starts_the_next(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`take` waits for its own question, not for the ones after it: the context's paths are
    taken while the notes' question has not started yet (here it starts only once they were
    taken; waiting for the whole thread, the taker would hold it up until the start gave up)."""
    repo.commit("a")
    cwd = str(repo.path)
    paths_taken = threading.Event()
    real = early_git.popen

    def popen(where, env, args):
        if tuple(args) == NOTE_TIPS and not paths_taken.wait(5):
            raise RuntimeError("the notes' question was held up by the taker")
        return real(where, env, args)

    monkeypatch.setattr(early_git, "popen", popen)
    early_git.start_in_background(cwd, run_env(), [("git", PATHS_AT_ONCE), ("git", NOTE_TIPS)])
    proc = early_git.take("git", cwd, run_env(), PATHS_AT_ONCE)
    paths_taken.set()
    assert proc is not None and proc.communicate()[0].split()[0].endswith(b".git")
    assert early_git.started() == [NOTE_TIPS]  # started after all, once the paths were taken


def test_a_question_tagged_for_one_caller_is_never_a_gits(repo: Repo) -> None:
    """The scan's early HEAD is checked by the scan before it believes it: a `Git` asking the
    same question runs git itself and leaves that one in place."""
    sha = repo.commit("a")
    cwd = str(repo.path)
    early_git.start_in_background(cwd, run_env(), [("scan-head", HEAD_AT_ONCE)])
    assert Git(cwd).text(list(HEAD_AT_ONCE)).split() == [sha, sha]
    assert early_git.started("git") == [] and early_git.started("scan-head") == [HEAD_AT_ONCE]
    proc = early_git.take("scan-head", cwd, run_env(), HEAD_AT_ONCE)
    assert proc is not None and proc.communicate()[0].split() == [sha.encode()] * 2
    assert early_git.take("scan-head", cwd, run_env(), HEAD_AT_ONCE) is None


def test_a_failure_in_the_thread_is_no_traceback_and_the_asker_runs_git(
    repo: Repo, capfd: pytest.CaptureFixture[str]
) -> None:
    """An environment git cannot be given (a NUL in a value: ValueError, not OSError) stops
    the thread quietly; nothing is half-started and the `Git` asks git itself."""
    repo.commit("a")
    cwd = str(repo.path)
    bad = {**run_env(), "REVIEWQ_BAD": "a\0b"}
    early_git.start_in_background(cwd, bad, [("git", PATHS_AT_ONCE), ("git", NOTE_TIPS)])
    early_git.settle()
    assert early_git.started() == []
    assert "Traceback" not in capfd.readouterr().err
    assert Git(cwd).paths().git_dir == (repo.path / ".git").resolve()


def test_discard_waits_for_the_thread_and_stops_every_unasked_question(repo: Repo) -> None:
    repo.commit("a")
    cwd = str(repo.path)
    stopped = []
    real_stop = early_git.stop

    def stop(proc) -> None:
        stopped.append(tuple(proc.args[1:]))
        real_stop(proc)

    early_git.start_in_background(
        cwd, run_env(), [("git", PATHS_AT_ONCE), ("git", NOTE_TIPS), ("scan-head", HEAD_AT_ONCE)]
    )
    try:
        early_git.stop = stop  # type: ignore[assignment]
        early_git.discard()  # right away: the thread may still be starting them
    finally:
        early_git.stop = real_stop  # type: ignore[assignment]
    assert sorted(stopped) == sorted([PATHS_AT_ONCE, NOTE_TIPS, HEAD_AT_ONCE])
    assert early_git.started() == [] and early_git.started("scan-head") == []


def test_no_thread_to_be_had_starts_them_in_the_caller(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process at its thread limit (`Thread.start` raises RuntimeError) still gets its early
    answers, started where it asked, and no traceback."""
    repo.commit("a")
    cwd = str(repo.path)

    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    early_git.start_in_background(cwd, run_env(), [("git", PATHS_AT_ONCE)])
    assert early_git._spawner is None and early_git.started() == [PATHS_AT_ONCE]
    assert Git(cwd).paths().git_dir == (repo.path / ".git").resolve()
    assert early_git.started() == []
