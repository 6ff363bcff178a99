"""Refs as the queue sees them: the main line, the unmerged work in scope, and who holds what.

Everything starts from one `git for-each-ref` snapshot (plus HEAD), which is also what live
refresh compares to notice that something moved. Which refs are main and which are work is then
decided from the snapshot alone; only membership ("which branches and pull requests contain this
commit") asks git again: one `git rev-list --topo-order --parents` over the unmerged part, whose
parent links are walked once in Python. A `git for-each-ref --contains` per commit would cost one
process (and one history walk) per queue item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reviewq.core.scope import (
    KIND_RANK,
    MAIN_CANDIDATES,
    Scope,
    branch_name,
    latest_patchsets,
    ref_kind,
    short_ref,
)
from reviewq.core.units import children_first
from reviewq.errors import ReviewqError
from reviewq.sources.git_log import rev_args
from reviewq.sources.gitcmd import Git, GitError

_FORMAT = "%(refname)%00%(objectname)%00%(objecttype)%00%(symref)"


@dataclass(frozen=True)
class RefSnapshot:
    """Every ref's tip, and HEAD: what the queue depends on in git, in two small processes."""

    tips: Mapping[str, str]
    types: Mapping[str, str] = field(default_factory=dict)
    symrefs: Mapping[str, str] = field(default_factory=dict)
    #: `refs/heads/x` when HEAD is on a branch; None when detached or unborn.
    head_ref: str | None = None
    head_sha: str | None = None

    def key(self) -> tuple:
        """Equal keys: nothing the queue reads from refs has moved."""
        return (tuple(sorted(self.tips.items())), self.head_ref, self.head_sha)


def read_snapshot(git: Git) -> RefSnapshot:
    out = git.run(["for-each-ref", f"--format={_FORMAT}"], what="for-each-ref")
    tips: dict[str, str] = {}
    types: dict[str, str] = {}
    symrefs: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        parts = line.split("\0")
        if len(parts) < 4 or not parts[0]:
            continue
        ref, sha, kind, target = parts[:4]
        tips[ref] = sha
        types[ref] = kind
        if target:
            symrefs[ref] = target
    # sha, then `refs/heads/x` (or `HEAD` when detached); an unborn HEAD fails: no commits.
    head = git.run(["rev-parse", "HEAD", "--symbolic-full-name", "HEAD"], ok_codes=(0, 128))
    lines = head.decode().split()
    head_sha = lines[0] if len(lines) == 2 and len(lines[0]) >= 40 else None
    head_ref = lines[1] if head_sha and lines[1].startswith("refs/") else None
    return RefSnapshot(tips, types, symrefs, head_ref, head_sha)


def list_remotes(git: Git) -> tuple[str, ...]:
    try:
        return tuple(git.text(["remote"], what="remote").split())
    except GitError:
        return ()


@dataclass(frozen=True)
class RefView:
    """The snapshot read through the scope: main line and work, each ref -> commit sha."""

    #: The main branch's full ref name ("HEAD" as a last resort; None in an empty repository).
    main: str | None
    mainline: dict[str, str]
    work: dict[str, str]
    remotes: tuple[str, ...] = ()

    @property
    def main_short(self) -> str | None:
        return short_ref(self.main) if self.main else None

    def mainline_shas(self) -> list[str]:
        return sorted(set(self.mainline.values()))

    def work_shas(self) -> list[str]:
        return sorted(set(self.work.values()))


def find_main(snapshot: RefSnapshot, scope: Scope, remotes: Iterable[str] = ()) -> str | None:
    """The main branch: `scope.main`, else `<remote>/HEAD`, else main/master, else HEAD's."""
    tips = snapshot.tips
    if scope.main:
        name = scope.main
        candidates = (
            [name]
            if name.startswith("refs/")
            else [f"refs/heads/{name}", f"refs/remotes/{name}", f"refs/{name}"]
        )
        for ref in candidates:
            if ref in tips:
                return ref
        raise ReviewqError(
            f"scope.main: {name!r} names no branch in this repository; "
            "fix [scope] main in .reviewq.toml (see `git branch -a`)"
        )
    remote = scope.default_remote()
    target = snapshot.symrefs.get(f"refs/remotes/{remote}/HEAD")
    if target in tips:
        return target
    for prefix in ("refs/heads/", f"refs/remotes/{remote}/"):
        for name in MAIN_CANDIDATES:
            if prefix + name in tips:
                return prefix + name
    if snapshot.head_ref in tips:
        return snapshot.head_ref
    return "HEAD" if snapshot.head_sha else None


def scope_view(snapshot: RefSnapshot, scope: Scope, remotes: Sequence[str] = ()) -> RefView:
    """Split the snapshot into the main line and the work in scope.

    The main line is main plus the same branch locally and on main's remote, so a local `main`
    behind `origin/main` does not make the team's merged history look like unmerged work.
    A detached HEAD counts as work: it is what the user (or CI) has checked out.
    """
    main = find_main(snapshot, scope, remotes)
    mainline: dict[str, str] = {}
    if main == "HEAD" and snapshot.head_sha:
        mainline["HEAD"] = snapshot.head_sha
    elif main is not None:
        mainline[main] = snapshot.tips[main]
        name = branch_name(main, remotes)
        remote = scope.default_remote()
        if main.startswith("refs/remotes/"):
            remote = main[len("refs/remotes/") : -len(name) - 1]
        for ref in (f"refs/heads/{name}", f"refs/remotes/{remote}/{name}"):
            if ref in snapshot.tips and snapshot.types.get(ref, "commit") == "commit":
                mainline[ref] = snapshot.tips[ref]
    candidates = [
        ref
        for ref, kind in snapshot.types.items()
        if kind == "commit" and ref not in mainline and scope.includes(ref)
    ]
    work = {ref: snapshot.tips[ref] for ref in sorted(latest_patchsets(candidates))}
    if snapshot.head_ref is None and snapshot.head_sha and main != "HEAD":
        work["HEAD"] = snapshot.head_sha
    return RefView(main, mainline, work, tuple(remotes))


