"""Every verdict line `refs/notes/reviewq` has ever held, and when each first appeared.

Verdict records are append-only, but a notes ref is not: anyone who can push it can commit a
note without someone's rejection (an ordinary, fast-forward notes commit). So the gate reads
the ref's whole history, not its tip: every line of every note blob any notes commit reachable
from the tip ever held. A line deleted later still counts; a line edited later is a second,
different line (and fails its own hash, or collides on its id: `reviewq.workflow.gate` fails closed).

Each line also gets the time it first appeared: the committer time of the first notes commit
holding it, made monotone along the history (a commit cannot appear before its parents), so a
cooldown can count from when a verdict was shared rather than from the `at` it declares.
Committer times are themselves self-declared by whoever wrote the notes commit; the host's push
log is the only clock nobody with push access can set (docs/provenance.md).

Reading is cached by tip in `<state dir>/notes-history.json`: an unchanged tip costs one file
read and a read of the tip's notes; a tip that moved on reads only the commits since the cached
one. The cache is a file a local shell can rewrite, so it is used only when it holds every line
of every note at the tip (a reject still on the ref cannot be dropped from it); otherwise the
whole history is read again. A cached tip that is no
longer in the ref's history means the history was rewritten (a force-push, or the ref deleted
and rebuilt): lines may have been removed, so the reader refuses (`NotesRewritten`) and says how
to merge the old history back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewq.core import safejson
from reviewq.core.jsonio import parse_line_strictly
from reviewq.core.verdict import line_hash_matches
from reviewq.errors import ReviewqError
from reviewq.files import replace_file
from reviewq.sources.gitcmd import Git, GitError
from reviewq.store.notes_log import NOTES_REF, NotesError, list_targets, ref_tip, target_of

HISTORY_CACHE = "notes-history.json"
CACHE_VERSION = 1
_HEX = frozenset("0123456789abcdef")


class NotesRewritten(ReviewqError):
    """A notes tip this clone read before is no longer in the ref's history."""


@dataclass(slots=True)
class HistoryLine:
    #: The annotated object (commit, or an inbox patch's stand-in) whose note held the line.
    target: str
    line: bytes
    #: Unix time the line first appeared (monotone committer time of the first notes commit).
    appeared: float


@dataclass
class NotesHistory:
    """What a notes ref's history holds, classified for the gate."""

    ref: str
    tip: str | None
    #: Hash-intact records noted on their own target, one per distinct line.
    records: list[dict[str, Any]] = field(default_factory=list)
    #: record id -> the earliest time a line with that id appeared.
    appeared: dict[str, float] = field(default_factory=dict)
    #: (target, record) of lines that fail their own hash: ignored.
    edited: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: (target, raw line) of lines that are not verdict records: ignored.
    bad: list[tuple[str, bytes]] = field(default_factory=list)
    #: (target, record) of intact records noted on another object than the one they name:
    #: ignored (a writer never puts them there; a copy elsewhere proves nothing more).
    misplaced: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: Notes commits read from git this time (0: the cache answered).
    commits_read: int = 0


def _target_of_path(path: bytes) -> str | None:
    """`ab/cdef…` or `abcdef…` -> the object id a note is about; None for any other file
    (git notes ignores those too)."""
    name = path.replace(b"/", b"").decode("ascii", "replace")
    if len(name) in (40, 64) and set(name) <= _HEX:
        return name
    return None


def _walk(git: Git, tip: str, since: str | None) -> Iterator[tuple[str, list[str], int, list]]:
    """(commit, parents, committer time, [(target, blob)]) from the oldest new commit on.

    Each commit is diffed against its first parent (a merge too), so every blob any commit's
    tree holds is reported by the first commit that holds it on some path back to a root.
    """
    argv = [
        "log",
        "-z",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--diff-merges=first-parent",
        "--format=%x01%H %ct %P",
        "--topo-order",
        "--reverse",
        tip,
    ]
    if since:
        argv.append(f"^{since}")
    try:
        out = git.run(argv, what="log")
    except GitError as exc:
        raise NotesError(
            f"the history of {NOTES_REF} is unreadable ({exc.message}); fetch it again with "
            "`reviewq sync`"
        ) from None
    current: tuple[str, list[str], int, list] | None = None
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        i += 1
        if token.startswith(b"\x01"):
            if current is not None:
                yield current
            fields = token[1:].decode("ascii").split()
            current = (fields[0], fields[2:], int(fields[1]), [])
        elif token.startswith(b":") and current is not None:
            meta = token.split()
            path = tokens[i] if i < len(tokens) else b""
            i += 1
            new_blob = meta[3].decode("ascii") if len(meta) > 3 else ""
            target = _target_of_path(path)
            if target and new_blob.strip("0"):
                current[3].append((target, new_blob))
    if current is not None:
        yield current


def _load_cache(path: Path | None, ref: str) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = safejson.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != CACHE_VERSION or data.get("ref") != ref:
        return None
    if not isinstance(data.get("tip"), str) or not isinstance(data.get("lines"), list):
        return None
    return data


def _store_cache(path: Path | None, data: dict[str, Any]) -> None:
    if path is None:
        return

    blob = json.dumps(data, separators=(",", ":")).encode()
    try:
        replace_file(path, lambda fh: fh.write(blob), prefix=".notes-history-")
    except OSError:
        pass  # a cache: no place to keep it means reading the history again next time


