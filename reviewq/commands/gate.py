"""`reviewq gate REV-RANGE`: exit 0 when every AI-authored commit in the range meets the policy.

Fails closed. Exit 1: a commit falls short (a table names each one and why), or the range has
AI-authored commits and the review notes ref is missing, so no review can be read. Exit 2: the
gate cannot run on what it was given (unknown revision, malformed policy, unreadable log or
notes). Never 0 on an error. See docs/policy.md.
"""

from __future__ import annotations

import argparse
import sys

from reviewq.core.times import parse_instant as parse_time
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

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
    from reviewq.workflow.units import find_unit

    named = find_unit(ctx, revs[0], now)
    if named is None:
        return revs
    unit, queue = named
    if unit.kind in ("inbox", "commit"):
        return revs
    return [unit.tip, *sorted({f"^{sha}" for sha in queue.mainline.values()})]


def check(args: argparse.Namespace, ctx):
    """Evaluate the range (`workflow.gate.gate_range`); anything that stops it raises ReviewqError."""
    from reviewq.clock import local_now
    from reviewq.workflow.gate import gate_range

    as_of = parse_as_of(args.as_of) if args.as_of else None
    revs = args.revs
    if ctx.git.has_commits():
        revs = _unit_range(ctx, revs, as_of or local_now())
    return gate_range(
        ctx,
        revs,
        as_of=as_of,
        policy_from=args.policy_from,
        explicit_config=bool(getattr(args, "config", None)),
    )


def _print(result) -> None:
    from reviewq.core.policy_rules import domain_label
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
