"""The warm `scan --json` answered before the CLI loads (`reviewq.workflow.scan_fast`).

It must give exactly what the full command gives, or step aside: every input the answer depends
on (refs, notes, rules and policy, git config, session stores, worktrees, the environment, the
repository asked about) sends it the full way when it changed, and an answer someone else could
have written is never replayed. Real repositories, the real CLI (in process and as a process).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewq.workflow.scan_answer import FOLDER
from reviewq.workflow.scan_fast import try_replay
from tests.conftest import FIXED_NOW, Repo, run_bare_probe, run_reviewq, run_reviewq_process
from tests.session_kit import ClaudeSession

CLAUDE = "\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n"
POISON = '{"sha": "poisoned"}\n'


@pytest.fixture(autouse=True)
def no_store_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME", "REVIEWQ_SESSIONS"):
        monkeypatch.delenv(key, raising=False)


def scan(repo: Repo, *extra: str, cwd: Path | None = None) -> str:
    out = run_reviewq("scan", "--json", *extra, cwd=cwd or repo.path)
    assert out.returncode == 0, out.stderr
    return out.stdout


def fresh(repo: Repo, *extra: str) -> str:
    return scan(repo, "--no-cache", *extra)


def folder(repo: Repo) -> Path:
    return repo.path / ".git" / "reviewq" / FOLDER


def poison(repo: Repo) -> None:
    for path in folder(repo).glob("*.jsonl"):
        head = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(head + b"\n" + POISON.encode())


def fast(cwd: Path, argv: tuple[str, ...] = ("scan", "--json"), env: dict | None = None):
    """What the fast path prints from `cwd`, or None when it steps aside."""
    saved = os.getcwd()
    os.chdir(cwd)
    try:
        out = io.StringIO()
        done = try_replay(list(argv), env=env, out=out)
    finally:
        os.chdir(saved)
    return out.getvalue() if done else None


def history(repo: Repo) -> dict[str, str]:
    shas = {"base": repo.commit("base", files={"a.py": "a\n"})}
    shas["ai"] = repo.commit("Add b" + CLAUDE, files={"b.py": "b\n" * 5})
    repo.git("checkout", "-q", "-b", "side")
    shas["side"] = repo.commit("Side" + CLAUDE, files={"s.py": "s\n"})
    repo.git("checkout", "-q", "main")
    shas["human"] = repo.commit("Human", files={"h.txt": "h\n"})
    return shas


def test_a_warm_scan_is_answered_before_the_cli_loads(repo: Repo) -> None:
    history(repo)
    first = scan(repo)
    assert (folder(repo) / "fast-main-s.txt").is_file()
    assert fast(repo.path) == first == fresh(repo)
    poison(repo)  # it is the stored answer that is printed
    assert fast(repo.path) == POISON
    assert scan(repo) == POISON
    # As a process too: `python -m reviewq` asks the fast path first.
    out = run_reviewq_process("scan", "--json", cwd=repo.path)
    assert (out.returncode, out.stdout, out.stderr) == (0, POISON, "")


def test_a_subdirectory_asks_the_same_question(repo: Repo) -> None:
    history(repo)
    first = scan(repo)
    (repo.path / "sub").mkdir()
    assert fast(repo.path / "sub") == first
    assert fast(repo.path, ("--repo", str(repo.path), "scan", "--json")) == first


def _new_commit(repo: Repo, shas: dict[str, str]) -> None:
    repo.commit("More" + CLAUDE, files={"m.py": "m\n"})


def _reset(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("reset", "-q", "--hard", shas["ai"])


def _branch(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("checkout", "-q", "side")


def _detach(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("checkout", "-q", "--detach", shas["ai"])


def _note(repo: Repo, shas: dict[str, str]) -> None:
    repo.note("refs/notes/reviewq-prompt", shas["ai"], "Add b, please")


def _rules(repo: Repo, shas: dict[str, str]) -> None:
    repo.write(".reviewq.toml", '[[agents]]\nemail = "reviewer@example.com"\nagent = "helper"\n')


def _policy(repo: Repo, shas: dict[str, str]) -> None:
    repo.write(".reviewq.toml", "[policy]\napprovals = 2\n")


def _repo_config(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("config", "log.showSignature", "false")


def _global_config(repo: Repo, shas: dict[str, str]) -> None:
    path = Path(os.environ["GIT_CONFIG_GLOBAL"])
    path.write_text(path.read_text() + "[log]\n\tdate = iso\n")


def _pack_refs(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("pack-refs", "--all")
    repo.git("update-ref", "refs/heads/main", shas["ai"])  # loose again, packed one older


def _session_store(repo: Repo, shas: dict[str, str]) -> None:
    (Path(os.environ["HOME"]) / ".claude" / "projects").mkdir(parents=True)


def _session_file(repo: Repo, shas: dict[str, str]) -> None:
    folder = Path(os.environ["HOME"]) / ".claude" / "projects" / "p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text("{}\n")


def _aider_history(repo: Repo, shas: dict[str, str]) -> None:
    repo.write(".aider.chat.history.md", "# aider chat\n")


def _worktree(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("worktree", "add", "-q", str(repo.path.parent / "wt2"), "side")


def _worktree_moved(repo: Repo, shas: dict[str, str]) -> None:
    repo.git("worktree", "add", "-q", str(repo.path.parent / "wt3"), "side")
    scan(repo)
    assert fast(repo.path) is not None
    repo.git("worktree", "move", str(repo.path.parent / "wt3"), str(repo.path.parent / "wt4"))


CHANGES = [
    _new_commit,
    _reset,
    _branch,
    _detach,
    _note,
    _rules,
    _policy,
    _repo_config,
    _global_config,
    _pack_refs,
    _session_store,
    _session_file,
    _aider_history,
    _worktree,
    _worktree_moved,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__.strip("_"))
def test_a_changed_input_goes_the_full_way(repo: Repo, change) -> None:
    shas = history(repo)
    scan(repo)
    assert fast(repo.path) is not None
    change(repo, shas)
    assert fast(repo.path) is None
    assert scan(repo) == fresh(repo)
    # ... and the full scan leaves a record for the next warm run.
    assert fast(repo.path) == fresh(repo)


def test_a_session_file_that_grows_or_is_touched_goes_the_full_way(repo: Repo) -> None:
    """With session stores present the fast path still answers, until any file there changes
    (the session index keys files by size and mtime; so does the witness)."""
    base = FIXED_NOW - timedelta(hours=5)
    repo.commit("base", files={"auth.py": "x = 0\n"}, when=base)
    s = ClaudeSession("5b0c2d1e-0000-4000-8000-0000000000f3", repo.path)
    s.user(base + timedelta(minutes=1), "Fix the refresh race")
    s.edit(base + timedelta(minutes=2), repo.path / "auth.py")
    repo.commit(
        "Fix refresh race" + CLAUDE, files={"auth.py": "x = 1\n"}, when=base + timedelta(minutes=3)
    )
    home = Path(os.environ["HOME"])
    path = s.write(home)
    first = scan(repo)
    assert json.loads(first)["prompt"] == "Fix the refresh race"
    assert fast(repo.path) == first
    s.user(base + timedelta(minutes=2, seconds=30), "and keep it short")
    s.write(home)
    assert fast(repo.path) is None
    assert scan(repo) == fresh(repo)
    assert fast(repo.path) == fresh(repo)
    os.utime(path, ns=(1, 1))  # the same bytes, another mtime: the index would reread it
    assert fast(repo.path) is None
    other = path.parent / "another.jsonl"
    scan(repo)
    other.write_text("")
    assert fast(repo.path) is None


def test_work_in_a_linked_worktree_does_not_stale_the_main_answer(repo: Repo) -> None:
    history(repo)
    other = repo.path.parent / "linked"
    repo.git("worktree", "add", "-q", str(other), "side")
    first = scan(repo)
    (other / "new.txt").write_text("n\n")
    Repo(other).git("add", "new.txt")  # the linked worktree's index changes
    assert fast(repo.path) == first
    linked = scan(repo, cwd=other)  # a linked worktree has its own record and HEAD
    assert linked == run_reviewq("scan", "--json", "--no-cache", cwd=other).stdout
    assert fast(other) == linked != first
    assert fast(repo.path) == first


def test_a_broken_config_is_reported_not_replayed(repo: Repo) -> None:
    history(repo)
    scan(repo)
    repo.write(".reviewq.toml", "[policy\n")
    out = run_reviewq("scan", "--json", cwd=repo.path)
    assert (out.returncode, out.stdout) == (2, "")
    assert "malformed TOML" in out.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"XDG_DATA_HOME": "/elsewhere"},
        {"HOME": "/elsewhere"},
        {"REVIEWQ_SESSIONS": "0"},
        {"CLAUDE_CONFIG_DIR": "/elsewhere"},
        {"GIT_DIR": ".git"},
        {"GIT_CONFIG_PARAMETERS": "'log.showsignature'='true'"},
        {"GIT_TRACE": "1"},
    ],
    ids=lambda e: next(iter(e)),
)
def test_another_environment_is_another_question(repo: Repo, env: dict[str, str]) -> None:
    history(repo)
    scan(repo)
    assert fast(repo.path, env=dict(os.environ)) is not None
    assert fast(repo.path, env={**os.environ, **env}) is None


def test_no_sessions_and_other_forms_are_their_own_questions(repo: Repo) -> None:
    shas = history(repo)
    scan(repo)
    assert fast(repo.path, ("scan", "--json", "--no-sessions")) is None
    assert fast(repo.path, ("scan", "--json", "HEAD")) is None
    assert fast(repo.path, ("scan", "--json", "--max-count", "1")) is None
    assert fast(repo.path, ("--config", "x.toml", "scan", "--json")) is None
    assert fast(repo.path, ("gate", "--json", "scan")) is None
    assert fast(repo.path, ("scan",)) is None
    off = scan(repo, "--no-sessions")
    assert fast(repo.path, ("scan", "--no-sessions", "--json")) == off
    assert shas


def test_another_repository_is_never_answered_from_this_one(make_repo) -> None:
    one, two = make_repo("one"), make_repo("two")
    history(one)
    two.commit("Other" + CLAUDE, files={"o.py": "o\n"})
    first = scan(one)
    other = run_reviewq("--repo", str(two.path), "scan", "--json", cwd=one.path).stdout
    assert other == fresh(two) != first
    assert fast(one.path, ("--repo", str(two.path), "scan", "--json")) == other
    assert fast(two.path) == other
    assert fast(one.path) == first


# -- answers someone else could have written ---------------------------------------------------


def test_an_answer_others_can_write_is_not_replayed(repo: Repo) -> None:
    history(repo)
    first = scan(repo)
    poison(repo)
    answer = next(folder(repo).glob("*.jsonl"))
    answer.chmod(0o666)
    assert fast(repo.path) is None
    answer.chmod(0o600)
    record = folder(repo) / "fast-main-s.txt"
    record.chmod(0o620)
    assert fast(repo.path) is None
    record.chmod(0o600)
    assert fast(repo.path) == POISON  # the same files, owned and private: replayed
    assert first


def test_a_symlinked_or_foreign_answer_is_not_replayed(repo: Repo, tmp_path: Path) -> None:
    history(repo)
    scan(repo)
    answer = next(folder(repo).glob("*.jsonl"))
    planted = tmp_path / "planted.jsonl"
    planted.write_bytes(answer.read_bytes().split(b"\n", 1)[0] + b"\n" + POISON.encode())
    planted.chmod(0o600)
    answer.unlink()
    answer.symlink_to(planted)
    assert fast(repo.path) is None
    # A record pointing at an answer outside the answers folder is ignored too.
    answer.unlink()
    record = folder(repo) / "fast-main-s.txt"
    text = record.read_text().replace(str(answer), str(planted))
    record.write_text(text)
    record.chmod(0o600)
    assert fast(repo.path) is None
    assert POISON not in scan(repo)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_an_answer_owned_by_another_account_is_not_replayed(repo: Repo) -> None:
    history(repo)
    scan(repo)
    poison(repo)
    answer = next(folder(repo).glob("*.jsonl"))
    os.chown(answer, 65534, -1)
    assert fast(repo.path) is None
    os.chown(answer, 0, -1)
    os.chown(folder(repo) / "fast-main-s.txt", 65534, -1)
    assert fast(repo.path) is None


def test_the_gate_never_reads_a_stored_answer(repo: Repo) -> None:
    base = repo.commit("base", files={"a.py": "a\n"})
    ai = repo.commit("Add b" + CLAUDE, files={"b.py": "b\n"})
    scan(repo)
    for path in folder(repo).glob("*.jsonl"):  # an answer that says: nothing AI here
        path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")
    out = run_reviewq("gate", f"{base}..HEAD", "--json", cwd=repo.path)
    assert out.returncode == 1
    assert ai in out.stdout


# -- the property: whatever happened, the fast answer is the full one -------------------------

OPS = st.lists(
    st.sampled_from(["ai", "human", "note", "rules", "branch", "back", "reset"]),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=OPS)
def test_the_fast_answer_is_always_the_full_one(tmp_path_factory, ops: list[str]) -> None:
    repo = Repo(tmp_path_factory.mktemp("prop") / "repo")
    repo.commit("base", files={"a.py": "a\n"})
    for n, op in enumerate(ops, 1):
        if op == "ai":
            repo.commit(f"AI {n}" + CLAUDE, files={f"f{n}.py": "x\n" * n})
        elif op == "human":
            repo.commit(f"Human {n}", files={f"h{n}.txt": "h\n"})
        elif op == "note":
            repo.note("refs/notes/reviewq-prompt", repo.git("rev-parse", "HEAD"), f"prompt {n}")
        elif op == "rules":
            repo.write(
                ".reviewq.toml",
                f'[[agents]]\nemail = "reviewer@example.com"\nagent = "bot{n % 2}"\n',
            )
        elif op == "branch":
            repo.git("checkout", "-q", "-B", f"b{n}")
        elif op == "back":
            repo.git("checkout", "-q", "main")
        elif op == "reset" and int(repo.git("rev-list", "--count", "HEAD")) > 1:
            repo.git("reset", "-q", "--hard", "HEAD~1")
        warm = fast(repo.path)
        full = fresh(repo)
        assert warm is None or warm == full
        assert scan(repo) == full
        assert fast(repo.path) in (None, full)


def test_the_gate_never_reads_the_scan_cache(repo: Repo) -> None:
    """A local shell that empties the scan cache's records for the range must not pass the gate."""
    import orjson

    base = repo.commit("base", files={"a.py": "a\n"})
    ai = repo.commit("Add b" + CLAUDE, files={"b.py": "b\n"})
    first = run_reviewq("gate", f"{base}..HEAD", "--json", cwd=repo.path)
    assert first.returncode == 1 and ai in first.stdout
    assert ai in scan(repo, f"{base}..HEAD")  # the scan caches the range under the gate's key
    cache = repo.path / ".git" / "reviewq" / "cache.json"
    data = orjson.loads(cache.read_bytes())
    for doc in data["scan"].values():  # TinyDB documents: {"k": key, "v": value}
        doc["v"]["records"] = []
    cache.write_bytes(orjson.dumps(data))
    shutil.rmtree(folder(repo))  # no stored answer: the scan reads the (forged) cache
    assert ai not in scan(repo, f"{base}..HEAD")
    again = run_reviewq("gate", f"{base}..HEAD", "--json", cwd=repo.path)
    assert again.returncode == 1
    assert ai in again.stdout


