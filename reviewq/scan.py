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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from reviewq.errors import ReviewqError
from reviewq.sources.diffs import file_changes
from reviewq.sources.git_log import commit_from_fields, commit_stats, iter_records
from reviewq.sources.gitcmd import Git, GitError
from reviewq.sources.inbox import list_inbox, read_patch_file
from reviewq.sources.notes import SCAN_NOTE_REFS, load_side_records

#: Bump when detection rules change so cached results are recomputed.
DETECTOR_VERSION = "2026.11.1"


@dataclass
class ScanResult:
    changes: list[Change]
    commits_read: int
    from_cache: bool = False
    incremental: bool = False


# -- (de)serialisation for the cache ----------------------------------------------------------
#
# Records are positional lists, not dicts: the cache of a 13,000-commit history is read on every
# command, and lists parse and unpack markedly faster than dicts with repeated keys. Identities
# are interned while decoding (a history has few distinct people and bots).

STATE_VERSION = 2


def change_to_state(c: Change) -> list[Any]:
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
        None
        if c.stats is None
        else [c.stats.files, c.stats.additions, c.stats.deletions, c.stats.binary_files],
        [
            [f.path, f.status, f.additions, f.deletions, f.binary, f.old_path, f.mode_change]
            for f in c.files
        ],
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

    def change(self, s: list[Any]) -> Change:
        (
            cid,
            source,
            location,
            patch_path,
            sha,
            parents,
            an,
            ae,
            cn,
            ce,
            ad,
            cd,
            message,
            agent,
            model,
            family,
            role,
            confidence,
            evidence,
            prompted,
            prompt,
            stats,
            files,
        ) = s
        person = self.person
        return Change(
            id=cid,
            commit=Commit(sha, tuple(parents), person(an, ae), person(cn, ce), ad, cd, message),
            authorship=Authorship(
                agent,
                model,
                family,
                role,
                confidence,
                tuple(Evidence(src, marker) for src, marker in evidence),
                tuple(person(n, e) for n, e in prompted),
            ),
            prompt=None
            if prompt is None
            else Prompt(
                prompt[0], prompt[1], person(prompt[2], prompt[3]) if len(prompt) > 2 else None
            ),
            stats=None if stats is None else DiffStats(*stats),
            source=source,
            location=location,
            patch_path=patch_path,
            files=tuple(FileChange(*f) for f in files),
        )


def changes_from_state(states: list[list[Any]]) -> list[Change]:
    decode = _StateDecoder().change
    return [decode(s) for s in states]


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


#: AI commits per numstat batch: batches run in a thread while the log pass continues.
STATS_BATCH = 768


def _scan_history(
    ctx: Context,
    revs: Sequence[str],
    *,
    max_count: int | None,
    since: str | None,
    tip: str | None,
) -> tuple[list[Change], int]:
    """One streaming log pass; sizes of the AI commits found are fetched alongside it.

    The numstat passes run in a worker thread on batches of found commits while the main thread
    keeps reading the log, so on a two-core machine they cost little wall time.
    """
    git = ctx.git
    detector = Detector(ctx.config.agents)
    side = load_side_records(git, tip)
    found: list[tuple[Commit, Authorship]] = []
    futures = []
    batch: list[str] = []
    read = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        hinted = side.hints
        for parts in iter_records(git, revs, max_count=max_count, since=since):
            read += 1
            if not detector.may_be_ai((parts[2], parts[3], parts[5], parts[6]), parts[8]) and (
                not hinted or parts[0].decode().strip() not in hinted
            ):
                continue
            commit = commit_from_fields(parts)
            authorship = detector.detect(commit, side.for_commit(commit.sha))
            if authorship is not None:
                found.append((commit, authorship))
                batch.append(commit.sha)
                if len(batch) >= STATS_BATCH:
                    futures.append(pool.submit(commit_stats, git, batch))
                    batch = []
        if batch:
            futures.append(pool.submit(commit_stats, git, batch))
        stats: dict[str, tuple[DiffStats, tuple[FileChange, ...]]] = {}
        for future in futures:
            stats.update(future.result())
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
    if cached and cached.get("v") != STATE_VERSION:
        cached = None
    if cached and cached.get("notes") == notes:
        if cached.get("resolved") == resolved:
            return ScanResult(changes_from_state(cached["records"]), 0, from_cache=True)
        old = cached.get("resolved", [])
        simple = all(not r.startswith("^") for r in resolved + old)
        if simple and old and all(_is_ancestor(git, o, resolved) for o in old):
            new, read = _scan_history(
                ctx, [*resolved, *(f"^{o}" for o in old)], max_count=None, since=None, tip=tip
            )
            kept = changes_from_state(cached["records"])
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
        {
            "v": STATE_VERSION,
            "resolved": resolved,
            "notes": notes,
            "records": [change_to_state(c) for c in changes],
        },
    )
    ctx.cache.flush()


# -- patch inbox ------------------------------------------------------------------------------


def scan_inbox(ctx: Context, folder: Path | None = None) -> list[Change]:
    """Every patch in the inbox as a Change with id `inbox:<patch-id>`."""
    folder = folder or ctx.inbox_dir()
    if folder is None:
        return []
    if not folder.is_dir():
        raise ReviewqError(f"inbox {folder}: no such folder; create it or fix `inbox` in config")
    detector = Detector(ctx.config.agents)
    changes = []
    for path in list_inbox(folder):
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
