"""Checking decoded TOML: the few helpers every settings parser shares.

`core.config` parses `.reviewq.toml` section by section; the sections' own parsers live with
their topics (`core.scope`, `core.policy_rules`, `core.team`) and check their tables with these,
so none of them imports `core.config` and `core.config` imports them all at module level.
"""

from __future__ import annotations

from collections.abc import Mapping

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ConfigError(ValueError):
    """A malformed setting; the message starts with the key path."""


def check_keys(where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    """Unknown keys are errors: a typo must never silently weaken a setting."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def as_string(where: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def optional_string(where: str, table: Mapping[str, Any], key: str) -> str | None:
    if key not in table:
        return None
    return as_string(f"{where}.{key}", table[key])


def as_table(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
    return value
