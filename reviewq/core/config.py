"""`.reviewq.toml` as data: validated into typed sections, or one precise error.

The file is the repository's contract with reviewq; a typo must never silently weaken it. So
unknown keys are errors, every error names the key path, and each section is parsed by one
function here (later sections live beside `agents`). Reading the file is the shell's job
(`reviewq.config`); this module only sees the decoded TOML dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.detect import RepoRule
from reviewq.core.model import AUTHOR_FAMILIES, CONFIDENCES, ROLES


class ConfigError(ValueError):
    """A malformed setting; the message starts with the key path."""


def _check_keys(where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


def _str(where: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _opt_str(where: str, table: Mapping[str, Any], key: str) -> str | None:
    if key not in table:
        return None
    return _str(f"{where}.{key}", table[key])


def _table(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(value).__name__}")
    return value


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def parse_agent_rules(value: Any) -> tuple[RepoRule, ...]:
    """`[[agents]]`: identities or trailers of in-house agents -> agent, model, family."""
    if not isinstance(value, list):
        raise ConfigError("agents: expected an array of tables ([[agents]])")
    rules = []
    for i, raw in enumerate(value):
        where = f"agents[{i}]"
        table = _table(where, raw)
        _check_keys(
            where,
            table,
            {"agent", "model", "family", "role", "email", "name", "trailer", "value", "confidence"},
        )
        agent = _str(f"{where}.agent", table.get("agent", "other")).strip().lower()
        if not _SLUG.match(agent):
            raise ConfigError(f"{where}.agent: {agent!r} must be lower-case letters, digits, '-'")
        family = _opt_str(where, table, "family")
        if family is not None and family not in AUTHOR_FAMILIES:
            raise ConfigError(
                f"{where}.family: {family!r} is not a family ({', '.join(AUTHOR_FAMILIES)})"
            )
        role = table.get("role", "primary")
        if role not in ROLES:
            raise ConfigError(f"{where}.role: {role!r} must be one of {', '.join(ROLES)}")
        confidence = table.get("confidence", "high")
        if confidence not in CONFIDENCES:
            raise ConfigError(
                f"{where}.confidence: {confidence!r} must be one of {', '.join(CONFIDENCES)}"
            )
        email, name = _opt_str(where, table, "email"), _opt_str(where, table, "name")
        trailer = _opt_str(where, table, "trailer")
        if trailer is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]*$", trailer):
            raise ConfigError(f"{where}.trailer: {trailer!r} is not a trailer key")
        pattern = None
        if "value" in table:
            if trailer is None:
                raise ConfigError(f"{where}.value: only meaningful with `trailer`")
            try:
                pattern = re.compile(_str(f"{where}.value", table["value"]), re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"{where}.value: not a regular expression ({exc})") from None
        if not (email or name or trailer):
            raise ConfigError(f"{where}: give at least one of email, name or trailer to match")
        rules.append(
            RepoRule(
                agent=agent,
                model=_opt_str(where, table, "model"),
                family=family,
                role=role,
                email=email,
                name=name,
                trailer=trailer,
                value=pattern,
                confidence=confidence,
            )
        )
    return tuple(rules)


def parse_inbox(value: Any) -> str:
    """`inbox = "agent-output/"`: a folder of .patch/.diff/mbox files with sidecars."""
    return _str("inbox", value)


@dataclass(frozen=True)
class Config:
    """Parsed `.reviewq.toml`. `sections` keeps each parsed section by name for later rooms."""

    agents: tuple[RepoRule, ...] = ()
    inbox: str | None = None
    sections: Mapping[str, Any] = field(default_factory=dict)
    #: Where the settings came from (for messages); None for built-in defaults.
    origin: str | None = None

    def section(self, name: str, default: Any = None) -> Any:
        return self.sections.get(name, default)


def parse_scope_section(value: Any) -> Any:
    """`[scope]`: parsed by `core.scope` (imported here lazily: it builds on this module)."""
    from reviewq.core.scope import parse_scope

    return parse_scope(value)


#: Section name -> parser. Each later room adds its own parser here (one place per fact).
SECTION_PARSERS: dict[str, Callable[[Any], Any]] = {
    "agents": parse_agent_rules,
    "inbox": parse_inbox,
    "scope": parse_scope_section,
}


def parse_config(data: Mapping[str, Any], origin: str | None = None) -> Config:
    _check_keys("(top level)", data, set(SECTION_PARSERS))
    sections = {name: SECTION_PARSERS[name](value) for name, value in data.items()}
    return Config(
        agents=sections.get("agents", ()),
        inbox=sections.get("inbox"),
        sections=sections,
        origin=origin,
    )
