"""`reviewq verdict REV approve|reject|changes|escalate`: record a verdict without the TUI."""

from __future__ import annotations

import argparse
import sys

from reviewq.core.model import VERDICTS
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", metavar="REV", help="a revision, or inbox:<id> / a patch file name")
    p.add_argument("verdict", choices=VERDICTS, help="approve, reject, changes or escalate")
    p.add_argument("--note", default="", metavar="TEXT", help="why (kept with the verdict)")
    p.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        metavar="N",
        help="time spent reviewing, in seconds (active and wall; default 0: not measured)",
    )
    p.add_argument(
        "--hunks-viewed",
        type=int,
        default=None,
        metavar="N",
        help="hunks actually looked at (default 0; the TUI counts them for you)",
    )
    p.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="ITEM",
        help="tick a checklist item of the change's policy domains (repeat for each item)",
    )
    p.add_argument("--json", action="store_true", help="print the stored record")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.core.text import one_line
    from reviewq.output import emit_json
    from reviewq.workflow.lookup import lookup
    from reviewq.workflow.recording import hunk_count, record_verdict

    if args.seconds < 0 or args.seconds != args.seconds or args.seconds == float("inf"):
        raise ReviewqError(f"--seconds must be a number of seconds >= 0, not {args.seconds}")
    from reviewq.clock import local_now
    from reviewq.workflow.units import find_unit

    named = find_unit(ctx, args.rev, local_now())
    if named is not None:
        return _unit_verdict(args, ctx, *named)
    found = lookup(ctx, args.rev)
    if found.change is None:
        raise ReviewqError(
            f"{args.rev} ({found.commit.sha[:12]}) is not AI-authored: no agent markers found, "
            "so it is not in the review queue; `reviewq show` says what was checked"
        )
    change = found.change
    hunks = hunk_count(ctx, change)
    viewed = args.hunks_viewed if args.hunks_viewed is not None else 0
    if viewed < 0 or viewed > hunks:
        raise ReviewqError(f"--hunks-viewed must be between 0 and {hunks}, not {viewed}")
    domain, ticked = _policy_fields(ctx, change, args.check, args.verdict)
    notices: list[str] = []
    record = record_verdict(
        ctx,
        change,
        args.verdict,
        note=args.note,
        active_seconds=args.seconds,
        wall_seconds=args.seconds,
        hunks_total=hunks,
        hunks_viewed=viewed,
        critique=_critique_shown(ctx, change),
        domain=domain,
        extra={"checklist": ticked},
        notice=notices.append,
    )
    if args.json:
        emit_json(record)
        return 0
    signed = "signed" if record.get("signature") else "unsigned"
    ident = change.sha[:12] if change.sha else change.id
    print(
        f"{args.verdict} recorded for {ident} {one_line(change.commit.subject)} "
        f"(verdict {record['id'][:12]}, {signed})"
    )
    for text in notices:
        print(f"  {one_line(text)}")
    return 0


def _unit_verdict(args, ctx, unit, queue) -> int:
    """One verdict on a unit: recorded for each of its AI commits, each record naming the unit."""
    from reviewq.core.text import one_line
    from reviewq.output import emit_jsonl
    from reviewq.workflow.units import record_unit_verdict

    notices: list[str] = []
    records = record_unit_verdict(
        ctx,
        unit,
        queue,
        args.verdict,
        note=args.note,
        seconds=args.seconds,
        hunks_viewed=args.hunks_viewed,
        policy_fields=lambda change: _policy_fields(ctx, change, args.check, args.verdict),
        critique_of=lambda change: _critique_shown(ctx, change),
        notice=notices.append,
    )
    if args.json:
        emit_jsonl(records)
        return 0
    human = f", {len(unit.human)} human commit(s) listed" if unit.human else ""
    print(
        f"{args.verdict} recorded for {unit.kind} {unit.name}: {len(records)} AI commit(s) "
        f"up to {unit.tip[:12]}{human}"
    )
    for record in records:
        change = queue.changes[record.get("sha") or record["change_id"]]
        ident = change.sha[:12] if change.sha else change.id
        print(f"  {ident} {one_line(change.commit.subject)} (verdict {record['id'][:12]})")
    for text in notices:
        print(f"  {one_line(text)}")
    return 0


def _policy_fields(ctx, change, checks: list[str], verdict: str) -> tuple[str, list[str]]:
    """The change's domain label, and the ticked items (each must be on its checklist).

    A mistyped item would silently leave an approval uncounted, so it is refused here instead.
    """
    from reviewq.core.policy_rules import domain_label, policy_from_sections

    policy = policy_from_sections(ctx.config.sections)
    domains = policy.domains_for(change.paths)
    items = policy.requirements(domains).checklist
    by_key = {" ".join(i.split()).casefold(): i for i in items}
    ticked: list[str] = []
    for check in checks:
        item = by_key.get(" ".join(check.split()).casefold())
        if item is None:
            listed = "; ".join(repr(i) for i in items) or "none"
            raise ReviewqError(
                f"--check {check!r} is not on the checklist of {domain_label(domains)} "
                f"(items: {listed}); nothing recorded"
            )
        if item not in ticked:
            ticked.append(item)
    missing = [i for i in items if i not in ticked]
    if verdict == "approve" and missing:
        print(
            "reviewq: warning: this approval will not count until every checklist item is "
            f"ticked; missing: {'; '.join(repr(i) for i in missing)}",
            file=sys.stderr,
        )
    return domain_label(domains), ticked


def _critique_shown(ctx, change):
    """The critique this clone holds for the change, as the reviewer had it before deciding.

    A cached critique exists only once `reviewq critique` (or the TUI) ran and showed it here,
    so it was open before this verdict. Without one the record says so (None), and a policy that
    wants a second-family critique does not count the approval.
    """
    from reviewq.core.verdict import CritiqueState
    from reviewq.workflow.critiquing import cached_critique

    critique = cached_critique(ctx, change)
    if critique is None:
        return None
    return CritiqueState(
        critique.critic,
        critique.family,
        critique.model,
        opened_before_verdict=True,
        same_family_allowed=critique.same_family_allowed,
    )
