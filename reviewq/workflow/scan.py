"""The scan: git history (+ side records, + the patch inbox) -> AI-authored `Change`s.

One streaming `git log` pass feeds the detector; only the commits it keeps get a numstat pass.
Results are cached (`store/cache.py`) keyed by what was asked (revisions, limits, repository
rules) and validated by what git says now (resolved tips, notes refs). An unchanged history is
answered from the cache; a history that only grew is scanned from the old tips to the new ones.
"""

from __future__ import annotations

import json
import os
import sys
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain, islice, starmap
from pathlib import Path

from reviewq.context import Context
from reviewq.core.alloc import gc_paused
from reviewq.core.detect import Detector
from reviewq.core.families import family_for
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.core.model import (
    Authorship,
    Change,
    Commit,
    DiffStats,
    Evidence,
    FileChange,
    Identity,
    Prompt,
    _value_methods,
)
from reviewq.core.prompts import choose_prompt, transcript_may_follow
from reviewq.errors import ReviewqError
from reviewq.sources.git_log import (
    commit_from_fields,
    commit_stats,
    iter_records,
    log_args,
    split_records,
)
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.log_format import HEAD_AT_ONCE, NOTE_TIPS
from reviewq.sources.notes import SCAN_NOTE_REFS, SideRecords, load_side_records
from reviewq.workflow import scan_fast
from reviewq.workflow.scan_answer import (
    DETECTOR_VERSION,
    STATE_VERSION,
    resolve_revs,
    scan_key,
)
from reviewq.workflow.scan_answer import rules_key as _rules_key

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from reviewq.core.provenance import ProvenanceHint
    from reviewq.core.scope import Scope
    from reviewq.sources.refs import RefSnapshot, RefView
    from reviewq.workflow.scan_scope import ScopeScan, ScopeState
    from reviewq.workflow.scan_split import RestHelper

# Imported where used (start-up): `scan` and `scan --json` need neither the refs machinery of
# the queue's scope (`sources.refs`), its dates (`core.queue.parse_time`), nor the inbox's
# diff parser (`sources.diffs`).


@_value_methods(frozen=False)
@dataclass(init=False, repr=False, eq=False)
class ScanResult:
    """The AI-authored changes a scan found, and how it found them."""

    changes: list[Change]
    commits_read: int
    from_cache: bool = False
    incremental: bool = False
    #: What the changes answer: the revisions as resolved and the notes tips read (the stored
    #: `scan --json` answer names exactly these, not what was read before the scan).
    resolved: list[str] | None = None
    notes: dict[str, str] | None = None

    def __init__(
        self,
        changes: list[Change],
        commits_read: int,
        from_cache: bool = False,
        incremental: bool = False,
        resolved: list[str] | None = None,
        notes: dict[str, str] | None = None,
    ) -> None:
        self.changes = changes
        self.commits_read = commits_read
        self.from_cache = from_cache
        self.incremental = incremental
        self.resolved = resolved
        self.notes = notes


# -- (de)serialisation for the cache ----------------------------------------------------------
#
# A stored change is a `StoredChange`: a named tuple, so the cache holds it as a plain JSON list
# (the cache of a 13,000-commit history is read on every command, and lists parse and unpack
# markedly faster than dicts with repeated keys) while the code reads it by name. Identities are
# interned while decoding (a history has few distinct people and bots).


#: `StoredChange`'s slots, in the order of the cache's JSON list, each with what it holds.
_STORED_SLOTS = (
    "id",  # str
    "source",  # str
    "location",  # str | None
    "patch_path",  # str | None
    "sha",  # str
    "parents",  # list[str]
    "author_name",  # str
    "author_email",  # str
    "committer_name",  # str
    "committer_email",  # str
    "authored_at",  # str
    "committed_at",  # str
    "message",  # str
    "agent",  # str
    "model",  # str | None
    "family",  # str
    "role",  # str
    "confidence",  # str
    "evidence",  # [[source, marker], ...]
    "prompted_by",  # [[name, email], ...]
    "prompt",  # None, or [text, source] or [text, source, prompted-by name, prompted-by email]
    "stats",  # None, or [files, additions, deletions, binary files] (+ [sizes] unless "known")
    # [[path, status, additions, deletions, binary, old path, mode change] (+ [True]: size
    # unknown), ...]
    "files",
)


class StoredChange(namedtuple("StoredChange", _STORED_SLOTS)):
    """One change as the scan caches it (`StoredChange.of` / `.decode`); JSON: a list. A plain
    named tuple (`collections.namedtuple`): `typing.NamedTuple` would import `typing`."""

    __slots__ = ()

    @classmethod
    def of(cls, c: Change) -> StoredChange:
        return cls._make(change_to_state(c))

    @classmethod
    def load(cls, data: Sequence[Any]) -> StoredChange:
        """From the cache's JSON list (a wrong length raises TypeError: the cache is redone)."""
        return cls._make(data)

    @property
    def sizes(self) -> str:
        """`known`, `partial` or `unknown`: could the stored change's sizes be read?"""
        stats = self.stats
        return stats[4] if stats is not None and len(stats) > 4 else "known"

    def landing_key(self) -> tuple[Any, ...]:
        """`core.scope.landing_key`: author email, author date, message, files."""
        from reviewq.core.scope import landing_key

        return landing_key(self.author_email, self.authored_at, self.message, self.files)


def change_to_state(c: Change) -> list[Any]:
    """A change as the cache stores it: the JSON list whose slots `StoredChange` names (made
    as the list itself: the cold scan stores one per AI commit)."""
    cm, a, p = c.commit, c.authorship, c.prompt
    return [
        c.id,
        c.source,
        c.location,
        c.patch_path,
        cm.sha,
        list(cm.parents),
        cm.author.name,
        cm.author.email,
        cm.committer.name,
        cm.committer.email,
        cm.authored_at,
        cm.committed_at,
        cm.message,
        a.agent,
        a.model,
        a.family,
        a.role,
        a.confidence,
        [[e.source, e.marker] for e in a.evidence],
        [[i.name, i.email] for i in a.prompted_by],
        None
        if p is None
        else [
            p.text,
            p.source,
            *((p.prompted_by.name, p.prompted_by.email) if p.prompted_by else ()),
        ],
        # An unsized change (the cold table's) calls neither: two calls each of thousands.
        None if c.stats is None else _stats_state(c.stats),
        _files_state(c.files) if c.files else [],
    ]


def _stats_state(stats: DiffStats | None) -> list[Any] | None:
    if stats is None:
        return None
    out: list[Any] = [stats.files, stats.additions, stats.deletions, stats.binary_files]
    if not stats.size_known:
        out.append(stats.sizes)
    return out


def _files_state(files: Sequence[FileChange]) -> list[list[Any]]:
    return [
        [
            f.path,
            f.status,
            f.additions,
            f.deletions,
            f.binary,
            f.old_path,
            f.mode_change,
            *((True,) if f.size_unknown else ()),
        ]
        for f in files
    ]


