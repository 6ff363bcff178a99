"""The scan: git history (+ side records, + the patch inbox) -> AI-authored `Change`s.

One streaming `git log` pass feeds the detector; only the commits it keeps get a numstat pass.
Results are cached in TinyDB keyed by what was asked (revisions, limits, repository rules) and
validated by what git says now (resolved tips, notes refs). An unchanged history is answered from
the cache; a history that only grew is scanned from the old tips to the new ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewq.context import Context
from reviewq.core.detect import Detector, RepoRule
from reviewq.core.families import family_for
from reviewq.core.model import (
    Authorship,
    Change,
    Commit,
    DiffStats,
    Evidence,
    FileChange,
    Identity,
    Prompt,
)
from reviewq.core.prompts import choose_prompt
from reviewq.core.queue import parse_time
from reviewq.core.scope import Scope, scope_of
from reviewq.errors import ReviewqError
from reviewq.sources.diffs import file_changes
from reviewq.sources.git_log import commit_stats, log_args, parse_record
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.inbox import list_inbox, read_patch_file, sidecar_candidates
from reviewq.sources.notes import SCAN_NOTE_REFS, SideRecords, load_side_records
from reviewq.sources.refs import (
    RefSnapshot,
    RefView,
    all_ancestors,
    list_remotes,
    membership,
    read_snapshot,
    rev_args,
    scope_view,
)

#: Bump when detection rules change so cached results are recomputed.
DETECTOR_VERSION = "2026.11.1"


@dataclass
class ScanResult:
    changes: list[Change]
    commits_read: int
    from_cache: bool = False
    incremental: bool = False


# -- (de)serialisation for the cache ----------------------------------------------------------


def _ident(d: dict[str, Any]) -> Identity:
    return Identity(d.get("name", ""), d.get("email", ""))


def change_to_state(c: Change) -> dict[str, Any]:
    a = c.authorship
    return {
        "id": c.id,
        "source": c.source,
        "location": c.location,
        "location_kind": c.location_kind,
        "merged": c.merged,
        "patch_path": c.patch_path,
        "files": [f.to_json() for f in c.files],
        "commit": {
            "sha": c.commit.sha,
            "parents": list(c.commit.parents),
            "author": c.commit.author.to_json(),
            "committer": c.commit.committer.to_json(),
            "authored_at": c.commit.authored_at,
            "committed_at": c.commit.committed_at,
            "message": c.commit.message,
        },
        "authorship": {
            "agent": a.agent,
            "model": a.model,
            "family": a.family,
            "role": a.role,
            "confidence": a.confidence,
            "evidence": [e.to_json() for e in a.evidence],
            "prompted_by": [p.to_json() for p in a.prompted_by],
        },
        "prompt": None
        if c.prompt is None
        else {
            "text": c.prompt.text,
            "source": c.prompt.source,
            "prompted_by": c.prompt.prompted_by.to_json() if c.prompt.prompted_by else None,
        },
        "stats": c.stats.to_json() if c.stats else None,
    }


def change_from_state(d: dict[str, Any]) -> Change:
    cm, a, p = d["commit"], d["authorship"], d.get("prompt")
    return Change(
        id=d["id"],
        commit=Commit(
            sha=cm["sha"],
            parents=tuple(cm["parents"]),
            author=_ident(cm["author"]),
            committer=_ident(cm["committer"]),
            authored_at=cm["authored_at"],
            committed_at=cm["committed_at"],
            message=cm["message"],
        ),
        authorship=Authorship(
            agent=a["agent"],
            model=a["model"],
            family=a["family"],
            role=a["role"],
            confidence=a["confidence"],
            evidence=tuple(Evidence(e["source"], e["marker"]) for e in a["evidence"]),
            prompted_by=tuple(_ident(x) for x in a.get("prompted_by", [])),
        ),
        prompt=None
        if p is None
        else Prompt(p["text"], p["source"], Identity.from_json(p.get("prompted_by"))),
        stats=DiffStats.from_json(d.get("stats")),
        source=d.get("source", "git"),
        location=d.get("location"),
        location_kind=d.get("location_kind"),
        merged=d.get("merged"),
        patch_path=d.get("patch_path"),
        files=tuple(FileChange.from_json(f) for f in d.get("files", ())),
    )


# -- git history ------------------------------------------------------------------------------


def _rules_key(rules: Sequence[RepoRule]) -> list[Any]:
    return [
        [
            r.agent,
            r.model,
            r.family,
            r.role,
            r.email,
            r.name,
            r.trailer,
            r.value.pattern if r.value else None,
            r.confidence,
        ]
        for r in rules
    ]


def resolve_revs(git: Git, revs: Sequence[str]) -> list[str]:
    """`git rev-parse` of the scan's revisions; a bad one becomes a one-line error."""
    for rev in revs:
        if rev.startswith("-"):
            raise ReviewqError(f"{rev!r} is not a revision; options go before the revisions")
    try:
        out = git.text(["rev-parse", "--revs-only", "--end-of-options", *revs], what="rev-parse")
    except GitError:
        out = None
    lines = out.split() if out is not None else []
    if out is None or not lines:
        for rev in revs:
            for part in rev.replace("...", "..").split(".."):
                part = part.lstrip("^")
                if part and git.try_resolve(part) is None:
                    git.resolve(part)  # raises the friendly message
        raise ReviewqError(f"cannot resolve {' '.join(revs)!r}; check the revision names")
    return lines


