"""`reviewq apply INBOX-ID --branch B`: turn an inbox patch into commits with `git am`."""

from __future__ import annotations

import argparse
import sys

from reviewq.errors import ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("ref", metavar="INBOX-ID", help="inbox:<patch-id prefix>, or the patch's file")
    p.add_argument("--branch", "-b", required=True, metavar="B", help="the branch to apply to")
    p.add_argument(
        "--create", action="store_true", help="start B (from main, or --from REV) if it is new"
    )
    p.add_argument("--from", dest="start", metavar="REV", help="with --create: where B starts")
    p.add_argument(
        "--keep",
        action="store_true",
        help="leave the patch in the inbox (default: move it to applied/)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object: ids, branch, commits")


def run(args: argparse.Namespace, ctx) -> int:
    from reviewq.output import emit_json
    from reviewq.workflow.apply_patch import apply_patches

    if args.start and not args.create:
        raise ReviewqError("--from only makes sense with --create")
    applied = apply_patches(
        ctx, args.ref, args.branch, create=args.create, start=args.start, keep=args.keep
    )
    if args.json:
        emit_json(applied.to_json())
        return 0
    n = len(applied.commits)
    where = f"new branch {applied.branch}" if applied.created else applied.branch
    shas = ", ".join(c[:12] for c in applied.commits)
    print(f"applied {n} {'patch' if n == 1 else 'patches'} to {where}: {shas}")
    for path in applied.archived:
        print(f"moved {path}", file=sys.stderr)
    unreviewed = [i for i, v in zip(applied.ids, applied.verdicts) if v is None]
    if unreviewed:
        print(
            f"note: {len(unreviewed)} applied without a verdict; the new commits are in the queue",
            file=sys.stderr,
        )
    return 0
