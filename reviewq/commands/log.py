"""`reviewq log`: read the verdicts; `log verify`: check them; `log rebuild`: repair a copy.

    reviewq log [--json] [--since DATE] [--local]
    reviewq log verify [--json] [--no-signatures] [--require-signed] [--full]
    reviewq log rebuild (--from-notes [--force] | --to-notes)

`log` shows every verdict known here: the local log and the team's notes ref (after `sync`).
`log verify` exits 1 when the chain is broken, the file was truncated, a signature is bad or its
signer unknown, or a notes line was edited; it names the first bad record.
"""

from __future__ import annotations

import argparse
import re

from reviewq.core.model import short_id
from reviewq.core.times import duration
from reviewq.errors import CheckFailed, ReviewqError

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).

#: How many findings of one kind are listed before "... and N more".
_LIST_LIMIT = 10


#: Not set here: `log` and `log rebuild` may read the whole log through a column cache and
#: announce it themselves (`run`); `log verify` reads none, and starts without numpy.
READS_LOG_COLUMNS = False


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="JSON Lines, one record per line")
    p.add_argument(
        "--since",
        metavar="DATE",
        help="only verdicts from DATE (2026-11-01, 30d, 12w, '2 weeks ago')",
    )
    p.add_argument(
        "--local", action="store_true", help="only this machine's log, not the notes ref"
    )
    sub = p.add_subparsers(
        dest="action",
        metavar="[ACTION]",
        parser_class=type(p),
        help="optional; without one, list the verdicts",
    )
    v = sub.add_parser("verify", help="check chain, end of file, signatures and the notes ref")
    v.add_argument("--json", action="store_true", help="one JSON object")
    v.add_argument(
        "--no-signatures", action="store_true", help="skip the (slower) signature checks"
    )
    v.add_argument(
        "--full",
        action="store_true",
        help="check every line from the first; read and write no checkpoint",
    )
    v.add_argument(
        "--require-signed",
        action="store_true",
        help="fail on unsigned records too (also [log] require_signed in .reviewq.toml)",
    )
    r = sub.add_parser("rebuild", help="rebuild the log from the notes ref, or the other way")
    which = r.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--from-notes", action="store_true", help="append the notes ref's verdicts to the log"
    )
    which.add_argument(
        "--to-notes", action="store_true", help="add the log's verdicts to the notes ref"
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="with --from-notes: move a damaged log aside and write a new one",
    )


def run(args: argparse.Namespace, ctx) -> int:
    if args.action == "verify":
        return _verify(args, ctx)
    # start-up: the notice brings numpy (the column caches); `log verify` reads none
    from reviewq.output import column_build_notice

    with column_build_notice():
        if args.action == "rebuild":
            return _rebuild(args, ctx)
        return _list(args, ctx)


# -- log ----------------------------------------------------------------------------------------


def _since_epoch(ctx, text: str) -> float:
    """DATE as Unix seconds: first as `stats --since` reads it (`30d`, `12w`, `2026-11-01`,
    an RFC 3339 time: one parser for both commands), else as git reads dates (`2 weeks ago`).

    git's careful parser (the one behind `--type=expiry-date`) rejects what it cannot read,
    where `git log --since` would silently take it as "now"; it reads `12w` as something
    else entirely, hence `stats`' parser first.
    """
    from reviewq.clock import local_now
    from reviewq.sources.gitcmd import GitError
    from reviewq.workflow.stats import parse_since

    try:
        return parse_since(text, local_now(), None).timestamp()
    except ReviewqError:
        if re.fullmatch(r"\d+\s*[a-z]{1,3}", text.strip().lower()):
            # `12x`, `3m`: a duration with a unit `stats` does not know; git would read it
            # as some date or other and print a silently empty log
            raise ReviewqError(
                f"--since {text!r}: not a duration; give 30d, 12w, 2026-11-01 or '2 weeks ago'"
            ) from None
    try:
        out = ctx.git.text(
            ["-c", f"reviewq.since={text}", "config", "--type=expiry-date", "reviewq.since"],
            what="config",
        )
        return float(out.strip())
    except (GitError, ValueError):
        raise ReviewqError(
            f"--since {text!r}: not a date; give 2026-11-01, 30d, 12w or '2 weeks ago'"
        ) from None


