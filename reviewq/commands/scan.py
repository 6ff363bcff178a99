"""`reviewq scan [REV...]`: every AI-authored commit reachable from the revisions."""

from __future__ import annotations

import sys
from pathlib import Path

from reviewq.errors import ReviewqError

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

# Imported inside the functions that use them (start-up): `reviewq --help` imports every command
# module, and each command loads only what its own run needs (see `reviewq/cli.py`).


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
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON Lines, one record per commit (always with files, additions and deletions)",
    )
    p.add_argument(
        "--sizes",
        action="store_true",
        help="count every commit's size for the table (the table otherwise shows sizes "
        "already counted by an earlier scan, the queue or `scan --json`, and ? for the rest)",
    )
    p.add_argument(
        "--no-sessions",
        action="store_true",
        help="do not read agents' session stores for prompts",
    )


def run(args: argparse.Namespace, ctx) -> int:
    answer = _answer_question(args, ctx)
    if answer is not None and answer.replay(sys.stdout):
        _fast_record(args, ctx, answer)
        return 0
    recorder = _recorder(args, ctx) if answer is not None else None

    from reviewq.output import emit_jsonl, json_line
    from reviewq.workflow.scan import fill_sizes, scan_history, scan_inbox, warn_unknown_sizes

    # The table needs no size to list a commit: git's numstat of every AI commit costs several
    # times the log itself, so it shows the sizes already counted (`scan-sizes.jsonl`) unless
    # asked to count (`--sizes`). `--json` always carries them (the contract).
    sized = args.json or args.sizes
    if not args.no_sessions:  # read after the scan (`worktree_roots`); git answers meanwhile
        from reviewq.sources.log_format import WORKTREE_LIST

        ctx.git.start(WORKTREE_LIST)
    result = scan_history(
        ctx,
        args.revs or None,
        max_count=args.max_count,
        since=args.since,
        use_cache=not args.no_cache,
        sizes=sized,
    )
    changes = list(result.changes)
    if not args.no_sessions:
        from reviewq.workflow.session_prompts import with_session_prompts

        # Linking a session to its commits matches the files they touched: size them first
        # when this repository has agent sessions at all.
        changes = with_session_prompts(
            ctx, changes, fill=None if sized else (lambda cs: fill_sizes(ctx, cs))
        )
    warn_unknown_sizes(ctx, changes)
    if args.inbox or ctx.config.inbox:
        changes += scan_inbox(ctx, Path(args.inbox) if args.inbox else None)
    if args.json:
        if answer is None:
            emit_jsonl(c.to_json() for c in changes)
            return 0
        body = "".join(json_line(c.to_json()) + "\n" for c in changes)
        sys.stdout.write(body)
        kept = answer.keep(
            body,
            complete=all(c.stats is None or c.stats.size_known for c in changes),
            resolved=result.resolved,
            notes=result.notes,
        )
        if kept and recorder is not None:
            recorder.keep(ctx.git.paths(), result.resolved, result.notes, str(answer.path), kept)
        return 0
    from reviewq.output import print_table

    rows = []
    uncounted = 0
    for c in changes:
        a = c.authorship
        stats = c.stats
        if stats is None and c.source == "git":
            uncounted += 1
        rows.append(
            [
                (c.sha or c.id)[:12],
                a.agent,
                a.model or "-",
                a.family,
                a.role,
                a.confidence,
                stats.brief() if stats else NOT_COUNTED if c.source == "git" else "-",
                "yes" if c.prompt else "-",
                c.commit.subject,  # made visible, as every cell, by `print_table`
            ]
        )
    print_table(
        ["COMMIT", "AGENT", "MODEL", "FAMILY", "ROLE", "CONF", "SIZE", "PROMPT", "SUBJECT"], rows
    )
    if uncounted:
        print(
            f"reviewq: SIZE {NOT_COUNTED}: {uncounted} commit{'s' if uncounted != 1 else ''} "
            "not counted yet; `reviewq scan --sizes` counts them",
            file=sys.stderr,
        )
    return 0


