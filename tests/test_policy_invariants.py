"""The policy's intent, as invariants: who may approve, how, how fast, and when a change may pass.

Each test is named for the rule it protects. They run the pure core on plain verdict records in the
contract's shape (`core.verdict.new_record`), so they hold whatever shell reads the records.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewq.core.config import parse_config
from reviewq.core.model import (
    Authorship,
    Change,
    Commit,
    DiffStats,
    Evidence,
    FileChange,
    Identity,
    Prompt,
)
from reviewq.core.policy import evaluate
from reviewq.core.policy_rules import Rule, merge_rules, policy_from_sections
from reviewq.core.verdict import (
    SIG_GOOD,
    SIG_UNKNOWN_SIGNER,
    SIG_UNSIGNED,
    CritiqueState,
    SignatureCheck,
    new_record,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone(timedelta(hours=1)))
SAM = Identity("Sam Okafor", "sam@acme.example")  # prompted the change
ANA = Identity("Ana Lima", "ana@acme.example")
BEN = Identity("Ben Cho", "ben@acme.example")
VP = Identity("Val Price", "vp@acme.example")  # owns velocity


def change(
    *,
    paths: tuple[str, ...] = ("orders/app.py",),
    lines: int = 100,
    family: str = "anthropic",
    prompted_by: tuple[Identity, ...] = (SAM,),
    prompt: Prompt | None = None,
) -> Change:
    commit = Commit(
        sha="a" * 40,
        parents=("b" * 40,),
        author=Identity("Claude", "noreply@anthropic.com"),
        committer=Identity("Claude", "noreply@anthropic.com"),
        authored_at="2026-11-19T10:00:00+01:00",
        committed_at="2026-11-19T10:00:00+01:00",
        message="Change\n",
    )
    return Change(
        id=commit.sha,
        commit=commit,
        authorship=Authorship(
            agent="claude-code",
            model="claude-opus-4.5",
            family=family,
            role="primary",
            confidence="high",
            evidence=(Evidence("trailer", "Co-Authored-By: Claude"),),
            prompted_by=prompted_by,
        ),
        prompt=prompt,
        stats=DiffStats(files=len(paths), additions=lines, deletions=0),
        files=tuple(FileChange(p, "M", additions=lines // len(paths)) for p in paths),
    )


def approval(
    reviewer: Identity,
    *,
    hours_ago: float = 1,
    seconds: float = 600,
    verdict: str = "approve",
    critic_family: str | None = "rules",
    opened: bool = True,
    same_family_allowed: bool = False,
    checklist: tuple[str, ...] = (),
    co_reviewers: tuple[Identity, ...] = (),
    signed: bool = False,
) -> dict:
    critique = (
        None
        if critic_family is None
        else CritiqueState("static", critic_family, None, opened, same_family_allowed)
    )
    record = new_record(
        record_id=f"r-{reviewer.email}-{hours_ago}-{verdict}",
        sha="a" * 40,
        change_id="a" * 40,
        patch_id="p" * 40,
        verdict=verdict,
        reviewer=reviewer,
        at=(NOW - timedelta(hours=hours_ago)).isoformat(timespec="seconds"),
        active_seconds=seconds,
        wall_seconds=seconds,
        lines_changed=100,
        hunks_total=3,
        hunks_viewed=3,
        critique=critique,
        author_family="anthropic",
        co_reviewers=co_reviewers,
        extra={"checklist": list(checklist)},
    )
    record["signature"] = "SSHSIG" if signed else None
    return record


def signatures(record: dict) -> SignatureCheck:
    """The signing module's answer, faked at its edge: `SSHSIG` verifies as the reviewer."""
    if record.get("signature") == "SSHSIG":
        return SignatureCheck(SIG_GOOD, f"signed by {record['reviewer']['email']}")
    return SignatureCheck(SIG_UNSIGNED, "no signature")


def needs_of(c: Change, rule: Rule, records: list[dict], now: datetime = NOW, **kw) -> list[str]:
    result = evaluate(
        c, merge_rules([("default", rule)]), records, now=now, verify_signature=signatures, **kw
    )
    return [n.message for n in result.needs]


def passes(c: Change, rule: Rule, records: list[dict], now: datetime = NOW) -> bool:
    return not needs_of(c, rule, records, now)


# -- separation of duties -----------------------------------------------------------------------


def test_an_approval_by_the_prompter_does_not_count():
    rule = Rule(approvals=1)
    needs = needs_of(change(), rule, [approval(SAM)])
    assert any("the prompter's approval does not count" in n for n in needs)
    assert any(n.startswith("approvals: needs 1 more") for n in needs)
    assert passes(change(), rule, [approval(SAM), approval(ANA)])