# -- membership ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an unmerged commit lives: the nearest ref that contains it, and all of them."""

    location: str
    kind: str
    refs: tuple[str, ...]


@dataclass
class Membership:
    """The unmerged part of the work: its commits, and for each, which work refs hold it."""

    unmerged: set[str]
    placements: dict[str, Placement]
    #: The unmerged commits' parent lists: enough to redo membership in Python next time.
    graph: dict[str, list[str]] = field(default_factory=dict)


def membership(
    git: Git, view: RefView, wanted: Iterable[str] | None = None, *, exclude: Sequence[str] = ()
) -> Membership:
    """Which commits are in the work but not in main, and where each `wanted` one lives.

    One `rev-list --topo-order --parents` lists the unmerged commits children-first; each
    commit passes its set of containing tips (an int used as a bit set) and its nearest ref on
    to its parents. `exclude` adds revisions (old main tips) whose history is also not work.
    """
    if not view.work:
        return Membership(set(), {})
    negatives = [f"^{s}" for s in [*view.mainline_shas(), *exclude]]
    args, stdin = rev_args([*view.work_shas(), *negatives])
    graph: dict[str, list[str]] = {}
    order: list[str] = []
    for record in git.stream(
        ["rev-list", "--topo-order", "--parents", *args, "--"], separator=b"\n", input=stdin
    ):
        fields = record.decode().split()
        if fields:
            order.append(fields[0])
            graph[fields[0]] = fields[1:]
    return _place(view, order, graph, wanted)


def membership_from_graph(
    view: RefView, graph: Mapping[str, Sequence[str]], wanted: Iterable[str] | None = None
) -> Membership:
    """`membership` without git: `graph` holds every unmerged commit's parents (main unchanged).

    The unmerged commits are those reachable from the work tips inside `graph` (a parent
    outside it is in main); a deleted or rewound branch's commits simply fall out.
    """
    order = children_first(graph, view.work_shas())
    return _place(view, order, {sha: list(graph[sha]) for sha in order}, wanted)


def _place(
    view: RefView,
    order: Sequence[str],
    graph: dict[str, list[str]],
    wanted: Iterable[str] | None,
) -> Membership:
    """Propagate containing tips and the nearest ref from children to parents."""
    tip_shas = view.work_shas()
    tip_index = {sha: i for i, sha in enumerate(tip_shas)}
    refs_at: list[list[str]] = [[] for _ in tip_shas]
    for ref, sha in view.work.items():
        refs_at[tip_index[sha]].append(ref)
    ranked_at = [sorted(_rank(r, view.remotes) for r in refs) for refs in refs_at]
    bits: dict[str, int] = {}
    nearest: dict[str, tuple[int, int, str]] = {}
    for sha in order:
        mine = bits.get(sha, 0)
        best = nearest.get(sha)
        i = tip_index.get(sha)
        if i is not None:
            mine |= 1 << i
            rank, name = ranked_at[i][0]
            best = (0, rank, name)
        bits[sha] = mine
        if best is not None:
            nearest[sha] = best
            step = (best[0] + 1, best[1], best[2])
        for p in graph[sha]:
            bits[p] = bits.get(p, 0) | mine
            if best is not None and (p not in nearest or step < nearest[p]):
                nearest[p] = step
    unmerged = set(order)
    wanted_set = unmerged if wanted is None else set(wanted) & unmerged
    placements = {}
    for sha in wanted_set:
        mask = bits.get(sha, 0)
        holders: list[tuple[int, str]] = []
        while mask:  # visit set bits only: a commit is in few of possibly thousands of tips
            low = mask & -mask
            holders += ranked_at[low.bit_length() - 1]
            mask ^= low
        if sha not in nearest or not holders:
            continue
        _, _, name = nearest[sha]
        placements[sha] = Placement(
            location=short_ref(name),
            kind=ref_kind(name, view.remotes),
            refs=tuple(short_ref(n) for _, n in sorted(holders)),
        )
    return Membership(unmerged, placements, graph)


def _rank(ref: str, remotes: Sequence[str]) -> tuple[int, str]:
    return KIND_RANK.get(ref_kind(ref, remotes), 9), ref


def all_ancestors(git: Git, old: Sequence[str], new: Sequence[str]) -> bool:
    """Is every `old` commit reachable from some `new` one (history only grew)? One process."""
    if not old:
        return True
    if set(old) <= set(new):
        return True
    args, stdin = rev_args([*old, *(f"^{n}" for n in new)])
    try:
        out = git.run(["rev-list", "-n1", *args, "--"], input=stdin, what="rev-list")
    except GitError:
        return False  # an old tip was garbage-collected: start over
    return not out.strip()
