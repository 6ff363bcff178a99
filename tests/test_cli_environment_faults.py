"""Faults of the environment reviewq runs in are one line and exit 2, never a traceback.

Issue 14, item 12: a model critic whose SDK is not installed, and a working directory deleted
under the shell. The real CLI in real subprocesses on real repositories.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_reviewq_process
from tests.fake_model import FakeModel


def _blocked(tmp_path: Path, *packages: str) -> str:
    """A PYTHONPATH directory whose `packages` fail to import, as if not installed."""
    shim = tmp_path / "shim"
    for name in packages:
        (shim / name).mkdir(parents=True)
        (shim / name / "__init__.py").write_text(f"raise ImportError('no {name} here')\n")
    return str(shim)


@pytest.mark.parametrize(
    ("critic", "package", "spec"),
    [("openai", "openai", "openai>=3.0"), ("anthropic", "anthropic", "anthropic>=2.0")],
)
def test_a_model_critic_without_its_sdk_is_one_line_with_the_pip_command(
    repo, tmp_path: Path, critic: str, package: str, spec: str
) -> None:
    sha = repo.commit(
        "Add x\n\nCo-authored-by: Codex <codex@openai.com>\n", files={"x.py": "X=1\n"}
    )
    with FakeModel() as model:
        (repo.path / ".reviewq.toml").write_text(
            f'\n[critic.{critic}]\nbase_url = "{model.url}"\nmodel = "qwen2.5-coder"\n'
        )
        # A fresh interpreter: the blocked import must be the first one of the SDK.
        out = run_reviewq_process(
            "critique",
            sha,
            "--critic",
            critic,
            "--allow-same-family",
            cwd=repo.path,
            env={"PYTHONPATH": _blocked(tmp_path, package), "ANTHROPIC_API_KEY": "k"},
        )
    assert out.returncode == 2, out.stdout
    assert "Traceback" not in out.stderr
    assert out.stderr == (
        f"reviewq: the {critic} critic needs the {package} package; install it where reviewq "
        f"runs: {shlex.quote(sys.executable)} -m pip install '{spec}', or use --critic static "
        "(offline)\n"
    )
    assert model.requests == []


def _in_deleted_dir(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    gone = tmp_path / "gone"
    gone.mkdir()
    script = 'cd "$1" && rmdir "$1" && shift && exec "$@"'
    return subprocess.run(
        ["sh", "-c", script, "sh", str(gone), sys.executable, "-P", "-m", "reviewq", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.mark.parametrize("args", [(), ("queue",), ("--repo", ".", "gate", "HEAD"), ("show", "x")])
def test_a_deleted_working_directory_is_one_line_and_exit_2(tmp_path: Path, args) -> None:
    out = _in_deleted_dir(tmp_path, *args)
    assert out.returncode == 2, out.stderr
    assert out.stderr == (
        "reviewq: the current directory no longer exists (deleted or moved away); cd into the "
        "repository, or pass --repo with an absolute path\n"
    )


def test_an_absolute_repo_still_works_from_a_deleted_directory(tmp_path: Path, repo) -> None:
    repo.commit("first")
    out = _in_deleted_dir(tmp_path, "--repo", str(repo.path), "queue")
    assert out.returncode == 0, out.stderr
    assert "pending" in out.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize(
    "args",
    [("scan",), ("scan", "--json"), ("log",), ("queue", "--json")],
    ids=["scan", "scan-json", "log", "queue-json"],
)
def test_output_to_a_full_disk_is_one_line_and_exit_2(repo, args) -> None:
    """`reviewq scan > /dev/full` (a full disk, a quota): one line naming the fault, exit 2,
    no traceback, the first time (cold) and from the stored answers (warm)."""
    repo.commit("Add x\n\nCo-authored-by: Codex <codex@openai.com>\n", files={"x.py": "X=1\n"})
    cmd = [sys.executable, "-P", "-m", "reviewq", *args]
    for attempt in ("cold", "warm"):
        with open("/dev/full", "w") as full:
            proc = subprocess.run(
                cmd, cwd=repo.path, stdout=full, stderr=subprocess.PIPE, text=True, check=False
            )
        assert proc.returncode == 2, (attempt, proc.stderr)
        assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        # The fault is one line; the table's own notes (`SIZE ?: ...`) may come before it.
        fault = [line for line in lines if "No space left on device" in line]
        assert len(fault) == 1 and fault == lines[-1:], (attempt, lines)
        assert all(line.startswith("reviewq: ") for line in lines), (attempt, lines)
        # Sanity: the command itself works, and this one run made the next one warm.
        assert run_reviewq_process(*args, cwd=repo.path).returncode == 0
