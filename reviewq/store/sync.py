"""`reviewq sync`: share `refs/notes/reviewq` with a remote without losing anyone's verdicts.

The git-appraise pattern (google/git-appraise keeps its reviews in notes the same way):

1. fetch the remote's notes into a tracking ref, `refs/notes/remotes/<remote>/reviewq`
   (tracking refs for notes must live under refs/notes/ for `git notes merge` to take them);
2. merge them into ours with `cat_sort_uniq` (a union of lines: no conflicts, no duplicates);
3. push without force. If someone pushed in between, the push is refused as non-fast-forward:
   wait a little (with jitter, so racing clones spread out) and start again from 1.

Nothing is ever forced, so the only way a push succeeds is by containing the remote's notes.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewq.core.jsonio import parse_line_strictly
from reviewq.core.verdict import line_hash_matches
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError
from reviewq.store.notes_log import (
    NOTES_REF,
    NotesError,
    list_targets,
    notes_lock,
    read_verdict_notes,
    ref_tip,
)

DEFAULT_ATTEMPTS = 10


@dataclass
class SyncResult:
    remote: str
    attempts: int = 0
    fetched: int = 0  # verdicts that arrived from the remote
    pushed: bool = False
    records: int = 0  # verdicts in the notes ref afterwards
    repaired: int = 0  # local log records that were missing from the notes ref
    restored: int = 0  # records the remote had deleted, written back
    quarantined: int = 0  # remote lines that are not intact records, kept out
    warnings: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "attempts": self.attempts,
            "fetched": self.fetched,
            "pushed": self.pushed,
            "records": self.records,
            "repaired": self.repaired,
            # Only when something was undone: what a clean sync prints is unchanged.
            **({"restored": self.restored} if self.restored else {}),
            **({"quarantined": self.quarantined} if self.quarantined else {}),
        }


def tracking_ref(remote: str) -> str:
    return f"refs/notes/remotes/{remote}/reviewq"


def default_remote(git: Git) -> str:
    """The current branch's remote, else `origin`, else the only remote."""
    remotes = git.text(["remote"]).split()
    if not remotes:
        raise ReviewqError(
            "this repository has no remote to sync with; add one with `git remote add NAME URL`"
        )
    branch = git.run(["symbolic-ref", "--quiet", "--short", "HEAD"], ok_codes=(0, 1, 128))
    name = branch.decode().strip()
    if name:
        upstream = git.config_get(f"branch.{name}.remote")
        if upstream in remotes:
            return upstream
    if "origin" in remotes:
        return "origin"
    if len(remotes) == 1:
        return remotes[0]
    raise ReviewqError(
        f"several remotes ({', '.join(remotes)}) and none is `origin`; name one: "
        "`reviewq sync REMOTE`"
    )


def check_remote(git: Git, remote: str) -> None:
    remotes = git.text(["remote"]).split()
    if remote not in remotes:
        raise ReviewqError(
            f"no remote named {remote!r} (remotes: {', '.join(remotes) or 'none'}); "
            "add it with `git remote add` or name another"
        )


def _fetch(git: Git, remote: str, *, tries: int = 3) -> bool:
    """Fetch the remote's notes into the tracking ref; False when the remote has none yet.

    A failed fetch is either a remote without notes (fine) or one we cannot reach (not fine), so
    we ask it with `ls-remote`. If the ref is there by then, another clone's first push landed
    between the two questions: fetch again rather than report a failure that already healed.
    """
    track = tracking_ref(remote)
    failure = ""
    for _ in range(tries):
        try:
            git.run(
                ["fetch", "--quiet", "--no-tags", remote, f"+{NOTES_REF}:{track}"],
                what="fetch",
            )
            return True
        except GitError as exc:
            failure = exc.message
        try:
            advertised = git.text(["ls-remote", remote], what="ls-remote")
        except GitError:
            break
        if f"\t{NOTES_REF}\n" not in advertised + "\n":
            git.run(["update-ref", "-d", track], ok_codes=(0, 1))
            return False
    raise ReviewqError(
        f"could not fetch review notes from {remote!r} ({failure}); check the remote and your "
        "access, then run `reviewq sync` again (your verdicts are safe in the local log)"
    )