@pytest.mark.parametrize(
    "how",
    ["copilot-assigner", "aider-user", "prompt-note", "other-spelling-of-email"],
)
def test_the_prompter_is_refused_however_the_prompt_was_recorded(how):
    # The detector puts Copilot's assigning co-author and aider's user in `prompted_by`;
    # our prompt note carries its own `prompted_by`; `sam+x@` is still Sam's mailbox.
    if how == "prompt-note":
        c = change(prompted_by=(), prompt=Prompt("do it", "note", SAM))
    else:
        c = change(prompted_by=(SAM,))
    reviewer = Identity("S. Okafor", "Sam+review@ACME.example") if how.startswith("other") else SAM
    assert not passes(c, Rule(approvals=1), [approval(reviewer)])


def test_a_prompter_who_co_reviews_taints_the_approval():
    needs = needs_of(change(), Rule(approvals=1), [approval(ANA, co_reviewers=(SAM,))])
    assert any("Sam Okafor <sam@acme.example> co-reviewed" in n for n in needs)


def test_an_approval_by_a_velocity_owner_does_not_count():
    rule = Rule(approvals=1, velocity_owners=("vp@acme.example",))
    needs = needs_of(change(prompted_by=()), rule, [approval(VP)])
    assert any("velocity owners of default may not approve" in n for n in needs)
    assert passes(change(prompted_by=()), rule, [approval(VP), approval(ANA)])


def test_a_machine_approval_does_not_count():
    bot = Identity("Claude", "noreply@anthropic.com")
    needs = needs_of(change(), Rule(approvals=1), [approval(bot)])
    assert any("a machine, not a person" in n for n in needs)


def test_approvals_by_the_same_person_count_once():
    rule = Rule(approvals=2)
    same_ana = Identity("Ana Lima", "ana+second@acme.example")
    assert not passes(change(), rule, [approval(ANA, hours_ago=2), approval(same_ana)])
    assert passes(change(), rule, [approval(ANA), approval(BEN)])


def test_only_the_listed_approvers_count():
    rule = Rule(approvals=1, approvers=("*@security.acme.example",))
    sec = Identity("Sec Person", "lee@security.acme.example")
    assert not passes(change(), rule, [approval(ANA)])
    assert passes(change(), rule, [approval(sec)])


# -- signatures ---------------------------------------------------------------------------------


def test_an_unsigned_approval_does_not_count_where_signatures_are_required():
    rule = Rule(approvals=1, signed_approvals=True)
    needs = needs_of(change(), rule, [approval(ANA)])
    assert any("not validly signed (unsigned: no signature)" in n for n in needs)
    assert passes(change(), rule, [approval(ANA, signed=True)])


def test_a_signature_by_someone_elses_key_does_not_count():
    rule = Rule(approvals=1, signed_approvals=True)

    def bens_key(_record: dict) -> SignatureCheck:
        return SignatureCheck(SIG_UNKNOWN_SIGNER, "signed by the key of ben@acme.example")

    result = evaluate(
        change(), merge_rules([("default", rule)]), [approval(ANA, signed=True)], now=NOW,
        verify_signature=bens_key,
    )  # fmt: skip
    assert not result.passed
    assert (
        "not validly signed (unknown-signer: signed by the key of ben" in result.needs[-1].message
    )


def test_without_a_signature_checker_every_approval_counts_as_unsigned():
    rule = merge_rules([("default", Rule(approvals=1, signed_approvals=True))])
    assert not evaluate(change(), rule, [approval(ANA, signed=True)], now=NOW).passed


def test_allowed_signers_as_approvers_admits_only_verified_signers():
    rule = Rule(approvals=1, approvers=("allowed-signers",))
    assert not passes(change(), rule, [approval(ANA)])
    assert passes(change(), rule, [approval(ANA, signed=True)])


# -- speed --------------------------------------------------------------------------------------


def test_an_approval_faster_than_the_minimum_does_not_count():
    rule = Rule(approvals=1, min_seconds_per_100_lines=120)
    big = change(lines=300)  # needs 360 s
    needs = needs_of(big, rule, [approval(ANA, seconds=359)])
    assert any("too fast: 5m 59s active, the minimum is 6m 00s" in n for n in needs)
    assert passes(big, rule, [approval(ANA, seconds=360)])


# -- second-family critique ---------------------------------------------------------------------