def history_lines(
    git: Git, ref: str = NOTES_REF, cache_path: Path | None = None
) -> tuple[str | None, list[HistoryLine], int]:
    """(tip, every distinct (target, line) the ref's history held, commits read from git)."""
    tip = ref_tip(git, ref)
    if tip is None:
        return None, [], 0
    cache = _load_cache(cache_path, ref)
    if cache is not None:
        # The cache is a file a local shell can rewrite: one that lacks a line the tip holds
        # (a reject dropped from it) is not used, the history is read from git instead.
        if cache["tip"] == tip:
            lines = [HistoryLine(t, s.encode("latin-1"), a) for t, s, a in cache["lines"]]
            if _holds_tip(git, ref, lines):
                return tip, lines, 0
        else:
            found = _read_history(git, ref, tip, cache)
            if _holds_tip(git, ref, found[1]):
                _store(cache_path, ref, tip, *found)
                return tip, found[1], len(found[2])
    found = _read_history(git, ref, tip, None)
    _store(cache_path, ref, tip, *found)
    return tip, found[1], len(found[2])


def _holds_tip(git: Git, ref: str, lines: list[HistoryLine]) -> bool:
    """Does `lines` hold every line of every note at the ref's tip?"""
    listing = list_targets(git, ref)
    try:
        blobs = git.cat_blobs(sorted(set(listing.values())))
    except GitError:
        return False
    have = {(h.target, h.line) for h in lines}
    for target, blob in listing.items():
        data = blobs.get(blob)
        if data is None:
            return False
        for raw in data.split(b"\n"):
            line = raw.strip()
            if line and (target, line) not in have:
                return False
    return True


def _store(
    cache_path: Path | None,
    ref: str,
    tip: str,
    times: dict[str, float],
    lines: list[HistoryLine],
    _walked: list,
) -> None:
    _store_cache(
        cache_path,
        {
            "v": CACHE_VERSION,
            "ref": ref,
            "tip": tip,
            "commits": times,
            "lines": [[h.target, h.line.decode("latin-1"), h.appeared] for h in lines],
        },
    )


def _read_history(
    git: Git, ref: str, tip: str, cache: dict[str, Any] | None
) -> tuple[dict[str, float], list[HistoryLine], list]:
    """(commit times, every distinct line, the commits walked): the commits after the cached
    tip read onto the cached lines, or, without a cache, the whole history."""
    since = None
    times: dict[str, float] = {}
    seen: dict[tuple[str, bytes], float] = {}
    if cache is not None:
        old = cache["tip"]
        if not git.succeeds(["merge-base", "--is-ancestor", old, tip]):
            raise NotesRewritten(
                f"{ref} was rewritten: {old[:12]}, a tip this clone read before, is no longer in "
                "its history, so records may have been removed. Merge the old history back with "
                f"`git notes --ref={ref.removeprefix('refs/notes/')} merge -s cat_sort_uniq "
                f"{old}` (and forbid force-pushes to {ref} on the host)"
            )
        since = old
        times = {k: float(v) for k, v in cache.get("commits", {}).items()}
        seen = {(t, s.encode("latin-1")): float(a) for t, s, a in cache["lines"]}
    walked = list(_walk(git, tip, since))
    blobs_wanted: dict[str, None] = {}
    for _, _, _, entries in walked:
        for _, blob in entries:
            blobs_wanted.setdefault(blob)
    try:
        blobs = git.cat_blobs(list(blobs_wanted))
    except GitError as exc:
        raise NotesError(f"a note blob of {ref} is unreadable ({exc.message})") from None
    for sha, parents, stamp, entries in walked:
        when = max([float(stamp), *(times.get(p, 0.0) for p in parents)])
        times[sha] = when
        for target, blob in entries:
            data = blobs.get(blob)
            if data is None:
                raise NotesError(
                    f"note blob {blob} of {ref} is missing; fetch the notes again with "
                    "`reviewq sync` (the ref holds the team's verdicts: keep it)"
                )
            for raw in data.split(b"\n"):
                line = raw.strip()
                if not line:
                    continue
                key = (target, line)
                first = seen.get(key)
                if first is None or when < first:
                    seen[key] = when
    lines = [HistoryLine(t, line, a) for (t, line), a in seen.items()]
    return times, lines, walked


def read_notes_history(
    git: Git, ref: str = NOTES_REF, cache_path: Path | None = None
) -> NotesHistory:
    """Every verdict record the ref ever held, classified (see `NotesHistory`)."""
    tip, lines, read = history_lines(git, ref, cache_path)
    result = NotesHistory(ref=ref, tip=tip, commits_read=read)
    targets: dict[str, str | None] = {}
    kept: set[bytes] = set()
    for item in sorted(lines, key=lambda h: (h.appeared, h.target, h.line)):
        try:
            record, strict = parse_line_strictly(item.line)
        except ValueError:
            record, strict = None, False
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            result.bad.append((item.target, item.line))
            continue
        if not line_hash_matches(item.line, record, strict=strict):
            result.edited.append((item.target, record))
            continue
        key = f"{record.get('sha')}|{record.get('patch_id')}|{record.get('change_id')}"
        if key not in targets:
            targets[key] = target_of(git, record)
        if targets[key] != item.target:
            result.misplaced.append((item.target, record))
            continue
        rid = record["id"]
        if rid not in result.appeared or item.appeared < result.appeared[rid]:
            result.appeared[rid] = item.appeared
        if item.line not in kept:
            kept.add(item.line)
            result.records.append(record)
    return result


def cache_path_for(state_dir: Path | None) -> Path | None:
    return None if state_dir is None else state_dir / HISTORY_CACHE


__all__ = [
    "HISTORY_CACHE",
    "HistoryLine",
    "NotesHistory",
    "NotesRewritten",
    "cache_path_for",
    "history_lines",
    "read_notes_history",
]
