"""The unit of review: a branch, a pull/merge request, a Gerrit change, an inbox patch series.

A reviewer reviews the change as the team sees it, not its commits one by one. This module
groups commits into units and says what a verdict on a unit covers; it is pure (the shell,
`reviewq/workflow/units.py`, reads the refs and the graph of unmerged commits).

- `assign_units`: each unmerged commit goes to the one unit that names it best. A pull/merge
  request (or a Gerrit change) beats the branch it came from; among refs of the same kind, the
  nearest tip wins (a branch stacked on another takes only its own commits).
- `unit_record` / `consistent`: the `unit` field a verdict on a unit carries, and the check that a
  record's own commit is one of the commits its unit lists (a record claiming a unit it is not
  part of counts for nothing).
- `new_since_verdict`: the unit's commits your latest verdict on it did not cover.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reviewq.core.model import Diff, DiffStats, FileDiff, Hunk

#: `location_kind` / `ref_kind` -> the unit kind of the contract.
UNIT_KIND = {
    "pull-request": "pull",
    "merge-request": "merge-request",
    "change": "change",
    "branch": "branch",
    "remote-branch": "branch",
    "head": "branch",
    "other": "branch",
    "inbox": "inbox",
    "main": "commit",
}
UNIT_KINDS = ("pull", "merge-request", "change", "branch", "inbox", "commit")

#: Which ref names a commit best (lower wins), before distance: review refs beat branches, a
#: local branch beats its remote-tracking copy, a detached HEAD comes last.
_NAMING_RANK = {
    "pull-request": 0,
    "merge-request": 0,
    "change": 1,
    "branch": 2,
    "remote-branch": 3,
    "other": 4,
    "head": 5,
}


def naming_rank(kind: str) -> int:
    return _NAMING_RANK.get(kind, 9)


def assign_units(
    order: Sequence[str],
    graph: Mapping[str, Sequence[str]],
    work: Mapping[str, str],
    kind_of: Callable[[str], str],
) -> dict[str, str]:
    """Unmerged commit -> the full name of the ref whose unit it belongs to.

    `order` lists the unmerged commits children first (`git rev-list --topo-order`), `graph`
    their parents (a parent outside it is on main), `work` each work ref's tip. The best
    `(naming rank, distance from the tip, ref name)` over the refs holding a commit is carried
    from children to parents, so one pass decides every commit.
    """
    at_tip: dict[str, tuple[int, int, str]] = {}
    for ref, sha in work.items():
        key = (naming_rank(kind_of(ref)), 0, ref)
        if sha not in at_tip or key < at_tip[sha]:
            at_tip[sha] = key
    best: dict[str, tuple[int, int, str]] = {}
    for sha in order:
        mine = best.get(sha)
        tip = at_tip.get(sha)
        if tip is not None and (mine is None or tip < mine):
            mine = tip
        if mine is None:
            continue
        best[sha] = mine
        step = (mine[0], mine[1] + 1, mine[2])
        for parent in graph.get(sha, ()):
            if parent in graph and (parent not in best or step < best[parent]):
                best[parent] = step
    return {sha: key[2] for sha, key in best.items()}


def unit_commits(order: Sequence[str], assignment: Mapping[str, str]) -> dict[str, list[str]]:
    """Ref -> its commits oldest first (`order` is children first)."""
    out: dict[str, list[str]] = {}
    for sha in reversed(order):
        ref = assignment.get(sha)
        if ref is not None:
            out.setdefault(ref, []).append(sha)
    return out


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of review: what a queue item, a verdict and `show` are about."""

    kind: str
    #: Full ref name (`refs/pull/7/head`), `inbox:<id>` or, for a commit unit, its sha.
    ref: str
    #: The newest commit (an inbox series: its last patch's id).
    tip: str
    #: Every commit oldest first, AI-authored and human.
    commits: tuple[str, ...]
    #: The AI-authored ones (what the gate checks and verdicts are recorded for).
    ai: tuple[str, ...] = ()
    #: Those not covered by your latest verdict on the unit; empty without one.
    new_since_verdict: tuple[str, ...] = ()
    #: The tip your latest verdict on the unit saw (interdiff from there), or None.
    reviewed_tip: str | None = None
    #: Short display name (`pull/7/head`, `origin/codex/fix`).
    name: str = ""
    #: Commit -> "ai" | "human".
    marks: Mapping[str, str] = field(default_factory=dict)
    #: The unit's size as the queue shows and sorts it (`unit_size`); None: not known.
    size: DiffStats | None = None

    @property
    def human(self) -> tuple[str, ...]:
        ai = set(self.ai)
        return tuple(c for c in self.commits if c not in ai)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref}


