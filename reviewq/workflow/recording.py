"""Verdicts: the one API the CLI, the TUI and policy use to record and read human decisions.

Recording a verdict, in this order (docs/provenance.md):

1. check everything that can be checked first: the reviewer's git identity, the signing key,
   the notes ref; a failure here records nothing;
2. sign the record's content digest (when git is set up for SSH signing);
3. append it to the local log and fsync: the source of truth. From here on the verdict exists;
4. add its line to `refs/notes/reviewq` (the team's copy). If that fails, the verdict is *not*
   lost or doubled: the caller is warned, and `reviewq sync` (or `reviewq log rebuild
   --to-notes`) adds every log record the notes ref lacks.

Reading merges the local log and the notes ref, one record per id, so a bare clone (a CI mirror
that has only the notes ref) sees the same verdicts as a reviewer's checkout after sync.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewq.clock import local_now
from reviewq.context import Context
from reviewq.core.config import LogSettings
from reviewq.core.identity import same_person
from reviewq.core.jsonio import parse_line_strictly
from reviewq.core.model import VERDICTS, Change, Identity
from reviewq.core.text import clean_text, one_line
from reviewq.core.verdict import (
    SIG_GOOD,
    SIG_UNSIGNED,
    CritiqueState,
    RecordFinding,
    SettledIndex,
    dedupe_records,
    line_hash_matches,
    new_record,
    record_order,
)
from reviewq.errors import ReviewqError
from reviewq.sources.diffs import read_commit_diff
from reviewq.sources.gitcmd import GitError
from reviewq.sources.inbox import read_patch_file
from reviewq.store.log import ProvenanceLog, VerifyReport
from reviewq.store.notes_log import (
    NOTES_REF,
    add_records,
    missing_from_notes,
    read_verdict_notes,
    ref_tip,
)
from reviewq.store.signing import signer_from_git, verifier_from_git

PATCH_ID_TABLE = "patch_ids"
CONTENT_ID_TABLE = "content_ids"
PATCH_ID_KEY = "by-sha"
#: The record field holding `content_ids`' answer; what verdicts are matched to changes by.
CONTENT_ID_FIELD = "content_id"
CONTENT_ID_ARGS = ["patch-id", "--verbatim"]

#: Arguments for the patch-id pass: plumbing (no user diff config), fixed prefixes, no rename
#: detection, so every clone computes the same patch-id for the same change.
_DIFF_TREE = [
    "-c",
    "core.quotepath=on",
    "diff-tree",
    "--stdin",
    "-p",
    "--root",
    "--no-renames",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
]

#: The content-id pass: the same diff, as text whatever the attributes say, with full blob ids.
_CONTENT_DIFF_TREE = [*_DIFF_TREE[:-2], "--text", "--full-index", *_DIFF_TREE[-2:]]


def _stderr_warning(message: str) -> None:

    print(f"reviewq: warning: {one_line(message)}", file=sys.stderr)


def notes_lock_path(ctx: Context):
    return ctx.state_dir / "notes.lock"


def reviewer_identity(ctx: Context) -> Identity:
    """The reviewer as git names them: `git var GIT_COMMITTER_IDENT`.

    The same person `git commit` would record: `GIT_COMMITTER_NAME`/`GIT_COMMITTER_EMAIL` in the
    environment win over `committer.*` and `user.*`, as in git. Never a guess from the host name
    (`user.useConfigOnly`): an identity nobody set is refused.
    """
    try:
        out = ctx.git.text(
            ["-c", "user.useConfigOnly=true", "var", "GIT_COMMITTER_IDENT"], what="var"
        )
    except GitError:
        out = ""
    match = _IDENT.match(out.strip())
    if match is None or not match["name"].strip() or not match["email"].strip():
        raise ReviewqError(
            "who is reviewing? set your identity first: "
            "`git config user.name 'Your Name'` and `git config user.email you@example.com`"
        )
    return Identity(match["name"].strip(), match["email"].strip())


#: `git var GIT_COMMITTER_IDENT`: "Name <email> 1700000000 +0100".
_IDENT = re.compile(r"^(?P<name>.*) <(?P<email>[^<>]*)> \d+ [+-]\d{4}$")

#: Verdicts that ask something of the author or of someone senior: they must say what.
NOTE_REQUIRED = {
    "changes": "what should change",
    "escalate": "why it needs someone else",
}


# -- patch-ids --------------------------------------------------------------------------------


def patch_ids(ctx: Context, shas: Sequence[str]) -> dict[str, str | None]:
    """sha -> `git patch-id --stable` (None for merges and empty commits).

    Recorded in every verdict (`patch_id`) for readers of the contract, but no longer what a
    verdict is matched to a change by: the stable patch-id ignores whitespace, so a commit
    amended to behave differently (`return True` moved out of its `if`, `rm -rf /tmp/x` split
    into `rm -rf / tmp/x`) would keep it. `content_ids` is the identity that counts.
    """
    return _pipeline_ids(ctx, shas, PATCH_ID_TABLE, _DIFF_TREE, ["patch-id", "--stable"])


def content_ids(
    ctx: Context, shas: Sequence[str], *, trust_cache: bool = True
) -> dict[str, str | None]:
    """sha -> the change's content identity: `git patch-id --verbatim` of its full text diff.

    Every byte of every added, removed and context line counts (whitespace too), and nothing
    the repository can configure changes the diff it is computed from: `--text` (a `-diff` or
    `binary` attribute cannot turn lines into "Binary files differ"), no textconv, no external
    diff. Line numbers do not count, so a change rebased onto a moved base keeps its identity as
    long as its lines and their context are byte-identical; the same line added in another
    place does not. None for merges and empty commits (they match by sha only).

    `trust_cache=False` (the gate): every id computed from the commits, none read from the
    cache file, which a local shell can rewrite to give a new commit an approved one's id
    (the fresh answers are still stored).
    """
    return _pipeline_ids(
        ctx, shas, CONTENT_ID_TABLE, _CONTENT_DIFF_TREE, CONTENT_ID_ARGS, trust_cache=trust_cache
    )


def _pipeline_ids(
    ctx: Context,
    shas: Sequence[str],
    table: str,
    diff: list[str],
    patch_id: list[str],
    *,
    trust_cache: bool = True,
) -> dict[str, str | None]:
    """A commit's id never changes, so answers are cached; the rest (all of them, when the
    cache is not trusted) are computed in one `git diff-tree --stdin -p | git patch-id ...`
    pipeline, however many there are."""
    cached: dict[str, str] = dict(ctx.cache.get(table, PATCH_ID_KEY) or {})
    wanted = [s for s in dict.fromkeys(shas) if s]
    missing = [s for s in wanted if s not in cached or not trust_cache]
    if missing:
        out = ctx.git.pipe(diff, patch_id, input=("\n".join(missing) + "\n").encode())
        found = {}
        for line in out.decode().splitlines():
            parts = line.split()
            if len(parts) == 2:
                found[parts[1]] = parts[0]
        for sha in missing:
            cached[sha] = found.get(sha, "")
        ctx.cache.put(table, PATCH_ID_KEY, cached)
        ctx.cache.flush()
    return {s: (cached.get(s) or None) for s in wanted}


def change_patch_id(ctx: Context, change: Change) -> str | None:
    if change.source == "inbox":
        return change.id.removeprefix("inbox:") or None
    return patch_ids(ctx, [change.commit.sha]).get(change.commit.sha)


def change_content_id(ctx: Context, change: Change) -> str | None:
    """`content_ids` of a commit; of an inbox patch, `git patch-id --verbatim` of the patch
    itself (so the commit `reviewq apply` makes of it matches while its lines are the same)."""
    if change.source == "inbox":
        if not change.patch_path:
            return None

        patches = read_patch_file(Path(change.patch_path), change.commit.committed_at)
        same = [p for p in patches if p.commit.message == change.commit.message]
        if not (same or patches):
            return None
        try:
            out = ctx.git.run(CONTENT_ID_ARGS, input=(same or patches)[0].raw, what="patch-id")
        except GitError:
            return None
        parts = out.split()
        return parts[0].decode() if parts else None
    if not change.commit.sha:
        return None
    return content_ids(ctx, [change.commit.sha]).get(change.commit.sha)


def hunk_count(ctx: Context, change: Change) -> int:
    """How many hunks the change's diff has (what `hunks_viewed` is out of)."""
    if change.source == "inbox" and change.patch_path:
        patches = read_patch_file(Path(change.patch_path), change.commit.committed_at)
        same = [p for p in patches if p.commit.message == change.commit.message]
        return (same or patches)[0].diff.hunk_count

    return read_commit_diff(ctx.git, change.commit.sha).hunk_count


