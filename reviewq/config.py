"""Reading `.reviewq.toml` from disk or from the repository; parsing is `core.config`'s."""

from __future__ import annotations

import tomllib
from pathlib import Path

from reviewq.core.config import Config, ConfigError, parse_config
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError

CONFIG_NAME = ".reviewq.toml"


def parse_config_text(text: str, origin: str) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewqError(f"{origin}: malformed TOML ({exc}); fix the file") from None
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
