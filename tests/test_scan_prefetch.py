"""The cold scan's `git log`, started before the command line loads (`scan_fast.start_log`).

The prefetched bytes may be used only when they are exactly the log the scan itself would read
(its log arguments with the revision it resolved, its directory, its git environment, git's exit
0); every other case discards them and the scan runs git as before. Each test compares the
output with the plain path (the prefetch switched off) byte for byte, and checks which way the
prefetch went, so a test cannot pass with the prefetch silently never used.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.sources.gitcmd import Git
from reviewq.sources.log_format import log_args
from reviewq.workflow import scan_fast
from tests.conftest import Repo, run_reviewq, run_reviewq_process

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch):
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "REVIEWQ_SESSIONS"):
        monkeypatch.delenv(key, raising=False)
    scan_fast.discard_log()
    scan_fast.last_outcome = None
    yield
    scan_fast.discard_log()
    scan_fast._after_start = None


def history(repo: Repo) -> None:
    repo.commit("base", files={"a.py": "a\n"})
    repo.commit("Add b" + CLAUDE, files={"b.py": "b\n" * 5})
    repo.commit("Human", files={"h.txt": "h\n"})
    repo.commit("Add c\u00e9" + CLAUDE, files={"c.py": "c\n" * 3})


def cold(repo: Repo, *args: str, cwd: Path | None = None):
    """`reviewq args...` with no state dir (no scan cache, no stored answer), in process."""
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    scan_fast.last_outcome = None
    return run_reviewq(*args, cwd=cwd or repo.path)


def cold_after_start(repo: Repo, monkeypatch: pytest.MonkeyPatch, hook):
    """`cold(repo, "scan")` with `hook` run right after the early start (a race staged
    between the prefetch and the scan); the outcomes are reset first."""
    scan_fast.head_outcome = None
    monkeypatch.setattr(scan_fast, "_after_start", hook)
    try:
        return cold(repo, "scan")
    finally:
        monkeypatch.setattr(scan_fast, "_after_start", None)


def plain(repo: Repo, monkeypatch: pytest.MonkeyPatch, *args: str):
    """The same command with the prefetch switched off: the plain path."""
    with monkeypatch.context() as m:
        m.setattr(scan_fast, "start_log", lambda argv: None)
        out = cold(repo, *args)
    assert scan_fast.last_outcome is None
    return out


@pytest.mark.parametrize(
    "args",
    [("scan",), ("scan", "--no-sessions")],
)
def test_the_prefetched_log_gives_the_plain_answer(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    history(repo)
    fast = cold(repo, *args)
    assert scan_fast.last_outcome == "used"
    slow = plain(repo, monkeypatch, *args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    assert "Add b" in fast.stdout


def test_repo_option_and_a_subdirectory(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    history(repo)
    sub = repo.path / "sub"
    sub.mkdir()
    fast = cold(repo, "--repo", str(repo.path), "scan")
    assert scan_fast.last_outcome == "used"
    from_sub = cold(repo, "scan", cwd=sub)
    assert scan_fast.last_outcome == "used"
    slow = plain(repo, monkeypatch, "scan")
    assert fast.stdout == from_sub.stdout == slow.stdout


def test_head_moving_after_the_prefetch_discards_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    moved: list[str] = []

    def commit_now(prefetch) -> None:
        prefetch.proc.wait()  # git has written the old history in full
        moved.append(repo.commit("Late" + CLAUDE, files={"late.py": "l\n"}))

    fast = cold_after_start(repo, monkeypatch, commit_now)
    assert moved and scan_fast.last_outcome == "discarded"
    assert moved[0][:12] in fast.stdout  # the scan's own HEAD, not the prefetch's stale bytes
    slow = plain(repo, monkeypatch, "scan")
    assert fast.stdout == slow.stdout


def test_git_failing_in_the_prefetch_is_discarded(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)

    def fail(prefetch) -> None:
        # git wrote its whole log, then its exit code says it failed (killed, or an error at
        # the end): the bytes read so far must count for nothing.
        prefetch.proc.wait()
        prefetch.proc = subprocess.Popen(
            ["git", "log", "--no-such-option"], stderr=subprocess.DEVNULL
        )

    fast = cold_after_start(repo, monkeypatch, fail)
    assert scan_fast.last_outcome == "discarded"
    slow = plain(repo, monkeypatch, "scan")
    assert (fast.returncode, fast.stdout) == (0, slow.stdout)


def test_a_head_without_its_object_answers_as_before(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    (repo.path / ".git" / "refs" / "heads" / "main").write_text("1" * 40 + "\n")
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "discarded"
    slow = plain(repo, monkeypatch, "scan")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


def test_git_failing_on_a_missing_commit_gives_the_same_error(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    base = repo.git("rev-list", "--max-parents=0", "HEAD")
    (repo.path / ".git" / "objects" / base[:2] / base[2:]).unlink()
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "discarded"
    slow = plain(repo, monkeypatch, "scan")
    assert fast.returncode == slow.returncode == 2
    assert fast.stderr == slow.stderr and fast.stderr.count("\n") == 1
    assert fast.stdout == slow.stdout == ""


def test_no_repository_gives_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = tmp_path / "plain-dir"
    nowhere.mkdir()
    fast = run_reviewq("scan", cwd=nowhere)
    assert scan_fast.last_outcome is None
    with monkeypatch.context() as m:
        m.setattr(scan_fast, "start_log", lambda argv: None)
        slow = run_reviewq("scan", cwd=nowhere)
    assert fast.returncode == slow.returncode == 2
    assert fast.stderr == slow.stderr and "not a git repository" in fast.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "--json", "--max-count", "2"),
        ("scan", "--since", "2001-01-01"),
        ("scan", "HEAD~1"),
        ("scan", "--json", "HEAD"),
        ("scan", "--no-cache"),
        ("scan", "--json"),
        ("scan", "--json", "--no-sessions"),
        ("scan", "--sizes"),
    ],
)
def test_another_log_starts_no_prefetch(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    history(repo)
    started: list[object] = []
    monkeypatch.setattr(scan_fast, "_after_start", started.append)
    fast = cold(repo, *args)
    assert started == [] and scan_fast.last_outcome is None
    slow = plain(repo, monkeypatch, *args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


def test_other_log_arguments_directory_or_environment_discard_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    head = repo.git("rev-parse", "HEAD")
    git = Git(repo.path)
    monkeypatch.chdir(repo.path)
    for args in (
        log_args([head], max_count=1),
        log_args([head], since="2001-01-01"),
        log_args(["HEAD"]),
        log_args([head, "^" + head]),
    ):
        scan_fast.start_log(["scan"])
        assert scan_fast.take_log(git, args) is None
        assert scan_fast.last_outcome == "discarded"
    scan_fast.start_log(["scan"])
    same = scan_fast.take_log(Git(repo.path / "."), log_args([head]))  # the same path
    assert same is not None and len(list(same)) == 4
    scan_fast.start_log(["scan"])
    assert (
        scan_fast.take_log(Git(repo.path, env={"GIT_CONFIG_COUNT": "0"}), log_args([head])) is None
    )
    scan_fast.start_log(["scan"])
    records = scan_fast.take_log(git, log_args([head]))
    assert records is not None
    assert list(records) == list(git.stream(log_args([head])))
    assert scan_fast.last_outcome == "used"
    assert scan_fast.take_log(git, log_args([head])) is None  # taken once


@pytest.mark.parametrize("most", [1, 2, 7, 64, 4096])
def test_records_read_in_small_chunks_are_gits_records(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    """The log is read a chunk of at most `_MOST` bytes at a time: records cut by a chunk's
    end, and records longer than many chunks, come out whole and in order."""
    history(repo)
    repo.commit("long " + "x" * 9000 + "\n\nbody\n" * 50 + CLAUDE, files={"l.py": "l\n"})
    repo.commit("é" * 700, files={"m.py": "m\n"})  # multi-byte characters cut anywhere
    head = repo.git("rev-parse", "HEAD")
    git = Git(repo.path)
    monkeypatch.chdir(repo.path)
    monkeypatch.setattr(scan_fast, "_MOST", most)
    monkeypatch.setattr(scan_fast, "_CHUNK", 1)
    scan_fast.start_log(["scan"])
    records = scan_fast.take_log(git, log_args([head]))
    assert records is not None
    assert list(records) == list(git.stream(log_args([head])))
    assert scan_fast.last_outcome == "used"
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "used"
    _same_as_plain(repo, monkeypatch, fast)


def test_detection_rules_from_the_config_give_the_plain_answer(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    repo.write(
        ".reviewq.toml",
        "[[agents]]\nagent = 'acme'\nfamily = 'openai'\nemail = 'ada@example.com'\n",
    )
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "used"
    slow = plain(repo, monkeypatch, "scan")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    assert "acme" in fast.stdout


def test_a_scan_cache_starts_no_prefetch(repo: Repo) -> None:
    history(repo)
    cold(repo, "scan")
    started: list[object] = []
    scan_fast._after_start = started.append
    again = run_reviewq("scan", cwd=repo.path)
    assert again.returncode == 0 and started == []
    assert "Add b" in again.stdout


def test_the_gate_never_uses_a_prefetch(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    history(repo)
    monkeypatch.chdir(repo.path)
    scan_fast.start_log(["scan"])  # left by something else in this process
    left = scan_fast._prefetch
    assert left is not None
    out = run_reviewq("gate", "HEAD~3..HEAD", cwd=repo.path)
    assert out.returncode in (0, 1)
    assert scan_fast._prefetch is left and scan_fast.last_outcome is None
    scan_fast.discard_log()
    again = run_reviewq("gate", "HEAD~3..HEAD", cwd=repo.path)
    assert (again.returncode, again.stdout) == (out.returncode, out.stdout)


def test_a_whole_process_uses_the_prefetch(repo: Repo) -> None:
    history(repo)
    shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
    fast = run_reviewq_process("scan", cwd=repo.path)
    again = run_reviewq_process("scan", "--no-cache", cwd=repo.path)
    assert fast.returncode == 0 and fast.stdout == again.stdout


# -- the property: over any history, the prefetched scan prints what the plain one prints ------

MESSAGES = st.lists(
    st.tuples(
        st.sampled_from(["ai", "human", "note", "branch", "back"]),
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=MESSAGES)
def test_the_prefetched_scan_is_always_the_plain_one(
    tmp_path_factory, monkeypatch: pytest.MonkeyPatch, ops
) -> None:
    repo = Repo(tmp_path_factory.mktemp("prop") / "repo")
    repo.commit("base", files={"a.py": "a\n"})
    for n, (op, words) in enumerate(ops, 1):
        if op == "ai":
            repo.commit(f"AI {n} {words}" + CLAUDE, files={f"f{n}.py": "x\n" * n})
        elif op == "human":
            repo.commit(f"Human {n} {words}", files={f"h{n}.txt": "h\n"})
        elif op == "note":
            repo.note("refs/notes/reviewq-prompt", repo.git("rev-parse", "HEAD"), f"p {words}")
        elif op == "branch":
            repo.git("checkout", "-q", "-B", f"b{n}")
        else:
            repo.git("checkout", "-q", "main")
    fast = cold(repo, "scan")
    assert scan_fast.last_outcome == "used"
    slow = plain(repo, monkeypatch, "scan")
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


# -- HEAD from the start: the early rev-parse, taken only when the files still say that HEAD ---


def _same_as_plain(repo: Repo, monkeypatch: pytest.MonkeyPatch, fast, cwd: Path | None = None):
    with monkeypatch.context() as m:
        m.setattr(scan_fast, "start_log", lambda argv: None)
        shutil.rmtree(repo.path / ".git" / "reviewq", ignore_errors=True)
        slow = run_reviewq("scan", cwd=cwd or repo.path)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


def _symbolic_chain(repo: Repo) -> None:
    repo.git("symbolic-ref", "refs/heads/alias", "refs/heads/main")
    repo.git("symbolic-ref", "HEAD", "refs/heads/alias")


@pytest.mark.parametrize(
    "shape",
    [
        lambda repo: None,  # HEAD -> refs/heads/main, a loose ref
        lambda repo: repo.git("pack-refs", "--all", "--prune"),  # only in packed-refs
        lambda repo: repo.git("checkout", "-q", "--detach", "HEAD~1"),  # a detached HEAD
        _symbolic_chain,  # HEAD -> alias -> main
        lambda repo: repo.git("checkout", "-q", "-b", "other"),  # another branch, same commit
    ],
    ids=["loose", "packed", "detached", "symbolic-chain", "other-branch"],
)
def test_head_is_taken_from_the_start_when_the_files_still_say_it(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, shape
) -> None:
    history(repo)
    shape(repo)
    scan_fast.head_outcome = None
    fast = cold(repo, "scan")
    assert scan_fast.head_outcome == "early" and scan_fast.last_outcome == "used"
    _same_as_plain(repo, monkeypatch, fast)


def test_a_linked_worktree_takes_its_own_head(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    history(repo)
    tree = tmp_path / "tree"
    repo.git("worktree", "add", "-q", "--detach", str(tree), "HEAD~2")
    scan_fast.head_outcome = None
    fast = cold(repo, "scan", cwd=tree)
    assert scan_fast.head_outcome == "early" and scan_fast.last_outcome == "used"
    assert "Add b" in fast.stdout and "Add c" not in fast.stdout  # the worktree's HEAD
    _same_as_plain(repo, monkeypatch, fast, cwd=tree)


def test_head_moving_after_the_early_rev_parse_is_asked_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The early rev-parse answered the old HEAD; a commit lands before the scan asks: the
    scan lists the new HEAD (its own rev-parse), not the early answer."""
    history(repo)
    moved: list[str] = []

    def commit_now(prefetch) -> None:
        prefetch.proc.wait()
        prefetch.early_head().wait()  # the early answer names the old HEAD
        moved.append(repo.commit("Late" + CLAUDE, files={"late.py": "l\n"}))

    fast = cold_after_start(repo, monkeypatch, commit_now)
    assert moved and scan_fast.head_outcome == "asked"
    assert scan_fast.last_outcome == "discarded"
    assert moved[0][:12] in fast.stdout
    _same_as_plain(repo, monkeypatch, fast)