class _StateDecoder:
    def __init__(self) -> None:
        self._people: dict[tuple[str, str], Identity] = {}

    def person(self, name: str, email: str) -> Identity:
        key = (name, email)
        ident = self._people.get(key)
        if ident is None:
            ident = self._people[key] = Identity(name, email)
        return ident

    def change(self, s: StoredChange, **place: Any) -> Change:
        """One stored change -> Change; `place` sets fields not stored (location, merged, refs)."""
        location = place.pop("location", s.location)
        person = self.person
        prompt = s.prompt
        stats = s.stats
        return Change(
            id=s.id,
            commit=Commit(
                s.sha,
                tuple(s.parents),
                person(s.author_name, s.author_email),
                person(s.committer_name, s.committer_email),
                s.authored_at,
                s.committed_at,
                s.message,
            ),
            authorship=Authorship(
                s.agent,
                s.model,
                s.family,
                s.role,
                s.confidence,
                tuple(Evidence(src, marker) for src, marker in s.evidence),
                # once each (inbox entries cached before the sidecar was merged by email)
                tuple(dict.fromkeys(person(n, e) for n, e in s.prompted_by)),
            ),
            prompt=None
            if prompt is None
            else Prompt(
                prompt[0], prompt[1], person(prompt[2], prompt[3]) if len(prompt) > 2 else None
            ),
            stats=None if stats is None else DiffStats(*stats),
            source=s.source,
            location=location,
            patch_path=s.patch_path,
            files=tuple(starmap(FileChange, s.files)),  # no generator frame per file
            **place,
        )


def load_states(data: Sequence[Any]) -> list[StoredChange]:
    """The cache's JSON lists as `StoredChange`s."""
    make = StoredChange._make
    return [make(s) for s in data]


def load_state_map(data: dict[str, Any]) -> dict[str, StoredChange]:
    make = StoredChange._make
    return {sha: make(s) for sha, s in data.items()}


def refresh_unknown_sizes(git: Git, states: Sequence[StoredChange]) -> dict[str, StoredChange]:
    """Stored changes whose sizes were unknown (objects missing), counted again: once the objects
    are fetched the counts appear without a rescan. Returns sha -> the refreshed change."""
    stale = {s.sha: s for s in states if s.sizes != "known" and s.source == "git"}
    if not stale:
        return {}
    fresh: dict[str, StoredChange] = {}
    for sha, (size, files) in commit_stats(git, list(stale)).items():
        state = stale.get(sha)
        if state is not None and size.size_known:
            fresh[sha] = state._replace(stats=_stats_state(size), files=_files_state(files))
    return fresh


def _refreshed(git: Git, states: list[StoredChange]) -> list[StoredChange]:
    fresh = refresh_unknown_sizes(git, states)
    return [fresh.get(s.sha, s) for s in states] if fresh else states


def _refreshed_map(git: Git, states: dict[str, StoredChange]) -> dict[str, StoredChange]:
    fresh = refresh_unknown_sizes(git, list(states.values()))
    if fresh:
        states = {k: fresh.get(s.sha, s) for k, s in states.items()}
    return states


def size_warning(git: Git, changes: Sequence[Change]) -> str | None:
    """One line for stderr when some changes' sizes could not be read, else None."""
    commits = [c for c in changes if c.stats is not None and not c.stats.size_known]
    if not commits:
        return None
    files = sum(1 for c in commits for f in c.files if f.size_unknown)
    remote = _promisor_remote(git)
    how = (
        f"fetch them with `git fetch --refetch --no-filter {remote}`"
        if remote
        else "fetch them from a complete clone (`git fetch REMOTE`; `git fsck` lists them)"
    )
    return (
        f"sizes unknown for {files} file{'s' if files != 1 else ''} in {len(commits)} "
        f"commit{'s' if len(commits) != 1 else ''}: their objects are missing from this "
        f"repository (a partial clone?); {how}"
    )


def _promisor_remote(git: Git) -> str | None:
    """The remote a partial clone lazily fetches from, if this is one."""
    found = git.config_get("extensions.partialClone")
    if found:
        return found
    out = git.text(
        ["config", "--get-regexp", r"^remote\..*\.promisor$"], ok_codes=(0, 1), what="config"
    )
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lower() in ("true", "yes", "1", "on"):
            return key[len("remote.") : -len(".promisor")]
    return None


def changes_from_state(states: Sequence[StoredChange]) -> list[Change]:
    decode = _StateDecoder().change
    with gc_paused():  # thousands of small objects, no cycles: a rescan's main cost
        return [decode(s) for s in states]


# -- sizes kept per commit ------------------------------------------------------------------


class SizeCache:
    """Each AI commit's sizes by sha, kept across scans: `<state dir>/scan-sizes.jsonl`.

    A commit never changes, so its sizes (files, additions, deletions, per-file rows) hold for
    every question that finds it: another revision or range, changed detection rules, a new
    detector version, the queue's scope and `scan` all count a commit once. The first line names
    what the counts mean (the state version and git's size-pass arguments); a file written
    under other ones is ignored and started again. Only fully known sizes are kept (missing
    objects are counted again on every scan). Lines are `sha TAB json`; new ones are appended
    in one write, and a line that does not parse is a miss. It is a cache the user's account
    can rewrite: the gate never reads it (`scan_history(use_cache=False)`).
    """

    NAME = "scan-sizes.jsonl"

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / self.NAME
        self._lines: dict[str, bytes] | None = None
        self._fresh: dict[str, bytes] = {}
        self._valid = False

    @staticmethod
    def head() -> bytes:
        from reviewq.sources.git_log import _numstat_args

        return json.dumps([STATE_VERSION, _numstat_args()]).encode() + b"\n"

    def _load(self) -> dict[str, bytes]:
        if self._lines is None:
            self._lines = {}
            try:
                data = self.path.read_bytes()
            except OSError:
                data = b""
            first, _, rest = data.partition(b"\n")
            self._valid = bool(data) and first + b"\n" == self.head()
            if self._valid:
                for line in rest.split(b"\n")[:-1]:  # an unfinished last line is no entry
                    sha, tab, body = line.partition(b"\t")
                    if tab and len(sha) in (40, 64):
                        self._lines[sha.decode("ascii", "replace")] = body
        return self._lines

    def get(self, sha: str) -> tuple[DiffStats, tuple[FileChange, ...]] | None:
        body = self._load().get(sha)
        if body is None:
            return None
        try:
            stats, files = parse_line(body)
            size = DiffStats(*stats)
            rows = tuple(FileChange(*f) for f in files)
        except (ValueError, TypeError):
            return None
        return (size, rows) if size.size_known else None

    def put(self, sha: str, size: DiffStats, files: Sequence[FileChange]) -> None:
        if size.size_known and sha not in self._load():
            body = dump_json([_stats_state(size), _files_state(files)])
            self._lines[sha] = self._fresh[sha] = body  # type: ignore[index]

    def flush(self) -> None:
        """Append what was counted since loading (or start the file over under a new head)."""
        if not self._fresh:
            return
        lines = b"".join(sha.encode() + b"\t" + body + b"\n" for sha, body in self._fresh.items())
        self._fresh = {}
        try:
            if not self._valid:
                from reviewq.files import replace_file

                body = self.head() + lines
                replace_file(self.path, lambda fh: fh.write(body), prefix=".sizes-")
                self._valid = True
                return
            with open(self.path, "ab") as fh:
                if fh.tell() and not _ends_with_newline(self.path):
                    lines = b"\n" + lines
                fh.write(lines)
        except OSError:
            pass  # a read-only place (a CI mirror): no cache


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