def test_a_same_family_critique_does_not_satisfy_a_second_family_rule():
    rule = Rule(approvals=1, second_family_critique=True)
    c = change(family="anthropic")
    assert not passes(c, rule, [approval(ANA, critic_family="anthropic")])
    # Not even when the same-family critique was allowed by an explicit override.
    assert not passes(c, rule, [approval(ANA, critic_family="anthropic", same_family_allowed=True)])
    assert passes(c, rule, [approval(ANA, critic_family="openai")])
    assert passes(c, rule, [approval(ANA, critic_family="rules")])


def test_a_critique_opened_after_the_verdict_does_not_satisfy_a_second_family_rule():
    rule = Rule(approvals=1, second_family_critique=True)
    assert not passes(change(), rule, [approval(ANA, critic_family="openai", opened=False)])
    assert not passes(change(), rule, [approval(ANA, critic_family=None)])


def test_an_author_of_unknown_family_needs_the_rules_critic():
    rule = Rule(approvals=1, second_family_critique=True)
    c = change(family="unknown")  # e.g. aider or Devin without a model name
    assert not passes(c, rule, [approval(ANA, critic_family="openai")])
    assert passes(c, rule, [approval(ANA, critic_family="rules")])


# -- cooldown -----------------------------------------------------------------------------------


def test_a_change_inside_its_cooldown_does_not_pass():
    rule = Rule(approvals=1, cooldown_hours=240)
    records = [approval(ANA, hours_ago=239)]
    needs = needs_of(change(), rule, records)
    assert needs == [
        "cooldown: in cooldown until 2026-11-20T13:00+01:00 (10d from the first counted approval)"
    ]
    assert passes(change(), rule, records, now=NOW + timedelta(hours=1))


def test_the_cooldown_starts_at_the_first_counted_approval_not_at_a_refused_one():
    rule = Rule(approvals=1, cooldown_hours=24)
    records = [approval(SAM, hours_ago=48), approval(ANA, hours_ago=2)]
    result = evaluate(change(), merge_rules([("default", rule)]), records, now=NOW)
    assert result.ready_at == NOW + timedelta(hours=22)
    assert not result.passed


# -- checklist and standing verdicts ------------------------------------------------------------


def test_an_approval_without_every_checklist_item_ticked_does_not_count():
    rule = Rule(approvals=1, checklist=("threat model reviewed", "rollback plan"))
    needs = needs_of(change(), rule, [approval(ANA, checklist=("Threat  model reviewed",))])
    assert any("checklist item 'rollback plan' not ticked" in n for n in needs)
    ticked = ("threat model reviewed", "rollback plan")
    assert passes(change(), rule, [approval(ANA, checklist=ticked)])


def test_a_later_rejection_withdraws_the_approval_and_blocks():
    rule = Rule(approvals=1)
    records = [approval(ANA, hours_ago=3), approval(ANA, hours_ago=2, verdict="reject")]
    needs = needs_of(change(), rule, records)
    assert needs[0].startswith("rejected: by Ana Lima <ana@acme.example>")
    # Another reviewer's rejection blocks even with enough approvals.
    assert not passes(change(), rule, [approval(BEN), approval(ANA, verdict="changes")])
    # A later approval by the same reviewer replaces their rejection.
    records.append(approval(ANA, hours_ago=1))
    assert passes(change(), rule, records)


def test_an_escalation_holds_until_another_reviewer_decides():
    rule = Rule(approvals=1)
    escalated = [approval(BEN, hours_ago=3), approval(ANA, hours_ago=2, verdict="escalate")]
    assert any(n.startswith("escalated:") for n in needs_of(change(), rule, escalated))
    # The prompter cannot settle it by approving.
    escalated.append(approval(SAM, hours_ago=1.5))
    assert any(n.startswith("escalated:") for n in needs_of(change(), rule, escalated))
    escalated.append(approval(Identity("Cy", "cy@acme.example"), hours_ago=1))
    assert passes(change(), rule, escalated)


def test_an_approval_with_an_unreadable_time_does_not_count():
    record = approval(ANA)
    record["at"] = "yesterday"
    assert any("no readable time" in n for n in needs_of(change(), Rule(), [record]))


# -- several domains ----------------------------------------------------------------------------

POLICY = """
[policy]
approvals = 1
velocity_owners = ["vp@acme.example"]

[[domains]]
name = "auth"
paths = ["orders/auth*", "auth/**"]
approvals = 2
cooldown_hours = 240
checklist = ["threat model reviewed"]
approvers = ["ana@acme.example", "ben@acme.example", "cy@acme.example"]

[[domains]]
name = "ci"
paths = [".github/workflows/**"]
approvals = 1
second_family_critique = true
min_seconds_per_100_lines = 120
checklist = ["no new permissions"]
approvers = ["cy@acme.example", "dee@acme.example"]
"""


