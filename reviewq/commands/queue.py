"""`reviewq queue`: pending AI-authored changes, riskiest first."""

from __future__ import annotations

import argparse

from reviewq.core.model import short_id
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
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--audit",
        action="store_true",
        help="only the audit view: AI commits on main older than [scope] recent",
    )
    which.add_argument(
        "--all", action="store_true", help="the daily queue and the audit view together"
    )


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.clock import local_now
    from reviewq.core.families import model_label
    from reviewq.core.policy import needs_brief
    from reviewq.core.queue import human_age, queue_order
    from reviewq.output import emit_jsonl, print_table
    from reviewq.workflow.scan import warn_unknown_sizes
    from reviewq.workflow.units import build_units

    view = "audit" if args.audit else "all" if args.all else "daily"
    queue = build_units(ctx, local_now(), for_view=view)  # daily: the audit view left unsized
    items = queue.items(view, sort=None)
    warn_unknown_sizes(ctx, [i.change for i in items])
    if args.domain:
        items = [i for i in items if args.domain in i.domain.split("+")]
    # Unmerged work first, then main: each part by the chosen order (the TUI's order too).
    items = queue_order(items, args.sort)
    if args.json:
        emit_jsonl(i.to_json() for i in items)
        return 0
    rows = [
        [
            _ident(i),
            f"{i.risk.level} {i.risk.score}",
            i.change.authorship.agent,
            model_label(i.change.authorship.family, i.change.authorship.model),
            _subject(i),
            i.stats.brief() if i.stats else "-",
            human_age(i.age_seconds),
            i.domain,
            needs_brief(i.needs) or "-",
            (i.unit.name if i.unit and i.unit.kind != "commit" else i.change.location) or "-",
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
    print(f"{len(items)} pending: {queue.header()}")
    return 0


def _ident(item) -> str:
    unit = item.unit
    if unit is not None and unit.kind not in ("commit", "inbox"):
        return short_id(unit.tip)
    return short_id(item.change.id)


def _subject(item) -> str:
    """The subject, with how many commits the unit holds and how many came since your verdict."""
    unit, subject = item.unit, item.change.commit.subject
    if unit is None or (len(unit.commits) <= 1 and not unit.new_since_verdict):
        return subject
    parts = [f"{len(unit.commits)} commits"]
    if unit.human:
        parts.append(f"{len(unit.human)} human")
    if unit.new_since_verdict:
        parts.append(f"{len(unit.new_since_verdict)} new since your verdict")
    return f"[{', '.join(parts)}] {subject}"
