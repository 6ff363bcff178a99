"""`reviewq queue`: pending AI-authored changes, riskiest first."""

from __future__ import annotations

import argparse

from reviewq.core.queue import SORT_KEYS

#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sort", choices=SORT_KEYS, default="risk")
    p.add_argument("--domain", metavar="D", help="only items touching this policy domain")
    p.add_argument("--json", action="store_true", help="JSON Lines, one item per line")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.core.policy import needs_brief
    from reviewq.core.queue import human_age, sort_queue
    from reviewq.output import emit_jsonl, print_table
    from reviewq.pending import pending_queue
    from reviewq.scan import warn_unknown_sizes

    items = pending_queue(ctx)
    warn_unknown_sizes(ctx, [i.change for i in items])
    if args.domain:
        items = [i for i in items if args.domain in i.domain.split("+")]
    items = sort_queue(items, args.sort)
    if args.json:
        emit_jsonl(i.to_json() for i in items)
        return 0
    rows = [
        [
            i.change.id[:12] if i.change.source == "git" else i.change.id[:18],
            i.change.authorship.agent,
            i.change.authorship.family,
            f"{i.risk.level} {i.risk.score}",
            i.domain,
            i.change.stats.brief() if i.change.stats else "-",
            human_age(i.age_seconds),
            needs_brief(i.needs) or "-",
            i.change.location or "-",
            i.change.commit.subject,
        ]
        for i in items
    ]
    print_table(
        ["ID", "AGENT", "FAMILY", "RISK", "DOMAIN", "SIZE", "AGE", "NEEDS", "LOCATION", "SUBJECT"],
        rows,
    )
    print(f"{len(items)} pending")
    return 0
