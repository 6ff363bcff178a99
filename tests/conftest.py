"""Shared fixtures: real git repositories in temp dirs, with the tests' own git identity.

Git never reads the machine's config here: every test runs with `GIT_CONFIG_GLOBAL` pointing at
a file of its own and `GIT_CONFIG_NOSYSTEM=1`, and subprocesses (the `reviewq` CLI) inherit that.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: a quick pass in the default suite (80 examples: it must stay inside its 5
# minutes), >= 10,000 examples in the thorough run that .ci/run makes.
settings.register_profile(
    "default", max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def _write_gitconfig(home: Path) -> Path:
    cfg = home / ".gitconfig"
    cfg.write_text(
        "[user]\n\tname = Test Reviewer\n\temail = reviewer@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
        "[core]\n\tautocrlf = false\n"
    )
    return cfg


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Isolate git (and XDG dirs) from the machine for every test."""
    home = tmp_path_factory.mktemp("home")
    cfg = _write_gitconfig(home)
    env = {
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(cfg),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "GIT_TERMINAL_PROMPT": "0",
    }
    for key in list(os.environ):
        if key.startswith("GIT_") and key not in env:
            monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The width of whatever runs the tests (pytest-xdist's workers say COLUMNS=80) is not the
    # width of a captured command's output: a test that wants one sets it.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # A command run without its own `cwd` must not reach the source tree's repository (a scan
    # there once wrote a cache into the tree's own `.git`): every test starts in an empty
    # directory that is no repository.
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    return env


class Repo:
    """A real repository in a temp dir with helpers to make commits exactly as agents do."""

    def __init__(self, path: Path, bare: bool = False) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", *(["--bare"] if bare else ["-b", "main"]))
        self._tick = 0

    def git(self, *args: str, input: str | bytes | None = None, env: dict | None = None) -> str:
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            input=data,
            capture_output=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "replace").strip()

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def commit(
        self,
        message: str,
        *,
        author: tuple[str, str] = ("Ada Lovelace", "ada@example.com"),
        committer: tuple[str, str] | None = None,
        files: dict[str, str | bytes] | None = None,
        when: datetime | None = None,
        allow_empty: bool = True,
    ) -> str:
        self._tick += 1
        default = {f"file{self._tick}.txt": f"change {self._tick}\n"}
        for rel, content in (default if files is None else files).items():
            self.write(rel, content)
        self.git("add", "-A")
        when = when or (FIXED_NOW - timedelta(hours=100 - self._tick))
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": when.isoformat(),
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": when.isoformat(),
        }
        args = ["commit", "-q", "--no-verify", "-F", "-"]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, input=message, env=env)
        return self.git("rev-parse", "HEAD")

    def note(self, ref: str, sha: str, text: str) -> None:
        self.git("notes", f"--ref={ref}", "add", "-f", "-F", "-", sha, input=text)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture
def make_repo(tmp_path: Path):
    def make(name: str = "repo", bare: bool = False) -> Repo:
        return Repo(tmp_path / name, bare=bare)

    return make


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo repository, built once per session; copy it before changing anything."""
    from reviewq.demo.builder import build_demo

    home = tmp_path_factory.mktemp("demo-home")
    cfg = _write_gitconfig(home)
    old = {k: os.environ.get(k) for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "HOME")}
    os.environ.update(
        {"GIT_CONFIG_GLOBAL": str(cfg), "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(home)}
    )
    try:
        return build_demo(tmp_path_factory.mktemp("demo-template") / "orders", now=FIXED_NOW)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def demo_repo(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo repository for one test."""
    target = tmp_path / "orders"
    shutil.copytree(demo_template, target, symlinks=True)
    return target


def run_reviewq_process(
    *args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a real subprocess, as users and CI run it.

    For what only a process boundary shows: start-up imports, signals, exit codes set by the
    interpreter, concurrent writers. Everything else uses the in-process `run_reviewq`.
    """
    return subprocess.run(
        [sys.executable, "-P", "-m", "reviewq", *args],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


#: Real commit messages and identities of public repositories with AI-agent commits
#: (../shared/data/real-commits beside the repository, or the workspace's copy for a clone made
#: elsewhere); tests that compare a fast path with the plain one on them skip without them.
REAL_COMMITS = next(
    (
        folder
        for folder in (
            Path(__file__).resolve().parents[2] / "shared" / "data" / "real-commits",
            Path("/work/shared/data/real-commits"),
        )
        if folder.is_dir()
    ),
    Path("/work/shared/data/real-commits"),
)


def real_commits() -> list[dict]:
    """Every sample of `REAL_COMMITS`, one dict per commit (message, identities, sha)."""
    import json

    rows = []
    for path in sorted(REAL_COMMITS.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows


def run_bare_probe(
    probe: str, cwd: Path, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """`probe` in an interpreter with no site start-up (`-S`: the editable install's finder
    imports modules of its own), the source tree and the venv's packages on `PYTHONPATH`: for
    what a process loads (a test that asserts a module is never imported)."""
    import sysconfig

    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": f"{root}:{sysconfig.get_paths()['purelib']}",
            **(env or {}),
        },
        check=False,
    )


class _Captured(io.TextIOWrapper):
    """A text stream over bytes, like a pipe: has `.buffer`, is not a terminal."""

    def __init__(self, data: bytes = b"") -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8", errors="surrogateescape", newline=None)

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        self.flush()
        return self.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]


def run_reviewq(
    *args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI, `cli.main(argv)`, run in this process with its own cwd, env and streams.

    Starting an interpreter per call cost most of the suite's time; the command code, argument
    parsing and error handling are the same. A call from another thread (the sync races) runs a
    real subprocess, since cwd and the standard streams belong to the whole process. An
    exception that escapes `main` is re-raised here: a traceback the user would see fails the test.
    """
    if threading.current_thread() is not threading.main_thread():
        return run_reviewq_process(*args, cwd=cwd, input=input, env=env)
    from reviewq.cli import main

    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = (sys.stdin, sys.stdout, sys.stderr, sys.__stdout__)
    out, err = _Captured(), _Captured()
    sys.stdin = _Captured((input or "").encode())
    # `sys.__stdout__` too: the terminal size is asked of it, and a pipe has none (as for a
    # subprocess whose output is captured), whatever pytest's own output is.
    sys.stdout, sys.stderr, sys.__stdout__ = out, err, out
    try:
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's --help and --version
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.stdin, sys.stdout, sys.stderr, sys.__stdout__ = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(
        ["reviewq", *args], code, stdout=out.text(), stderr=err.text()
    )


@pytest.fixture
def cli():
    return run_reviewq


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config, items


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (addopts): one worker per core for the suite or a folder; one process when
    the run names only test files or tests (`pytest -q tests/test_gate.py`, `...::test_x`),
    where starting workers costs more than it saves and `-s` output and tracebacks show as
    they happen. `-n 2` (a number) or PYTEST_XDIST_AUTO_NUM_WORKERS overrides this."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    args = [a for a in config.args if not a.startswith("-")]
    if args and all("::" in a or Path(a).is_file() for a in args):
        return 0
    return None


@pytest.fixture(autouse=True)
def _unfreeze_after():
    """Opening a diff or a large queue freezes the heap (`core.alloc.keep_out_of_sight`,
    `keep_as_long_lived`); the worker lives on, so what one test froze is handed back to the
    collector after it, whichever test the scheduler gives that worker next."""
    yield
    import gc

    gc.unfreeze()


__all__ = ["FIXED_NOW", "Repo", "run_reviewq"]
