"""The cold scan's git questions: fewer processes, several started together, the same answers.

A cold `reviewq scan` ran eleven git processes one after the other; it now runs six, three of
them at once: one `rev-parse` opens the repository (`Git._paths_at_once`), one resolves HEAD
(`workflow.scan._head_at_once`), notes are listed only for the refs the scan's own
`for-each-ref` saw, and the notes tips, the Agent Trace file at HEAD and the worktree list are
started together (`Git.start`) and read when needed. Every test compares with the previous
sequence (`old_way`: each question asked apart, in order) byte for byte, on histories with each
kind of side record and on the repositories where the shortcuts must step aside (unborn HEAD,
bare, a git dir, HEAD naming a tag object, a linked worktree).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reviewq.workflow.scan as scan_mod
from reviewq.sources import notes as notes_mod
from reviewq.sources.gitcmd import Git, GitError
from reviewq.workflow import scan_fast
from tests.conftest import Repo, run_reviewq
from tests.test_provenance_sources import GITAI_NOTE, SESSION_NOTE

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch):
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "REVIEWQ_SESSIONS"):
        monkeypatch.delenv(key, raising=False)
    scan_fast.discard_log()
    yield
    scan_fast.discard_log()


def old_way(m: pytest.MonkeyPatch) -> None:
    """The sequence before: two `rev-parse` to open, `has_commits` then `resolve_revs`, every
    notes ref listed, nothing started ahead."""
    load = notes_mod.load_side_records
    m.setattr(Git, "_paths_at_once", lambda self: None)
    m.setattr(Git, "start", lambda self, args: None)
    m.setattr(scan_mod, "_head_at_once", lambda git: None)
    m.setattr(scan_mod, "load_side_records", lambda git, tip, present=None: load(git, tip))


def cold(path: Path, *args: str):
    common = subprocess.run(
        ["git", "rev-parse", "--git-common-dir"], cwd=path, capture_output=True, text=True
    ).stdout.strip()
    shutil.rmtree((path / common) / "reviewq", ignore_errors=True)
    result = run_reviewq(*args, cwd=path)
    return result.returncode, result.stdout, result.stderr


def both(path: Path, monkeypatch: pytest.MonkeyPatch, *args: str):
    new = cold(path, *args)
    with monkeypatch.context() as m:
        old_way(m)
        old = cold(path, *args)
    assert new == old
    return new


def trace_for(sha: str) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "id": "t",
            "timestamp": "2026-11-20T10:00:00+00:00",
            "vcs": {"type": "git", "revision": sha[:12]},
            "tool": {"name": "opencode", "version": "1.2"},
            "files": [
                {
                    "path": "n.md",
                    "conversations": [
                        {
                            "contributor": {"type": "ai", "model_id": "anthropic/claude-opus-4-5"},
                            "ranges": [{"start_line": 1, "end_line": 2}],
                        }
                    ],
                }
            ],
        }
    )


def build(repo: Repo, kinds: tuple[str, ...]) -> None:
    repo.commit("base", files={"a.py": "a\n"})
    repo.commit("Add b" + CLAUDE, files={"b.py": "b\n" * 5})
    plain = repo.commit("Tolerate blank lines", files={"n.md": "x\ny\n"})
    if "git-ai" in kinds:
        repo.note("ai", plain, GITAI_NOTE)
    if "session-note" in kinds:
        repo.note("ai", repo.commit("session commit"), SESSION_NOTE)
    if "trace-note" in kinds:
        repo.note("agent-trace", plain, trace_for(plain))
    if "trace-file" in kinds:
        repo.commit("traces", files={".agent-trace/traces.jsonl": trace_for(plain) + "\n"})
    if "prompt-note" in kinds:
        repo.note("reviewq-prompt", plain, json.dumps({"agent": "codex", "prompt": "Fix it."}))
    repo.commit("Human", files={"h.txt": "h\n"})


@pytest.mark.parametrize(
    "kinds",
    [
        (),
        ("git-ai",),
        ("session-note", "trace-note"),
        ("trace-file",),
        ("prompt-note",),
        ("git-ai", "trace-note", "trace-file", "prompt-note", "session-note"),
    ],
)
@pytest.mark.parametrize("args", [("scan",), ("scan", "--json"), ("scan", "--no-sessions")])
def test_the_cold_scan_says_what_the_question_by_question_scan_said(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, kinds: tuple[str, ...], args: tuple[str, ...]
) -> None:
    build(repo, kinds)
    code, out, _err = both(repo.path, monkeypatch, *args)
    assert code == 0 and "Add b" in out
    if kinds:  # the side record was read: the plain commit is listed
        assert "Tolerate blank lines" in out or "session commit" in out


def test_a_subdirectory_a_linked_worktree_and_a_detached_head(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build(repo, ("git-ai",))
    (repo.path / "sub" / "deeper").mkdir(parents=True)
    both(repo.path / "sub" / "deeper", monkeypatch, "scan")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "--detach", str(linked), "HEAD~1")
    assert "Tolerate" in both(linked, monkeypatch, "scan")[1]
    repo.git("checkout", "-q", "--detach", "HEAD~2")
    both(repo.path, monkeypatch, "scan", "--json")


def test_an_unborn_head_is_asked_apart_and_lists_nothing(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scan_mod._head_at_once(Git(repo.path)) is None
    code, out, _ = both(repo.path, monkeypatch, "scan")
    assert code == 0 and "Add b" not in out


def test_head_naming_a_tag_object_is_asked_apart(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD and HEAD^{commit} differ (a branch file holding a tag object, written by hand):
    the one-process answer steps aside, and the scan resolves as before."""
    build(repo, ())
    repo.git("tag", "-a", "-m", "t", "v1")
    tag = repo.git("rev-parse", "v1")
    (repo.path / ".git" / "refs" / "heads" / "odd").write_text(tag + "\n")
    repo.git("symbolic-ref", "HEAD", "refs/heads/odd")
    assert scan_mod._head_at_once(Git(repo.path)) is None
    code, out, _ = both(repo.path, monkeypatch, "scan", "--json")
    assert code == 0 and "Add b" in out


