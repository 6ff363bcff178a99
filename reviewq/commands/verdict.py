"""`reviewq verdict REV approve|reject|changes|escalate`: record a verdict without the TUI."""

from __future__ import annotations

import argparse

from reviewq.core.model import VERDICTS


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
    p.add_argument("--json", action="store_true", help="print the stored record")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.changes import lookup
    from reviewq.core.text import one_line
    from reviewq.errors import ReviewqError
    from reviewq.output import emit_json
    from reviewq.verdicts import hunk_count, record_verdict

    if args.seconds < 0 or args.seconds != args.seconds or args.seconds == float("inf"):
        raise ReviewqError(f"--seconds must be a number of seconds >= 0, not {args.seconds}")
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
    record = record_verdict(
        ctx,
        change,
        args.verdict,
        note=args.note,
        active_seconds=args.seconds,
        wall_seconds=args.seconds,
        hunks_total=hunks,
        hunks_viewed=viewed,
        critique=None,  # the critique cache (issue 5) will say what the reviewer had
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
    return 0
