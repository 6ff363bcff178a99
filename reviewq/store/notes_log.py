"""The team's copy of the verdicts: one JSON line per verdict in `refs/notes/reviewq`.

Each verdict is the same record as in the local log, stored as one canonical JSON line in the
note of the reviewed commit. A note holds its lines sorted and unique, which is exactly what
`git notes merge -s cat_sort_uniq` produces, so merging two clones' notes is a union of lines and
never a conflict. Readers order records by `at`, not by line.

An inbox patch has no commit yet; its verdicts are noted on a stand-in object id, the blob id of
`reviewq inbox patch <patch-id>` (`inbox_target`). git notes accept any object name; the blob is
never written, and the patch-id inside the record is what matches the commit once it lands.

Writers on one machine take `notes.lock` (beside the log) around their read-modify-write of a
note: `git notes add` itself does not check that the ref is unchanged since it was read.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewq.core.jsonio import parse_line
from reviewq.core.verdict import dedupe_records, line_hash_matches, record_line
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import Git, GitError

NOTES_REF = "refs/notes/reviewq"


class NotesError(ReviewqError):
    """The notes ref cannot be read or written."""


@dataclass
class NotesRead:
    #: Intact verdict records, one per id, ordered by `at`.
    records: list[dict[str, Any]]
    #: Lines that are not verdict records (another tool's, or damaged).
    bad_lines: int = 0
    #: (commit or stand-in id, raw line) for every verdict line, for checks that need the bytes.
    lines: list[tuple[str, bytes]] | None = None
    #: (commit or stand-in id, record) for lines whose bytes do not match their own hash:
    #: edited after they were written. They are left out of `records`.
    edited: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def ref_tip(git: Git, ref: str = NOTES_REF) -> str | None:
    """The notes commit `ref` names, or None when there is no such ref.

    The ref is read once, then the object it named is looked at: resolving the ref twice (once
    peeled to a commit, once not) raced with another clone's or process's first write, and
    called the brand-new, healthy ref damaged.
    """
    out = git.run(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", ref], ok_codes=(0, 1, 128)
    )
    oid = out.decode().strip()
    if not oid:
        return None
    kind = git.run(["cat-file", "-t", oid], ok_codes=(0, 1, 128)).decode().strip()
    if kind == "commit":
        return oid
    if kind:
        raise NotesError(
            f"{ref} points at a {kind}, not a notes commit (damaged), so it holds no records; "
            f"fetch it again with `reviewq sync` or remove it with `git update-ref -d {ref} "
            f"{oid}` and rebuild it with `reviewq log rebuild --to-notes`"
        )
    raise _unreadable(ref, f"its commit {oid} is missing")


def _unreadable(ref: str, why: str) -> NotesError:
    # The ref names a notes commit: it holds records (maybe the only copy of someone's
    # rejection), so the advice never deletes it.
    return NotesError(
        f"the notes ref {ref} is unreadable ({why}); keep it (it holds the team's verdicts) and "
        "fetch the missing objects again with `reviewq sync` or `git fetch REMOTE "
        "'+refs/notes/*:refs/notes/*'`, then check with `git fsck` and `reviewq log verify`"
    )


def list_targets(git: Git, ref: str = NOTES_REF) -> dict[str, str]:
    """annotated object id -> note blob id ({} when the ref does not exist)."""
    if ref_tip(git, ref) is None:
        return {}
    try:
        out = git.text(["notes", f"--ref={ref}", "list"], what="notes list")
    except GitError as exc:
        raise _unreadable(ref, exc.message) from None
    notes: dict[str, str] = {}
    for line in out.splitlines():
        blob, _, target = line.partition(" ")
        if target:
            notes[target.strip()] = blob.strip()
    return notes


def _split_note(text: bytes) -> Iterator[bytes]:
    for line in text.split(b"\n"):
        line = line.strip()
        if line:
            yield line


def merge_note_lines(*notes: Iterable[bytes]) -> list[bytes]:
    """The lines of several versions of one note, as `git notes merge -s cat_sort_uniq` joins
    them: every distinct non-empty line once, in byte order. Pure, so the union that `sync`
    relies on can be checked on any input (tests/properties/test_store_properties.py)."""
    return sorted({line for note in notes for line in note if line})


def read_verdict_notes(git: Git, ref: str = NOTES_REF, keep_lines: bool = False) -> NotesRead:
    """Every verdict record on `ref`, one per id, ordered by `at`."""
    listing = list_targets(git, ref)
    if not listing:
        return NotesRead([], 0, [] if keep_lines else None)
    blob_ids = sorted(set(listing.values()))
    try:
        blobs = git.cat_blobs(blob_ids)
    except GitError as exc:
        raise _unreadable(ref, exc.message) from None
    missing = [b for b in blob_ids if b not in blobs]
    if missing:
        raise _unreadable(ref, f"note blob {missing[0]} is missing")
    records: list[dict[str, Any]] = []
    lines: list[tuple[str, bytes]] = []
    edited: list[tuple[str, dict[str, Any]]] = []
    bad = 0
    for target, blob in sorted(listing.items()):
        for line in _split_note(blobs[blob]):
            try:
                record = parse_line(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                bad += 1
                continue
            if keep_lines:
                lines.append((target, line))
            if line_hash_matches(line, record):
                records.append(record)
            else:
                edited.append((target, record))
    return NotesRead(dedupe_records(records), bad, lines if keep_lines else None, edited)


def inbox_target(git: Git, patch_id: str) -> str:
    """The stand-in object id an inbox patch's verdicts are noted on (see module docstring)."""
    text = f"reviewq inbox patch {patch_id}\n".encode()
    return git.text(["hash-object", "--stdin"], input=text).strip()


