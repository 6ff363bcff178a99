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

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reviewq.core.detect import RepoRule
from reviewq.core.identity import (
    canonical_email,
    is_machine,
    matches_email,
    name_key,
    prompters_of,
    same_person,
)
from reviewq.core.model import Change, Identity
from reviewq.core.policy_rules import ALLOWED_SIGNERS, Requirements, checklist_key, domain_label
from reviewq.core.times import duration, parse_instant
from reviewq.core.verdict import SIG_GOOD, SIG_UNSIGNED, SignatureCheck

#: Families that name no model: a critique cannot be shown to differ from them, except by rules.
UNNAMED_FAMILIES = frozenset({"unknown", "other"})
#: The critic family that is no model at all (the static critic): different from every author.
RULES_FAMILY = "rules"


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


def human_hours(hours: float) -> str:
    if hours and hours % 24 == 0:
        return f"{int(hours // 24)}d"
    return f"{hours:g}h"


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
            self.key = "n:" + name_key(self.reviewer.name)


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
            parse_instant(record.get("at")),
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
                # as the TUI shows a duration (core.times.duration: not 13.205s beside 0:13)
                f"too fast: {duration(active)} active, the minimum is "
                f"{duration(math.ceil(self.min_seconds))} "
                f"({req.min_seconds_per_100_lines:g}s per 100 lines, {self.lines} lines)"
            )
        raw_ticked = record.get("checklist")
        ticked = (
            {checklist_key(t) for t in raw_ticked if isinstance(t, str)}
            if isinstance(raw_ticked, list)
            else set()
        )
        missing = [item for item in req.checklist if checklist_key(item) not in ticked]
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
