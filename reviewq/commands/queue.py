"""`reviewq queue`: pending AI-authored changes, riskiest first."""

from __future__ import annotations

import argparse

from reviewq.core.queue import SORT_KEYS

#: It may read the whole log through a column cache (announced when large; see cli.py).
READS_LOG_COLUMNS = True


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sort",
        choices=SORT_KEYS,
        default="risk",
        help="order: riskiest, oldest or largest first (default: risk)",
    )
    p.add_argument("--domain", metavar="D", help="only items touching this policy domain")
    p.add_argument("--json", action="store_true", help="JSON Lines, one item per line")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.core.families import model_label
    from reviewq.core.model import short_id
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
            short_id(i.change.id),
            f"{i.risk.level} {i.risk.score}",
            i.change.authorship.agent,
            model_label(i.change.authorship.family, i.change.authorship.model),
            i.change.commit.subject,
            i.change.stats.brief() if i.change.stats else "-",
            human_age(i.age_seconds),
            i.domain,
            needs_brief(i.needs) or "-",
            i.change.location or "-",
        ]
        for i in items
    ]
    # The subject says what the change is: it takes the width; a long location (then needs,
    # agent, model) is cut when the terminal is narrow (`--json` and `reviewq show ID` have
    # them whole).
    heads = ["ID", "RISK", "AGENT", "MODEL", "SUBJECT", "SIZE", "AGE", "DOMAIN", "NEEDS"]
    print_table(
        [*heads, "LOCATION"],
        rows,
        flex=heads.index("SUBJECT"),
        caps={
            heads.index("AGENT"): 16,
            heads.index("MODEL"): 24,
            len(heads): 24,
        },
        min_flex=40,
        shrink=(len(heads), heads.index("NEEDS"), heads.index("AGENT"), heads.index("MODEL")),
    )
    print(f"{len(items)} pending")
    return 0
