"""`reviewq stats`: does review keep up with AI-authored change, and is it real review?"""

from __future__ import annotations

import argparse

from reviewq.core.model import short_id
from reviewq.core.times import duration
from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

PERIODS = ("week", "day")


#: It opens its repositories itself (`--repos` needs no current repository).
NEEDS_REPO = False
#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--since", metavar="DATE", help="only verdicts and commits from DATE (2026-11-01, 30d, 12w)"
    )
    p.add_argument(
        "--tz",
        metavar="ZONE",
        help="where days end: record (each verdict's own offset, the default), local, UTC, "
        "or a zone name like Europe/Berlin",
    )
    p.add_argument("--by", choices=PERIODS, default="week", help="trend table rows (default: week)")
    p.add_argument(
        "--last", type=int, default=12, metavar="N", help="trend rows to print (default: 12)"
    )
    p.add_argument("--json", action="store_true", help="every figure as one JSON object")
    p.add_argument(
        "--repos",
        nargs="+",
        metavar="PATH",
        help="several repositories (clones or bare mirrors): figures per repository and in "
        "total (default: [team] repos of the settings, else the current repository)",
    )


def run(args: argparse.Namespace, ctx) -> int:
    if args.last < 1:
        raise ReviewqError(f"--last {args.last}: give a number of rows of at least 1")
    # The log's column cache is read in a thread while the modules below load
    # (`workflow.table_prefetch`: used only if it is this repository's, log unchanged); begun
    # by `cli.main` already for the usual command lines.
    from reviewq.workflow import table_prefetch

    table_prefetch.set_up_numpy()
    if not args.repos and not args.log and not table_prefetch.pending():
        table_prefetch.start(args.repo)

    from reviewq.store.verdict_columns import STORE_IN_BACKGROUND, wait_stored

    # A first build's cache is written in a thread while the figures are computed (the
    # write holds no GIL); waited for before the command ends.
    token = STORE_IN_BACKGROUND.set(True)
    try:
        return _run(args)
    finally:
        STORE_IN_BACKGROUND.reset(token)
        wait_stored()


def _run(args: argparse.Namespace) -> int:
    from reviewq import heap
    from reviewq.clock import local_now
    from reviewq.output import column_build_notice, emit_json
    from reviewq.workflow.stats import TeamInputs, gather_for, parse_since

    now = local_now()
    with column_build_notice():
        inputs = gather_for(args)
    whole = inputs.combined if isinstance(inputs, TeamInputs) else inputs
    since = parse_since(args.since, now, whole.tz) if args.since else None
    heap.temporaries_reuse_memory()  # this process ends after the figures
    stats = whole.stats(now, since)
    if not isinstance(inputs, TeamInputs):
        if args.json:
            emit_json(stats.to_json())
            return 0
        print_stats(stats, by=args.by, last=args.last, repository=inputs.repository)
        return 0
    parts = [(p.repository, p.stats(now, since)) for p in inputs.parts]
    if args.json:
        emit_json(
            {
                "repositories": [{"repository": name, **st.to_json()} for name, st in parts],
                "total": stats.to_json(),
            }
        )
        return 0
    print_stats(stats, by=args.by, last=args.last, repository=whole.repository)
    print()
    print_repositories(parts, stats)
    return 0


def print_repositories(parts, total) -> None:
    """One row per repository and the total (computed from all rows, not from these)."""
    from reviewq.core.report import fmt_pct
    from reviewq.output import print_table

    def row(name: str, st) -> list:
        t, f = st.totals, st.flow
        return [
            name,
            f"{f.ai_commits}/{f.commits}" if st.automation_known else "–",
            fmt_pct(f.line_share, 0),
            fmt_pct(f.coverage, 0),
            t.verdicts,
            fmt_pct(t.rejection_rate, 0),
            fmt_pct(t.rubber_stamp_rate, 0),
            fmt_pct(t.second_family_rate, 0),
            duration(t.active_median_seconds),
            st.queue.depth,
        ]

    print_table(
        [
            "REPOSITORY",
            "AI COMMITS",
            "AI LINES",
            "COVERAGE",
            "VERDICTS",
            "REJECT",
            "STAMPS",
            "2ND FAMILY",
            "MEDIAN",
            "WAITING",
        ],
        [row(name, st) for name, st in parts] + [row("ALL", total)],
        flex=0,
    )


