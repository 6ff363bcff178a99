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
from reviewq.sources.git_log import commit_stats, iter_commits
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


def _ident(d: dict[str, Any]) -> Identity:
    return Identity(d.get("name", ""), d.get("email", ""))


def change_to_state(c: Change) -> dict[str, Any]:
    a = c.authorship
    return {
        "id": c.id,
        "source": c.source,
        "location": c.location,
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
) -> tuple[list[Change], int]:
    git = ctx.git
    detector = Detector(ctx.config.agents)
    side = load_side_records(git, tip)
    found: list[tuple[Commit, Authorship]] = []
    read = 0
    for commit in iter_commits(git, revs, max_count=max_count, since=since):
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