def _scan_history(
    ctx: Context,
    revs: Sequence[str],
    *,
    max_count: int | None,
    since: str | None,
    tip: str | None,
    side: SideRecords | None = None,
) -> tuple[list[Change], int]:
    git = ctx.git
    detector = Detector(ctx.config.agents)
    side = side if side is not None else load_side_records(git, tip)
    found: list[tuple[Commit, Authorship]] = []
    read = 0
    args = log_args([], max_count=max_count, since=since)
    rev_part, stdin = rev_args(revs)
    args[-1:-1] = rev_part  # revisions go before the final `--`
    for record in git.stream(args, input=stdin):
        commit = parse_record(record)
        if commit is None:
            continue
        read += 1
        authorship = detector.detect(commit, side.for_commit(commit.sha))
        if authorship is not None:
            found.append((commit, authorship))
    stats = commit_stats(git, [c.sha for c, _ in found])
    changes = []
    for commit, authorship in found:
        size, files = stats.get(commit.sha, (DiffStats(), ()))
        changes.append(
            Change(
                id=commit.sha,
                commit=commit,
                authorship=authorship,
                prompt=choose_prompt(commit.message, side.for_commit(commit.sha)),
                stats=size,
                files=files,
            )
        )
    return changes, read


def scan_history(
    ctx: Context,
    revs: Sequence[str] | None = None,
    *,
    max_count: int | None = None,
    since: str | None = None,
    use_cache: bool = True,
) -> ScanResult:
    git = ctx.git
    revs = list(revs or ["HEAD"])
    if revs == ["HEAD"] and not git.has_commits():
        return ScanResult([], 0)
    resolved = resolve_revs(git, revs)
    positives = [r for r in resolved if not r.startswith("^")]
    tip = positives[0] if positives else None
    notes = {ref: sha for ref, sha in git.ref_tips("refs/notes/").items() if ref in SCAN_NOTE_REFS}
    cacheable = use_cache and max_count is None and since is None
    key = hashlib.sha256(
        json.dumps([DETECTOR_VERSION, revs, _rules_key(ctx.config.agents)]).encode()
    ).hexdigest()
    cached = ctx.cache.get("scan", key) if cacheable else None
    if cached and cached.get("notes") == notes:
        if cached.get("resolved") == resolved:
            return ScanResult([change_from_state(s) for s in cached["records"]], 0, from_cache=True)
        old = cached.get("resolved", [])
        simple = all(not r.startswith("^") for r in resolved + old)
        if simple and old and all(_is_ancestor(git, o, resolved) for o in old):
            new, read = _scan_history(
                ctx, [*resolved, *(f"^{o}" for o in old)], max_count=None, since=None, tip=tip
            )
            kept = [change_from_state(s) for s in cached["records"]]
            seen = {c.id for c in new}
            changes = new + [c for c in kept if c.id not in seen]
            _store(ctx, key, resolved, notes, changes)
            return ScanResult(changes, read, incremental=True)
    changes, read = _scan_history(ctx, revs, max_count=max_count, since=since, tip=tip)
    if cacheable:
        _store(ctx, key, resolved, notes, changes)
    return ScanResult(changes, read)