@dataclass
class MergeReport:
    """What a merge of the remote's notes had to undo."""

    #: Intact records the merge would have dropped (a remote deletion): written back.
    restored: int = 0
    #: The remote's lines that are not intact records: kept out of the shared ref.
    quarantined: int = 0
    warnings: list[str] = field(default_factory=list)


def merge_remote(git: Git, remote: str, lock_path: Path) -> MergeReport:
    """Merge the fetched tracking ref into `refs/notes/reviewq` (`sync` and `pull` both).

    Records are append-only. A remote notes commit that deleted a record fast-forwards a plain
    merge, and the record would vanish here too: every intact line the ref held before is
    written back, with a warning. Lines from the remote that are not intact records (not a
    record, or failing their own hash) are not merged into the shared ref: they are removed
    again, listed in `notes-quarantine.jsonl` beside the log, and the remote's tip is kept under
    `refs/reviewq/quarantine/<remote>` for inspection.
    """
    track = tracking_ref(remote)
    report = MergeReport()
    with notes_lock(lock_path):
        theirs = ref_tip(git, track)
        if theirs is None:
            return report
        ours = ref_tip(git, NOTES_REF)
        if ours == theirs:
            return report
        before = note_lines(git, NOTES_REF) if ours is not None else {}
        if ours is None:
            # Compare-and-swap against "absent": a first write meanwhile is not overwritten.
            git.run(["update-ref", NOTES_REF, theirs, ""], what="update-ref")
        else:
            try:
                git.run(
                    [
                        "notes",
                        f"--ref={NOTES_REF}",
                        "merge",
                        "--quiet",
                        "-s",
                        "cat_sort_uniq",
                        track,
                    ],
                    what="notes merge",
                )
            except GitError as exc:
                raise ReviewqError(
                    f"could not merge the review notes from {remote!r} ({exc.message}); nothing "
                    "was pushed. Fix the problem and run `reviewq sync` again"
                ) from None
        _keep_append_only(git, remote, theirs, before, lock_path, report)
    return report


def note_lines(git: Git, ref: str) -> dict[str, list[bytes]]:
    """target -> every non-empty line of its note on `ref` (raw, whatever they are)."""
    listing = list_targets(git, ref)
    blobs = git.cat_blobs(sorted(set(listing.values())))
    return {
        target: [line.strip() for line in blobs.get(blob, b"").split(b"\n") if line.strip()]
        for target, blob in listing.items()
    }


def _intact(line: bytes) -> bool:
    try:
        record, strict = parse_line_strictly(line)
    except ValueError:
        return False
    return (
        isinstance(record, dict)
        and isinstance(record.get("id"), str)
        and line_hash_matches(line, record, strict=strict)
    )


def _keep_append_only(
    git: Git,
    remote: str,
    theirs: str,
    before: dict[str, list[bytes]],
    lock_path: Path,
    report: MergeReport,
) -> None:
    after = note_lines(git, NOTES_REF)
    fixed: dict[str, list[bytes]] = {}
    junk: list[tuple[str, bytes]] = []
    for target in sorted(set(before) | set(after)):
        had = set(before.get(target, ()))
        has = set(after.get(target, ()))
        lost = {line for line in had - has if _intact(line)}
        foreign = {line for line in has - had if not _intact(line)}
        if lost or foreign:
            fixed[target] = sorted((has | lost) - foreign)
            report.restored += len(lost)
            junk += [(target, line) for line in sorted(foreign)]
    for target, lines in fixed.items():
        if lines:
            git.run(
                ["notes", f"--ref={NOTES_REF}", "add", "-f", "-F", "-", target],
                input=b"\n".join(lines) + b"\n",
                what="notes add",
            )
        else:
            git.run(["notes", f"--ref={NOTES_REF}", "remove", target], what="notes remove")
    if report.restored:
        report.warnings.append(
            f"{remote}'s {NOTES_REF} no longer holds {report.restored} verdict record(s) this "
            "clone had (someone deleted them, or rewrote the ref); they are written back, since "
            "records are append-only. Forbid force-pushes to it and find out who removed them"
        )
    if junk:
        git.run(["update-ref", f"refs/reviewq/quarantine/{remote}", theirs], what="update-ref")
        path = lock_path.parent / "notes-quarantine.jsonl"
        try:
            with path.open("a", encoding="utf-8") as fh:
                for target, line in junk:
                    entry = {"remote": remote, "tip": theirs, "target": target}
                    entry["line"] = line.decode("utf-8", "replace")
                    fh.write(json.dumps(entry, sort_keys=True) + "\n")
        except OSError:
            pass  # the tip kept under refs/reviewq/quarantine/ still has them
        report.quarantined = len(junk)
        report.warnings.append(
            f"{remote}'s {NOTES_REF} holds {len(junk)} line(s) that are not intact verdict "
            f"records; they are kept out of {NOTES_REF} (listed in {path}, the remote's notes "
            f"kept as refs/reviewq/quarantine/{remote})"
        )


