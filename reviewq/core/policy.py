"""Policy: speed limits by domain, separation of duties and the gate's decision, as pure data.

Some parts of a codebase can take AI-written changes weekly; others need month-scale review.
`.reviewq.toml` says which, by path:

    [policy]                       # the rule for paths in no domain ("default"), and what every
    approvals = 1                  # domain inherits for the keys it does not set
    velocity_owners = ["vp@acme.example"]

    [[domains]]
    name = "auth"
    paths = ["auth/**", "**/session*.py"]
    approvals = 2
    second_family_critique = true
    min_seconds_per_100_lines = 120
    cooldown_hours = 240
    checklist = ["threat model reviewed"]
    approvers = ["*@security.acme.example", "allowed-signers"]
    signed_approvals = true

A change touching several domains takes the strictest value of each rule (most approvals, longest
cooldown, slowest minimum, every checklist item, every exclusion), and every domain that names its
approvers gets its own quota from them (CODEOWNERS-like: auth's people *and* CI's people).

Who may not approve: the people who prompted the change (`Authorship.prompted_by`), the domain's
velocity owners, and machines. The people who own velocity must not be the ones who hold the veto.

Nothing here reads git, files or the clock: `evaluate` takes the change, the verdict records already
matched to it, a signature checker and `now`. A malformed policy raises `ConfigError` naming the key;
it never silently becomes a weaker one.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reviewq.core.config import ConfigError, _check_keys, _str, _table
from reviewq.core.detect import RepoRule, classify_identity, is_non_ai_bot
from reviewq.core.model import Change, Identity
from reviewq.core.verdict import SIG_GOOD, SIG_UNSIGNED, SignatureCheck

DEFAULT_DOMAIN = "default"
#: An `approvers` entry meaning "anyone whose signature verifies against git's allowed signers".
ALLOWED_SIGNERS = "allowed-signers"
#: Families that name no model: a critique cannot be shown to differ from them, except by rules.
UNNAMED_FAMILIES = frozenset({"unknown", "other"})
#: The critic family that is no model at all (the static critic): different from every author.
RULES_FAMILY = "rules"

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


# --------------------------------------------------------------------------------------------
# Path globs


def compile_glob(pattern: str, where: str = "paths") -> re.Pattern[str]:
    """A repository path glob -> compiled regex (see `glob_regex`)."""
    return re.compile(glob_regex(pattern, where))


def glob_regex(pattern: str, where: str = "paths") -> str:
    """A repository path glob -> regex source, anchored at the repository root.

    `**` is a whole path segment matching any number of directories (zero included), `*` and `?`
    never cross a `/`, `[abc]` is a character class, a trailing `/` means everything below. So
    `auth/**` is everything under `auth/`, `**/auth/**` an `auth/` directory at any depth, and
    `orders/auth*` the files directly in `orders/` whose names start with `auth`. Anything else
    (`a**b`, an unclosed `[`, `..`) is an error, never a guess.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError(f"{where}: expected a non-empty path glob, got {pattern!r}")
    if pattern != pattern.strip():
        raise ConfigError(f"{where}: {pattern!r} has leading or trailing spaces")
    text = pattern.removeprefix("/")
    if text.endswith("/"):
        text += "**"
    if not text:
        raise ConfigError(f"{where}: {pattern!r} matches nothing; use '**' for every path")
    out: list[str] = []
    segments = text.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in ("", ".", ".."):
            raise ConfigError(f"{where}: {pattern!r} has an empty, '.' or '..' path segment")
        if segment == "**":
            # Any number of whole segments; a final `**` needs at least one character below.
            out.append(".+" if last else "(?:[^/]+/)*")
            continue
        if "**" in segment:
            raise ConfigError(
                f"{where}: {pattern!r}: '**' must be a whole path segment (as in 'a/**/b')"
            )
        out.append(_segment_regex(segment, pattern, where) + ("" if last else "/"))
    source = "^" + "".join(out) + "$"
    try:
        re.compile(source)
    except re.error as exc:  # pragma: no cover - _segment_regex escapes everything it emits
        raise ConfigError(f"{where}: {pattern!r} is not a valid glob ({exc})") from None
    return source


