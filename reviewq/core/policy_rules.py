"""The policy's rules as data: `[policy]` and `[[domains]]` parsed into a `Policy`, and the
strictest of several domains' rules merged into one set of `Requirements`.

(Evaluation against verdicts lives in `core.policy`; the file's format is described there.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reviewq.core.globs import compile_glob, glob_regex
from reviewq.core.tomlcheck import ConfigError, as_string, as_table, check_keys

DEFAULT_DOMAIN = "default"
#: An `approvers` entry meaning "anyone whose signature verifies against git's allowed signers".
ALLOWED_SIGNERS = "allowed-signers"

RULE_KEYS = (
    "approvals",
    "second_family_critique",
    "min_seconds_per_100_lines",
    "cooldown_hours",
    "checklist",
    "approvers",
    "signed_approvals",
    "velocity_owners",
)
_MAX_APPROVALS = 50
_DOMAIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Rule:
    """What one domain requires before an AI-authored change in it may pass the gate."""

    approvals: int = 1
    second_family_critique: bool = False
    min_seconds_per_100_lines: float = 0.0
    cooldown_hours: float = 0.0
    checklist: tuple[str, ...] = ()
    #: Who may approve: emails, email globs, or `allowed-signers`. Empty: anyone (not excluded).
    approvers: tuple[str, ...] = ()
    signed_approvals: bool = False
    velocity_owners: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "approvals": self.approvals,
            "second_family_critique": self.second_family_critique,
            "min_seconds_per_100_lines": self.min_seconds_per_100_lines,
            "cooldown_hours": self.cooldown_hours,
            "checklist": list(self.checklist),
            "approvers": list(self.approvers),
            "signed_approvals": self.signed_approvals,
            "velocity_owners": list(self.velocity_owners),
        }


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if value < 0:
        raise ConfigError(f"{where}: must not be negative, got {value!r}")
    return float(value)


def _count(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    if not 0 <= value <= _MAX_APPROVALS:
        raise ConfigError(f"{where}: must be between 0 and {_MAX_APPROVALS}, got {value!r}")
    return value


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected an array of strings, got {value!r}")
    out: list[str] = []
    for i, item in enumerate(value):
        text = " ".join(as_string(f"{where}[{i}]", item).split())
        if text in out:
            raise ConfigError(f"{where}[{i}]: {item!r} is listed twice")
        out.append(text)
    return tuple(out)


def _emails(where: str, value: Any, *, allow_signers: bool) -> tuple[str, ...]:
    items = _strings(where, value)
    for i, item in enumerate(items):
        if allow_signers and item == ALLOWED_SIGNERS:
            continue
        if "@" not in item or " " in item:
            extra = f", an email glob or {ALLOWED_SIGNERS!r}" if allow_signers else " or email glob"
            raise ConfigError(f"{where}[{i}]: {item!r} is not an email{extra}")
    return tuple(item.lower() for item in items)


def _rule_values(where: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """The rule keys `table` sets, validated (unset keys are absent: they inherit)."""
    out: dict[str, Any] = {}
    for key in RULE_KEYS:
        if key not in table:
            continue
        value, at = table[key], f"{where}.{key}"
        if key == "approvals":
            out[key] = _count(at, value)
        elif key in ("second_family_critique", "signed_approvals"):
            out[key] = _bool(at, value)
        elif key in ("min_seconds_per_100_lines", "cooldown_hours"):
            out[key] = _number(at, value)
        elif key == "checklist":
            out[key] = _strings(at, value)
        elif key == "approvers":
            out[key] = _emails(at, value, allow_signers=True)
        else:
            out[key] = _emails(at, value, allow_signers=False)
    return out


@dataclass(frozen=True, slots=True)
class PolicySection:
    """`[policy]` as written: the keys it sets (the default domain's rule, inherited by domains)."""

    values: tuple[tuple[str, Any], ...] = ()

    def rule(self) -> Rule:
        return Rule(**dict(self.values))


@dataclass(frozen=True, slots=True)
class DomainSpec:
    """One `[[domains]]` table as written (its rule keys inherit from `[policy]`)."""

    name: str
    paths: tuple[str, ...]
    values: tuple[tuple[str, Any], ...] = ()


def parse_policy_section(value: Any) -> PolicySection:
    """`[policy]`: the rule for paths in no domain; domains inherit the keys they do not set."""
    table = as_table("policy", value)
    check_keys("policy", table, set(RULE_KEYS))
    return PolicySection(tuple(_rule_values("policy", table).items()))


def parse_domains(value: Any) -> tuple[DomainSpec, ...]:
    """`[[domains]]`: named path globs, each with its own rule."""
    if not isinstance(value, list):
        raise ConfigError("domains: expected an array of tables ([[domains]])")
    specs: list[DomainSpec] = []
    for i, raw in enumerate(value):
        where = f"domains[{i}]"
        table = as_table(where, raw)
        check_keys(where, table, {"name", "paths", *RULE_KEYS})
        if "name" not in table:
            raise ConfigError(f'{where}: missing `name` (a short label like "auth")')
        name = as_string(f"{where}.name", table["name"]).strip()
        if not _DOMAIN_NAME.match(name):
            raise ConfigError(
                f"{where}.name: {name!r} must be lower-case letters, digits, '-' or '_'"
            )
        if name == DEFAULT_DOMAIN:
            raise ConfigError(
                f"{where}.name: {DEFAULT_DOMAIN!r} is the rule for paths in no domain; "
                "set it in [policy]"
            )
        if any(s.name == name for s in specs):
            raise ConfigError(f"{where}.name: domain {name!r} is defined twice")
        if "paths" not in table:
            raise ConfigError(f'{where}: missing `paths` (globs such as "auth/**")')
        raw_paths = table["paths"]
        if not isinstance(raw_paths, list) or not raw_paths:
            raise ConfigError(f"{where}.paths: expected a non-empty array of path globs")
        paths = []
        for j, glob in enumerate(raw_paths):
            compile_glob(glob, f"{where}.paths[{j}]")
            paths.append(glob)
        specs.append(DomainSpec(name, tuple(paths), tuple(_rule_values(where, table).items())))
    return tuple(specs)


@dataclass(frozen=True)
class Domain:
    name: str
    paths: tuple[str, ...]
    rule: Rule
    #: Every glob of the domain as one alternation: one regex run per path, not one per glob.
    _matcher: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def matches(self, path: str) -> bool:
        return self._matcher is not None and self._matcher.match(path) is not None


@dataclass(frozen=True)
class Policy:
    """The repository's policy: the default rule and its domains, in the order written."""

    default: Rule = Rule()
    domains: tuple[Domain, ...] = ()
    #: path -> names of the domains it is in. Histories touch the same paths again and again.
    _by_path: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    _merged: dict[tuple[str, ...], Requirements] = field(
        default_factory=dict, compare=False, repr=False
    )

    def _domains_of_path(self, path: str) -> tuple[str, ...]:
        names = self._by_path.get(path)
        if names is None:
            names = tuple(d.name for d in self.domains if d.matches(path))
            if len(self._by_path) < 200_000:
                self._by_path[path] = names
        return names

    def domain(self, name: str) -> Domain | None:
        return next((d for d in self.domains if d.name == name), None)

    def rule_of(self, name: str) -> Rule:
        domain = self.domain(name)
        return domain.rule if domain else self.default

    def domains_for(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Every domain a change touching `paths` is in; `default` for paths in none.

        A change with no paths at all (an empty commit) is in the default domain.
        """
        hit: set[str] = set()
        unmatched = False
        seen_any = False
        for path in paths:
            seen_any = True
            names = self._domains_of_path(path)
            if names:
                hit.update(names)
            else:
                unmatched = True
        ordered = [d.name for d in self.domains if d.name in hit]
        if unmatched or not seen_any:
            ordered.append(DEFAULT_DOMAIN)
        return tuple(ordered)

    def requirements(self, domains: Sequence[str]) -> Requirements:
        key = tuple(domains)
        merged = self._merged.get(key)
        if merged is None:
            merged = merge_rules([(name, self.rule_of(name)) for name in key])
            self._merged[key] = merged
        return merged

    def to_json(self) -> dict[str, Any]:
        return {
            "default": self.default.to_json(),
            "domains": [
                {"name": d.name, "paths": list(d.paths), **d.rule.to_json()} for d in self.domains
            ],
        }


def build_policy(section: PolicySection | None, specs: Sequence[DomainSpec] = ()) -> Policy:
    """`[policy]` + `[[domains]]` -> Policy; a domain's unset keys take `[policy]`'s values."""
    base = dict(section.values) if section else {}
    domains = []
    for spec in specs:
        values = {**base, **dict(spec.values)}
        sources = [glob_regex(p, f"domains.{spec.name}.paths") for p in spec.paths]
        matcher = re.compile("|".join(f"(?:{source})" for source in sources))
        domains.append(Domain(spec.name, spec.paths, Rule(**values), matcher))
    return Policy(Rule(**base), tuple(domains))


def policy_from_sections(sections: Mapping[str, Any]) -> Policy:
    """The Policy of a parsed config (`Config.sections`); the built-in default when absent."""
    return build_policy(sections.get("policy"), sections.get("domains", ()))


# --------------------------------------------------------------------------------------------
# Several domains -> one set of requirements


@dataclass(frozen=True, slots=True)
class ApproverGroup:
    """A domain that names its approvers: it needs `approvals` of its own people."""

    domain: str
    patterns: tuple[str, ...]
    approvals: int


@dataclass(frozen=True, slots=True)
class Requirements:
    """The strictest of each rule over the domains a change touches."""

    domains: tuple[str, ...]
    approvals: int
    second_family_critique: bool
    min_seconds_per_100_lines: float
    cooldown_hours: float
    checklist: tuple[str, ...]
    approver_groups: tuple[ApproverGroup, ...]
    signed_approvals: bool
    velocity_owners: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "domains": list(self.domains),
            "approvals": self.approvals,
            "second_family_critique": self.second_family_critique,
            "min_seconds_per_100_lines": self.min_seconds_per_100_lines,
            "cooldown_hours": self.cooldown_hours,
            "checklist": list(self.checklist),
            "approvers": {g.domain: list(g.patterns) for g in self.approver_groups},
            "signed_approvals": self.signed_approvals,
            "velocity_owners": list(self.velocity_owners),
        }


def _union(parts: Iterable[Iterable[str]]) -> tuple[str, ...]:
    out: list[str] = []
    for part in parts:
        for item in part:
            if item not in out:
                out.append(item)
    return tuple(out)


def merge_rules(rules: Sequence[tuple[str, Rule]]) -> Requirements:
    """The strictest value of each rule: max, any, union; approver lists stay per domain."""
    if not rules:
        rules = [(DEFAULT_DOMAIN, Rule())]
    checklist = _union(r.checklist for _, r in rules)
    # Items equal but for case or spacing are one item.
    seen: set[str] = set()
    unique = []
    for item in checklist:
        if checklist_key(item) not in seen:
            seen.add(checklist_key(item))
            unique.append(item)
    return Requirements(
        domains=tuple(name for name, _ in rules),
        approvals=max(r.approvals for _, r in rules),
        second_family_critique=any(r.second_family_critique for _, r in rules),
        min_seconds_per_100_lines=max(r.min_seconds_per_100_lines for _, r in rules),
        cooldown_hours=max(r.cooldown_hours for _, r in rules),
        checklist=tuple(unique),
        approver_groups=tuple(
            ApproverGroup(name, r.approvers, r.approvals) for name, r in rules if r.approvers
        ),
        signed_approvals=any(r.signed_approvals for _, r in rules),
        velocity_owners=_union(r.velocity_owners for _, r in rules),
    )


def domain_label(domains: Sequence[str]) -> str:
    """How a change's domains read in a table and in a verdict record (`auth+ci`)."""
    return "+".join(domains) if domains else DEFAULT_DOMAIN


def checklist_key(text: str) -> str:
    """Checklist items equal but for case or spacing are one item."""
    return " ".join(text.split()).casefold()