# -- sizes on demand ------------------------------------------------------------------------
#
# The daily queue shows unmerged work and main's recent AI commits; main's older ones (the audit
# view) are only counted in its header, and whether one is pending needs no size unless a verdict
# is about it (`workflow.units`). A scope scan for the daily view (`Scanner.scope(daily=True)`)
# leaves those older commits unsized: `stats` None and no files (a git change is otherwise always
# sized). `fill_sizes` counts them when something asks: the audit view, `show`, a verdict.


def unsized(change: Change) -> bool:
    """A git change the scope scan left unsized (an older commit on main, daily view)."""
    return change.source == "git" and change.stats is None


def _sizes_of(
    git: Git, shas: Iterable[str], sizes: SizeCache | None
) -> dict[str, tuple[DiffStats, tuple[FileChange, ...]]]:
    """sha -> sizes: those kept per commit, the rest counted in one git pass (and kept)."""
    got: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
    missing = []
    for sha in dict.fromkeys(shas):
        kept = sizes.get(sha) if sizes is not None else None
        if kept is None:
            missing.append(sha)
        else:
            got[sha] = kept
    if missing:
        counted = commit_stats(git, missing)
        if sizes is not None:
            for sha, (size, files) in counted.items():
                sizes.put(sha, size, files)
            sizes.flush()
        got.update(counted)
    return got


def _filled_states(
    git: Git, states: dict[str, StoredChange], shas: Iterable[str], sizes: SizeCache | None
) -> dict[str, StoredChange]:
    """`states` with the unsized ones among `shas` sized."""
    wanted = [
        sha
        for sha in shas
        if (st := states.get(sha)) is not None and st.stats is None and st.source == "git"
    ]
    if not wanted:
        return states
    got = _sizes_of(git, wanted, sizes)
    out = dict(states)
    for sha in wanted:
        size, files = got.get(sha, (DiffStats(), ()))
        out[sha] = states[sha]._replace(stats=_stats_state(size), files=_files_state(files))
    return out


def _filled_list(
    git: Git, states: list[StoredChange], sizes: SizeCache | None
) -> list[StoredChange]:
    """`states` with every unsized git change sized (`_filled_states`, in order)."""
    wanted = [s.sha for s in states if s.stats is None and s.source == "git"]
    if not wanted:
        return states
    by_sha = _filled_states(git, {s.sha: s for s in states if s.source == "git"}, wanted, sizes)
    return [by_sha[s.sha] if s.source == "git" else s for s in states]


def fill_sizes(
    ctx: Context, changes: Sequence[Change], which: Iterable[Change] | None = None
) -> list[Change]:
    """`changes` with the unsized ones among `which` (default: all of them) sized, as the scan
    would have sized them: from the sizes kept per commit, the rest in one git pass."""
    pick = {c.id for c in (changes if which is None else which) if unsized(c)}
    if not pick:
        return list(changes)
    got = _sizes_of(
        ctx.git, [c.commit.sha for c in changes if c.id in pick], SizeCache(ctx.state_dir)
    )
    out = []
    for c in changes:
        if c.id in pick:
            size, files = got.get(c.commit.sha, (DiffStats(), ()))
            c = replace(c, stats=size, files=files)
        out.append(c)
    return out


def sessions_present(ctx: Context) -> bool:
    """Are there agent sessions to link? Linking matches sessions to commits by the files they
    touched, every commit in scope at once, so with sessions every commit is sized."""
    from reviewq.workflow.session_prompts import _env, enabled, load_index, worktree_roots

    if not enabled(ctx):
        return False
    try:
        roots = worktree_roots(ctx.git)
        return bool(roots) and bool(load_index(_env(ctx), roots)[1])
    except Exception:  # unreadable stores: linking will say so; size everything meanwhile
        return True


# -- git history ------------------------------------------------------------------------------


#: AI commits per numstat batch: batches run in worker threads while the log pass continues.
STATS_BATCH = 768
#: The first batch is smaller, so git starts counting early in the log pass.
FIRST_STATS_BATCH = 192
#: Two size passes at once: when the log pass ends, the last batches share both cores.
STATS_WORKERS = 2


def _scan_history(
    ctx: Context,
    revs: Sequence[str],
    *,
    max_count: int | None,
    since: str | None,
    tip: str | None,
    side: SideRecords | None = None,
    graph: dict[str, list[str]] | None = None,
    sizes: SizeCache | None = None,
    want_sizes: Callable[[Commit], bool] | None = None,
    count: bool = True,
    prefetched: Iterable[bytes] | None = None,
    notes: Mapping[str, str] | None = None,
) -> tuple[list[Change], int]:
    """One streaming log pass; sizes of the AI commits found are fetched alongside it
    (`sizes`: those already counted are taken from there, and new counts are added to it).
    `want_sizes`: only the commits it accepts are sized; the others are left unsized (`stats`
    None, no files: `fill_sizes` counts them when something asks). `count=False`: no size
    pass at all; commits `sizes` holds are sized from it, the rest are left unsized.
    `prefetched`: the records of exactly this log, from the log started before the command line
    loaded (`scan_fast.take_log`; it raises `PrefetchFailed` at the end unless git ended well).
    `notes`: the scan's own notes tips (`for-each-ref`): only those refs' notes are listed.

    The numstat passes run in two worker threads on batches of found commits while the main thread
    keeps reading the log, so on a two-core machine they cost little wall time. `side`: side
    records already read (a scope scan runs several passes over one set of notes).
    """
    git = ctx.git
    side = side if side is not None else load_side_records(git, tip, notes)
    detection = _Detection(Detector(ctx.config.agents), side.hints, graph)
    futures = []
    batch: list[str] = []
    limit = FIRST_STATS_BATCH
    known: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
    unsized: set[str] = set()
    # (commit, authorship, prompt): the prompt is chosen while git is still writing the log
    found: list[tuple[Commit, Authorship, Prompt | None]] = []
    helper = None
    if prefetched is not None and graph is None and want_sizes is None and not count:
        # The plain table: nothing is sized or graphed as the log is read, so a helper process
        # may detect the rest of it once git has ended (`scan_split`).
        from reviewq.workflow import scan_split

        helper = scan_split.RestHelper(detection.part, _checked_answer)
        prefetched.on_ended = helper.on_ended  # type: ignore[attr-defined]
    try:
        with _SizePasses() as pool:
            records = (
                iter_records(git, revs, max_count=max_count, since=since)
                if prefetched is None
                else split_records(prefetched)
            )
            detected = detection(records)
            if helper is not None:
                detected = chain(detected, _helpers_part(helper, detection))
            for commit, authorship, prompt in detected:
                found.append((commit, authorship, prompt))
                if want_sizes is not None and not want_sizes(commit):
                    unsized.add(commit.sha)
                    continue
                if sizes is not None:
                    kept = sizes.get(commit.sha)
                    if kept is not None:
                        known[commit.sha] = kept
                        continue
                if not count:
                    unsized.add(commit.sha)
                    continue
                batch.append(commit.sha)
                if len(batch) >= limit:
                    futures.append(pool.submit(commit_stats, git, batch))
                    batch, limit = [], STATS_BATCH
            if batch:
                futures.append(pool.submit(commit_stats, git, batch))
            stats: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
            for future in futures:
                stats.update(future.result())
    finally:
        if helper is not None:
            helper.stop()
    if sizes is not None:
        for sha, (size, files) in stats.items():
            sizes.put(sha, size, files)
        sizes.flush()
        stats.update(known)
    changes = []
    no_size = (DiffStats(), ())
    for commit, authorship, prompt in found:
        sha = commit.sha
        size, files = (None, ()) if sha in unsized else stats.get(sha, no_size)
        # Positional (id, commit, authorship, prompt, stats, source, location, patch path,
        # files): one per AI commit, and keywords cost ~0.5 µs a call.
        changes.append(Change(sha, commit, authorship, prompt, size, "git", None, None, files))
    return changes, detection.read