def _list(args: argparse.Namespace, ctx) -> int:
    from reviewq.output import emit_jsonl, print_table
    from reviewq.workflow.recording import load_verdicts, load_verdicts_since

    if args.since:
        cutoff = _since_epoch(ctx, args.since)
        records = load_verdicts_since(ctx, cutoff, include_notes=not args.local)
    else:
        records = load_verdicts(ctx, include_notes=not args.local)
    if args.json:
        emit_jsonl(records)
        return 0
    rows = []
    for r in records:
        reviewer = r.get("reviewer") or {}
        change = r.get("sha") or r.get("change_id") or ""
        rows.append(
            [
                str(r.get("at", ""))[:16].replace("T", " "),
                r.get("verdict", ""),
                short_id(change),
                reviewer.get("email") or reviewer.get("name") or "",
                duration(float(r.get("active_seconds") or 0)),
                r.get("lines_changed", ""),
                f"{r.get('hunks_viewed', 0)}/{r.get('hunks_total', 0)}",
                "yes" if r.get("signature") else "-",
                r.get("note", ""),
            ]
        )
    print_table(
        ["AT", "VERDICT", "CHANGE", "REVIEWER", "ACTIVE", "LINES", "HUNKS", "SIGNED", "NOTE"],
        rows,
    )
    print(f"{len(rows)} verdict(s)")
    return 0


# -- log verify ---------------------------------------------------------------------------------


def _verify(args: argparse.Namespace, ctx) -> int:
    from reviewq.core.config import LogSettings
    from reviewq.output import emit_json
    from reviewq.workflow.recording import verify_log

    settings = ctx.config.log or LogSettings()
    require_signed = args.require_signed or settings.require_signed
    report = verify_log(ctx, signatures=not args.no_signatures, full=args.full)
    if args.json:
        emit_json(report.to_json(require_signed))
    else:
        _print_report(report, require_signed)
    if report.failed(require_signed):
        raise CheckFailed(f"log verify: {_first_failure(report, require_signed)}")
    return 0


def _describe(index: int, record_id, what: str) -> str:
    where = f"record {index}" if index else "notes record"
    rid = f" (id {str(record_id)[:12]})" if record_id else ""
    return f"{where}{rid}: {what}"


def _first_failure(report, require_signed: bool) -> str:
    for problem in (report.chain, report.tail):
        if problem is not None:
            return _describe(problem.index, problem.record_id, problem.problem)
    failing = report.failing_findings(require_signed)
    if failing:
        f = failing[0]
        return _describe(f.index, f.record_id, f"{f.kind}: {f.detail}")
    return "signatures were not checked (--no-signatures) but --require-signed asks for them"


def _print_report(report, require_signed: bool) -> None:
    from reviewq.core.text import one_line

    lines = []
    chain = "chain intact" if report.chain is None else "CHAIN BROKEN"
    end = "end intact" if report.tail is None else "TRUNCATED"
    lines.append(f"log {report.path}: {report.records} record(s); {chain}; {end}")
    if report.chain is not None:
        c = report.chain
        lines.append(f"  first bad {_describe(c.index, c.record_id, c.problem)}")
    if report.tail is not None:
        t = report.tail
        lines.append(f"  {_describe(t.index, t.record_id, t.problem)}")
    if report.signatures_checked:
        counts = ", ".join(f"{n} {k}" for k, n in report.signatures.items() if n) or "none"
        lines.append(f"signatures: {counts}")
    else:
        lines.append("signatures: not checked (--no-signatures)")
    if report.notes is not None:
        n = report.notes
        extra = ""
        if "signatures" in n:
            extra = "; others' signatures: " + ", ".join(
                f"{v} {k}" for k, v in n["signatures"].items()
            )
        lines.append(f"notes {n['ref']}: {n['records']} record(s), {n['edited']} edited{extra}")
    by_kind: dict[str, list] = {}
    for f in report.findings:
        if f.kind.removeprefix("notes:") == "unsigned" and not require_signed:
            continue  # counted above; listing every unsigned record would bury the rest
        by_kind.setdefault(f.kind, []).append(f)
    for kind, items in by_kind.items():
        lines.append(f"{kind}: {len(items)}")
        for f in items[:_LIST_LIMIT]:
            where = f"record {f.index}" if f.index else "notes"
            lines.append(f"  {where} (id {str(f.record_id)[:12]}): {one_line(f.detail)}")
        if len(items) > _LIST_LIMIT:
            lines.append(f"  ... and {len(items) - _LIST_LIMIT} more")
    for warning in report.warnings:
        lines.append(f"warning: {warning}")
    lines.append("FAILED" if report.failed(require_signed) else "OK")
    print("\n".join(lines))


# -- log rebuild --------------------------------------------------------------------------------


def _rebuild(args: argparse.Namespace, ctx) -> int:
    from reviewq.workflow.recording import rebuild_log_from_notes, share_local_records

    if args.to_notes:
        if args.force:
            raise ReviewqError("--force only applies to --from-notes")
        added = share_local_records(ctx)
        print(f"{added} verdict line(s) added to refs/notes/reviewq")
        return 0
    result = rebuild_log_from_notes(ctx, force=args.force)
    if result.moved_to:
        print(f"the damaged log was moved to {result.moved_to}")
    if result.skipped:
        print(f"{result.skipped} record(s) left out: their bytes do not match their own hash")
    print(f"{result.added} verdict(s) appended to {ctx.log_path}")
    return 0