def unit_size(sizes: Sequence[DiffStats | None]) -> DiffStats | None:
    """The size the queue gives a unit: the sum of its AI commits' sizes (the scan has each
    one's counts, so no git runs; docs/queue-scope.md says why not the combined diff's).

    A line two commits touch counts twice, and human commits on the unit are not counted.
    `sizes` is `partial` when some commit's counts are missing or partial, `unknown` when all
    are. None for no commits.
    """
    if not sizes:
        return None
    known = [s for s in sizes if s is not None and s.sizes != "unknown"]
    if not known:
        state = "unknown"
    elif len(known) == len(sizes) and all(s.sizes == "known" for s in known):
        state = "known"
    else:
        state = "partial"
    return DiffStats(
        files=sum(s.files for s in known),
        additions=sum(s.additions for s in known),
        deletions=sum(s.deletions for s in known),
        binary_files=sum(s.binary_files for s in known),
        sizes=state,
    )


def unit_record(unit: Unit, batch: str) -> dict[str, Any]:
    """The `unit` field of a verdict recorded on `unit` (the hash chain covers it). `batch` is
    the same for every record of one recording: a verdict on the unit, not on one commit."""
    return {
        "kind": unit.kind,
        "ref": unit.ref,
        "tip": unit.tip,
        "commits": list(unit.commits),
        "batch": batch,
    }


def consistent(record: Mapping[str, Any]) -> bool:
    """False for a record that names a unit its own commit is not listed in (or a malformed
    `unit`): such a record counts for nothing. Records without `unit` are as before."""
    unit = record.get("unit")
    if unit is None:
        return True
    if not isinstance(unit, Mapping):
        return False
    commits = unit.get("commits")
    if not isinstance(commits, list) or not isinstance(unit.get("ref"), str):
        return False
    own = record.get("sha") or record.get("change_id")
    return isinstance(own, str) and own in commits


def _at(record: Mapping[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record.get("at")))
    except ValueError:
        return None


def latest_unit_verdict(
    records: Iterable[Mapping[str, Any]], ref: str, is_mine: Callable[[Mapping[str, Any]], bool]
) -> list[Mapping[str, Any]]:
    """Your latest verdict on the unit `ref`: the records of that one recording (same tip)."""
    mine = [
        r
        for r in records
        if consistent(r)
        and isinstance(r.get("unit"), Mapping)
        and r["unit"].get("ref") == ref
        and is_mine(r)
        and _at(r) is not None
    ]
    if not mine:
        return []
    last = max(mine, key=lambda r: (_at(r), str(r.get("id"))))
    batch = last["unit"].get("batch")
    return [r for r in mine if r["unit"].get("batch") == batch and batch is not None] or [last]


def new_since_verdict(
    commits: Sequence[str], batch: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], str | None]:
    """(commits not covered by the verdict `batch`, the tip it reviewed). No verdict: ((), None).

    A commit is covered when the batch's unit listed it: the reviewer saw the combined diff up
    to that tip. A force-push that rewrites a commit gives it a new sha: it is new again.
    """
    if not batch:
        return (), None
    covered: set[str] = set()
    for record in batch:
        covered.update(c for c in record["unit"].get("commits", ()) if isinstance(c, str))
    tip = batch[0]["unit"].get("tip")
    return tuple(c for c in commits if c not in covered), tip if isinstance(tip, str) else None


def children_first(graph: Mapping[str, Sequence[str]], tips: Iterable[str]) -> list[str]:
    """The commits of `graph` reachable from `tips`, children before parents (a parent outside
    `graph` is on main). The order `git rev-list --topo-order` gives, computed without git; the
    tips are walked in the order given (sort them for an order independent of the caller)."""
    order: list[str] = []  # reverse post-order of a DFS along parent links
    seen: set[str] = set()
    for tip in tips:
        if tip in seen or tip not in graph:
            continue
        seen.add(tip)
        stack = [(tip, iter(graph[tip]))]
        while stack:
            sha, parents = stack[-1]
            for p in parents:
                if p not in seen and p in graph:
                    seen.add(p)
                    stack.append((p, iter(graph[p])))
                    break
            else:
                stack.pop()
                order.append(sha)
    order.reverse()
    return order