class _Detection:
    """The log loop's work on each record, one place for the loop and for a helper's part of
    the log (`scan_split`): calling it on records yields (commit, authorship, prompt) of each
    AI-authored one, in order; `read` counts the records seen."""

    def __init__(
        self,
        detector: Detector,
        hinted: Mapping[str, Sequence[ProvenanceHint]],
        graph: dict[str, list[str]] | None,
    ) -> None:
        self.detector, self.hinted, self.graph = detector, hinted, graph
        self.read = 0

    def __call__(
        self, records: Iterable[list[bytes]]
    ) -> Iterator[tuple[Commit, Authorship, Prompt | None]]:
        detect_record = self.detector.detect_record
        hinted, graph = self.hinted, self.graph
        for parts, marked in _marked_in_batches(records, self.detector.marked_batch):
            self.read += 1
            if graph is not None:  # every commit's parents, for membership without git
                graph[parts[0].decode().strip()] = parts[1].decode().split()
            hints = hinted.get(parts[0].decode().strip(), ()) if hinted else ()
            commit, authorship, marked = detect_record(parts, hints, commit_from_fields, marked)
            if authorship is not None and commit is not None:
                # No side record and no transcript header in the message: no prompt
                # (`choose_prompt` reads only aider's transcript and side records).
                prompt = (
                    choose_prompt(commit.message, hints)
                    if hints or (marked and transcript_may_follow(parts[8]))
                    else None
                )
                yield commit, authorship, prompt

    def part(
        self, records: Iterable[bytes]
    ) -> tuple[int, list[tuple[Commit, Authorship, Prompt | None]]]:
        """A part of the log (its raw records): how many records, and the (commit,
        authorship, prompt) of the AI ones. `read` is left as it was (`_helpers_part` adds the
        count)."""
        before = self.read
        found = list(self(split_records(records)))
        read, self.read = self.read - before, before
        return read, found


def _helpers_part(
    helper: RestHelper, detection: _Detection
) -> Iterator[tuple[Commit, Authorship, Prompt | None]]:
    """What `detection` yields for the part of the log a helper read (`scan_split`), after the
    main loop's own part; nothing when no helper was forked."""
    answer = helper.rest()
    if answer is not None:
        read, found = answer
        detection.read += read
        yield from found


def _checked_answer(packed: Any) -> tuple[int, list[tuple[Commit, Authorship, Prompt | None]]]:
    """A helper's answer, checked for its shape (anything else is detected again here)."""
    read, found = packed
    if not isinstance(read, int) or not all(
        isinstance(c, Commit) and isinstance(a, Authorship) and (p is None or isinstance(p, Prompt))
        for c, a, p in found
    ):
        raise ValueError("not a helper's answer")
    return read, list(found)


#: Records whose messages are searched for keywords together (`Detector.marked_batch`): about
#: two of the prefetch's 64 KiB chunks of a history with long messages.
MARKED_BATCH = 256


def _marked_in_batches(
    records: Iterable[list[bytes]], marked_batch: Callable[[Sequence[bytes]], list[bool]]
) -> Iterator[tuple[list[bytes], bool]]:
    """Each record with whether its message holds a keyword, asked a batch at a time."""
    records = iter(records)
    while batch := list(islice(records, MARKED_BATCH)):
        yield from zip(batch, marked_batch([parts[8] for parts in batch]))


