"""reviewq's local state lives in the common git dir: one place computes it, and a linked
worktree's files (the extracted allowed-signers file too) land beside the shared log."""

from __future__ import annotations

from pathlib import Path

from reviewq.context import Context
from reviewq.sources.gitcmd import Git
from tests.conftest import Repo


def test_a_linked_worktree_shares_the_state_dir(repo: Repo, tmp_path: Path) -> None:
    repo.commit("first")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(linked))
    main = Git.open(repo.path).paths()
    other = Git.open(linked).paths()
    assert other.git_dir != main.git_dir  # .git/worktrees/linked
    assert other.state_dir == main.state_dir == (repo.path / ".git" / "reviewq").resolve()
    assert Context.open(str(linked)).state_dir == Context.open(str(repo.path)).state_dir


def test_the_signers_file_is_extracted_into_the_shared_state_dir(repo: Repo, tmp_path) -> None:
    # it used to land in .git/worktrees/<name>/reviewq, beside no log
    from reviewq.enforce import _blob_file

    repo.write("signers", "ana@acme.example ssh-ed25519 AAAAC3Nza\n")
    sha = repo.commit("first")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(linked))
    path = _blob_file(Git.open(linked), sha, "signers")
    assert path.parent == (repo.path / ".git" / "reviewq").resolve()
    assert path.read_text() == "ana@acme.example ssh-ed25519 AAAAC3Nza\n"