# -- recording --------------------------------------------------------------------------------


def record_verdict(
    ctx: Context,
    change: Change,
    verdict: str,
    *,
    note: str = "",
    active_seconds: float,
    wall_seconds: float,
    hunks_total: int,
    hunks_viewed: int,
    critique: CritiqueState | None = None,
    co_reviewers: Iterable[Identity] = (),
    domain: str = "default",
    extra: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    warn: Callable[[str], None] | None = None,
    reviewer: Identity | None = None,
    notice: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Record a human verdict on `change`; returns the stored (sealed, maybe signed) record.

    `notice` (the CLI and the TUI pass one) is told when the verdict replaces the reviewer's own
    earlier verdict on the change: only each reviewer's latest verdict stands.

    `reviewer` defaults to git's identity here. A pair session passes whoever drives at the
    verdict; when that is someone else, the record is left unsigned: the key here is its
    owner's, and a signature for another person's verdict would not verify as theirs.

    Raises ReviewqError, having recorded nothing, when the verdict cannot be recorded. Once the
    log holds the record, a failure to update the notes ref only calls `warn` (default: one line
    on stderr): the verdict is safe and `reviewq sync` will share it.
    """

    if verdict not in VERDICTS:
        raise ReviewqError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if verdict in NOTE_REQUIRED and not _clean(note):
        raise ReviewqError(
            f"a {verdict!r} verdict needs a note saying {NOTE_REQUIRED[verdict]} "
            "(--note TEXT); nothing recorded"
        )
    local = reviewer_identity(ctx)
    if reviewer is None:
        reviewer = local
    elif not (reviewer.name.strip() and reviewer.email.strip()):
        raise ReviewqError("the reviewer needs a name and an email; nothing recorded")
    git = ctx.git
    signer = signer_from_git(git) if same_person(reviewer, local) else None
    ref_tip(git)  # a damaged notes ref stops us before anything is written
    patch_id = change_patch_id(ctx, change)
    content_id = change_content_id(ctx, change)
    stats = change.stats
    when = (clock or local_now)()
    if when.tzinfo is None:
        raise ReviewqError("the clock gave a time without an offset; pass an aware datetime")
    auth = change.authorship
    try:
        record = new_record(
            record_id=uuid.uuid4().hex,
            sha=change.sha,
            change_id=change.id,
            patch_id=patch_id,
            verdict=verdict,
            reviewer=reviewer,
            at=when.isoformat(timespec="milliseconds"),
            active_seconds=active_seconds,
            wall_seconds=wall_seconds,
            lines_changed=stats.lines_changed if stats else 0,
            hunks_total=hunks_total,
            hunks_viewed=hunks_viewed,
            critique=critique,
            author_family=auth.family,
            domain=domain,
            note=_clean(note),
            co_reviewers=co_reviewers,
            # From markers, notes and sidecars: an agent's JSON may hold lone surrogates.
            agent=_clean(auth.agent),
            model=_clean(auth.model) if auth.model else auth.model,
            extra={**(extra or {}), CONTENT_ID_FIELD: content_id},
        )
    except ValueError as exc:
        raise ReviewqError(f"cannot record the verdict: {exc}") from None
    earlier = _own_latest(ctx, change, reviewer, content_id) if notice is not None else None
    stored = ProvenanceLog(ctx.log_path).append(record, sign=signer.sign if signer else None)
    if earlier is not None and notice is not None:
        notice(
            f"this {verdict} replaces your earlier {earlier.get('verdict')} of "
            f"{earlier.get('at')} (verdict {str(earlier.get('id'))[:12]}): each reviewer's "
            "latest verdict on a change is the one that stands"
        )
    try:
        add_records(git, [stored], notes_lock_path(ctx))
    except (ReviewqError, OSError) as exc:
        message = exc.message if isinstance(exc, ReviewqError) else str(exc)
        (warn or _stderr_warning)(
            f"verdict {stored['id'][:12]} is recorded in the log, but the notes ref was not "
            f"updated ({message}); `reviewq sync` or `reviewq log rebuild --to-notes` adds it"
        )
    return stored


def _own_latest(
    ctx: Context, change: Change, reviewer: Identity, content_id: str | None
) -> dict[str, Any] | None:
    """The reviewer's own latest verdict on this change (or a byte-identical copy), if any."""

    try:
        records = load_verdicts_about(ctx, [change])
    except (ReviewqError, OSError, ValueError):
        return None  # a notice only: never a reason not to record
    mine = [
        r
        for r in records
        if isinstance(r.get("reviewer"), dict)
        and same_person(
            Identity(str(r["reviewer"].get("name") or ""), str(r["reviewer"].get("email") or "")),
            reviewer,
        )
        and (
            (change.sha and r.get("sha") == change.sha)
            or (content_id and r.get(CONTENT_ID_FIELD) == content_id)
            or r.get("change_id") == change.id
        )
    ]
    return max(mine, key=record_order) if mine else None


def _clean(text: str) -> str:
    """Notes come from argv and text fields; make sure they survive UTF-8 and JSON."""

    return clean_text(text).strip()


# -- reading ----------------------------------------------------------------------------------


def local_records(ctx: Context) -> list[dict[str, Any]]:
    """The local log's records that hash to their own `hash`: an edited line counts nowhere
    (`log verify` names it; the gate names it too)."""
    return ProvenanceLog(ctx.log_path).intact_records()[0]


def load_verdicts(ctx: Context, *, include_notes: bool = True) -> list[dict[str, Any]]:
    """Every verdict known here: the local log and the notes ref, one per id, ordered by `at`."""
    records = local_records(ctx)
    if include_notes:
        records += read_verdict_notes(ctx.git).records
    return dedupe_records(records)


def load_verdicts_since(
    ctx: Context, cutoff: float, *, include_notes: bool = True
) -> list[dict[str, Any]]:
    """What `load_verdicts` returns, less the records before `cutoff` (Unix seconds).

    The local log comes through its record columns (`load_log_records`): the instant of every
    record is one array, so only the records from the cutoff on become dicts, and a week of a
    million-record log is read in well under a second instead of parsing the million.
    """
    # start-up: numpy and the column caches load only where the columns are read
    import numpy as np

    from reviewq.store.verdict_columns import RECORDS_CACHE_NAME, load_log_records

    cache = ctx.log_cache(RECORDS_CACHE_NAME)
    if cache is None:  # an explicit --log has no cache: building the columns would cost more
        everything = load_verdicts(ctx, include_notes=include_notes)
        return [r for r in everything if record_order(r)[0] >= cutoff]
    table = load_log_records(ctx.log_path, cache)
    recent = np.flatnonzero(table.epoch >= cutoff).tolist()
    ids = table.column("id")
    # `load_verdicts` keeps the first record of an id: a later copy (only a damaged log has
    # one) must not come back because the first is older than the cutoff.
    first: dict[str, int] = {}
    for row, rid in enumerate(ids):
        if type(rid) is str:
            first.setdefault(rid, row)
    local = table.rows([i for i in recent if type(ids[i]) is str and first[ids[i]] == i])
    notes = read_verdict_notes(ctx.git).records if include_notes else []
    shared = [r for r in notes if r.get("id") not in first]
    return [r for r in dedupe_records([*local, *shared]) if record_order(r)[0] >= cutoff]


def verdict_keys(ctx: Context, changes: Sequence[Change]) -> set[str]:
    """Everything a verdict about one of `changes` may be recorded under: shas, change ids and
    stable patch-ids. A superset to read candidates by (the log's key index has no content ids):
    equal content ids imply equal stable patch-ids, and `workflow.gate.Verdicts.records_for` keeps
    only the records whose sha, content id or change id matches."""
    keys: set[str] = set()
    for change in changes:
        keys.add(change.id)
        if change.source == "inbox":
            keys.add(change.id.removeprefix("inbox:"))
        elif change.sha:
            keys.add(change.sha)
    shas = [c.commit.sha for c in changes if c.source == "git" and c.commit.sha]
    if shas:
        keys.update(pid for pid in patch_ids(ctx, shas).values() if pid)
    return keys


def load_verdicts_about(
    ctx: Context, changes: Sequence[Change], *, include_notes: bool = True
) -> list[dict[str, Any]]:
    """What `load_verdicts` returns, less the records about no change in `changes`.

    The local log is read through its column cache's key index (`verdict_columns`): only the
    lines about these changes are parsed, so the queue over a log of a million verdicts does not
    parse the million. Patch-ids are computed (and cached) only when there are verdicts at all.
    """
    # start-up: numpy (see `load_verdicts_since`)
    from reviewq.store.verdict_columns import CACHE_NAME, KEY_FIELDS, records_about

    notes = read_verdict_notes(ctx.git).records if include_notes else []
    has_log = ctx.log_path.exists() and ctx.log_path.stat().st_size > 0
    if not notes and not has_log:
        return []
    keys = verdict_keys(ctx, changes)
    cache = ctx.log_cache(CACHE_NAME)
    local = records_about(ctx.log_path, cache, keys) if has_log else []
    shared = [r for r in notes if any(r.get(f) in keys for f in KEY_FIELDS)]
    return dedupe_records([*local, *shared])


def settled_index(ctx: Context, records: Iterable[Mapping[str, Any]] | None = None) -> SettledIndex:
    return SettledIndex(load_verdicts(ctx) if records is None else records)


def verdicts_for(ctx: Context, change: Change | None, sha: str) -> list[dict[str, Any]]:
    """Verdicts on one change: by its sha, its content id (rebased copies) or its inbox id."""
    records = load_verdicts(ctx)
    if not records:
        return []
    if change is not None and change.source == "inbox":
        content: str | None = None
        cid: str | None = change.id
        sha = ""
    else:
        content, cid = content_ids(ctx, [sha]).get(sha), None
    return [
        r
        for r in records
        if (sha and r.get("sha") == sha)
        or (content and r.get(CONTENT_ID_FIELD) == content)
        or (cid and r.get("change_id") == cid)
    ]


def unshared_records(ctx: Context) -> list[dict[str, Any]]:
    """Local log records the notes ref lacks (an interrupted or failed notes write)."""
    return missing_from_notes(local_records(ctx), read_verdict_notes(ctx.git).records)


def share_local_records(ctx: Context) -> int:
    """Write every local record the notes ref lacks into it; returns how many lines were added."""
    missing = unshared_records(ctx)
    if not missing:
        return 0
    return add_records(ctx.git, missing, notes_lock_path(ctx))


class RebuildResult:
    def __init__(self, added: int, moved_to: str | None = None, skipped: int = 0) -> None:
        self.added = added
        self.moved_to = moved_to
        #: Records left out because their own hash does not match their bytes (edited).
        self.skipped = skipped


def rebuild_log_from_notes(
    ctx: Context, *, force: bool = False, clock: Callable[[], datetime] | None = None
) -> RebuildResult:
    """Append to the local log every verdict of the notes ref it lacks.

    The log is only ever appended to. A damaged log (chain broken, truncated) is refused unless
    `force`: then it is moved aside, untouched, and a new log is written from its readable
    records and the notes ref.
    """
    log = ProvenanceLog(ctx.log_path)
    notes_read = read_verdict_notes(ctx.git)
    notes, skipped = notes_read.records, len(notes_read.edited)
    report = log.verify()
    damaged = report.chain or report.tail
    moved_to = None
    keep: list[dict[str, Any]] = []
    if damaged:
        first = report.chain or report.tail
        assert first is not None
        if not force:
            raise ReviewqError(
                f"the log {log.path} is damaged (record {first.index}: {first.problem}); "
                "`reviewq log rebuild --from-notes --force` moves it aside and rebuilds it"
            )
        stamp = (clock or local_now)().strftime("%Y%m%dT%H%M%S")
        target = log.path.with_name(f"{log.path.name}.damaged-{stamp}")
        keep, dropped = _intact_records(log)
        skipped += dropped
        try:
            if log.path.exists():
                os.replace(log.path, target)
            if log.head_path.exists():
                os.replace(log.head_path, target.with_name(target.name + ".head"))
        except OSError as exc:
            raise ReviewqError(
                f"cannot move the damaged log aside ({exc.strerror}); check permissions"
            ) from None
        moved_to = str(target)
        existing: set[Any] = set()
    else:
        existing = {r.get("id") for r in log.iter_records()}
    wanted = [r for r in dedupe_records([*keep, *notes]) if r.get("id") not in existing]
    log.append_many(wanted)
    return RebuildResult(len(wanted), moved_to, skipped)


def _intact_records(log: ProvenanceLog) -> tuple[list[dict[str, Any]], int]:
    """Records of a damaged log whose bytes still match their own hash, and how many did not.

    A removed or reordered neighbour does not make a record untrustworthy; an edit does.
    """

    out, dropped = [], 0
    for _, line in log.read_lines():
        try:
            record, strict = parse_line_strictly(line)
        except ValueError:
            record, strict = None, False
        if isinstance(record, dict) and line_hash_matches(line, record, strict=strict):
            out.append(record)
        else:
            dropped += 1
    return out, dropped


def verify_log(ctx: Context, *, signatures: bool = True, full: bool = False) -> VerifyReport:
    """`reviewq log verify`: the local log's chain, end and signatures, and the notes ref's
    records (an edited line; the signatures of records this clone's log does not hold).
    Without `full`, the log's checkpoint stands for the bytes it still matches
    (`store.log_checkpoint`)."""
    settings = ctx.config.log or LogSettings()
    verifier = verifier_from_git(ctx.git, settings.allowed_signers) if signatures else None
    notes = read_verdict_notes(ctx.git)
    by_id = {r["id"]: r for r in notes.records}
    log = ProvenanceLog(ctx.log_path)
    report = log.verify(
        check_signatures=verifier.check_many if verifier else None,
        notes=by_id if by_id else None,
        checkpoint=not full,
    )
    # The notes ref: a line that does not match its own hash was edited (and is left out of
    # every reader's view); records not in the local log get their signatures checked here.
    for target, record in notes.edited:
        report.findings.append(
            RecordFinding(
                0,
                record.get("id"),
                "notes:edited",
                f"its line in the note of {target[:12]} does not match its hash",
            )
        )
    local_ids = report.notes_in_log
    others = [r for r in notes.records if r.get("id") not in local_ids]
    notes_summary: dict = {
        "ref": NOTES_REF,
        "records": len(notes.records),
        "unreadable_lines": notes.bad_lines,
        "edited": len(notes.edited),
    }
    if verifier is not None and others:
        counts: dict[str, int] = {}
        for record, check in zip(others, verifier.check_many(others)):
            counts[check.status] = counts.get(check.status, 0) + 1
            first_unsigned = check.status == SIG_UNSIGNED and counts[check.status] == 1
            if check.status not in (SIG_GOOD, SIG_UNSIGNED) or first_unsigned:
                report.findings.append(
                    RecordFinding(0, record.get("id"), f"notes:{check.status}", check.detail)
                )
        notes_summary["signatures"] = counts
    if notes.bad_lines:
        report.warnings.append(
            f"{notes.bad_lines} line(s) in {NOTES_REF} are not verdict records (ignored)"
        )
    report.notes = notes_summary if (notes.records or notes.bad_lines or notes.edited) else None
    return report


__all__ = [
    "change_content_id",
    "change_patch_id",
    "content_ids",
    "load_verdicts",
    "load_verdicts_about",
    "load_verdicts_since",
    "patch_ids",
    "rebuild_log_from_notes",
    "record_verdict",
    "reviewer_identity",
    "settled_index",
    "share_local_records",
    "unshared_records",
    "verdict_keys",
    "verdicts_for",
    "verify_log",
]
