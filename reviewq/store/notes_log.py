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

from reviewq.core.jsonio import parse_line_strictly
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
        bad += _read_note(target, blobs[blob], records, edited, lines if keep_lines else None)
    return NotesRead(dedupe_records(records), bad, lines if keep_lines else None, edited)


def _read_note(
    target: str,
    text: bytes,
    records: list[dict[str, Any]],
    edited: list[tuple[str, dict[str, Any]]],
    lines: list[tuple[str, bytes]] | None = None,
) -> int:
    """The verdict records of one note appended to `records` (intact) or `edited` (a line
    whose bytes do not match its own hash), and to `lines` if given; returns how many lines
    are not verdict records."""
    bad = 0
    for line in _split_note(text):
        try:
            record, strict = parse_line_strictly(line)
        except ValueError:
            record, strict = None, False
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            bad += 1
            continue
        if lines is not None:
            lines.append((target, line))
        if line_hash_matches(line, record, strict=strict):
            records.append(record)
        else:
            edited.append((target, record))
    return bad


#: Changed notes checked one `git notes list <object>` each (a git process each, ~3 ms); more,
#: and one listing of all (~20 ms at 14,000 notes).
_CHECKED_ONE_BY_ONE = 4


def _git_reads_them(git: Git, changed: Mapping[str, str | None]) -> bool:
    """Does git read each changed note as the tree diff says (that blob, or no note)? Not
    when an object's note is also kept under another path the diff did not touch (a fan-out
    written by hand): then which one counts is git's answer, and the caller reads every note
    (as `read_verdict_notes` does, through `git notes list`)."""
    if len(changed) > _CHECKED_ONE_BY_ONE:
        try:
            listing = list_targets(git)
        except NotesError:
            return False
        return all(listing.get(target) == blob for target, blob in changed.items())
    for target, blob in changed.items():
        try:
            out = git.run(
                ["notes", f"--ref={NOTES_REF}", "list", "--end-of-options", target],
                ok_codes=(0, 1),
                what="notes list",
            )
        except GitError:
            return False
        if (out.decode("ascii", "replace").strip() or None) != blob:
            return False
    return True


def _tree_entries(out: bytes, listing: bool) -> Iterator[tuple[str, str]]:
    """(the fields, the path) of each entry of `ls-tree -z` (`listing`: "mode type id<TAB>path")
    or `diff-tree -z` (":mode mode id id status", then the path, each NUL-ended)."""
    fields = out.split(b"\0")
    if listing:
        for entry in fields:
            head, tab, path = entry.partition(b"\t")
            if tab:
                yield head.decode("ascii", "replace"), path.decode("utf-8", "replace")
        return
    for at in range(0, len(fields) - 1, 2):
        yield fields[at].decode("ascii", "replace"), fields[at + 1].decode("utf-8", "replace")


@dataclass
class NotesChange:
    """What differs between two tips of the notes ref (`changed_notes`)."""

    #: The commits (or stand-ins) whose note was added, changed or removed.
    targets: set[str]
    #: The intact records of those notes at the newer tip, in `read_verdict_notes`' order
    #: (by target, then line), not deduplicated.
    records: list[dict[str, Any]]


def changed_notes(git: Git, old: str | None, new: str) -> NotesChange | None:
    """The notes that differ between two commits of the notes ref (`old` None: the ref did
    not exist, every note is new) and their records at `new`: what a reader of every note
    since `old` must read again, found with one `diff-tree` of the two notes trees (whatever
    the history between them: a merge, a force-push) and one `cat-file --batch`. None when
    that cannot be said for sure (either commit unreadable, a path that is not a note's): the
    caller reads every note instead."""
    if old is None:
        args, width = ["ls-tree", "-r", "-z", "--end-of-options", new], 3
    else:
        args, width = ["diff-tree", "-r", "-z", "--no-renames", "--end-of-options", old, new], 5
    try:
        out = git.run(args, ok_codes=(0,), what=args[0])
    except GitError:
        return None
    changed: dict[str, str | None] = {}
    for head, path in _tree_entries(out, old is None):
        parts = head.split()
        if len(parts) != width or (old is not None and not parts[0].startswith(":")):
            return None
        target = path.replace("/", "")
        if len(target) not in (40, 64) or any(c not in "0123456789abcdef" for c in target):
            return None  # not a note's path: every note is read instead
        blob = parts[2] if old is None else parts[3]
        now = None if set(blob) == {"0"} else blob
        if now is not None and changed.get(target) is not None:
            return None  # one object's note under two paths: which counts is git's to say
        if now is not None or target not in changed:  # a fan-out moved: the new path's blob
            changed[target] = now
    if not _git_reads_them(git, changed):
        return None
    blob_ids = sorted({b for b in changed.values() if b is not None})
    try:
        blobs = git.cat_blobs(blob_ids)
    except GitError:
        return None
    if any(b not in blobs for b in blob_ids):
        return None
    records: list[dict[str, Any]] = []
    edited: list[tuple[str, dict[str, Any]]] = []
    for target, blob in sorted(changed.items()):
        if blob is not None:
            _read_note(target, blobs[blob], records, edited)
    return NotesChange(set(changed), records)


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
