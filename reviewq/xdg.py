"""Where reviewq keeps its per-user files: the XDG base directories, worked out once.

| folder | variable | default | what reviewq keeps there |
|---|---|---|---|
| config | `XDG_CONFIG_HOME` | `~/.config` | `reviewq/themes/*.toml`, `reviewq/keymap.toml` |
| state | `XDG_STATE_HOME` | `~/.local/state` | `reviewq/` the TUI's own state (last theme, sizes) |
| cache | `XDG_CACHE_HOME` | `~/.cache` | `reviewq/` the session index, the demo repository |

An unset or empty variable, or a relative path (the spec says to ignore those), means the
default; `~` is expanded. Per-repository state (the log, its caches) lives in the repository's common git dir
instead (`RepoPaths.state_dir`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_DEFAULTS = {
    "XDG_CONFIG_HOME": (".config",),
    "XDG_STATE_HOME": (".local", "state"),
    "XDG_CACHE_HOME": (".cache",),
    "XDG_DATA_HOME": (".local", "share"),
}


def _home(variable: str, env: Mapping[str, str] | None) -> Path:
    env = os.environ if env is None else env
    value = os.path.expanduser(env.get(variable) or "")
    if value and os.path.isabs(value):
        return Path(value)
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home, *_DEFAULTS[variable])


def config_home(env: Mapping[str, str] | None = None) -> Path:
    return _home("XDG_CONFIG_HOME", env)


def state_home(env: Mapping[str, str] | None = None) -> Path:
    return _home("XDG_STATE_HOME", env)


def cache_home(env: Mapping[str, str] | None = None) -> Path:
    return _home("XDG_CACHE_HOME", env)


def data_home(env: Mapping[str, str] | None = None) -> Path:
    return _home("XDG_DATA_HOME", env)
