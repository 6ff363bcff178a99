"""`reviewq sync [REMOTE]`: fetch, merge and push the review notes without losing a verdict."""

from __future__ import annotations

import argparse
import sys

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "remote", nargs="?", metavar="REMOTE", help="remote name (default: the branch's, origin)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.output import emit_json
    from reviewq.store.notes_log import NOTES_REF
    from reviewq.store.sync import default_remote, sync_notes
    from reviewq.workflow.recording import notes_lock_path, share_local_records

    git = ctx.git
    remote = args.remote or default_remote(git)
    repaired = share_local_records(ctx)
    result = sync_notes(git, remote, notes_lock_path(ctx))
    result.repaired = repaired
    for warning in result.warnings:
        print(f"reviewq: warning: {warning}", file=sys.stderr)
    if args.json:
        emit_json(result.to_json())
        return 0
    parts = [f"{result.fetched} new verdict(s) from {remote}"]
    parts.append("pushed" if result.pushed else "nothing to push")
    if result.attempts > 1:
        parts.append(f"{result.attempts} attempts (the remote moved meanwhile)")
    if repaired:
        parts.append(f"{repaired} unshared local verdict(s) added to the notes first")
    print(
        f"synced {NOTES_REF} with {remote}: {', '.join(parts)}; {result.records} verdict(s) in all"
    )
    return 0