def _is_ancestor(git: Git, old: str, new_tips: Sequence[str]) -> bool:
    return any(git.succeeds(["merge-base", "--is-ancestor", old, new]) for new in new_tips)


def _store(
    ctx: Context, key: str, resolved: list[str], notes: dict[str, str], changes: list[Change]
) -> None:
    ctx.cache.put(
        "scan",
        key,
        {"resolved": resolved, "notes": notes, "records": [change_to_state(c) for c in changes]},
    )
    ctx.cache.flush()


# -- the queue's scope: unmerged work + main -------------------------------------------------


@dataclass
class ScopeScan:
    """AI-authored changes in scope, each placed (`location`, `merged`, `refs`)."""

    changes: list[Change]
    commits_read: int
    view: RefView
    from_cache: bool = False
    incremental: bool = False


def _covers(old: str | None, new: str | None) -> bool:
    """Does a main scan cut off at `old` hold everything a cutoff at `new` needs?"""
    if old is None:
        return True
    if new is None:
        return False
    a, b = parse_time(old), parse_time(new)
    return a is not None and b is not None and a <= b


def _on_or_after(change: Change, cutoff: datetime | None) -> bool:
    if cutoff is None:
        return True
    when = parse_time(change.commit.committed_at)
    return when is None or when.tzinfo is None or when >= cutoff


class _LazySide:
    """Side records are read (all notes, one pass) only when some commit must be detected."""

    def __init__(self, git: Git, tip: str | None) -> None:
        self.git, self.tip, self._side = git, tip, None

    def get(self) -> SideRecords:
        if self._side is None:
            self._side = load_side_records(self.git, self.tip)
        return self._side


