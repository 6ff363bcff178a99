"""`.reviewq.toml` as data: validated into typed sections, or one precise error.

The file is the repository's contract with reviewq; a typo must never silently weaken it. So
unknown keys are errors, every error names the key path, and each section is parsed by one
function here (later sections live beside `agents`). Reading the file is the shell's job
(`reviewq.context`); this module only sees the decoded TOML dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reviewq.core.detect import RepoRule
from reviewq.core.lazy_re import lazy
from reviewq.core.model import _FACTORY, AUTHOR_FAMILIES, CONFIDENCES, ROLES, _set, _value_methods
from reviewq.core.tomlcheck import (
    ConfigError,
    as_string,
    as_table,
    check_keys,
    optional_string,
)

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from reviewq.core.config_sections import CriticSettings, LogSettings, MetricsSettings
    from reviewq.core.scope import Scope
    from reviewq.core.team import TeamSettings

_SLUG = lazy(r"^[a-z0-9][a-z0-9-]*$")


def parse_agent_rules(value: Any) -> tuple[RepoRule, ...]:
    """`[[agents]]`: identities or trailers of in-house agents -> agent, model, family."""
    if not isinstance(value, list):
        raise ConfigError("agents: expected an array of tables ([[agents]])")
    rules = []
    for i, raw in enumerate(value):
        where = f"agents[{i}]"
        table = as_table(where, raw)
        check_keys(
            where,
            table,
            {"agent", "model", "family", "role", "email", "name", "trailer", "value", "confidence"},
        )
        agent = as_string(f"{where}.agent", table.get("agent", "other")).strip().lower()
        if not _SLUG.match(agent):
            raise ConfigError(f"{where}.agent: {agent!r} must be lower-case letters, digits, '-'")
        family = optional_string(where, table, "family")
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
        email, name = optional_string(where, table, "email"), optional_string(where, table, "name")
        trailer = optional_string(where, table, "trailer")
        if trailer is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]*$", trailer):
            raise ConfigError(f"{where}.trailer: {trailer!r} is not a trailer key")
        pattern = None
        if "value" in table:
            if trailer is None:
                raise ConfigError(f"{where}.value: only meaningful with `trailer`")
            try:
                pattern = re.compile(as_string(f"{where}.value", table["value"]), re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"{where}.value: not a regular expression ({exc})") from None
        if not (email or name or trailer):
            raise ConfigError(f"{where}: give at least one of email, name or trailer to match")
        rules.append(
            RepoRule(
                agent=agent,
                model=optional_string(where, table, "model"),
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
    return as_string("inbox", value)


# -- [critic], [log], [metrics]: `reviewq.core.config_sections`, made on first use --------------

_SECTION_NAMES = frozenset(
    {
        "CRITICS",
        "DEFAULT_NEVER_SEND",
        "ModelCriticSettings",
        "CriticSettings",
        "LogSettings",
        "MetricsSettings",
    }
)


def __getattr__(name: str) -> Any:
    if name in _SECTION_NAMES:
        from reviewq.core import config_sections

        globals().update({n: getattr(config_sections, n) for n in _SECTION_NAMES})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_critic(value: Any) -> Any:
    """`[critic]` (`core.config_sections`, imported only for a file that has one)."""
    from reviewq.core.config_sections import parse_critic as parse

    return parse(value)


def parse_log_section(value: Any) -> Any:
    """`[log]` (`core.config_sections`)."""
    from reviewq.core.config_sections import parse_log_section as parse

    return parse(value)


def parse_metrics(value: Any) -> Any:
    """`[metrics]` (`core.config_sections`)."""
    from reviewq.core.config_sections import parse_metrics as parse

    return parse(value)


@_value_methods
@dataclass(init=False, repr=False, eq=False)
class Config:
    """Parsed `.reviewq.toml`. `sections` keeps each parsed section by name; read them through
    the typed properties (`critic`, `log`, `metrics`, `scope`, `team`; the policy through
    `core.policy_rules.policy_from_sections`)."""

    agents: tuple[RepoRule, ...] = ()
    inbox: str | None = None
    sections: Mapping[str, Any] = field(default_factory=dict)
    #: Where the settings came from (for messages); None for built-in defaults.
    origin: str | None = None

    def __init__(
        self,
        agents: tuple[RepoRule, ...] = (),
        inbox: str | None = None,
        sections: Mapping[str, Any] = _FACTORY,
        origin: str | None = None,
    ) -> None:
        _set(self, "agents", agents)
        _set(self, "inbox", inbox)
        _set(self, "sections", {} if sections is _FACTORY else sections)
        _set(self, "origin", origin)

    @property
    def critic(self) -> CriticSettings:
        from reviewq.core.config_sections import CriticSettings

        return self.sections.get("critic") or CriticSettings()

    @property
    def log(self) -> LogSettings | None:
        """`[log]`, or None when the file has none."""
        return self.sections.get("log")

    @property
    def metrics(self) -> MetricsSettings | None:
        return self.sections.get("metrics")

    @property
    def scope(self) -> Scope | None:
        return self.sections.get("scope")

    @property
    def team(self) -> TeamSettings | None:
        return self.sections.get("team")


def parse_policy_section(value: Any) -> Any:
    """`[policy]` (`core.policy_rules`, imported only for a file that has one: its rule
    dataclasses cost a scan's start-up ~20 ms)."""
    from reviewq.core.policy_rules import parse_policy_section as parse

    return parse(value)


def parse_domains(value: Any) -> Any:
    """`[[domains]]` (`core.policy_rules`, imported only for a file that has them)."""
    from reviewq.core.policy_rules import parse_domains as parse

    return parse(value)


def parse_scope(value: Any) -> Any:
    """`[scope]` (`core.scope`, imported only for a file that has one: a scan needs neither it
    nor `core.team` otherwise)."""
    from reviewq.core.scope import parse_scope as parse

    return parse(value)


def parse_team(value: Any) -> Any:
    """`[team]` (`core.team`, imported only for a file that has one)."""
    from reviewq.core.team import parse_team as parse

    return parse(value)


#: Section name -> parser. Each later room adds its own parser here (one place per fact).
SECTION_PARSERS: dict[str, Callable[[Any], Any]] = {
    "agents": parse_agent_rules,
    "inbox": parse_inbox,
    "scope": parse_scope,
    "critic": parse_critic,
    "log": parse_log_section,
    "policy": parse_policy_section,
    "domains": parse_domains,
    "metrics": parse_metrics,
    "team": parse_team,
}


def parse_config(data: Mapping[str, Any], origin: str | None = None) -> Config:
    check_keys("(top level)", data, set(SECTION_PARSERS))
    sections = {name: SECTION_PARSERS[name](value) for name, value in data.items()}
    return Config(
        agents=sections.get("agents", ()),
        inbox=sections.get("inbox"),
        sections=sections,
        origin=origin,
    )