def _segment_regex(segment: str, pattern: str, where: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                raise ConfigError(f"{where}: {pattern!r} has an unclosed '['")
            body = segment[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise ConfigError(f"{where}: {pattern!r} has an empty character class")
            escaped = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            # A range can span `/` (`[.-0]`): a class, like `*` and `?`, stays in its segment.
            out.append(f"[^/{escaped}]" if negate else f"(?!/)[{escaped}]")
            i = end
        elif ch == "\\":
            raise ConfigError(f"{where}: {pattern!r}: backslashes are not allowed in path globs")
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Rules and their parsing


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
        text = " ".join(_str(f"{where}[{i}]", item).split())
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
    table = _table("policy", value)
    _check_keys("policy", table, set(RULE_KEYS))
    return PolicySection(tuple(_rule_values("policy", table).items()))


def parse_domains(value: Any) -> tuple[DomainSpec, ...]:
    """`[[domains]]`: named path globs, each with its own rule."""
    if not isinstance(value, list):
        raise ConfigError("domains: expected an array of tables ([[domains]])")
    specs: list[DomainSpec] = []
    for i, raw in enumerate(value):
        where = f"domains[{i}]"
        table = _table(where, raw)
        _check_keys(where, table, {"name", "paths", *RULE_KEYS})
        if "name" not in table:
            raise ConfigError(f'{where}: missing `name` (a short label like "auth")')
        name = _str(f"{where}.name", table["name"]).strip()
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
        if _norm(item) not in seen:
            seen.add(_norm(item))
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


# --------------------------------------------------------------------------------------------
# Identities


_NOREPLY = re.compile(r"^\d+\+([^@]+@users\.noreply\.github\.com)$")


def canonical_email(email: str) -> str:
    """The form two spellings of one mailbox share: lower case, no `+tag`, no GitHub user id.

    Used to exclude and to count people, never to admit them: `sam+review@x` is Sam.
    """
    text = email.strip().lower()
    m = _NOREPLY.match(text)
    if m:
        return m.group(1)
    local, at, domain = text.partition("@")
    if at and "+" in local and not domain.endswith("users.noreply.github.com"):
        local = local.split("+", 1)[0]
    return f"{local}{at}{domain}"


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def same_person(a: Identity, b: Identity) -> bool:
    """Same mailbox, or the same full name (cautious: a shared name refuses, never admits)."""
    if a.email.strip() and b.email.strip() and canonical_email(a.email) == canonical_email(b.email):
        return True
    na, nb = _name_key(a.name), _name_key(b.name)
    return bool(na) and na == nb


def matches_email(patterns: Iterable[str], email: str) -> bool:
    """`email` (exactly as recorded, lower-cased) matches one of the email globs."""
    target = email.strip().lower()
    return bool(target) and any(
        p != ALLOWED_SIGNERS and fnmatch.fnmatchcase(target, p) for p in patterns
    )


def is_machine(identity: Identity, agent_rules: Sequence[RepoRule] = ()) -> bool:
    """An AI agent, a bot, or an in-house agent of `[[agents]]`: not a person who can approve."""
    if classify_identity(identity.name, identity.email) is not None:
        return True
    if is_non_ai_bot(identity) or identity.name.strip().lower().endswith("[bot]"):
        return True
    for rule in agent_rules:
        if rule.email is None and rule.name is None:
            continue
        if rule.email and not fnmatch.fnmatchcase(identity.email.lower(), rule.email.lower()):
            continue
        if rule.name and not fnmatch.fnmatchcase(identity.name.lower(), rule.name.lower()):
            continue
        return True
    return False


def prompters_of(change: Change) -> tuple[Identity, ...]:
    """Everyone who asked for the change: the detector's list plus the prompt's own record."""
    people = list(change.authorship.prompted_by)
    noted = change.prompt.prompted_by if change.prompt is not None else None
    if noted is not None and noted not in people:
        people.append(noted)
    return tuple(people)


# --------------------------------------------------------------------------------------------
# Evaluation


#: What an approval counts as when no signature was asked for or no checker was given.
UNSIGNED = SignatureCheck(SIG_UNSIGNED, "no signature")


def _valid(signature: SignatureCheck) -> bool:
    """Signed by the reviewer's own key, as the allowed-signers file says (the signing module's
    `good`): `-I <reviewer email>` ties the key to the identity the record claims."""
    return signature.status == SIG_GOOD


@dataclass(frozen=True, slots=True)
class Need:
    """One unmet requirement. `message` reads "<kind>: <detail>"; `code` is for scripts."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A change measured against its requirements at one moment."""

    requirements: Requirements
    needs: tuple[Need, ...]
    #: Reviewers whose approvals count, in the order they approved.
    approved_by: tuple[Identity, ...]
    #: Why other approvals did not count (also in `needs` when the change falls short).
    not_counted: tuple[Need, ...]
    #: When the cooldown ends (None: no cooldown, or no counted approval yet).
    ready_at: datetime | None

    @property
    def passed(self) -> bool:
        return not self.needs

    @property
    def domains(self) -> tuple[str, ...]:
        return self.requirements.domains

    @property
    def unmet(self) -> tuple[Need, ...]:
        """The requirements themselves, without the explanations of refused approvals."""
        return tuple(n for n in self.needs if n not in self.not_counted)

    def to_json(self) -> dict[str, Any]:
        return {
            "domains": list(self.domains),
            "passed": self.passed,
            "needs": [n.to_json() for n in self.needs],
            "approved_by": [i.to_json() for i in self.approved_by],
            "not_counted": [n.to_json() for n in self.not_counted],
            "ready_at": self.ready_at.isoformat(timespec="seconds") if self.ready_at else None,
            "requirements": self.requirements.to_json(),
        }


def needs_brief(messages: Iterable[str]) -> str:
    """ "approvals: needs 1 more ...", "cooldown: ..." -> "approvals, cooldown" (each kind once)."""
    return ", ".join(dict.fromkeys(m.split(": ", 1)[0] for m in messages))


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time with an offset; anything else (naive, malformed) is None."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def human_hours(hours: float) -> str:
    if hours and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{hours:g}h"


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _who(identity: Identity) -> str:
    if identity.name and identity.email:
        return f"{identity.name} <{identity.email}>"
    return identity.email or identity.name or "an unnamed reviewer"


def _identity(data: Any) -> Identity:
    if isinstance(data, Mapping):
        return Identity(str(data.get("name") or ""), str(data.get("email") or ""))
    return Identity("", "")


@dataclass(slots=True)
class _Entry:
    order: int
    record: Mapping[str, Any]
    reviewer: Identity
    verdict: str
    at: datetime | None
    #: Whose verdict this is: one mailbox (any spelling), else one name.
    key: str = ""

    def __post_init__(self) -> None:
        if self.reviewer.email.strip():
            self.key = "e:" + canonical_email(self.reviewer.email)
        else:
            self.key = "n:" + _name_key(self.reviewer.name)


def _format_time(when: datetime) -> str:
    return when.isoformat(timespec="minutes")


def _entries(records: Iterable[Mapping[str, Any]], now: datetime) -> list[_Entry]:
    """Records in time order; one without a readable time sorts last (a rejection stands)."""
    entries = [
        _Entry(
            order,
            record,
            _identity(record.get("reviewer")),
            str(record.get("verdict") or ""),
            parse_time(record.get("at")),
        )
        for order, record in enumerate(records)
        if isinstance(record, Mapping)
    ]
    return sorted(entries, key=lambda e: (0, e.at, e.order) if e.at else (1, now, e.order))


def _rejections(ordered: Sequence[_Entry], latest: Mapping[str, _Entry]) -> list[Need]:
    """Every reviewer's standing rejection blocks, whoever they are (refusing is always safe)."""
    needs = []
    for entry in ordered:
        if latest[entry.key] is entry and entry.verdict in ("reject", "changes"):
            word = "rejected" if entry.verdict == "reject" else "changes requested"
            when = f" at {_format_time(entry.at)}" if entry.at else ""
            needs.append(
                Need(
                    "rejected",
                    f"{word}: by {_who(entry.reviewer)}{when}; stands until they record a new "
                    "verdict",
                )
            )
    return needs


def _escalations(
    ordered: Sequence[_Entry], latest: Mapping[str, _Entry], counted: Sequence[_Entry]
) -> list[Need]:
    """An escalation holds until another reviewer's approval that counts comes after it.

    Only a counting approval resolves it: the prompter cannot settle an escalation by approving.
    """
    needs = []
    for entry in ordered:
        if latest[entry.key] is not entry or entry.verdict != "escalate":
            continue
        if entry.at is not None and any(
            e.key != entry.key and e.at is not None and e.at > entry.at for e in counted
        ):
            continue
        when = f" at {_format_time(entry.at)}" if entry.at else ""
        needs.append(
            Need(
                "escalated",
                f"escalated: by {_who(entry.reviewer)}{when}; awaiting a counted approval by "
                "another reviewer",
            )
        )
    return needs


@dataclass(frozen=True, slots=True)
class _Judge:
    """Everything one approval is measured against."""

    req: Requirements
    prompters: tuple[Identity, ...]
    lines: int
    min_seconds: float
    check: Callable[[Mapping[str, Any]], SignatureCheck]
    agent_rules: Sequence[RepoRule]
    #: The earliest time a record can truthfully carry: when the commit it names existed.
    not_before: Callable[[Mapping[str, Any]], datetime | None] | None = None

    def problem(self, entry: _Entry) -> tuple[str, str] | SignatureCheck:
        """(code, why) when the approval does not count, else its signature check."""
        req, reviewer, record = self.req, entry.reviewer, entry.record
        label = domain_label(req.domains)
        if not (reviewer.email.strip() or reviewer.name.strip()):
            return "anonymous", "names no reviewer"
        if entry.at is None:
            return "bad-time", "no readable time (RFC 3339 with an offset)"
        bound = self.not_before(record) if self.not_before is not None else None
        if bound is not None and entry.at < bound:
            return "backdated", (
                f"dated {_format_time(entry.at)}, before the commit it names existed "
                f"({_format_time(bound)})"
            )
        if is_machine(reviewer, self.agent_rules):
            return "machine", "a machine, not a person"
        raw_co = record.get("co_reviewers")
        people = [reviewer, *([_identity(c) for c in raw_co] if isinstance(raw_co, list) else [])]
        for person in people:
            prompter = next((p for p in self.prompters if same_person(p, person)), None)
            if prompter is not None:
                also = "" if person is reviewer else f" ({_who(person)} co-reviewed)"
                return "prompter", f"the prompter's approval does not count{also}"
            email = person.email
            if email and (
                matches_email(req.velocity_owners, email)
                or matches_email(req.velocity_owners, canonical_email(email))
            ):
                also = "" if person is reviewer else f" ({_who(person)} co-reviewed)"
                return "velocity-owner", f"velocity owners of {label} may not approve{also}"
        active = record.get("active_seconds")
        if isinstance(active, bool) or not isinstance(active, int | float):
            active = 0.0
        if self.min_seconds > 0 and active < self.min_seconds:
            return "too-fast", (
                # whole seconds, as the TUI's clock shows them (not 13.205s beside 0:13)
                f"too fast: {int(active)}s active, the minimum is {self.min_seconds:g}s "
                f"({req.min_seconds_per_100_lines:g}s per 100 lines, {self.lines} lines)"
            )
        raw_ticked = record.get("checklist")
        ticked = (
            {_norm(t) for t in raw_ticked if isinstance(t, str)}
            if isinstance(raw_ticked, list)
            else set()
        )
        missing = [item for item in req.checklist if _norm(item) not in ticked]
        if missing:
            items = ", ".join(f"item {m!r}" for m in missing)
            return "checklist", f"checklist {items} not ticked"
        wants_signature = req.signed_approvals or any(
            ALLOWED_SIGNERS in g.patterns for g in req.approver_groups
        )
        signature = self.check(record) if wants_signature else UNSIGNED
        if req.signed_approvals and not _valid(signature):
            return "unsigned", (
                f"not validly signed ({signature.status}: {signature.detail}); "
                f"{label} requires signed approvals"
            )
        return signature


def evaluate(
    change: Change,
    requirements: Requirements,
    records: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    verify_signature: Callable[[Mapping[str, Any]], SignatureCheck] | None = None,
    agent_rules: Sequence[RepoRule] = (),
    not_before: Callable[[Mapping[str, Any]], datetime | None] | None = None,
    appeared_at: Callable[[Mapping[str, Any]], datetime | None] | None = None,
) -> Evaluation:
    """What `change` still needs under `requirements`, given the verdict records about it.

    `records` are verdict records already matched to the change (by sha or patch-id). Each
    reviewer's latest verdict stands: an approval withdrawn by a later rejection no longer counts,
    and a standing rejection blocks. An approval counts only when every condition holds: by a
    person who neither prompted the change nor owns velocity in its domains, slow enough, with
    every checklist item ticked, signed where signatures are required. `verify_signature` is the
    signing module's check (`SshVerifier.check`); without one every record counts as unsigned
    (fail closed).

    A record's `at` is its writer's word. `not_before(record)`, when given, is when the commit it
    names came to exist: an approval dated earlier does not count (a rejection still stands).
    `appeared_at(record)` is when the record was first shared (the notes ref's history): a
    cooldown counts from the later of that and `at`, so a backdated approval starts it no sooner.
    """
    req = requirements
    ordered = _entries(records, now)
    latest = {entry.key: entry for entry in ordered}
    needs = _rejections(ordered, latest)
    lines = change.stats.lines_changed if change.stats else 0
    judge = _Judge(
        req=req,
        prompters=prompters_of(change),
        lines=lines,
        min_seconds=req.min_seconds_per_100_lines * lines / 100.0,
        check=verify_signature or (lambda _record: UNSIGNED),
        agent_rules=agent_rules,
        not_before=not_before,
    )
    not_counted: list[Need] = []
    counted: list[tuple[_Entry, SignatureCheck]] = []
    for entry in ordered:
        if entry.verdict != "approve" or latest[entry.key] is not entry:
            continue
        verdict = judge.problem(entry)
        if isinstance(verdict, SignatureCheck) and any(
            same_person(entry.reviewer, e.reviewer) for e, _ in counted
        ):
            verdict = ("duplicate", "the same person as an earlier approval")
        if isinstance(verdict, SignatureCheck):
            counted.append((entry, verdict))
        else:
            code, why = verdict
            not_counted.append(
                Need(code, f"not counted: approval by {_who(entry.reviewer)}: {why}")
            )

    needs += _escalations(ordered, latest, [e for e, _ in counted])
    if len(counted) < req.approvals:
        extra = f"; {len(not_counted)} not counted, see below" if not_counted else ""
        needs.append(
            Need(
                "approvals",
                f"approvals: needs {req.approvals - len(counted)} more from distinct reviewers "
                f"({len(counted)} of {req.approvals} counted{extra})",
            )
        )
    needs += _approver_needs(req, counted)
    needs += _critique_needs(req, change.authorship.family, counted, ordered)
    if (
        req.min_seconds_per_100_lines > 0
        and change.stats is not None
        and not change.stats.size_known
    ):
        # The speed rule needs the size; a count of what could be read is only a lower bound.
        unknown = sum(1 for f in change.files if f.size_unknown)
        what = f"{unknown} file{'s' if unknown != 1 else ''}" if unknown else "its files"
        needs.append(
            Need(
                "size-unknown",
                f"size unknown: the sizes of {what} cannot be read (objects missing from this "
                f"clone), so the speed rule ({req.min_seconds_per_100_lines:g}s per 100 lines) "
                "cannot be checked; fetch the objects and run the gate again",
            )
        )
    ready_at = None
    if req.cooldown_hours > 0 and req.approvals > 0:
        hold = human_hours(req.cooldown_hours)
        if counted:
            first = min(_counts_from(e, appeared_at) for e, _ in counted if e.at is not None)
            ready_at = first + timedelta(hours=req.cooldown_hours)
            if now < ready_at:
                needs.append(
                    Need(
                        "cooldown",
                        f"cooldown: in cooldown until {_format_time(ready_at)} "
                        f"({hold} from the first counted approval)",
                    )
                )
        else:
            needs.append(
                Need("cooldown", f"cooldown: a {hold} hold starts at the first counted approval")
            )
    if needs:
        needs += not_counted
    return Evaluation(
        requirements=req,
        needs=tuple(needs),
        approved_by=tuple(e.reviewer for e, _ in counted),
        not_counted=tuple(not_counted),
        ready_at=ready_at,
    )


def _counts_from(
    entry: _Entry, appeared_at: Callable[[Mapping[str, Any]], datetime | None] | None
) -> datetime:
    """When an approval starts a cooldown: its `at`, or later if it was shared later."""
    assert entry.at is not None
    shared = appeared_at(entry.record) if appeared_at is not None else None
    return max(entry.at, shared) if shared is not None else entry.at


def _approver_needs(
    req: Requirements, counted: Sequence[tuple[_Entry, SignatureCheck]]
) -> list[Need]:
    """Each domain that names its approvers needs its own quota from them."""
    needs = []
    for group in req.approver_groups:
        have = sum(
            1
            for entry, signature in counted
            if matches_email(group.patterns, entry.reviewer.email)
            or (ALLOWED_SIGNERS in group.patterns and _valid(signature))
        )
        if have < group.approvals:
            needs.append(
                Need(
                    "approvers",
                    f"approvers: {group.domain} needs {group.approvals - have} more from its "
                    f"approvers ({', '.join(group.patterns)}); {have} of {group.approvals} so far",
                )
            )
    return needs


def _critique_needs(
    req: Requirements,
    author_family: str,
    counted: Sequence[tuple[_Entry, SignatureCheck]],
    ordered: Sequence[_Entry],
) -> list[Need]:
    """A counted approval must have been made with a second-family critique open."""
    if not req.second_family_critique or req.approvals == 0:
        return []
    if any(_second_family(entry.record, author_family) for entry, _ in counted):
        return []
    seen = _critique_families(e.record for e in ordered if e.verdict == "approve")
    detail = f"; approvals so far had {', '.join(seen)}" if seen else ""
    if author_family in UNNAMED_FAMILIES:
        which = (
            f"a '{RULES_FAMILY}' critique (the author's family is {author_family}: "
            "no model family can be shown to differ)"
        )
    else:
        which = f"a critique from a family other than {author_family}"
    return [
        Need(
            "second-family",
            f"second-family critique: a counted approval must be made with {which}, opened "
            f"before the verdict{detail}",
        )
    ]


def _second_family(record: Mapping[str, Any], author_family: str) -> bool:
    """The approval was made with a critique from another family open before the verdict."""
    critique = record.get("critique")
    if not isinstance(critique, Mapping):
        return False
    family = critique.get("family")
    if not isinstance(family, str) or not family or family in UNNAMED_FAMILIES:
        return False
    if critique.get("same_family_allowed") or critique.get("opened_before_verdict") is not True:
        return False
    if author_family in UNNAMED_FAMILIES:
        return family == RULES_FAMILY
    return family != author_family


def _critique_families(records: Iterable[Mapping[str, Any]]) -> list[str]:
    out: list[str] = []
    for record in records:
        critique = record.get("critique")
        if not isinstance(critique, Mapping) or not critique.get("family"):
            label = "no critique"
        else:
            label = f"a {critique.get('family')} critique"
            if critique.get("same_family_allowed"):
                label += " (same family, allowed by override)"
            elif critique.get("opened_before_verdict") is not True:
                label += " (not opened before the verdict)"
        if label not in out:
            out.append(label)
    return out