def policy():
    return policy_from_sections(parse_config(tomllib.loads(POLICY)).sections)


def test_a_change_touching_several_domains_takes_the_strictest_rule_of_each():
    p = policy()
    domains = p.domains_for(["orders/auth.py", ".github/workflows/tests.yml", "README.md"])
    assert domains == ("auth", "ci", "default")
    req = p.requirements(domains)
    assert req.approvals == 2
    assert req.cooldown_hours == 240
    assert req.second_family_critique
    assert req.min_seconds_per_100_lines == 120
    assert req.checklist == ("threat model reviewed", "no new permissions")
    assert req.velocity_owners == ("vp@acme.example",)  # inherited from [policy]
    assert [g.domain for g in req.approver_groups] == ["auth", "ci"]


def test_each_domain_that_names_approvers_needs_its_own_people():
    p = policy()
    c = change(paths=("orders/auth.py", ".github/workflows/tests.yml"), lines=50)
    req = p.requirements(p.domains_for(c.paths))
    ticked = ("threat model reviewed", "no new permissions")
    old = 300  # hours ago: well past the cooldown
    two_auth = [approval(ANA, hours_ago=old, checklist=ticked), approval(BEN, checklist=ticked)]
    result = evaluate(c, req, two_auth, now=NOW)
    assert [n.code for n in result.needs] == ["approvers"]
    assert "ci needs 1 more from its approvers" in result.needs[0].message
    cy = Identity("Cy", "cy@acme.example")
    assert evaluate(c, req, [*two_auth, approval(cy, checklist=ticked)], now=NOW).passed


def test_a_path_in_no_domain_is_in_the_default_domain():
    p = policy()
    assert p.domains_for(["orders/app.py"]) == ("default",)
    assert p.domains_for([]) == ("default",)
    assert p.domains_for(["orders/authz/keys.py"]) == ("default",)  # `*` stops at `/`
    assert p.domains_for(["auth/a/b/c.py"]) == ("auth",)


# -- properties ---------------------------------------------------------------------------------

rules = st.builds(
    Rule,
    approvals=st.integers(0, 4),
    second_family_critique=st.booleans(),
    min_seconds_per_100_lines=st.sampled_from([0.0, 30.0, 120.0]),
    cooldown_hours=st.sampled_from([0.0, 24.0, 240.0]),
    checklist=st.lists(st.sampled_from(["a", "b", "c"]), unique=True).map(tuple),
    signed_approvals=st.booleans(),
    velocity_owners=st.sampled_from([(), ("vp@acme.example",)]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(rules, min_size=1, max_size=4), rules)
def test_touching_one_more_domain_never_weakens_the_requirements(existing, added):
    before = merge_rules([(f"d{i}", r) for i, r in enumerate(existing)])
    after = merge_rules([*((f"d{i}", r) for i, r in enumerate(existing)), ("new", added)])
    assert after.approvals >= before.approvals
    assert after.cooldown_hours >= before.cooldown_hours
    assert after.min_seconds_per_100_lines >= before.min_seconds_per_100_lines
    assert set(before.checklist) <= set(after.checklist)
    assert set(before.velocity_owners) <= set(after.velocity_owners)
    assert after.second_family_critique >= before.second_family_critique
    assert after.signed_approvals >= before.signed_approvals


reviewers = st.sampled_from([ANA, BEN, Identity("Cy", "cy@acme.example")])
records = st.lists(
    st.builds(
        approval,
        reviewers,
        hours_ago=st.sampled_from([1, 30, 300]),
        seconds=st.sampled_from([5, 600]),
        verdict=st.sampled_from(["approve", "approve", "reject", "escalate"]),
        critic_family=st.sampled_from([None, "rules", "anthropic", "openai"]),
        checklist=st.sampled_from([(), ("a", "b", "c")]),
        signed=st.booleans(),
    ),
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(rules, records, st.sampled_from([SAM, VP]), st.sampled_from([1, 30, 300]))
def test_an_approval_by_the_prompter_or_a_velocity_owner_never_changes_the_outcome(
    rule, history, excluded, hours_ago
):
    rule = Rule(**{**rule.to_json(), "velocity_owners": ("vp@acme.example",), "checklist": ()})
    req = merge_rules([("default", rule)])
    c = change(prompted_by=(SAM,))
    before = evaluate(c, req, history, now=NOW, verify_signature=signatures)
    with_excluded = [*history, approval(excluded, hours_ago=hours_ago, signed=True)]
    after = evaluate(c, req, with_excluded, now=NOW, verify_signature=signatures)
    assert after.passed == before.passed
    assert after.approved_by == before.approved_by