def test_opening_in_one_process_gives_the_paths_two_gave(
    make_repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    repo = make_repo("r")
    repo.commit("one")
    (repo.path / "sub").mkdir()
    linked = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "--detach", str(linked))
    bare = make_repo("b", bare=True)
    places = [repo.path, repo.path / "sub", linked, repo.path / ".git", bare.path]
    for place in places:
        fast = Git(place)
        with monkeypatch.context() as m:
            m.setattr(Git, "_paths_at_once", lambda self: None)
            slow = Git(place).paths()
        assert fast.paths() == slow, place
    # Where git refuses the work tree's top, the one-process form steps aside.
    assert Git(repo.path / ".git")._paths_at_once() is None
    assert Git(bare.path)._paths_at_once() is None
    assert Git(repo.path)._paths_at_once() is not None


def test_outside_a_repository_the_error_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lonely = tmp_path / "nothing"
    lonely.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _out, err = both(lonely, monkeypatch, "scan")
    assert code == 2 and "not a git repository" in err


def test_git_dir_in_the_environment_is_followed_by_the_one_process_open(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GIT_DIR / GIT_WORK_TREE point elsewhere: the repository they name is scanned, as before."""
    build(repo, ())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_DIR", str(repo.path / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(repo.path))
    code, out, _ = both(elsewhere, monkeypatch, "scan")
    assert code == 0 and "Add b" in out


# -- Git.start ----------------------------------------------------------------------------------


def test_a_started_question_answers_once_then_git_is_asked_again(repo: Repo) -> None:
    """A started answer is what git said when it started; it is used by the next identical
    question only, never twice: a long-lived Git (the TUI's) does not keep a stale answer."""
    first = repo.commit("one")
    git = Git(repo.path)
    git.start(["rev-parse", "HEAD"])
    second = repo.commit("two")
    assert git.text(["rev-parse", "HEAD"]).strip() == first  # as git said when started
    assert git.text(["rev-parse", "HEAD"]).strip() == second  # asked again
    assert not git._started


def test_a_started_failure_fails_like_a_run_and_ok_codes_still_apply(repo: Repo) -> None:
    git = Git(repo.path)
    git.start(["rev-parse", "--verify", "nope"])
    with pytest.raises(GitError, match="rev-parse"):
        git.run(["rev-parse", "--verify", "nope"])
    git.start(["rev-parse", "--verify", "--quiet", "nope"])
    assert git.run(["rev-parse", "--verify", "--quiet", "nope"], ok_codes=(0, 1)) == b""


def test_a_question_with_input_or_environment_is_not_answered_by_a_started_one(
    repo: Repo,
) -> None:
    sha = repo.commit("one")
    git = Git(repo.path)
    git.start(["cat-file", "--batch-check"])  # started without input: it reads nothing
    assert git.run(["cat-file", "--batch-check"], input=f"{sha}\n".encode()).startswith(
        sha.encode()
    )
    git.start(["var", "GIT_AUTHOR_IDENT"])
    who = git.text(["var", "GIT_AUTHOR_IDENT"], env={"GIT_AUTHOR_NAME": "Someone Else"})
    assert who.startswith("Someone Else")
    assert not git._started


def test_started_questions_nobody_asked_are_reaped_when_the_context_closes(
    repo: Repo,
) -> None:
    from reviewq.context import Context

    repo.commit("one")
    ctx = Context.open(str(repo.path), None, None)
    ctx.git.start(["worktree", "list", "--porcelain"])
    proc = next(iter(ctx.git._started.values()))
    ctx.close()
    assert not ctx.git._started and proc.returncode is not None


def test_the_plain_scan_runs_six_git_processes(repo: Repo, tmp_path: Path) -> None:
    """The count this work is about, by the processes git itself starts (GIT_TRACE2 event
    `start` of each git), so a regression back to asking one by one shows."""
    build(repo, ())
    trace = tmp_path / "trace.json"
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    env = {**os.environ, "GIT_TRACE2_EVENT": str(trace)}
    import sys

    subprocess.run(
        [sys.executable, "-m", "reviewq", "scan"], cwd=repo.path, env=env, capture_output=True
    )
    starts = [
        json.loads(line)
        for line in trace.read_text().splitlines()
        if '"event":"start"' in line and '"t_abs"' in line
    ]
    commands = sorted(e["argv"][1] for e in starts if len(e["argv"]) > 1)
    assert len(starts) == 6, commands


def test_the_collector_is_paused_for_a_scan_and_restored_after(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    build(repo, ())
    seen: list[bool] = []
    real = scan_mod.scan_history

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    import reviewq.workflow.scan

    monkeypatch.setattr(reviewq.workflow.scan, "scan_history", watched)
    assert gc.isenabled()
    assert cold(repo.path, "scan")[0] == 0
    assert seen == [False] and gc.isenabled()
    failed = run_reviewq("scan", "no-such-rev", cwd=repo.path)  # an error: restored as well
    assert failed.returncode == 2 and gc.isenabled()


def test_scan_as_a_value_does_not_leave_the_collector_off(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m reviewq` pauses the collector when its arguments hold the word "scan", before
    it knows the command; when "scan" is only a value (`--repo scan log` here), `main` turns
    the collector back on for the command that does run."""
    import gc

    from reviewq.cli import main

    build(repo, ())
    (repo.path.parent / "scan").symlink_to(repo.path)  # a repository that is named "scan"
    monkeypatch.chdir(repo.path.parent)
    monkeypatch.setattr(sys, "argv", ["reviewq", "--repo", "scan", "log", "--json"])
    seen: list[bool] = []
    import reviewq.commands.log as log_command

    real = log_command.run
    monkeypatch.setattr(log_command, "run", lambda *a: seen.append(gc.isenabled()) or real(*a))
    gc.disable()  # as `__main__` leaves it
    try:
        assert main() == 0
    finally:
        gc.enable()
    capsys.readouterr()
    assert seen == [True]


def test_a_scan_process_ends_without_teardown_and_keeps_its_state(repo: Repo) -> None:
    """`python -m reviewq scan` ends with `os._exit` after flushing (`cli.finish_now`): the
    table, the warning and the exit code are the in-process run's, and the scan cache it wrote
    is on disk (the next scan answers from it)."""
    import sys

    build(repo, ("git-ai",))
    expected = cold(repo.path, "scan")
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.run(
        [sys.executable, "-m", "reviewq", "scan"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == expected
    assert (repo.path / ".git" / "reviewq" / "cache.json").is_file()
    again = run_reviewq("scan", cwd=repo.path)
    assert (again.returncode, again.stdout) == expected[:2]
    bad = subprocess.run(
        [sys.executable, "-m", "reviewq", "scan", "nope"], cwd=repo.path, capture_output=True
    )
    assert bad.returncode == 2 and b"unknown revision" in bad.stderr


def test_the_installed_script_scan_ends_without_teardown_and_keeps_its_state(
    repo: Repo, tmp_path: Path
) -> None:
    """The console script users run (`reviewq = reviewq.cli:main`, pip's wrapper: `sys.exit(main())`)
    ends a scan the same way: `main` itself calls `finish_now` for the process's own command line.
    Same table, warning and exit code as in process; the cache is on disk; an `atexit` handler
    registered before `main` still runs (the fast exit steps aside); `main(argv)` called by a
    program with its own list returns to it."""
    import sys

    build(repo, ("git-ai",))
    expected = cold(repo.path, "scan")
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    script = tmp_path / "reviewq"
    script.write_text(
        "import re\nimport sys\nfrom reviewq.cli import main\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        "    sys.exit(main())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run(
        [sys.executable, str(script), "scan"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == expected
    assert (repo.path / ".git" / "reviewq" / "cache.json").is_file()
    bad = subprocess.run(
        [sys.executable, str(script), "scan", "nope"], cwd=repo.path, capture_output=True, env=env
    )
    assert bad.returncode == 2 and b"unknown revision" in bad.stderr
    # The fast exit is taken (the old script returned to `sys.exit` and its teardown).
    spied = tmp_path / "spied.py"
    took = tmp_path / "took"
    spied.write_text(
        "import os, pathlib, sys\nreal = os._exit\n"
        f"def spy(code):\n    pathlib.Path({str(took)!r}).write_text(str(code))\n    real(code)\n"
        "os._exit = spy\nfrom reviewq.cli import main\nsys.exit(main())\n"
    )
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, str(spied), "scan"], cwd=repo.path, capture_output=True, text=True, env=env
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == expected and took.read_text() == "0"
    # Something waiting at exit: it runs (the fast exit would have skipped it).
    waiting = tmp_path / "waiting.py"
    marker = tmp_path / "ran"
    waiting.write_text(
        "import atexit, pathlib, sys\nfrom reviewq.cli import main\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        "sys.exit(main())\n"
    )
    proc = subprocess.run(
        [sys.executable, str(waiting), "scan"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert (proc.returncode, proc.stdout) == expected[:2] and marker.read_text() == "yes"
    # A caller's own argument list: `main` returns to it (a script going on after the scan).
    after = tmp_path / "after.py"
    after.write_text(
        "import sys\nfrom reviewq.cli import main\n"
        "code = main(['scan'])\nprint('after', code)\nsys.exit(code)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(after)], cwd=repo.path, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and proc.stdout.endswith("after 0\n")


def test_a_scan_process_ends_without_a_collection(repo: Repo, tmp_path: Path) -> None:
    """The collector stays paused up to the fast exit: turned back on first, it walked every
    object the scan made (2-4 ms of a cold table) just before `os._exit`. When the exit is left
    to Python (an `atexit` handler waits), the collector is on again for it."""
    import sys

    build(repo, ("git-ai",))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    log = tmp_path / "collections"
    script = tmp_path / "spied.py"
    script.write_text(
        "import atexit, gc, os, sys\nfrom reviewq.cli import main\n"
        "gc.collect()\n"
        f"fd = os.open({str(log)!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND)\n"
        "gc.callbacks.append(lambda phase, info: phase == 'start' and os.write(fd, b'c'))\n"
        "if sys.argv[-1] == 'wait':\n"
        "    atexit.register(lambda: os.write(fd, b'on' if gc.isenabled() else b'off'))\n"
        "    sys.argv.pop()\n"
        "sys.exit(main())\n"
    )
    for wait in ((), ("wait",)):
        shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
        log.write_bytes(b"")
        proc = subprocess.run(
            [sys.executable, str(script), "scan", *wait],
            cwd=repo.path,
            capture_output=True,
            text=True,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        assert "claude-code" in proc.stdout or "git-ai" in proc.stdout
        seen = log.read_bytes()
        if wait:
            assert b"on" in seen  # the normal exit: the collector as it was
        else:
            assert seen == b""  # no collection from the scan's start to its exit


def test_finish_now_leaves_the_exit_to_python_when_something_waits_for_it() -> None:
    """Another thread alive, or an `atexit` handler registered: `finish_now` returns."""
    import atexit
    import threading

    from reviewq.cli import finish_now

    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        finish_now(0)  # would end pytest if it exited
    finally:
        stop.set()
        worker.join()

    def handler() -> None:
        pass

    atexit.register(handler)
    try:
        finish_now(0)
    finally:
        atexit.unregister(handler)


# -- questions started before the command line loads (early_git) -------------------------------


def early_git_questions() -> list[tuple[str, ...]]:
    """The args of every early question started for any `Git` and not yet taken."""
    from reviewq.sources import early_git

    return early_git.started("git")


def watch_early(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple], list]:
    """(the early questions' args as started, the processes stopped unasked)."""
    from reviewq.sources import early_git

    started: list[tuple] = []
    stopped: list = []
    real_stop = early_git.stop

    def after_start(prefetch) -> None:
        started.extend(early_git_questions())

    def stop(proc) -> None:
        stopped.append(proc.args[1:])
        real_stop(proc)

    monkeypatch.setattr(scan_fast, "_after_start", after_start)
    monkeypatch.setattr(early_git, "stop", stop)
    return started, stopped


def test_the_early_questions_are_the_scans_own_and_all_are_taken(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewq.sources.log_format import NOTE_TIPS, PATHS_AT_ONCE, WORKTREE_LIST

    build(repo, ("git-ai", "trace-file"))
    started, stopped = watch_early(monkeypatch)
    fast = cold(repo.path, "scan")
    monkeypatch.setattr(scan_fast, "_after_start", None)
    head = repo.git("rev-parse", "HEAD")
    assert sorted(started) == sorted(
        [
            PATHS_AT_ONCE,
            NOTE_TIPS,
            ("cat-file", "blob", f"{head}:.agent-trace/traces.jsonl"),
            WORKTREE_LIST,
        ]
    )
    assert stopped == [] and not early_git_questions()  # every one answered the scan
    assert scan_fast.last_outcome == "used"
    with monkeypatch.context() as m:
        old_way(m)
        m.setattr(scan_fast, "start_log", lambda argv: None)
        assert cold(repo.path, "scan") == fast
    no_sessions = cold(repo.path, "scan", "--no-sessions")
    assert not early_git_questions() and no_sessions[0] == 0


def test_head_moving_after_the_early_start_leaves_the_old_trace_file_unread(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Agent Trace file asked early is the old HEAD's: the scan of the new HEAD asks its
    own, and the early one is stopped at the end, unread."""

    build(repo, ("trace-file",))
    old = repo.git("rev-parse", "HEAD")
    started, stopped = watch_early(monkeypatch)
    moved: list[str] = []

    def after_start(prefetch) -> None:
        started.extend(early_git_questions())
        prefetch.proc.wait()
        moved.append(repo.commit("Late" + CLAUDE, files={"late.py": "l\n"}))

    monkeypatch.setattr(scan_fast, "_after_start", after_start)
    fast = cold(repo.path, "scan")
    monkeypatch.setattr(scan_fast, "_after_start", None)
    assert moved[0][:12] in fast[1]
    assert ("cat-file", "blob", f"{old}:.agent-trace/traces.jsonl") in [tuple(s) for s in stopped]
    assert not early_git_questions()
    with monkeypatch.context() as m:
        old_way(m)
        m.setattr(scan_fast, "start_log", lambda argv: None)
        assert cold(repo.path, "scan") == fast


def test_an_early_answer_goes_only_to_a_git_of_the_same_directory_and_environment(
    make_repo, tmp_path: Path
) -> None:
    """Another environment (GIT_DIR naming another repository) or another directory asks git
    itself: it is never handed the answer started for someone else."""
    from reviewq.sources import early_git
    from reviewq.sources.gitcmd import run_env
    from reviewq.sources.log_format import PATHS_AT_ONCE

    one, other = make_repo("one"), make_repo("other")
    one.commit("a")
    other.commit("b")
    try:
        early_git.start("git", str(one.path), run_env(), PATHS_AT_ONCE)
        elsewhere = Git(one.path, env={"GIT_DIR": str(other.path / ".git")})
        assert elsewhere.paths().git_dir == (other.path / ".git").resolve()
        assert Git(other.path).paths().git_dir == (other.path / ".git").resolve()
        assert len(early_git_questions()) == 1  # still waiting for its own asker
        assert Git(str(one.path)).paths().git_dir == (one.path / ".git").resolve()
        assert not early_git_questions()
    finally:
        early_git.discard()


def test_early_questions_nobody_asks_are_stopped_when_the_command_ends(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan answered from its cache, or one that fails, leaves nothing running."""

    build(repo, ())
    assert run_reviewq("scan", cwd=repo.path).returncode == 0  # writes the scan cache
    (repo.path / ".git" / "reviewq" / "cache.json").unlink()
    repo.write(".reviewq.toml", "[[agents]]\nbroken = \n")
    failed = run_reviewq("scan", cwd=repo.path)
    assert failed.returncode == 2
    assert not early_git_questions()


def _after_a_cold_scan(repo: Repo, before: str, after: str) -> list[str]:
    """What a fresh interpreter prints (`after`, with the scan's exit code as `code`) once
    it ran `before`, then `reviewq scan` in-process, in `repo`: the modules a cold scan
    loads, seen from inside its own process."""
    probe = (
        "import io, sys, contextlib\n"
        f"{before}"
        "from reviewq.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['scan'])\n"
        f"{after}"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_a_cold_scan_makes_none_of_the_diff_and_critique_classes(repo: Repo) -> None:
    """The six dataclasses of diffs and critiques (`core.model_review`) and the settings
    sections a scan does not read (`core.config_sections`, `core.team`) and the queue scope's
    records (`workflow.scan_scope`) are made on first use:
    a cold scan process without a settings file never makes them; `from reviewq.core.model import Critique` still gives
    the one class (same `__module__`, pickles and compares as before)."""
    import pickle

    build(repo, ("git-ai",))
    seen = _after_a_cold_scan(
        repo,
        "",
        "import reviewq.core.model as m, reviewq.core.config as c\n"
        "print(code, 'Critique' in vars(m), 'reviewq.core.model_review' in sys.modules,\n"
        "      'CriticSettings' in vars(c), 'reviewq.core.config_sections' in sys.modules,\n"
        "      'reviewq.core.team' in sys.modules, 'reviewq.workflow.scan_scope' in sys.modules)\n",
    )
    assert seen == ["0"] + ["False"] * 6
    from reviewq.core import model
    from reviewq.core.model import Critique, Finding

    assert model.Critique is Critique and Critique.__module__ == "reviewq.core.model"
    finding = Finding("a.py", 1, 2, "note", "label", "rule", "body")
    assert pickle.loads(pickle.dumps(finding)) == finding
    with pytest.raises(AttributeError):
        model.NoSuchName  # noqa: B018


def test_the_collector_is_paused_before_the_early_log_starts(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed script enters `cli.main` with the collector on (`python -m reviewq`
    pauses it before the import): a scan pauses it at `main`'s first line, so the prefetched
    log's start and the imports under it run without collections."""
    import gc

    import reviewq.workflow.scan_fast as fast

    build(repo, ())
    seen: list[bool] = []
    real = fast.start_log

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(fast, "start_log", watched)
    assert gc.isenabled()
    assert cold(repo.path, "scan")[0] == 0
    assert seen == [False] and gc.isenabled()


def test_a_cold_scan_loads_no_openssl(repo: Repo) -> None:
    """`hashlib` loads OpenSSL (~3-4 ms of a cold table's start-up): a scan's digests (the
    fast answer's key, the critiques' digest beside the cache file) use the interpreter's own
    sha256 (`core.digest`), with a critique in the cache file too."""
    build(repo, ("git-ai",))
    seen = _after_a_cold_scan(
        repo,
        "from reviewq.context import Context\n"
        "ctx = Context.open('.')\n"
        "ctx.cache.put('critiques', 'k', {'change_id': 'x', 'highest_severity': 'low'})\n"
        "ctx.cache.flush(); ctx.close()\n"
        "assert 'hashlib' not in sys.modules\n",
        "print(code, 'hashlib' in sys.modules, '_hashlib' in sys.modules)\n",
    )
    assert seen == ["0", "False", "False"]
    assert (repo.path / ".git" / "reviewq" / "cache.json.digests").exists()