def test_every_session_file_discover_finds_is_under_a_witnessed_place(repo: Repo) -> None:
    from reviewq.sources.sessions.stores import discover
    from reviewq.workflow.scan_fast import session_places

    home = Path(os.environ["HOME"])
    data = Path(os.environ["XDG_DATA_HOME"])
    files = [
        home / ".claude/projects/p/s.jsonl",
        home / ".claude/projects/p/s/subagents/agent-1.jsonl",
        home / ".codex/sessions/2026/01/01/rollout-1.jsonl",
        home / ".codex/archived_sessions/rollout-2.jsonl",
        home / ".gemini/tmp/proj/chats/session-1.json",
        data / "opencode/storage/session/x/ses_1.json",
        data / "opencode/opencode.db",
        repo.path / ".aider.chat.history.md",
        repo.path / ".specstory/history/a.md",
    ]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    (home / ".gemini/tmp/proj/.project_root").write_text(str(repo.path))
    roots = [os.path.realpath(repo.path)]
    places = [Path(p) for p in session_places(dict(os.environ), roots)]
    found = discover(dict(os.environ), roots)
    assert len(found) >= len(files) - 1
    for f in found:
        assert any(f.path == p or p in f.path.parents for p in places), f.path


def test_another_git_or_another_reviewq_is_another_question(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil as sh

    from reviewq.workflow import scan_fast

    real_git = sh.which("git")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    history(repo)
    first = scan(repo)
    assert fast(repo.path) == first
    # The same PATH now finds another git first.
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nexec {real_git} "$@"\n')
    wrapper.chmod(0o755)
    assert fast(repo.path) is None
    wrapper.unlink()
    assert fast(repo.path) == first
    monkeypatch.setattr(scan_fast, "code_stamp", lambda: "code edited")
    assert fast(repo.path) is None


def test_a_warm_replay_loads_neither_typing_nor_openssl(repo: Repo) -> None:
    """The fast path answers before the command line loads: the digests of its key come from
    `core.digest`, which imports nothing (`typing` ~3 ms, `hashlib`'s OpenSSL ~3 ms, of a
    ~35 ms answer). `-S`: no site-packages start-up (the editable install's finder imports
    `typing` itself); the source tree and the venv's packages come by `PYTHONPATH`."""

    history(repo)
    scan(repo)  # the full path stores the answer and the fast record
    assert fast(repo.path) is not None
    # The answer is keyed by the environment: the probe asks with this process's own.
    probe = (
        "import io, json, os, sys\n"
        "from reviewq.workflow.scan_fast import try_replay\n"
        "env = json.loads(os.environ['PROBE_ENV'])\n"
        "done = try_replay(['scan', '--json'], env=env, out=io.StringIO())\n"
        "print(done, 'typing' in sys.modules, 'hashlib' in sys.modules)\n"
    )
    proc = run_bare_probe(probe, repo.path, {"PROBE_ENV": json.dumps(dict(os.environ))})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False", "False"]