class _SizePasses:
    """The size passes' worker threads, started with the first batch: a scan that counts
    nothing (the table, sizes all kept) neither starts them nor imports `concurrent.futures`
    (and `logging` with it)."""

    def __init__(self) -> None:
        self._pool: Any = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=STATS_WORKERS)
        return self._pool.submit(fn, *args)

    def __enter__(self) -> _SizePasses:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def scan_history(
    ctx: Context,
    revs: Sequence[str] | None = None,
    *,
    max_count: int | None = None,
    since: str | None = None,
    use_cache: bool = True,
    sizes: bool = True,
) -> ScanResult:
    """Every AI-authored commit reachable from `revs`, each sized (files, additions, deletions).

    `sizes=False` (the human listing): no size pass; a commit is sized only when its counts are
    already kept (`SizeCache`), the others come back unsized (`stats` None, no files; `unsized`,
    `fill_sizes`). The scan cache may then hold unsized changes: a later sized scan fills them
    from the size cache or one numstat pass before answering.
    """
    git = ctx.git
    revs = list(revs or ["HEAD"])
    git.start(NOTE_TIPS)  # asked below, after the revisions: both run at once
    head = None
    if revs == ["HEAD"]:
        head = scan_fast.head_from_start(git) or _head_at_once(git)
    if head is not None:
        resolved = head
    else:
        if revs == ["HEAD"] and not git.has_commits():
            return ScanResult([], 0)
        resolved = resolve_revs(git, revs)
    positives = [r for r in resolved if not r.startswith("^")]
    tip = positives[0] if positives else None
    notes = {ref: sha for ref, sha in git.ref_tips("refs/notes/").items() if ref in SCAN_NOTE_REFS}
    cacheable = use_cache and max_count is None and since is None
    key = scan_key(revs, ctx.config.agents)
    cached = ctx.cache.get("scan", key) if cacheable else None
    if cached and cached.get("v") != STATE_VERSION:
        cached = None
    if cached and cached.get("notes") == notes:
        try:
            kept_states = load_states(cached["records"])
        except (TypeError, KeyError):  # another layout: scanned again
            kept_states = None
        if kept_states is not None and cached.get("resolved") == resolved:
            refreshed = _refreshed(git, kept_states)
            if sizes:
                refreshed = _filled_list(git, refreshed, SizeCache(ctx.state_dir))
            if refreshed is not kept_states:  # counted now: kept, so the next scan needs no git
                _store_states(ctx, key, resolved, notes, refreshed)
            return ScanResult(
                changes_from_state(refreshed), 0, from_cache=True, resolved=resolved, notes=notes
            )
        old = cached.get("resolved", [])
        simple = all(not r.startswith("^") for r in resolved + old)
        if (
            kept_states is not None
            and simple
            and old
            and all(_is_ancestor(git, o, resolved) for o in old)
        ):
            new, read = _scan_history(
                ctx,
                [*resolved, *(f"^{o}" for o in old)],
                max_count=None,
                since=None,
                tip=tip,
                notes=notes,
                sizes=SizeCache(ctx.state_dir),
                count=sizes,
            )
            kept_states = _refreshed(git, kept_states)
            if sizes:
                kept_states = _filled_list(git, kept_states, SizeCache(ctx.state_dir))
            kept = changes_from_state(kept_states)
            seen = {c.id for c in new}
            changes = new + [c for c in kept if c.id not in seen]
            _store(ctx, key, resolved, notes, changes)
            return ScanResult(changes, read, incremental=True, resolved=resolved, notes=notes)
    prefetched = None
    if use_cache and revs == ["HEAD"] and max_count is None and since is None:
        # The log `scan_fast.start_log` started before the command line loaded, if it is this
        # very log (the revision resolved above, this directory and environment) and git ended
        # well; the scan of `resolved` is the scan of HEAD.
        from reviewq.workflow.scan_fast import PrefetchFailed, take_log

        prefetched = take_log(git, log_args(resolved))
        if prefetched is not None:
            try:
                changes, read = _scan_history(
                    ctx,
                    resolved,
                    max_count=None,
                    since=None,
                    tip=tip,
                    notes=notes,
                    sizes=SizeCache(ctx.state_dir),
                    count=sizes,
                    prefetched=prefetched,
                )
            except PrefetchFailed:  # git did not end well: nothing of it is kept
                prefetched = None
    if prefetched is None:
        changes, read = _scan_history(
            ctx,
            revs,
            max_count=max_count,
            since=since,
            tip=tip,
            notes=notes,
            sizes=SizeCache(ctx.state_dir) if use_cache else None,
            count=sizes,
        )
    if cacheable:
        _store(ctx, key, resolved, notes, changes)
    return ScanResult(changes, read, resolved=resolved, notes=notes)


def _head_at_once(git: Git) -> list[str] | None:
    """`resolve_revs(git, ["HEAD"])` of a repository with commits, in one git process instead
    of `has_commits` and `resolve_revs` one after the other: `rev-parse --revs-only HEAD
    HEAD^{commit}` prints HEAD, then the commit it is; both the same full sha is the plain
    case. Anything else (an unborn HEAD prints nothing, a failure, HEAD moving between the
    two reads) is None: the two questions are asked apart, as before."""
    try:
        out = git.run(list(HEAD_AT_ONCE), ok_codes=(0, 1, 128))
    except GitError:
        return None
    lines = out.decode("ascii", "replace").split("\n")
    if len(lines) != 3 or lines[2] or lines[0] != lines[1]:
        return None
    sha = lines[0]
    if len(sha) not in (40, 64) or sha.strip("0123456789abcdef"):
        return None
    return [sha]


def _is_ancestor(git: Git, old: str, new_tips: Sequence[str]) -> bool:
    return any(git.succeeds(["merge-base", "--is-ancestor", old, new]) for new in new_tips)


def _store(
    ctx: Context, key: str, resolved: list[str], notes: dict[str, str], changes: list[Change]
) -> None:
    _store_lists(ctx, key, resolved, notes, [change_to_state(c) for c in changes])


def _store_states(
    ctx: Context,
    key: str,
    resolved: list[str],
    notes: dict[str, str],
    states: Sequence[StoredChange],
) -> None:
    _store_lists(ctx, key, resolved, notes, _lists(states))


def _store_lists(
    ctx: Context, key: str, resolved: list[str], notes: dict[str, str], records: list[list[Any]]
) -> None:
    ctx.cache.put(
        "scan", key, {"v": STATE_VERSION, "resolved": resolved, "notes": notes, "records": records}
    )
    ctx.cache.flush()


def _lists(states: Sequence[StoredChange]) -> list[list[Any]]:
    """`StoredChange`s as the cache's JSON lists (orjson writes lists, not named tuples)."""
    return [list(s) for s in states]


# -- the queue's scope: unmerged work + main -------------------------------------------------


_SCOPE_NAMES = frozenset({"ScopeScan", "ScopeState"})


def __getattr__(name: str) -> Any:
    """`ScopeScan`, `ScopeState`: `reviewq.workflow.scan_scope`, made on first use."""
    if name in _SCOPE_NAMES:
        from reviewq.workflow import scan_scope

        globals().update({n: getattr(scan_scope, n) for n in _SCOPE_NAMES})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: A scope scan that read at least this many commits writes the cache to disk at once.
FLUSH_AFTER_READS = 500
#: Largest unmerged part whose parent links are cached (an orphan branch with a long history
#: of its own is left to `git rev-list` rather than bloating the cache).
GRAPH_LIMIT = 50_000


def _covers(old: str | None, new: str | None) -> bool:
    """Does a main scan cut off at `old` hold everything a cutoff at `new` needs?"""
    from reviewq.core.queue import parse_time

    if old is None:
        return True
    if new is None:
        return False
    a, b = parse_time(old), parse_time(new)
    return a is not None and b is not None and a <= b