def print_stats(stats, *, by: str, last: int, repository: str) -> None:
    from reviewq.core.report import fmt_int, fmt_pct, fmt_ratio
    from reviewq.core.stats_rows import BREAKDOWN_COLUMNS, breakdown_cells
    from reviewq.core.text import one_line
    from reviewq.output import print_table

    t, q, f = stats.totals, stats.queue, stats.flow
    period = f"since {stats.since}" if stats.since else "all time"
    print(f"reviewq stats: {one_line(repository)}, {period} (days: {stats.tz})")
    print()
    lines = [
        (
            "verdicts",
            f"{t.verdicts:,}: approve {t.approve:,}, reject {t.reject:,}, "
            f"changes {t.changes:,}, escalate {t.escalate:,}",
        ),
        (
            "decisions",
            f"accepted {fmt_pct(t.acceptance_rate)}, rejected {fmt_pct(t.rejection_rate)}, "
            f"changes requested {fmt_pct(t.changes_rate)}",
        ),
        (
            "active time",
            f"median {duration(t.active_median_seconds)}, "
            f"p90 {duration(t.active_p90_seconds)}; "
            f"review rate {fmt_int(t.lines_per_hour)} changed lines/hour",
        ),
        (
            "rubber stamps",
            f"{fmt_ratio(t.rubber_stamps, t.approve)} approvals: {t.too_fast:,} too fast, "
            f"{t.too_short:,} too short, {t.hunks_unviewed:,} hunks unviewed, "
            f"{t.critique_unopened:,} critique unopened",
        ),
        (
            "awaiting",
            f"{q.depth:,} {'change waits' if q.depth == 1 else 'changes wait'} for a decision"
            + (
                f", oldest {duration(q.oldest_pending_seconds)} ({short_id(q.oldest_pending_id)})"
                if q.depth and q.oldest_pending_id
                else ""
            )
            + f"; pickup median {duration(q.pickup_median_seconds)}, "
            f"p90 {duration(q.pickup_p90_seconds)}",
        ),
        ("coverage", f"{fmt_ratio(f.reviewed_changes, f.ai_changes)} AI-authored changes"),
        (
            "critique",
            f"second family on {fmt_ratio(t.second_family, t.verdicts)} verdicts; "
            f"same-family overrides {t.same_family:,}",
        ),
        (
            "overrides",
            f"{fmt_ratio(t.overrides, t.severe)} decisions on changes with error/critical findings"
            if stats.critique_findings_known
            else "unknown (no critique findings cached)",
        ),
        (
            "automation",
            f"{fmt_ratio(f.ai_commits, f.commits)} commits, {fmt_ratio(f.ai_lines, f.lines)} lines"
            if stats.automation_known
            else "unknown (history not read)",
        ),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")
    if stats.invalid_records:
        print(f"{'skipped'.ljust(width)}  {stats.invalid_records:,} unreadable verdict records")

    periods = (stats.by_week if by == "week" else stats.by_day)[-last:]
    if periods:
        print()
        print_table(
            [
                by.upper(),
                "VERDICTS",
                "ACCEPT",
                "REJECT",
                "MEDIAN",
                "P90",
                "LOC/H",
                "STAMPS",
                "COVERAGE",
                "PICKUP",
                "WAITING",
                "AI COMMITS",
                "AI LINES",
            ],
            [
                [
                    p.key,
                    p.verdicts.verdicts,
                    fmt_pct(p.verdicts.acceptance_rate, 0),
                    fmt_pct(p.verdicts.rejection_rate, 0),
                    duration(p.verdicts.active_median_seconds),
                    duration(p.verdicts.active_p90_seconds),
                    fmt_int(p.verdicts.lines_per_hour),
                    fmt_pct(p.verdicts.rubber_stamp_rate, 0),
                    fmt_pct(p.flow.coverage, 0),
                    duration(p.flow.pickup_median_seconds),
                    p.flow.queue_depth_at_end,
                    f"{p.flow.ai_commits}/{p.flow.commits}" if stats.automation_known else "–",
                    fmt_pct(p.flow.line_share, 0),
                ]
                for p in periods
            ],
            flex=0,
        )
    coverage = {"family": stats.coverage_by_family, "agent": stats.coverage_by_agent}
    for title, rows in (
        ("REVIEWER", stats.by_reviewer),
        ("FAMILY", stats.by_family),
        ("AGENT", stats.by_agent),
        ("DOMAIN", stats.by_domain),
    ):
        if not rows:
            continue
        cov = coverage.get(title.lower(), {})
        print()
        print_table(
            [
                title,
                *(terminal for _, terminal in BREAKDOWN_COLUMNS),
                *(["COVERAGE"] if cov else []),
            ],
            [
                [
                    r.label if title != "REVIEWER" else f"{r.label} <{r.key}>",
                    *breakdown_cells(r),
                    *(
                        [fmt_pct(cov[r.key][1] / cov[r.key][0]) if r.key in cov else "–"]
                        if cov
                        else []
                    ),
                ]
                for r in rows
            ],
            flex=0,
        )