def scan_scope(
    ctx: Context,
    scope: Scope | None = None,
    *,
    now: datetime,
    snapshot: RefSnapshot | None = None,
    use_cache: bool = True,
) -> ScopeScan:
    """AI-authored commits in the queue's scope: unmerged work in scope, plus main since the cutoff.

    Incremental: the cache remembers the main tips, the work tips and the AI commits found
    under them. When main only moved forward, new main commits are `new ^old`, and new work is
    `work ^main ^old_work` (everything reachable from the old work tips was scanned already).
    Which work refs hold which commit is recomputed whenever a ref moved (one rev-list over the
    unmerged part), so a merged or deleted branch's items leave and a new pull request ref that
    points at known commits relabels them without a rescan. Unchanged refs and notes: no git
    log at all.
    """
    git = ctx.git
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
    cached = ctx.cache.get("scope", key) if use_cache else None
    if cached and cached.get("notes") != notes:
        cached = None
    main_tips = view.mainline_shas()
    work_tips = view.work_shas()
    side = _LazySide(git, main_tips[0] if main_tips else (work_tips[0] if work_tips else None))
    read = 0
    incremental = False

    old_main = cached.get("main_tips", []) if cached else []
    main_forward = bool(cached) and all_ancestors(git, old_main, main_tips)

    # Main since the cutoff.
    main_states: dict[str, dict[str, Any]] = {}
    if main_forward and _covers(cached.get("cutoff"), cutoff_text):
        main_states = {st["id"]: st for st in cached.get("main", [])}
        if old_main != main_tips:
            new, n = _scan_history(
                ctx,
                [*main_tips, *(f"^{o}" for o in old_main)],
                max_count=None,
                since=cutoff_text,
                tip=None,
                side=side.get(),
            )
            read += n
            incremental = True
            main_states.update((c.id, change_to_state(c)) for c in new)
    elif main_tips:
        new, n = _scan_history(
            ctx, main_tips, max_count=None, since=cutoff_text, tip=None, side=side.get()
        )
        read += n
        main_states = {c.id: change_to_state(c) for c in new}
    main_changes = [
        c for c in map(change_from_state, main_states.values()) if _on_or_after(c, cutoff)
    ]
    main_states = {c.id: main_states[c.id] for c in main_changes}

    # Work not yet in main.
    branch_states: dict[str, dict[str, Any]] = {}
    old_work = cached.get("work_tips", []) if cached else []
    exclude = [f"^{m}" for m in main_tips]
    if main_forward:
        branch_states = dict(cached.get("branch", {}))
        if not set(work_tips) <= set(old_work):
            new, n = _scan_history(
                ctx,
                [*work_tips, *exclude, *(f"^{o}" for o in old_work)],
                max_count=None,
                since=None,
                tip=None,
                side=side.get(),
            )
            read += n
            incremental = incremental or bool(old_work)
            branch_states.update((c.id, change_to_state(c)) for c in new)
    elif work_tips:
        new, n = _scan_history(
            ctx, [*work_tips, *exclude], max_count=None, since=None, tip=None, side=side.get()
        )
        read += n
        branch_states = {c.id: change_to_state(c) for c in new}

    # Where each unmerged AI commit lives; work that left (merged, deleted) drops out.
    unchanged = main_forward and old_main == main_tips and cached.get("work") == view.work
    if unchanged:
        placements = {sha: tuple(p) for sha, p in cached.get("placements", {}).items()}
    else:
        member = membership(git, view, branch_states)
        placements = {
            sha: (p.location, p.kind, list(p.refs)) for sha, p in member.placements.items()
        }
    was_on = dict(cached.get("was_on", {})) if cached else {}
    for sha, place in (cached.get("placements", {}) if cached else {}).items():
        if sha not in placements and sha in main_states:
            was_on[sha] = place[0]
    was_on = {sha: loc for sha, loc in was_on.items() if sha in main_states}
    branch_states = {sha: st for sha, st in branch_states.items() if sha in placements}

    main_name = view.main_short or "HEAD"
    changes = [
        replace(
            c,
            location=main_name,
            location_kind="main",
            merged=True,
            refs=(main_name,),
            merged_from=was_on.get(c.id),
        )
        for c in main_changes
    ]
    for sha, st in branch_states.items():
        location, kind, refs = placements[sha]
        changes.append(
            replace(
                change_from_state(st),
                location=location,
                location_kind=kind,
                merged=False,
                refs=tuple(refs),
            )
        )
    if use_cache:
        ctx.cache.put(
            "scope",
            key,
            {
                "notes": notes,
                "main_tips": main_tips,
                "cutoff": cutoff_text,
                "main": list(main_states.values()),
                "work": view.work,
                "work_tips": work_tips,
                "branch": branch_states,
                "placements": placements,
                "was_on": was_on,
            },
        )
        ctx.cache.flush()
    from_cache = bool(cached) and read == 0 and unchanged
    return ScopeScan(changes, read, view, from_cache=from_cache, incremental=incremental)


# -- patch inbox ------------------------------------------------------------------------------


def scan_inbox(ctx: Context, folder: Path | None = None) -> list[Change]:
    """Every patch in the inbox as a Change with id `inbox:<patch-id>`.

    Each file's result is cached under its (and its sidecars') size and mtime, so a refresh
    reads only the files that changed and runs no `git patch-id` for the others.
    """
    folder = folder or ctx.inbox_dir()
    if folder is None:
        return []
    if not folder.is_dir():
        raise ReviewqError(f"inbox {folder}: no such folder; create it or fix `inbox` in config")
    detector = Detector(ctx.config.agents)
    rules = [DETECTOR_VERSION, _rules_key(ctx.config.agents)]
    changes: list[Change] = []
    dirty = False
    for path in list_inbox(folder):
        key = os.fspath(path.resolve())
        stamp = [*rules, inbox_file_stamp(path)]
        cached = ctx.cache.get("inbox", key)
        if cached and cached.get("stamp") == stamp:
            changes += [change_from_state(st) for st in cached["changes"]]
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
    stamp: list[Any] = []
    for candidate in (path, *sidecar_candidates(path)):
        try:
            st = candidate.stat()
        except OSError:
            continue
        stamp.append([candidate.name, st.st_size, st.st_mtime_ns])
    return stamp


def _inbox_file_changes(ctx: Context, detector: Detector, path: Path) -> list[Change]:
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
            prompted = tuple(
                p
                for p in (
                    patch.sidecar.prompted_by if patch.sidecar else None,
                    *(authorship.prompted_by if authorship else ()),
                )
                if p is not None
            )
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
