"""What every command works against: one repository, its settings and its local state.

Built once from the global options (`--repo`, `--config`, `--log`) and handed down; the TUI and
the CLI share it, so they cannot disagree about where the log or the cache lives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewq.core.config import Config, ConfigError, parse_config
from reviewq.core.model import _FACTORY, _value_methods
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError

CONFIG_NAME = ".reviewq.toml"


def parse_config_text(text: str, origin: str) -> Config:
    import tomllib  # start-up: a repository without a settings file never parses TOML

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewqError(f"{origin}: malformed TOML ({exc}); fix the file") from None
    except RecursionError:  # a committed file is anyone's with push access: never a traceback
        raise ReviewqError(f"{origin}: malformed TOML (nested too deeply); fix the file") from None
    try:
        return parse_config(data, origin=origin)
    except ConfigError as exc:
        raise ReviewqError(f"{origin}: {exc}; fix the setting") from None


def load_config(git: Git | None, explicit: str | None = None) -> Config:
    """`--config FILE`, else the work tree's `.reviewq.toml`, else the one committed at HEAD.

    A bare clone (a CI mirror) has no work tree, so its policy is read from HEAD's tree.
    """
    if explicit is not None:
        path = Path(explicit)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReviewqError(
                f"{path}: cannot read config ({exc.strerror or exc}); check --config"
            ) from None
        except UnicodeDecodeError:
            raise ReviewqError(f"{path}: config is not UTF-8 text; check --config") from None
        return parse_config_text(text, str(path))
    if git is None:
        return Config()
    paths = git.paths()
    if paths.work_tree is not None:
        path = paths.work_tree / CONFIG_NAME
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ReviewqError(f"{path}: cannot read config ({exc}); fix the file") from None
            return parse_config_text(text, str(path))
        return Config()
    if not git.has_commits():
        return Config()
    try:
        blob = git.run(["cat-file", "blob", f"HEAD:{CONFIG_NAME}"], what="cat-file")
    except GitError:
        return Config()
    return parse_config_text(blob.decode("utf-8", "replace"), f"HEAD:{CONFIG_NAME}")


def config_at(git: Git, rev: str) -> Config:
    """The `.reviewq.toml` committed at `rev` (built-in defaults when it has none).

    The gate reads its policy here, from the base of the range it checks, so a change under review
    cannot rewrite the rules it is judged by. Unlike the work-tree reader, nothing is decoded
    leniently: a file that is not UTF-8 text is an error, not a policy with holes in it.
    """
    sha = git.resolve(rev)
    where = f"{sha[:12]}:{CONFIG_NAME}"
    entry = git.text(["ls-tree", "-z", "--full-tree", sha, "--", CONFIG_NAME], what="ls-tree")
    if not entry.strip("\0"):
        return Config(origin=None)
    meta, _, _name = entry.strip("\0").partition("\t")
    parts = meta.split()
    if len(parts) < 3 or parts[1] != "blob":
        raise ReviewqError(f"{where}: is not a file; fix the repository's settings")
    data = git.run(["cat-file", "blob", parts[2]], what="cat-file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ReviewqError(f"{where}: is not UTF-8 text; fix the file") from None
    return parse_config_text(text, where)


# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from reviewq.store.cache import Cache  # imported when a command opens the cache


@_value_methods(frozen=False)
@dataclass(init=False, repr=False, eq=False)
class Context:
    """One command's view of a repository: its git, its settings, where its log and state live."""

    git: Git
    config: Config
    #: Explicit `--log PATH`; None means the default inside the repository's git dir.
    log_override: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: The cache handle, opened on first use; shared with `with_config` copies.
    _cache: Cache | None = field(default=None, repr=False, compare=False)

    def __init__(
        self,
        git: Git,
        config: Config,
        log_override: Path | None = None,
        env: dict[str, str] = _FACTORY,
        _cache: Cache | None = None,
    ) -> None:
        self.git = git
        self.config = config
        self.log_override = log_override
        self.env = {} if env is _FACTORY else env
        self._cache = _cache

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
            # start-up: the cache file, only for commands that read the scan cache
            from reviewq.store.cache import Cache
            from reviewq.store.cache_digests import CRITIQUES_TABLE

            self._cache = Cache(self.state_dir / "cache.json", digested=(CRITIQUES_TABLE,))
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
        discard = getattr(self.git, "discard_started", None)  # tests may pass a fake Git
        if discard is not None:
            discard()
        if self._cache is not None:
            self._cache.close()