def _rewritten(git: Git, remote: str, seen: str | None) -> str | None:
    """A warning when the remote's notes no longer contain the tip fetched from it last time.

    Nothing is lost here (the merge is a union with our ref, which holds the old history, and
    the push then puts it back on the remote), but someone force-pushed the team's records.
    """
    fetched = ref_tip(git, tracking_ref(remote))
    if seen is None or fetched is None or seen == fetched:
        return None
    if git.succeeds(["merge-base", "--is-ancestor", seen, fetched]):
        return None
    return (
        f"{remote}'s {NOTES_REF} was rewritten: {seen[:12]}, fetched from it before, is no "
        "longer in its history (a force-push). Nothing is lost here: the old history is merged "
        "back and pushed. Forbid force-pushes to it on the host"
    )


def _push(git: Git, remote: str) -> tuple[bool, str]:
    """(pushed, refusal reason). A refusal is a race with another pusher: try again."""
    try:
        out = git.run(
            ["push", "--porcelain", "--quiet", remote, f"{NOTES_REF}:{NOTES_REF}"],
            ok_codes=(0, 1),
            what="push",
        ).decode("utf-8", "replace")
    except GitError as exc:
        raise ReviewqError(
            f"could not push review notes to {remote!r} ({exc.message}); check the remote and "
            "your access, then run `reviewq sync` again (your verdicts are safe in the local log)"
        ) from None
    refused = [line for line in out.splitlines() if line.startswith("!")]
    if refused:
        return False, refused[0].split("\t")[-1].strip()
    return True, ""


def sync_notes(
    git: Git,
    remote: str,
    lock_path: Path,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> SyncResult:
    """Fetch, merge and push until the remote holds everything we have (or give up)."""
    check_remote(git, remote)
    result = SyncResult(remote=remote)
    before = {r["id"] for r in read_verdict_notes(git).records}
    for attempt in range(1, attempts + 1):
        result.attempts = attempt
        seen = ref_tip(git, tracking_ref(remote))
        _fetch(git, remote)
        rewritten = _rewritten(git, remote, seen)
        if rewritten and rewritten not in result.warnings:
            result.warnings.append(rewritten)
        merged = merge_remote(git, remote, lock_path)
        result.restored += merged.restored
        result.quarantined += merged.quarantined
        result.warnings += merged.warnings
        ours = ref_tip(git, NOTES_REF)
        if ours is None:
            break  # nobody has recorded anything yet
        if ours == ref_tip(git, tracking_ref(remote)):
            result.pushed = False
            break
        pushed, reason = _push(git, remote)
        if pushed:
            git.run(["update-ref", tracking_ref(remote), ours], what="update-ref")
            result.pushed = True
            break
        result.rejected.append(reason)
        if attempt == attempts:
            raise ReviewqError(
                f"the remote {remote!r} kept moving: {attempts} pushes were refused ({reason}); "
                "nothing was lost, run `reviewq sync` again"
            )
        sleep(min(2.0, 0.05 * 2 ** min(attempt, 5)) * (0.5 + jitter()))
    after = read_verdict_notes(git).records
    result.records = len(after)
    result.fetched = len({r["id"] for r in after} - before)
    return result


__all__ = [
    "MergeReport",
    "NotesError",
    "SyncResult",
    "default_remote",
    "merge_remote",
    "sync_notes",
    "tracking_ref",
]
