"""`reviewq scan [REV...]`: every AI-authored commit reachable from the revisions."""

from __future__ import annotations

import argparse

from reviewq.errors import ReviewqError


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ReviewqError(f"{text!r} is not a number; give a whole number like 100") from None
    if value < 0:
        raise ReviewqError(f"{text!r} must not be negative")
    return value


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("revs", nargs="*", metavar="REV", help="revisions or ranges (default: HEAD)")
    p.add_argument(
        "--max-count",
        "-n",
        type=positive_int,
        metavar="N",
        help="look at the newest N commits only",
    )
    p.add_argument("--since", metavar="DATE", help="only commits newer than DATE (as git reads it)")
    p.add_argument("--inbox", metavar="DIR", help="also read this patch inbox folder")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not update the cache")
    p.add_argument("--json", action="store_true", help="JSON Lines, one record per commit")
    p.add_argument(
        "--no-sessions",
        action="store_true",
        help="do not read agents' session stores for prompts",
    )


def run(args: argparse.Namespace, ctx) -> int:
    from pathlib import Path

    from reviewq.core.text import one_line
    from reviewq.output import emit_jsonl, print_table
    from reviewq.scan import scan_history, scan_inbox, warn_unknown_sizes

    result = scan_history(
        ctx,
        args.revs or None,
        max_count=args.max_count,
        since=args.since,
        use_cache=not args.no_cache,
    )
    changes = list(result.changes)
    if not args.no_sessions:
        from reviewq.sessions import with_session_prompts

        changes = with_session_prompts(ctx, changes)
    warn_unknown_sizes(ctx, changes)
    if args.inbox or ctx.config.inbox:
        changes += scan_inbox(ctx, Path(args.inbox) if args.inbox else None)
    if args.json:
        emit_jsonl(c.to_json() for c in changes)
        return 0
    rows = []
    for c in changes:
        a = c.authorship
        stats = c.stats
        rows.append(
            [
                (c.sha or c.id)[:12],
                a.agent,
                a.model or "-",
                a.family,
                a.role,
                a.confidence,
                stats.brief() if stats else "-",
                "yes" if c.prompt else "-",
                one_line(c.commit.subject),
            ]
        )
    print_table(
        ["COMMIT", "AGENT", "MODEL", "FAMILY", "ROLE", "CONF", "SIZE", "PROMPT", "SUBJECT"], rows
    )
    return 0