def target_of(git: Git, record: Mapping[str, Any]) -> str | None:
    """Where a record's note line goes: its commit, or the inbox stand-in of its patch-id."""
    sha = record.get("sha")
    if isinstance(sha, str) and sha:
        return sha
    patch_id = record.get("patch_id")
    if isinstance(patch_id, str) and patch_id:
        return inbox_target(git, patch_id)
    change_id = record.get("change_id")
    if isinstance(change_id, str) and change_id.startswith("inbox:"):
        return inbox_target(git, change_id.removeprefix("inbox:"))
    return None


@contextmanager
def notes_lock(lock_path: Path) -> Iterator[None]:
    """One writer of the notes ref at a time on this machine (verdicts, sync, rebuild)."""
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise NotesError(f"cannot open {lock_path} ({exc.strerror}); check permissions") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _note_text(git: Git, ref: str, target: str) -> bytes:
    out = git.run(["notes", f"--ref={ref}", "list", target], ok_codes=(0, 1))
    blob = out.decode().strip()
    if not blob:
        return b""
    try:
        return git.run(["cat-file", "blob", blob], what="cat-file")
    except GitError as exc:
        raise _unreadable(ref, exc.message) from None


def add_records(
    git: Git,
    records: Iterable[Mapping[str, Any]],
    lock_path: Path,
    ref: str = NOTES_REF,
) -> int:
    """Add each record's line to the note of its target; returns how many lines were new.

    A line already present is not added again, so repeating a rebuild or a repair is harmless.
    """
    by_target: dict[str, list[bytes]] = {}
    for record in records:
        target = target_of(git, record)
        if target is None:
            continue
        by_target.setdefault(target, []).append(record_line(record).rstrip(b"\n"))
    if not by_target:
        return 0
    added = 0
    with notes_lock(lock_path):
        ref_tip(git, ref)  # a damaged ref is reported, not written over
        for target, new_lines in by_target.items():
            old = list(_split_note(_note_text(git, ref, target)))
            merged = merge_note_lines(old, new_lines)
            fresh = len(merged) - len(set(old))
            if fresh == 0:
                continue
            try:
                git.run(
                    ["notes", f"--ref={ref}", "add", "-f", "-F", "-", target],
                    input=b"\n".join(merged) + b"\n",
                    what="notes add",
                )
            except GitError as exc:
                raise NotesError(f"could not write {ref} ({exc.message})") from None
            added += fresh
    return added


def missing_from_notes(
    records: Iterable[Mapping[str, Any]], notes: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Records whose id has no line in the notes ref (a failed or interrupted notes write)."""
    present = {r.get("id") for r in notes}
    return [dict(r) for r in records if r.get("id") not in present]
