"""`reviewq hooks install|uninstall`: a real pre-push hook, run by a real `git push`."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.conftest import Repo, run_reviewq

AI = "\n\nCo-authored-by: Codex <noreply@openai.com>\n"


def push(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", *args],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )


def hook_path(repo: Repo) -> Path:
    return repo.path / ".git" / "hooks" / "pre-push"


def test_install_writes_an_executable_hook_marked_as_ours(repo: Repo) -> None:
    repo.commit("base")
    result = run_reviewq("hooks", "install", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "installed" in result.stdout
    path = hook_path(repo)
    assert path.stat().st_mode & stat.S_IXUSR
    assert "# reviewq-managed-hook: pre-push" in path.read_text()
    again = run_reviewq("hooks", "install", cwd=repo.path)
    assert again.returncode == 0 and "updated" in again.stdout


def test_install_refuses_to_overwrite_a_foreign_hook_without_force(repo: Repo) -> None:
    repo.commit("base")
    path = hook_path(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho mine\n")
    result = run_reviewq("hooks", "install", cwd=repo.path)
    assert result.returncode == 2
    assert "not written by reviewq" in result.stderr and "--force" in result.stderr
    assert path.read_text() == "#!/bin/sh\necho mine\n"
    assert run_reviewq("hooks", "uninstall", cwd=repo.path).returncode == 2  # not ours either
    forced = run_reviewq("hooks", "install", "--force", cwd=repo.path)
    assert forced.returncode == 0, forced.stderr
    backup = path.with_name("pre-push.reviewq-backup")
    assert backup.read_text() == "#!/bin/sh\necho mine\n"
    assert "reviewq-managed-hook" in path.read_text()
    removed = run_reviewq("hooks", "uninstall", cwd=repo.path)
    assert removed.returncode == 0, removed.stderr
    assert path.read_text() == "#!/bin/sh\necho mine\n"  # restored
    assert not backup.exists()


def test_install_respects_core_hooks_path(repo: Repo) -> None:
    repo.commit("base")
    repo.git("config", "core.hooksPath", "githooks")
    assert run_reviewq("hooks", "install", cwd=repo.path).returncode == 0
    assert (repo.path / "githooks" / "pre-push").is_file()
    assert not hook_path(repo).exists()


def test_the_hook_refuses_a_push_of_an_unreviewed_ai_commit(make_repo) -> None:
    remote = make_repo("remote.git", bare=True)
    repo = make_repo("work")
    repo.commit("base", files={"README.md": "hi\n"})
    repo.git("remote", "add", "origin", str(remote.path))
    assert push(repo, "-q", "origin", "main").returncode == 0
    assert run_reviewq("hooks", "install", cwd=repo.path).returncode == 0

    # A human commit passes: nothing AI-authored in the pushed range.
    repo.commit("Human change", files={"a.txt": "a\n"})
    ok = push(repo, "origin", "main")
    assert ok.returncode == 0, ok.stderr
    assert "reviewq pre-push: gate" in ok.stderr

    sha = repo.commit("Add b" + AI, files={"b.txt": "b\n"})
    refused = push(repo, "origin", "main")
    assert refused.returncode != 0
    assert sha[:12] in refused.stderr or sha[:12] in refused.stdout
    assert "push refused" in refused.stderr
    assert remote.git("rev-parse", "main") != sha

    # A new branch is gated from the remote's default branch, not its whole history.
    repo.git("checkout", "-q", "-b", "feature")
    new = push(repo, "origin", "feature")
    assert new.returncode != 0 and "push refused" in new.stderr

    # Reviewed by someone who did not prompt it: the same push goes through.
    repo.git("checkout", "-q", "main")
    repo.git("config", "user.email", "ben@example.com")
    approve = run_reviewq("verdict", sha, "approve", "--seconds", "30", cwd=repo.path)
    assert approve.returncode == 0, approve.stderr
    ok = push(repo, "origin", "main")
    assert ok.returncode == 0, ok.stderr
    assert remote.git("rev-parse", "main") == sha


def test_no_verify_bypasses_the_hook_deliberately(make_repo) -> None:
    remote = make_repo("remote.git", bare=True)
    repo = make_repo("work")
    repo.commit("base", files={"README.md": "hi\n"})
    repo.git("remote", "add", "origin", str(remote.path))
    assert push(repo, "-q", "origin", "main").returncode == 0
    assert run_reviewq("hooks", "install", cwd=repo.path).returncode == 0
    sha = repo.commit("Add b" + AI, files={"b.txt": "b\n"})
    assert push(repo, "origin", "main").returncode != 0
    assert push(repo, "--no-verify", "origin", "main").returncode == 0
    assert remote.git("rev-parse", "main") == sha


def test_a_hook_without_reviewq_refuses_the_push(make_repo) -> None:
    from reviewq.commands.hooks import render

    remote = make_repo("remote.git", bare=True)
    repo = make_repo("work")
    repo.commit("base")
    repo.git("remote", "add", "origin", str(remote.path))
    path = hook_path(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render("/nonexistent/python3"))  # the interpreter it was installed with is gone
    path.chmod(0o755)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}  # and no `reviewq` on the PATH
    proc = subprocess.run(
        ["git", "push", "origin", "main"], cwd=repo.path, capture_output=True, text=True, env=env
    )
    assert proc.returncode != 0
    assert "reviewq is not installed" in proc.stderr
    assert remote.git("for-each-ref") == ""
