"""reviewq's local state lives in the common git dir: one place computes it, and a linked
worktree's files (the extracted allowed-signers file too) land beside the shared log."""

from __future__ import annotations

import os
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
    from reviewq.workflow.gate import _blob_file

    repo.write("signers", "ana@acme.example ssh-ed25519 AAAAC3Nza\n")
    sha = repo.commit("first")
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", str(linked))
    path = _blob_file(Git.open(linked), sha, "signers")
    assert path.parent == (repo.path / ".git" / "reviewq").resolve()
    assert path.read_text() == "ana@acme.example ssh-ed25519 AAAAC3Nza\n"


def test_the_xdg_folders_are_worked_out_in_one_place(tmp_path) -> None:
    from reviewq.sources.sessions.index import cache_dir
    from reviewq.tui.app import ui_state_path
    from reviewq.tui.keymap import user_keymap_path
    from reviewq.tui.themes import user_theme_dir
    from reviewq.xdg import cache_home, config_home, state_home

    home = str(tmp_path)
    bare = {"HOME": home}
    assert state_home(bare) == tmp_path / ".local" / "state"
    assert ui_state_path(bare) == tmp_path / ".local" / "state" / "reviewq" / "tui.json"
    assert user_keymap_path(bare) == tmp_path / ".config" / "reviewq" / "keymap.toml"
    assert cache_dir(bare) == tmp_path / ".cache" / "reviewq" / "sessions"
    # a relative value is ignored (the XDG spec), an absolute one is used, `~` is expanded
    assert config_home({**bare, "XDG_CONFIG_HOME": "relative/dir"}) == tmp_path / ".config"
    assert user_theme_dir({**bare, "XDG_CONFIG_HOME": "/etc/x"}) == Path("/etc/x/reviewq/themes")
    assert cache_home({**bare, "XDG_CACHE_HOME": "~/c"}) == Path(os.path.expanduser("~/c"))


def test_the_tuis_remembered_state_follows_no_planted_link(tmp_path) -> None:
    """The TUI remembers the theme in the user's state folder: a link planted at the fixed
    temporary name it once wrote through is not followed (the file it points at is kept)."""
    import json
    from types import SimpleNamespace

    from reviewq.tui.app import ReviewqApp, ui_state_path

    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    path = ui_state_path(env)
    path.parent.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_text("mine\n")
    path.with_suffix(".tmp").symlink_to(victim)
    app = SimpleNamespace(remember=True, _state={}, env=env)  # what `_write_state` reads
    ReviewqApp._write_state(app, theme="dracula")  # type: ignore[arg-type]
    assert victim.read_text() == "mine\n"
    assert json.loads(path.read_text()) == {"theme": "dracula"}
