"""`[team]`: the repositories one team ships from, for `stats` and `report` over all of them.

```toml
[team]
repos = ["../orders", "../billing", "/srv/mirrors/payments.git"]
```

Paths are taken relative to the settings file's folder by the shell (`workflow.stats`); this
only checks their shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviewq.core.tomlcheck import ConfigError


@dataclass(frozen=True)
class TeamSettings:
    repos: tuple[str, ...] = ()


def parse_team(value: Any) -> TeamSettings:
    if not isinstance(value, dict):
        raise ConfigError(f"team: expected a table, got {value!r}")
    unknown = sorted(set(value) - {"repos"})
    if unknown:
        raise ConfigError(f"team: unknown key {unknown[0]!r} (allowed: repos)")
    repos = value.get("repos", [])
    if not isinstance(repos, list) or not all(isinstance(r, str) and r.strip() for r in repos):
        raise ConfigError(f"team.repos: expected a list of repository paths, got {repos!r}")
    if len(set(repos)) != len(repos):
        dup = next(r for r in repos if repos.count(r) > 1)
        raise ConfigError(f"team.repos: {dup!r} is listed twice")
    return TeamSettings(tuple(repos))
