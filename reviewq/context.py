"""What every command works against: one repository, its settings and its local state.

Built once from the global options (`--repo`, `--config`, `--log`) and handed down; the TUI and
the CLI share it, so they cannot disagree about where the log or the cache lives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reviewq.config import load_config
from reviewq.core.config import Config
from reviewq.sources.gitcmd import Git

if TYPE_CHECKING:
    from reviewq.store.cache import Cache  # TinyDB: imported when a command opens the cache


@dataclass
class Context:
    git: Git
    config: Config
    #: Explicit `--log PATH`; None means the default inside the repository's git dir.
    log_override: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: The cache handle, opened on first use; shared with `with_config` copies.
    _cache: Cache | None = field(default=None, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        repo: str | os.PathLike[str] | None = None,
        config: str | None = None,
        log: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Context:
        git = Git.open(repo or os.getcwd(), env=env)
        return cls(
            git=git,
            config=load_config(git, config),
            log_override=Path(log) if log else None,
            env=dict(env or {}),
        )

    @property
    def state_dir(self) -> Path:
        """`<common git dir>/reviewq` (`RepoPaths.state_dir`): shared by every worktree, so two
        worktrees' TUIs write one log under one lock."""
        return self.git.paths().state_dir

    @property
    def log_path(self) -> Path:
        return self.log_override or self.state_dir / "log.jsonl"

    def log_cache(self, name: str) -> Path | None:
        """Where a cache derived from the log (its column tables) lives: one per repository,
        for its own log. An explicit --log is read as it is, never cached beside ours."""
        return None if self.log_override else self.state_dir / name

    @property
    def cache(self) -> Cache:
        if self._cache is None:
            from reviewq.store.cache import Cache

            self._cache = Cache(self.state_dir / "cache.json")
        return self._cache

    def with_config(self, config: Config) -> Context:
        """This repository under other settings (the gate reads the policy of a range's base),
        sharing this context's cache handle: one handle per process writes the cache file."""
        return replace(self, config=config, _cache=self.cache)

    @property
    def repo_root(self) -> Path:
        paths = self.git.paths()
        return paths.work_tree or paths.git_dir

    def inbox_dir(self) -> Path | None:
        if not self.config.inbox:
            return None
        path = Path(self.config.inbox).expanduser()
        return path if path.is_absolute() else self.repo_root / path

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