def test_a_branch_moved_in_packed_refs_or_a_retargeted_symbolic_ref_is_asked_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    repo.git("branch", "older", "HEAD~2")
    repo.git("pack-refs", "--all", "--prune")
    for start, change in (
        ("main", lambda: repo.git("symbolic-ref", "HEAD", "refs/heads/older")),  # another ref
        ("older", lambda: repo.git("update-ref", "refs/heads/older", "main~1")),  # packed moves
    ):
        repo.git("checkout", "-q", start)

        def move(prefetch, change=change) -> None:
            prefetch.early_head().wait()
            change()

        fast = cold_after_start(repo, monkeypatch, move)
        assert scan_fast.head_outcome == "asked"
        _same_as_plain(repo, monkeypatch, fast)


def test_head_moved_and_back_is_the_head_git_reads_now(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(repo)
    tip = repo.git("rev-parse", "HEAD").strip()

    def away_and_back(prefetch) -> None:
        repo.git("update-ref", "refs/heads/main", "HEAD~1")
        prefetch.early_head().wait()
        repo.git("update-ref", "refs/heads/main", tip)

    fast = cold_after_start(repo, monkeypatch, away_and_back)
    assert tip[:12] in fast.stdout or "Add c" in fast.stdout
    _same_as_plain(repo, monkeypatch, fast)


def test_head_naming_a_tag_object_or_a_failing_rev_parse_is_asked_again(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HEAD holding an annotated tag's sha: the files give the tag, rev-parse's HEAD^{commit}
    the commit; a rev-parse that fails: no answer. Both go the plain way."""
    history(repo)
    repo.git("tag", "-a", "-m", "t", "v1", "HEAD")
    tag = repo.git("rev-parse", "v1").strip()
    (repo.path / ".git" / "HEAD").write_text(tag + "\n")  # git itself refuses to write it
    scan_fast.head_outcome = None
    fast = cold(repo, "scan")
    assert scan_fast.head_outcome == "asked"
    _same_as_plain(repo, monkeypatch, fast)

    repo.git("checkout", "-q", "main")

    def fail(prefetch) -> None:
        from reviewq.sources import early_git
        from reviewq.sources.log_format import HEAD_AT_ONCE

        early_git.stop(prefetch.take_head())
        key = (scan_fast._HEAD_ASKER, prefetch.cwd, early_git.env_key(prefetch.env), HEAD_AT_ONCE)
        early_git._STARTED[key] = subprocess.Popen(
            ["git", "rev-parse", "--no-such-option"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    fast = cold_after_start(repo, monkeypatch, fail)
    assert scan_fast.head_outcome == "asked"
    _same_as_plain(repo, monkeypatch, fast)


# -- records from chunks: one splitter for the prefetched log and `Git.stream` ----------------


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([b"\0", b"a", b"bc", b"\xc3\xa9", b"\0\0", b"x" * 300]), max_size=40),
    st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=8),
    st.sampled_from([b"\0", b"\n", b"\x01"]),
)
def test_records_split_from_any_chunks_are_the_whole_streams(pieces, cuts, separator) -> None:
    """`split_chunks` over any cut of a stream gives the records of the whole stream (its last
    piece only when not empty), as `Git.stream` always read them."""
    from reviewq.sources.gitcmd import split_chunks

    data = b"".join(pieces).replace(b"\0", separator)
    chunks, at, i = [], 0, 0
    while at < len(data):
        chunks.append(data[at : at + cuts[i % len(cuts)]])
        at += cuts[i % len(cuts)]
        i += 1
    expected = data.split(separator)
    if expected and expected[-1] == b"":
        expected.pop()
    assert list(split_chunks(iter(chunks), separator)) == expected