def _on_or_after(committed_at: str, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    from reviewq.core.queue import parse_time

    when = parse_time(committed_at)
    return when is None or when.tzinfo is None or when >= cutoff


class _LazySide:
    """Side records are read (all notes, one pass) only when some commit must be detected."""

    def __init__(self, git: Git, tip: str | None) -> None:
        self.git, self.tip, self._side = git, tip, None

    def get(self) -> SideRecords:
        if self._side is None:
            self._side = load_side_records(self.git, self.tip)
        return self._side


if TYPE_CHECKING:
    #: Where a change is shown: location, location kind, merged, refs, merged from.
    Placement = tuple[Any, ...]


@_value_methods(frozen=False)
@dataclass(init=False, repr=False, eq=False)
class _Decoded:
    """Changes decoded by the last scope scan, for one (key, notes): a refresh decodes only
    what is new or moved."""

    key: tuple[Any, ...]
    items: dict[str, tuple[Placement, Change]]

    def __init__(self, key: tuple[Any, ...], items: dict[str, tuple[Placement, Change]]) -> None:
        self.key = key
        self.items = items


class Scanner:
    """Scans one repository, and keeps what makes the next scan cheap.

    A command makes one and drops it; a long-lived front end (the TUI's services, a live
    refresh) keeps one, so a refresh decodes only the changes that are new or moved since the
    last scope scan. It also says the unknown-sizes warning once, however many scans it runs.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._decoded: _Decoded | None = None
        self._size_warned = False

    def history(
        self,
        revs: Sequence[str] | None = None,
        *,
        max_count: int | None = None,
        since: str | None = None,
        use_cache: bool = True,
    ) -> ScanResult:
        return scan_history(self.ctx, revs, max_count=max_count, since=since, use_cache=use_cache)

    def warn_unknown_sizes(self, changes: Sequence[Change]) -> None:
        """Print `size_warning` (stderr) the first time it has something to say."""
        if self._size_warned:
            return
        line = size_warning(self.ctx.git, changes)
        if line is not None:
            self._size_warned = True
            print(f"reviewq: warning: {line}", file=sys.stderr)

    def scope(
        self,
        scope: Scope | None = None,
        *,
        now: datetime,
        snapshot: RefSnapshot | None = None,
        use_cache: bool = True,
        daily: bool = False,
    ) -> ScopeScan:
        """AI-authored commits in the queue's scope: unmerged work in scope, plus main since the
        cutoff.

        `daily`: for the daily queue, main's AI commits older than `[scope] recent` (the audit
        view's) are left unsized (`unsized`, `fill_sizes`), except those a landing key compares
        (a rebased copy's author date). With agent sessions present every commit is sized.

        Incremental: the cache remembers the main tips, the work tips and the AI commits found
        under them. When main only moved forward, new main commits are `new ^old`, and new work
        is `moved-tips ^main ^old-tips` (everything reachable from the old tips was scanned
        already). Which work refs hold which commit is recomputed whenever a ref moved: from the
        cached parent links of the unmerged commits while main stays put (no git), else with one
        rev-list over the unmerged part. So a merged or deleted branch's items leave, and a new
        pull-request ref at known commits relabels them without a rescan. Unchanged refs and
        notes: no git log.
        """
        from reviewq.sources.refs import (
            all_ancestors,
            list_remotes,
            membership,
            membership_from_graph,
            read_snapshot,
            scope_view,
        )
        from reviewq.workflow.scan_scope import ScopeScan, ScopeState

        ctx = self.ctx
        git = ctx.git
        import hashlib

        from reviewq.core.scope import scope_of

        scope = scope or scope_of(ctx.config)
        snapshot = snapshot or read_snapshot(git)
        view = scope_view(snapshot, scope, list_remotes(git) if snapshot.tips else ())
        if view.main is None and not view.work:
            return ScopeScan([], 0, view)
        cutoff = scope.main_cutoff(now)
        cutoff_text = cutoff.isoformat() if cutoff else None
        notes = {ref: sha for ref, sha in snapshot.tips.items() if ref in SCAN_NOTE_REFS}
        key = hashlib.sha256(
            json.dumps([DETECTOR_VERSION, _rules_key(ctx.config.agents), scope.identity()]).encode()
        ).hexdigest()
        cached = ScopeState.load(ctx.cache.get("scope", key)) if use_cache else None
        if cached is not None and cached.notes != notes:
            cached = None
        main_tips = view.mainline_shas()
        work_tips = view.work_shas()
        side = _LazySide(git, main_tips[0] if main_tips else (work_tips[0] if work_tips else None))
        sizes = SizeCache(ctx.state_dir) if use_cache else None
        read = 0
        incremental = False
        want_sizes: Callable[[Commit], bool] | None = None
        sized_from: datetime | None = None
        anchor: datetime | None = None
        if daily and not sessions_present(ctx):
            from reviewq.core.units import is_recent

            anchor = recent_anchor(ctx, view.mainline, now)
            sized_from = scope.recent_cutoff(anchor)
            daily = sized_from is not None  # no cutoff: all of main is recent

            def want_sizes(commit: Commit) -> bool:
                return is_recent(commit.committed_at, sized_from)
        else:
            daily = False

        old_main = cached.main_tips if cached else []
        main_forward = cached is not None and all_ancestors(git, old_main, main_tips)

        def scanned(revs: list[str], since: str | None, **kw: Any) -> dict[str, StoredChange]:
            nonlocal read
            new, n = _scan_history(
                ctx,
                revs,
                max_count=None,
                since=since,
                tip=None,
                side=side.get(),
                sizes=sizes,
                **kw,
            )
            read += n
            return {c.id: StoredChange.of(c) for c in new}

        # Main since the cutoff.
        main_states: dict[str, StoredChange] = {}
        if cached is not None and main_forward and _covers(cached.cutoff, cutoff_text):
            main_states = dict(cached.main)
            if old_main != main_tips:
                main_states.update(
                    scanned(
                        [*main_tips, *(f"^{o}" for o in old_main)],
                        cutoff_text,
                        want_sizes=want_sizes,
                    )
                )
                incremental = True
        elif main_tips:
            main_states = scanned(main_tips, cutoff_text, want_sizes=want_sizes)
        main_states = {
            sha: st for sha, st in main_states.items() if _on_or_after(st.committed_at, cutoff)
        }
        main_states = _refreshed_map(git, main_states)

        # Work not yet in main.
        branch_states: dict[str, StoredChange] = {}
        old_work = cached.work_tips if cached else []
        exclude = [f"^{m}" for m in main_tips]
        main_still = cached is not None and main_forward and old_main == main_tips
        # The unmerged commits' parents, kept while main stays put: membership then needs no git.
        graph: dict[str, list[str]] | None = None
        if main_still and cached.graph is not None:
            graph = dict(cached.graph)
        if cached is not None and main_forward:
            branch_states = dict(cached.branch)
            if not set(work_tips) <= set(old_work):
                # Only moved or new tips can reach unscanned commits; the old tips fence them in.
                moved = sorted(set(work_tips) - set(old_work))
                branch_states.update(
                    scanned([*moved, *exclude, *(f"^{o}" for o in old_work)], None, graph=graph)
                )
                incremental = incremental or bool(old_work)
        elif work_tips:
            branch_states = scanned([*work_tips, *exclude], None)
        branch_states = _refreshed_map(git, branch_states)

        # Where each unmerged AI commit lives; work that left (merged, deleted) drops out.
        unchanged = main_still and cached.work == view.work
        if unchanged:
            placements = dict(cached.placements)
        else:
            if graph is not None:
                member = membership_from_graph(view, graph, branch_states)
            else:
                member = membership(git, view, branch_states)
            graph = member.graph if len(member.graph) <= GRAPH_LIMIT else None
            placements = {
                sha: (p.location, p.kind, list(p.refs)) for sha, p in member.placements.items()
            }
        # Main's unsized commits that the view shows or a landing key compares, sized now.
        before = main_states
        main_states = _filled_states(
            git, main_states, _to_size(main_states, branch_states, sized_from, daily), sizes
        )
        filled = main_states is not before
        placements, was_on, landed_memo = _landings(
            git, view, main_tips, main_states, branch_states, placements, cached
        )
        branch_states = {sha: st for sha, st in branch_states.items() if sha in placements}
        stale = scope.unmerged_cutoff(now)
        shown_branch = {
            sha: st for sha, st in branch_states.items() if _on_or_after(st.committed_at, stale)
        }

        changes = self._placed(
            (key, tuple(sorted(notes.items()))),
            use_cache,
            view.main_short or "HEAD",
            main_states,
            shown_branch,
            was_on,
            placements,
        )
        from_cache = cached is not None and read == 0 and unchanged
        if use_cache and (filled or not (from_cache and cached.cutoff == cutoff_text)):
            state = ScopeState(
                notes=notes,
                main_tips=main_tips,
                cutoff=cutoff_text,
                main=main_states,
                work=view.work,
                work_tips=work_tips,
                branch=branch_states,
                placements=placements,
                landed_memo=landed_memo,
                was_on=was_on,
                graph=cached.graph if unchanged and cached is not None else graph,
            )
            ctx.cache.put("scope", key, state.to_json())
            if read >= FLUSH_AFTER_READS:
                # Worth keeping even if the process dies; smaller updates reach disk on close.
                ctx.cache.flush()
        return ScopeScan(
            changes,
            read,
            view,
            from_cache=from_cache,
            incremental=incremental,
            graph=graph,
            anchor=anchor,
        )

    def _placed(
        self,
        memo_key: tuple[Any, ...],
        use_cache: bool,
        main_name: str,
        main_states: dict[str, StoredChange],
        shown_branch: dict[str, StoredChange],
        was_on: dict[str, str],
        placements: dict[str, tuple[str, str, list[str]]],
    ) -> list[Change]:
        """The changes in scope, each placed; decoded ones are reused while valid (one detector,
        scope and set of notes: notes change prompts)."""
        decode = _StateDecoder().change
        old = self._decoded
        memo = old.items if old is not None and old.key == memo_key and use_cache else {}
        fresh: dict[str, tuple[Placement, Change]] = {}

        def placed(sha: str, state: StoredChange, **place: Any) -> Change:
            where = (*place.values(), state.stats is None)  # sized since: decoded again
            hit = memo.get(sha)
            change = hit[1] if hit is not None and hit[0] == where else decode(state, **place)
            fresh[sha] = (where, change)
            return change

        changes = [
            placed(
                sha,
                st,
                location=main_name,
                location_kind="main",
                merged=True,
                refs=(main_name,),
                merged_from=was_on.get(sha),
            )
            for sha, st in main_states.items()
        ]
        for sha, st in shown_branch.items():
            location, kind, refs = placements[sha]
            changes.append(
                placed(
                    sha, st, location=location, location_kind=kind, merged=False, refs=tuple(refs)
                )
            )
        self._decoded = _Decoded(memo_key, fresh)
        return changes


def scan_scope(
    ctx: Context,
    scope: Scope | None = None,
    *,
    now: datetime,
    snapshot: RefSnapshot | None = None,
    use_cache: bool = True,
    scanner: Scanner | None = None,
    daily: bool = False,
) -> ScopeScan:
    """`Scanner.scope`; pass the `scanner` a front end keeps to reuse its decoded changes."""
    return (scanner or Scanner(ctx)).scope(
        scope, now=now, snapshot=snapshot, use_cache=use_cache, daily=daily
    )


def _to_size(
    main_states: dict[str, StoredChange],
    branch_states: dict[str, StoredChange],
    sized_from: datetime | None,
    daily: bool,
) -> list[str]:
    """Main's unsized commits to size now: all of them (not the daily view), else the recent
    ones (`[scope] recent` may have moved since they were scanned) and those sharing an author
    date with unmerged work (`_landings` compares their landing keys, which hold their files)."""
    from reviewq.core.units import is_recent

    unsized = [sha for sha, st in main_states.items() if st.stats is None and st.source == "git"]
    if not unsized or not daily:
        return unsized
    authored = {st.authored_at for st in branch_states.values()}
    return [
        sha
        for sha in unsized
        if is_recent(main_states[sha].committed_at, sized_from)
        or main_states[sha].authored_at in authored
    ]


def warn_unknown_sizes(ctx: Context, changes: Sequence[Change]) -> None:
    """`Scanner.warn_unknown_sizes` for a command that scans once."""
    Scanner(ctx).warn_unknown_sizes(changes)


def _landings(
    git: Git,
    view: RefView,
    main_tips: Sequence[str],
    main_states: dict[str, StoredChange],
    branch_states: dict[str, StoredChange],
    placements: dict[str, tuple[str, str, list[str]]],
    cached: ScopeState | None,
) -> tuple[dict[str, tuple[str, str, list[str]]], dict[str, str], dict[str, Any] | None]:
    """Unmerged work that landed on main in another form leaves the branch view: a
    squash-merged request (main's messages name it) and rebased copies or cherry-picks (the
    copy on main is the item, remembering the branch it was on). Returns the placements left,
    `was_on` (main commit -> the branch it was seen on) and the landed-requests memo to keep."""
    from reviewq.core.scope import rebased_copies

    # A squash-merged pull request's commits never reach main; main's messages say it landed.
    landed, landed_memo = _landed_review_refs(
        git, view, main_tips, branch_states, placements, cached.landed_memo if cached else None
    )
    if landed:
        gone = set(landed)
        placements = {sha: p for sha, p in placements.items() if gone.isdisjoint(p[2])}
    # A rebase-merged request (or a cherry-pick to main) lands copies: the copy is the item.
    unmerged = {sha: st for sha, st in branch_states.items() if sha in placements}
    authored = {st.authored_at for st in unmerged.values()}  # a cheap first cut
    copies = rebased_copies(
        {sha: st.landing_key() for sha, st in unmerged.items()},
        {sha: st.landing_key() for sha, st in main_states.items() if st.authored_at in authored},
    )
    was_on = dict(cached.was_on) if cached else {}
    for sha, place in (cached.placements if cached else {}).items():
        if sha not in placements and sha in main_states:
            was_on[sha] = place[0]
    for sha, copy in copies.items():
        was_on.setdefault(copy, placements.pop(sha)[0])
    was_on = {sha: loc for sha, loc in was_on.items() if sha in main_states}
    return placements, was_on, landed_memo


def _landed_review_refs(
    git: Git,
    view: Any,
    main_tips: Sequence[str],
    branch_states: dict[str, StoredChange],
    placements: dict[str, tuple[str, str, list[str]]],
    memo: dict[str, Any] | None,
) -> tuple[list[str], dict[str, Any] | None]:
    """Short names of the pull/merge-request refs holding unmerged AI work whose request main's
    commit messages say was merged (`core.scope.landed_reviews`): squash merges leave the
    request's own commits off main and its ref on the host.

    One `git log` of main since the oldest such commit; its answer (every request number main
    names) is kept with the scan and reused while main stays put, so a new branch commit or a
    new pull-request ref costs no git. Returns the refs and the memo to keep.
    """
    from reviewq.core.queue import parse_time
    from reviewq.core.scope import landed_reviews, review_number, short_ref

    numbered = {
        short_ref(ref): number
        for ref in view.work
        if (number := review_number(ref, view.remotes)) is not None
    }
    held = [
        sha
        for sha, (_, _, refs) in placements.items()
        if sha in branch_states and any(r in numbered for r in refs)
    ]
    if not held or not main_tips:
        return [], memo
    oldest = min(branch_states[sha].committed_at for sha in held)
    since, wanted = parse_time((memo or {}).get("since", "")), parse_time(oldest)
    if (
        memo is not None
        and memo.get("main") == list(main_tips)
        and since is not None
        and wanted is not None
        and since <= wanted
    ):
        landed = {(kind, number) for kind, number in memo["numbers"]}
    else:
        out = git.run(
            ["log", "--format=%B%x1e", f"--since={oldest}", *main_tips],
            what="log (merged requests)",
        )
        # git separates the formatted commits with a newline: strip it off each message.
        messages = (m.strip("\n") for m in out.decode("utf-8", "replace").split("\x1e"))
        landed = landed_reviews(messages)
        memo = {"main": list(main_tips), "since": oldest, "numbers": sorted(landed)}
    return sorted(short for short, number in numbered.items() if number in landed), memo


# -- patch inbox ------------------------------------------------------------------------------


def scan_inbox(ctx: Context, folder: Path | None = None) -> list[Change]:
    """Every patch in the inbox as a Change with id `inbox:<patch-id>`.

    Each file's result is cached under its (and its sidecars') size and mtime, so a refresh
    reads only the files that changed and runs no `git patch-id` for the others.
    """
    explicit = folder is not None
    folder = folder or ctx.inbox_dir()
    if folder is None:
        return []
    if not folder.is_dir():
        if not explicit:
            # The configured inbox is usually git-ignored: absent until an agent delivers, and
            # always absent in a bare mirror (no work tree). Nothing has arrived yet.
            return []
        raise ReviewqError(f"inbox {folder}: no such folder; create it or pass another --inbox")
    detector = Detector(ctx.config.agents)
    rules = [DETECTOR_VERSION, STATE_VERSION, _rules_key(ctx.config.agents)]
    changes: list[Change] = []
    dirty = False
    from reviewq.sources.inbox import list_inbox  # the email parser: only for an inbox

    for path in list_inbox(folder):
        key = os.fspath(path.resolve())
        stamp = [*rules, inbox_file_stamp(path)]
        cached = ctx.cache.get("inbox", key)
        if cached and cached.get("stamp") == stamp:
            # location_kind and merged are the same for every inbox item: not stored.
            changes += [
                replace(c, location_kind="inbox", merged=False)
                for c in changes_from_state(load_states(cached["changes"]))
            ]
            continue
        found = _inbox_file_changes(ctx, detector, path)
        ctx.cache.put(
            "inbox", key, {"stamp": stamp, "changes": [change_to_state(c) for c in found]}
        )
        dirty = True
        changes += found
    if dirty:
        ctx.cache.flush()
    return changes


def inbox_file_stamp(path: Path) -> list[Any]:
    """(name, size, mtime) of a patch file and of each sidecar beside it."""
    # start-up: the email parser, only for an inbox (as in `scan_inbox`)
    from reviewq.sources.inbox import sidecar_candidates

    stamp: list[Any] = []
    for candidate in (path, *sidecar_candidates(path)):
        try:
            st = candidate.stat()
        except OSError:
            continue
        stamp.append([candidate.name, st.st_size, st.st_mtime_ns])
    return stamp


def _inbox_file_changes(ctx: Context, detector: Detector, path: Path) -> list[Change]:
    # start-up: the email parser, the diff parser and datetime, only for an inbox
    from datetime import UTC, datetime

    from reviewq.sources.diffs import file_changes
    from reviewq.sources.inbox import read_patch_file

    changes = []
    st = path.stat()
    mtime = datetime.fromtimestamp(st.st_mtime, UTC).isoformat(timespec="seconds")
    for patch in read_patch_file(path, mtime):
        hints = [patch.sidecar.hint()] if patch.sidecar else []
        authorship = detector.detect(patch.commit, hints)
        sidecar_evidence = Evidence(
            "sidecar", patch.sidecar.path if patch.sidecar else f"inbox {path.name}"
        )
        if authorship is None or patch.sidecar is not None:
            agent = (patch.sidecar.agent if patch.sidecar else None) or (
                authorship.agent if authorship else "other"
            )
            model = (patch.sidecar.model if patch.sidecar else None) or (
                authorship.model if authorship else None
            )
            evidence = (sidecar_evidence, *(authorship.evidence if authorship else ()))
            # the sidecar and the patch's own trailers often name the same person: once each
            prompted_list: list[Identity] = []
            for p in (
                patch.sidecar.prompted_by if patch.sidecar else None,
                *(authorship.prompted_by if authorship else ()),
            ):
                if p is not None and all(
                    (p.email or p.name).lower() != (q.email or q.name).lower()
                    for q in prompted_list
                ):
                    prompted_list.append(p)
            prompted = tuple(prompted_list)
            authorship = Authorship(
                agent=agent,
                model=model,
                family=family_for(agent, model),
                role="primary",
                confidence="high" if patch.sidecar else "medium",
                evidence=evidence,
                prompted_by=prompted,
            )
        patch_id = patch_id_of(ctx.git, patch.raw) or patch.key
        name = path.name if patch.index == 0 else f"{path.name}#{patch.index + 1}"
        changes.append(
            Change(
                id=f"inbox:{patch_id}",
                commit=patch.commit,
                authorship=authorship,
                prompt=choose_prompt(patch.commit.message, hints),
                stats=patch.diff.stats,
                source="inbox",
                location=f"inbox/{name}",
                location_kind="inbox",
                merged=False,
                patch_path=os.fspath(path),
                files=file_changes(patch.diff),
            )
        )
    return changes


def patch_id_of(git: Git, patch: bytes) -> str | None:
    """`git patch-id --stable`: the same change keeps its id across rebase and cherry-pick."""
    try:
        out = git.run(["patch-id", "--stable"], input=patch, what="patch-id")
    except GitError:
        return None
    parts = out.split()
    return parts[0].decode() if parts else None


def recent_anchor(ctx: Context, mainline: Mapping[str, str], now: datetime) -> datetime:
    """What "recent" counts back from: now, or main's newest commit when main is older (a clone
    of a project that went quiet still shows its last weeks; a test's history is stable)."""
    if not mainline:
        return now
    try:
        out = ctx.git.text(
            ["log", "-1", "--no-walk", "--format=%cI", *sorted(set(mainline.values())), "--"],
            what="log",
        ).split()
    except GitError:
        return now
    from datetime import datetime

    try:
        newest = max(datetime.fromisoformat(x) for x in out) if out else None
    except ValueError:
        return now
    return now if newest is None or newest.tzinfo is None or newest > now else newest
