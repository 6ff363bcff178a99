"""`reviewq gate REV-RANGE`: exit 0 when every AI-authored commit in the range meets the policy.

Fails closed. Exit 1: a commit falls short (a table names each one and why), or the range has
AI-authored commits and the review notes ref is missing, so no review can be read. Exit 2: the
gate cannot run on what it was given (unknown revision, malformed policy, unreadable log or
notes). Never 0 on an error. See docs/policy.md.
"""

from __future__ import annotations

import argparse
import sys

#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "revs",
        nargs="+",
        metavar="REV-RANGE",
        help="the commits to check, as git reads them (BASE..HEAD; pushed or pull-request ranges)",
    )
    p.add_argument(
        "--policy-from",
        metavar="REV",
        help="read .reviewq.toml from REV (default: the base of the range, else the default branch)",
    )
    p.add_argument(
        "--as-of",
        metavar="TIME",
        help="judge cooldowns as of TIME (RFC 3339; default: now): 'would this pass on Friday?'",
    )
    p.add_argument("--json", action="store_true", help="one JSON object with every commit checked")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.errors import ReviewqError
    from reviewq.output import emit_json

    try:
        result = check(args, ctx)
    except ReviewqError as exc:
        if args.json:
            emit_json({"passed": False, "error": exc.message, "exit_code": exc.exit_code})
        raise
    for line in result.ignored:
        # Named, never counted: a record edited after it was written proves nothing.
        print(f"reviewq: warning: {line}", file=sys.stderr)
    if args.json:
        emit_json(result.to_json())
    else:
        _print(result)
    if result.missing_notes:
        # Fail closed: the reviews the team shared cannot be read, and one may be a rejection.
        print(
            f"reviewq: {result.missing_notes} is missing, so the team's reviews cannot be read; "
            f"fetch them first: git fetch origin '+refs/notes/*:refs/notes/*'",
            file=sys.stderr,
        )
    return 0 if result.passed else 1


def parse_as_of(text: str):
    from reviewq.core.policy import parse_time
    from reviewq.errors import ReviewqError

    when = parse_time(text)
    if when is None:
        raise ReviewqError(
            f"--as-of {text!r}: expected an RFC 3339 time with an offset, "
            "like 2026-12-01T09:00:00+01:00"
        )
    return when


def _unit_range(ctx, revs: list[str], now) -> list[str]:
    """A unit's ref alone (`gate origin/codex/fix`, `gate refs/pull/7/head`) means everything on
    it that main lacks: `REF ^main`, stacked work below it included. Anything else (a range, a
    sha, HEAD, main) is passed to git as it is."""
    if len(revs) != 1 or ".." in revs[0]:
        return revs
    from reviewq.units import find_unit

    named = find_unit(ctx, revs[0], now)
    if named is None:
        return revs
    unit, queue = named
    if unit.kind in ("inbox", "commit"):
        return revs
    return [unit.tip, *sorted({f"^{sha}" for sha in queue.mainline.values()})]


def check(args: argparse.Namespace, ctx):
    """Evaluate the range; anything that stops it raises ReviewqError (exit 2)."""
    from dataclasses import replace
    from datetime import datetime

    from reviewq.config import CONFIG_NAME, config_at
    from reviewq.enforce import (
        Checked,
        Enforcer,
        GateResult,
        open_verdicts,
        policy_base,
        refuse_shallow_cut,
        vet_policy_source,
    )
    from reviewq.errors import ReviewqError
    from reviewq.scan import resolve_revs, scan_history, warn_unknown_sizes

    git = ctx.git
    if not git.has_commits():
        raise ReviewqError("the repository has no commits; nothing to gate")
    now = parse_as_of(args.as_of) if args.as_of else datetime.now().astimezone()
    args.revs = _unit_range(ctx, args.revs, now)
    resolved = resolve_revs(git, args.revs)
    refuse_shallow_cut(git, resolved, " ".join(args.revs))
    base, chosen_as = policy_base(git, resolved, args.policy_from)
    explicit = getattr(args, "config", None)
    config = ctx.config if explicit else config_at(git, base)
    origin = config.origin or f"{base[:12]}: no {CONFIG_NAME} (built-in policy)"
    if explicit:
        chosen_as = "--config"
    else:
        vet_policy_source(ctx, base, config, resolved, now, chosen_as)
    gate_ctx = replace(ctx, config=config)
    # One cache handle per process: the scan and the patch-ids write the same file.
    gate_ctx.__dict__["cache"] = ctx.cache
    changes = [c for c in scan_history(gate_ctx, args.revs).changes if c.source == "git"]
    warn_unknown_sizes(ctx, changes)
    verdicts = open_verdicts(ctx, base=base, base_config=config) if changes else None
    enforcer = Enforcer(
        git=git,
        config=config,
        records_for=verdicts.records_for if verdicts else (lambda _change: ()),
        now=now,
        verify_signature=verdicts.verify_signature if verdicts else None,
        appeared_at=verdicts.appeared_at if verdicts else None,
    )
    if verdicts is not None:
        verdicts.prepare(changes)
    checked = [Checked(c, enforcer.evaluate(c)) for c in changes]
    return GateResult(
        missing_notes=verdicts.notes_ref if verdicts and not verdicts.notes_present else None,
        revs=list(args.revs),
        policy_rev=base,
        policy_source=chosen_as,
        policy_origin=origin,
        as_of=now,
        as_of_given=bool(args.as_of),
        policy=enforcer.policy,
        checked=checked,
        ignored=list(verdicts.ignored) if verdicts else [],
    )


def _print(result) -> None:
    from reviewq.core.policy import domain_label
    from reviewq.output import print_table

    span = " ".join(result.revs)
    where = f"policy: {result.policy_origin}, {result.policy_source}"
    if result.as_of_given:
        where += f"; as of {result.as_of.isoformat(timespec='minutes')}"
    count = len(result.checked)
    plural = "s" if count != 1 else ""
    if not result.failing:
        if not count:
            print(f"gate passed: no AI-authored commits in {span} ({where})")
        elif result.missing_notes:
            print(
                f"gate failed: the {count} AI-authored commit{plural} in {span} meet the policy "
                f"by this clone's own log, but {result.missing_notes} is missing ({where})"
            )
        else:
            verb = "meets" if count == 1 else "meet"
            print(
                f"gate passed: {count} AI-authored commit{plural} in {span} {verb} the policy ({where})"
            )
        return
    rows = []
    for item in result.failing:
        change, evaluation = item.change, item.evaluation
        first = True
        for line in [change.commit.subject, *(n.message for n in evaluation.needs)]:
            rows.append(
                [
                    (change.sha or change.id)[:12] if first else "",
                    change.authorship.agent if first else "",
                    domain_label(evaluation.domains) if first else "",
                    line if first else f"  {line}",
                ]
            )
            first = False
    print_table(["COMMIT", "AGENT", "DOMAINS", "SUBJECT / WHY"], rows, fit=False)
    failing = len(result.failing)
    print(
        f"gate failed: {failing} of {count} AI-authored commit{plural} in {span} "
        f"{'falls' if failing == 1 else 'fall'} short ({where})"
    )