#: The table's SIZE for a commit whose size nobody counted yet (`scan` without `--sizes`).
NOT_COUNTED = "?"


class _Answer:
    """A stored `scan --json` answer for this question (`reviewq.workflow.scan_answer`)."""

    def __init__(self, path, head: bytes, key: str, sessions: str) -> None:
        self.path, self.head, self.key, self.sessions = path, head, key, sessions

    def replay(self, out) -> bool:
        from reviewq.workflow.scan_answer import replay

        return replay(self.path, self.head, out)

    def keep(self, body: str, *, complete: bool, resolved, notes) -> bytes | None:
        """Store `body` under the revisions and notes the scan itself read (they may have moved
        since this question's header was made); returns the header stored, or None."""
        from reviewq.workflow.scan_answer import forget, header, store

        if complete and resolved is not None and notes is not None:
            head = header(self.key, resolved, notes, self.sessions)
            return head if store(self.path, head, body.encode()) else None
        forget(self.path)  # unknown sizes are counted again (and warned about) on every scan
        return None


def _recorder(args: argparse.Namespace, ctx):
    """The fast record's writer (`workflow/scan_fast.py`) for the plain `[--repo P] scan --json
    [--no-sessions]`; None for any other form (those always go the full way)."""
    if args.revs or args.config is not None or args.log is not None:
        return None
    import os

    from reviewq.workflow.scan_fast import Recorder

    argv = [*(["--repo", args.repo] if args.repo else []), "scan", "--json"]
    if args.no_sessions:
        argv.append("--no-sessions")
    return Recorder(argv, {**os.environ, **ctx.env}, not args.no_sessions)


def _fast_record(args: argparse.Namespace, ctx, answer: _Answer) -> None:
    """After a replay by the full path: the fast record for it, if the question allows one
    (a record lost or made stale by a moved ref is written again here)."""
    from reviewq.core import safejson

    recorder = _recorder(args, ctx)
    if recorder is None or recorder.before is None:
        return
    try:
        with open(answer.path, "rb") as fh:
            head = fh.readline()
        stored = safejson.loads(head)
    except (OSError, ValueError):
        return
    if head != answer.head:
        return
    recorder.keep(
        ctx.git.paths(), stored.get("resolved"), stored.get("notes"), str(answer.path), head
    )


def _answer_question(args: argparse.Namespace, ctx) -> _Answer | None:
    """The stored answer this `scan` could be replayed from, or None when it cannot be: not
    `--json`, no cache, a partial history (`--max-count`, `--since`), an inbox (its own cache),
    or revisions git cannot resolve (the scan then says why)."""
    if (
        not args.json
        or args.no_cache
        or args.max_count is not None
        or args.since is not None
        or args.inbox
        or ctx.config.inbox
    ):
        return None
    from reviewq.sources.gitcmd import GitError
    from reviewq.sources.notes import SCAN_NOTE_REFS
    from reviewq.workflow.scan_answer import answer_path, header, resolve_revs, scan_key

    git = ctx.git
    revs = list(args.revs or ["HEAD"])
    try:  # an unborn HEAD fails to resolve here: the scan then answers (nothing) as before
        resolved = resolve_revs(git, revs)
        notes = {
            ref: sha for ref, sha in git.ref_tips("refs/notes/").items() if ref in SCAN_NOTE_REFS
        }
    except (ReviewqError, GitError):
        return None
    if args.no_sessions:
        sessions = "off"
    else:
        from reviewq.workflow.session_prompts import answer_stamp

        sessions = answer_stamp(ctx)
    key = scan_key(revs, ctx.config.agents)
    paths = git.paths()
    linked = paths.common_dir is not None and paths.git_dir.resolve() != paths.common_dir.resolve()
    path = answer_path(ctx.state_dir, key, paths.git_dir.name if linked else None)
    return _Answer(path, header(key, resolved, notes, sessions), key, sessions)
