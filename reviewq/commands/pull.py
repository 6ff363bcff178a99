"""`reviewq pull [REMOTE]`: fetch agent branches, pull/merge-request refs and review notes."""

from __future__ import annotations

import argparse

from reviewq.core.model import short_id
from reviewq.core.queue import sort_queue

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("remote", nargs="?", metavar="REMOTE", help="default: [scope] remote, origin")
    p.add_argument("--json", action="store_true", help="one JSON object: refs, notes, new items")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.clock import local_now
    from reviewq.output import emit_json, print_table
    from reviewq.workflow.pull import pull

    report = pull(ctx, args.remote, now=local_now())
    if args.json:
        emit_json(report.to_json())
        return 0
    parts = [
        f"{len(report.new_refs)} new",
        f"{len(report.updated_refs)} updated",
        f"{len(report.deleted_refs)} deleted",
    ]
    print(f"pulled {report.remote}: refs {', '.join(parts)}")
    for n in report.notes:
        if n.status != "up-to-date":
            noun = "commit" if n.notes_changed == 1 else "commits"
            print(f"notes {n.ref}: {n.status} ({n.notes_changed} {noun} with new or changed notes)")
    if report.new_items:
        print(f"{len(report.new_items)} new in the queue:")
        print_table(
            ["ID", "AGENT", "LOCATION", "SUBJECT"],
            [
                [
                    short_id(i.change.id),
                    i.change.authorship.agent,
                    i.change.location or "-",
                    i.change.commit.subject,
                ]
                for i in sort_queue(report.new_items)
            ],
        )
    else:
        print("nothing new in the queue")
    if report.left_items:
        print(f"{len(report.left_items)} left the queue (merged before the window, or gone):")
        print_table(
            ["ID", "WAS AT", "SUBJECT"],
            [
                [short_id(i.change.id), i.change.location or "-", i.change.commit.subject]
                for i in report.left_items
            ],
        )
    print(f"{report.queue_size} pending")
    return 0