def is_recent(committed_at: str, cutoff: datetime | None) -> bool:
    """On main since the daily queue's cutoff (None: all of main is recent)."""
    if cutoff is None:
        return True
    try:
        when = datetime.fromisoformat(committed_at)
    except ValueError:
        return True
    if when.tzinfo is None:
        return True
    return when >= cutoff


@dataclass(frozen=True, slots=True)
class CommitShare:
    """What one AI commit's record of a unit verdict carries: its own size, its part of the
    time spent and of the hunks viewed (docs/metrics.md, "Unit verdicts")."""

    lines_changed: int
    hunks_total: int
    hunks_viewed: int
    active_seconds: float
    wall_seconds: float


def split_unit_review(
    lines: Sequence[int],
    hunks: Sequence[int],
    *,
    active_seconds: float,
    wall_seconds: float,
    hunks_viewed: int,
    hunks_seen_of: int,
) -> list[CommitShare]:
    """Share one review of a unit out over its AI commits so every metric keeps its meaning.

    Each record keeps its own commit's `lines` and `hunks`; the time is split in proportion to
    each commit's lines (evenly when none has lines) and sums to what was spent; hunks viewed
    are the fraction `hunks_viewed / hunks_seen_of` of the combined diff applied to each
    commit's hunks (all viewed: all; never more than the commit has). A lines-per-hour rate
    over the records is the unit's own.
    """
    count = len(lines)
    if count != len(hunks):
        raise ValueError("one hunk count per commit")
    if count == 0:
        return []
    sizes = [max(0, int(n)) for n in lines]
    total = sum(sizes)
    weights = [n / total for n in sizes] if total else [1 / count] * count
    if hunks_seen_of <= 0 or hunks_viewed >= hunks_seen_of:
        fraction = 1.0
    else:
        fraction = max(0, hunks_viewed) / hunks_seen_of

    def split(amount: float) -> list[float]:
        parts = [amount * w for w in weights[:-1]]
        return [*parts, max(0.0, amount - sum(parts))]

    active = split(active_seconds)
    wall = split(wall_seconds)
    out = []
    for i in range(count):
        own = max(0, int(hunks[i]))
        viewed = own if fraction >= 1.0 else min(own, round(fraction * own))
        out.append(CommitShare(sizes[i], own, viewed, active[i], wall[i]))
    return out


def seen_in_combined(
    combined: Diff, seen: Iterable[tuple[FileDiff, Hunk]]
) -> list[tuple[int, int]]:
    """(file, hunk) of the combined diff's hunks that hunks seen elsewhere cover: in one
    commit of the unit, or in the interdiff since your verdict.

    A combined hunk is covered when, in a seen hunk of the same file, every line it adds was
    seen added and every line it removes was seen removed (as often as the hunk has it). Lines
    are matched by their text, not their numbers: a commit's line numbers are those of its own
    tree, and move when a later commit adds lines above. A hunk only partly seen in the commits
    does not count: what the verdict says was viewed never grows by guessing.
    """
    added: dict[str, Counter[str]] = {}
    removed: dict[str, Counter[str]] = {}
    for fd, hunk in seen:
        plus = added.setdefault(fd.path, Counter())
        minus = removed.setdefault(fd.path, Counter())
        for line in hunk.lines:
            if line.kind == "+":
                plus[line.text] += 1
            elif line.kind == "-":
                minus[line.text] += 1
    out = []
    for f, fd in enumerate(combined.files):
        plus, minus = added.get(fd.path), removed.get(fd.path)
        if plus is None or minus is None:
            continue
        for h, hunk in enumerate(fd.hunks):
            need_plus = Counter(x.text for x in hunk.lines if x.kind == "+")
            need_minus = Counter(x.text for x in hunk.lines if x.kind == "-")
            if not need_plus and not need_minus:
                continue
            if all(plus[t] >= n for t, n in need_plus.items()) and all(
                minus[t] >= n for t, n in need_minus.items()
            ):
                out.append((f, h))
    return out
