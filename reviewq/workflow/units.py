"""Units of review as the queue, `verdict`, `show` and the TUI see them (docs/queue-scope.md).

The pure part (grouping, the best unit per commit, what a verdict covered) is `core/units.py`;
this shell feeds it the scope scan, the inbox and the verdict records, and asks git for what a
unit's review shows: the merge base, the combined diff, the interdiff since the reviewed tip and
`git range-diff` after a force-push.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reviewq.context import Context
from reviewq.core.model import Change
from reviewq.core.queue import QueueItem, build_queue
from reviewq.core.scope import ref_kind, scope_of, short_ref
from reviewq.core.units import (
    UNIT_KIND,
    Unit,
    assign_units,
    children_first,
    is_recent,
    latest_unit_verdict,
    unit_commits,
    unit_size,
)
from reviewq.errors import ReviewqError
from reviewq.sources.gitcmd import GitError

if TYPE_CHECKING:
    from reviewq.workflow.scan import Scanner

VIEWS = ("daily", "all", "audit")
#: Cache table: unit ref -> the records (id, sha, reviewer, at, unit) of your latest verdict.
UNIT_VERDICTS = "unit-verdicts"


@dataclass
class UnitQueue:
    """Every unit with AI-authored work in scope, and which of them the queue shows."""

    #: Pending units of unmerged work (branches, requests, changes, inbox series).
    unmerged: list[QueueItem]
    #: Pending AI commits that landed on main since `[scope] recent`.
    recent: list[QueueItem]
    #: Pending AI commits on main before that: the audit view.
    audit: list[QueueItem]
    #: Every unit, settled or not, by its ref (a full ref name, `inbox:<id>` or a sha).
    units: dict[str, Unit] = field(default_factory=dict)
    #: Every AI-authored change in scope, by id.
    changes: dict[str, Change] = field(default_factory=dict)
    #: Unmerged commit -> the ref of its unit.
    assignment: dict[str, str] = field(default_factory=dict)
    mainline: dict[str, str] = field(default_factory=dict)
    work: dict[str, str] = field(default_factory=dict)
    #: Until when the grouping holds with no input changing: the first moment time alone
    #: would change it (a cooldown ending, a commit on main leaving the daily view); None:
    #: time changes nothing. A stored queue answer is shown only before it
    #: (`reviewq.workflow.queue_answer`).
    valid_until: datetime | None = None
    #: Built for the daily view (`build_units(for_view="daily")`): the audit view's items are
    #: counted (`header`) but may be unsized; ask `build_units` for that view instead.
    daily_only: bool = False

    def items(self, view: str = "daily", sort: str | None = "risk") -> list[QueueItem]:
        """The queue to show; `sort=None` keeps the grouping order (callers sort)."""
        from reviewq.core.queue import sort_queue

        if self.daily_only and view in ("audit", "all"):
            raise ValueError(f"this queue was built for the daily view, not {view!r}")

        if sort is None:
            chosen = {"audit": self.audit, "all": self.unmerged + self.recent + self.audit}
            return list(chosen.get(view, self.unmerged + self.recent))
        if view == "audit":
            return sort_queue(self.audit, sort)
        out = sort_queue(self.unmerged, sort) + sort_queue(self.recent, sort)
        return out + sort_queue(self.audit, sort) if view == "all" else out

    def header(self) -> str:
        """What the daily queue shows and what it hides (and how to see it)."""
        text = (
            f"{len(self.unmerged)} unit(s) of unmerged work, "
            f"{len(self.recent)} recent AI commit(s) on main"
        )
        if self.audit:
            text += (
                f"; {len(self.audit)} older unreviewed AI commit(s) on main hidden "
                "(`reviewq queue --audit` lists them, `--all` shows everything; "
                "`A` in the TUI)"
            )
        return text


def _is_mine(ctx: Context) -> Any:
    from reviewq.core.model import Identity
    from reviewq.core.policy import same_person
    from reviewq.workflow.recording import reviewer_identity

    try:
        me = reviewer_identity(ctx)
    except ReviewqError:
        return lambda _record: False

    def mine(record: Mapping[str, Any]) -> bool:
        who = record.get("reviewer")
        if not isinstance(who, dict):
            return False
        return same_person(Identity(str(who.get("name") or ""), str(who.get("email") or "")), me)

    return mine


def build_units(
    ctx: Context,
    now: datetime,
    *,
    snapshot: Any = None,
    include_notes: bool = True,
    all_records: bool = False,
    scanner: Scanner | None = None,
    for_view: str = "all",
) -> UnitQueue:
    """Group the AI-authored work in scope into units and say which are pending.

    A unit is pending when one of its AI commits is (the policy wants a verdict), or when a
    commit arrived after your latest verdict on it (`new_since_verdict`), human ones included:
    a commit slipped onto an approved branch brings the branch back.

    `for_view="daily"`: only what the daily view shows is sized (and main's older commits that
    `sizes_needed` picks); every other view, and the default, sizes everything.
    """
    from reviewq.sources.refs import membership
    from reviewq.workflow.gate import QueuePolicy
    from reviewq.workflow.scan import fill_sizes, recent_anchor, scan_inbox, scan_scope
    from reviewq.workflow.session_prompts import with_session_prompts

    daily = for_view == "daily"
    scan = scan_scope(ctx, now=now, snapshot=snapshot, scanner=scanner, daily=daily)
    changes = list(scan.changes) + scan_inbox(ctx)
    changes = with_session_prompts(ctx, changes)
    policy = QueuePolicy(ctx, changes, now, include_notes=include_notes)
    changes = fill_sizes(ctx, changes, sizes_needed(policy, changes) if daily else None)
    items = build_queue(changes, now=now, domain_of=policy.domain_of, needs_of=policy.needs_of)
    by_id = {i.change.id: i for i in items}
    pending = {i.change.id for i in items if not policy.is_settled(i.change)}
    view = scan.view

    # Which unit each unmerged commit belongs to.
    unmerged_ai = [c for c in changes if c.source == "git" and c.merged is False]
    assignment: dict[str, str] = {}
    grouped: dict[str, list[str]] = {}
    if unmerged_ai and view.work:
        graph = scan.graph
        if graph is None:
            graph = membership(ctx.git, view, ()).graph
        order = children_first(graph, sorted(set(view.work.values())))
        assignment = assign_units(order, graph, view.work, lambda ref: ref_kind(ref, view.remotes))
        grouped = unit_commits(order, assignment)

    records = list(policy.verdicts.records)
    if all_records:
        from reviewq.workflow.recording import load_verdicts

        try:
            records = load_verdicts(ctx, include_notes=include_notes)
        except (ReviewqError, OSError, ValueError):
            pass
    mine = _is_mine(ctx)
    # Your unit verdicts whose commits were all rewritten since (a force-push) are about no
    # commit in scope any more: the cache remembers the latest batch per unit ref.
    remembered = ctx.cache.get(UNIT_VERDICTS, "latest") or {}
    known = {r.get("id") for r in records}
    records += [r for rs in remembered.values() for r in rs if r.get("id") not in known]

    members: dict[str, list[Change]] = {}
    kinds: dict[str, str] = {}
    for change in changes:
        if change.source == "inbox":
            ref = f"inbox-file:{change.patch_path or change.id}"
            kinds[ref] = "inbox"
        elif change.merged is False and change.id in assignment:
            ref = assignment[change.id]
            kinds[ref] = UNIT_KIND.get(ref_kind(ref, view.remotes), "branch")
        else:
            ref = change.id
            kinds[ref] = "commit"
        members.setdefault(ref, []).append(change)

    out = UnitQueue(
        [], [], [], mainline=dict(view.mainline), work=dict(view.work), daily_only=daily
    )
    out.changes = {c.id: c for c in changes}
    out.assignment = assignment
    anchor = scan.anchor or recent_anchor(ctx, view.mainline, now)  # asked once per build
    recent_cutoff = scope_of(ctx.config).recent_cutoff(anchor)
    # When time alone changes this answer: a cooldown ends (its need goes), and with a cutoff
    # that counts back from now, each recent commit on main leaves the daily view.
    moments = [
        ready
        for c in changes
        if (ready := policy.evaluation(c).ready_at) is not None and ready > now
    ]
    span = recent_cutoff is not None and anchor == now and scope_of(ctx.config).recent_span
    for key, held in members.items():
        kind = kinds[key]
        if kind == "inbox":
            commits = tuple(c.id for c in held)
            ref, tip, name = held[-1].id, held[-1].id, held[-1].location or held[-1].id
        elif kind == "commit":
            commits = (key,)
            ref, tip, name = key, key, key[:12]
        else:
            commits = tuple(grouped.get(key, [c.id for c in held]))
            ref, tip, name = key, view.work.get(key, commits[-1]), short_ref(key)
        ai = tuple(c for c in commits if c in out.changes)
        batch = latest_unit_verdict(records, ref, mine) if kind != "commit" else []
        new: tuple[str, ...] = ()
        reviewed_tip = None
        if batch:
            reviewed_tip = batch[0]["unit"].get("tip")
            listed = {c for r in batch for c in r["unit"].get("commits", ())}
            batch_ids = {r.get("id") for r in batch}
            covered = set(listed)
            for sha in ai:
                if sha not in covered and any(
                    r.get("id") in batch_ids for r in policy.verdicts.records_for(out.changes[sha])
                ):
                    covered.add(sha)  # a byte-identical copy (rebased) of a reviewed commit
            new = tuple(c for c in commits if c not in covered)
        marks = {c: ("ai" if c in out.changes else "human") for c in commits}
        size = unit_size([out.changes[c].stats for c in ai])
        unit = Unit(kind, ref, tip, commits, ai, new, reviewed_tip, name, marks, size)
        out.units[ref] = unit
        waiting = [by_id[c] for c in ai if c in pending]
        if not waiting and not new:
            continue
        base = waiting[-1] if waiting else by_id[ai[-1]]
        worst = max(waiting or [base], key=lambda i: i.risk.score)
        needs: list[str] = []
        for i in waiting:
            needs += [n for n in i.needs if n not in needs]
        item = replace(base, risk=worst.risk, needs=tuple(needs), unit=unit)
        if kind != "commit":
            out.unmerged.append(item)
        elif is_recent(base.change.commit.committed_at, recent_cutoff):
            out.recent.append(item)
            leaves = _leaves_recent(base.change.commit.committed_at, span) if span else None
            if leaves is not None:
                moments.append(leaves)
        else:
            out.audit.append(item)
    out.valid_until = min(moments, default=None)
    return out


def _leaves_recent(committed_at: str, span: Any) -> datetime | None:
    """When a recent commit on main falls behind a cutoff that counts back `span` from now
    (`core.units.is_recent`; None: never, an unreadable date counts as recent for good)."""
    try:
        when = datetime.fromisoformat(committed_at)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when + span


def sizes_needed(policy: Any, changes: Sequence[Change]) -> list[Change]:
    """Which of the changes a daily scan left unsized (`scan.unsized`: main's older commits)
    the daily queue must size: those whose being pending could turn on their files or size.

    Without a verdict about it, a commit is pending whatever its files when every domain asks
    for an approval (rules merge by the strictest, so a change to the policy file too); then
    only the commits some verdict is about are sized (the speed rule reads lines, domains read
    paths). A policy with a domain that asks for none: all of them."""
    from reviewq.workflow.scan import unsized

    rules = policy.enforcer.policy
    if min(r.approvals for r in (rules.default, *(d.rule for d in rules.domains))) < 1:
        return list(changes)
    return [c for c in changes if unsized(c) and policy.verdicts.records_for(c)]


# -- naming a unit ----------------------------------------------------------------------------


def full_ref(ctx: Context, text: str) -> str | None:
    """The full ref name `text` names as typed (`origin/codex/fix`, `refs/pull/7/head`), or None
    for anything else (a sha, HEAD, `main~2`): those stay one commit, as before."""
    if text == "HEAD" or not text or text.startswith("-") or any(c in text for c in "~^@:"):
        return None
    try:
        out = ctx.git.run(
            ["rev-parse", "--symbolic-full-name", text, "--"], ok_codes=(0, 128)
        ).decode()
    except GitError:
        return None
    name = out.split("\n", 1)[0].strip()
    return name if name.startswith("refs/") else None


def find_unit(ctx: Context, text: str, now: datetime) -> tuple[Unit, UnitQueue] | None:
    """The unit `text` names (a unit's ref or `inbox:<id>` of a series), or None: a commit.

    Raises ReviewqError for a unit ref with nothing unmerged on it (it points into main): a
    verdict on it would otherwise read as a review of main's history.
    """
    from reviewq.workflow.lookup import is_inbox_ref

    if is_inbox_ref(text):
        queue = build_units(ctx, now, all_records=True)
        wanted = text if text.startswith("inbox:") else None
        for unit in queue.units.values():
            if unit.kind == "inbox" and len(unit.commits) > 1 and wanted == unit.ref:
                return unit, queue
        return None
    ref = full_ref(ctx, text)
    if ref is None:
        return None
    queue = build_units(ctx, now, all_records=True)
    if ref in queue.mainline:
        return None  # main itself: `verdict main` is about main's tip commit, as before
    if ref not in queue.work:
        return None
    tip = queue.work[ref]
    owner = queue.assignment.get(tip)
    unit = queue.units.get(owner) if owner else None
    if unit is None:
        kind = ref_kind(ref, ())
        if owner is None and kind in ("pull-request", "merge-request", "change"):
            raise ReviewqError(
                f"{text} points at {tip[:12]}, which main already has: the request holds no "
                "unmerged commits; name a commit to review it"
            )
        return None
    return unit, queue


def merge_base(ctx: Context, unit: Unit, queue: UnitQueue) -> str | None:
    """Where the unit leaves main: the parent of its oldest commit (None: a root)."""
    if unit.kind in ("commit", "inbox"):
        return None
    oldest = unit.commits[0]
    try:
        parents = ctx.git.text(["rev-list", "--parents", "-n1", oldest], what="rev-list").split()
    except GitError:
        return None
    return parents[1] if len(parents) > 1 else None


def _has_commit(ctx: Context, sha: str) -> bool:
    try:
        ctx.git.run(["cat-file", "-e", f"{sha}^{{commit}}"], what="cat-file")
        return True
    except GitError:
        return False


def _is_ancestor(ctx: Context, old: str, new: str) -> bool:
    try:
        ctx.git.run(["merge-base", "--is-ancestor", old, new], what="merge-base")
        return True
    except GitError:
        return False


@dataclass
class UnitDiffs:
    base: str | None
    combined: str
    #: "interdiff" (the tip moved on), "range-diff" (rewritten), or None (nothing reviewed).
    since_kind: str | None = None
    since: str = ""
    note: str = ""


def unit_diffs(ctx: Context, unit: Unit, queue: UnitQueue) -> UnitDiffs:
    """The combined diff (merge base -> tip), and what changed since the reviewed tip."""
    git = ctx.git
    base = merge_base(ctx, unit, queue)
    if unit.kind in ("commit", "inbox"):
        return UnitDiffs(base, "")
    start = base or "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # the empty tree
    combined = git.run(["diff", "--no-color", start, unit.tip, "--"], what="diff").decode(
        "utf-8", "replace"
    )
    out = UnitDiffs(base, combined)
    old = unit.reviewed_tip
    if not old or old == unit.tip or not unit.new_since_verdict:
        return out
    if not _has_commit(ctx, old):
        out.note = f"the reviewed tip {old[:12]} is gone from this clone (garbage-collected)"
        return out
    if _is_ancestor(ctx, old, unit.tip):
        out.since_kind = "interdiff"
        out.since = git.run(["diff", "--no-color", old, unit.tip, "--"], what="diff").decode(
            "utf-8", "replace"
        )
        return out
    # Rewritten (force-pushed): compare the two series commit by commit.
    old_base = git.run(["merge-base", old, unit.tip], ok_codes=(0, 1)).decode().strip()
    if not old_base:
        out.note = "the reviewed tip shares no history with the new one"
        return out
    out.since_kind = "range-diff"
    out.since = git.run(
        [
            "range-diff",
            "--no-color",
            f"{old_base}..{old}",
            f"{base or old_base}..{unit.tip}",
        ],
        what="range-diff",
    ).decode("utf-8", "replace")
    return out


def record_unit_verdict(
    ctx: Context,
    unit: Unit,
    queue: UnitQueue,
    verdict: str,
    *,
    note: str = "",
    seconds: float = 0.0,
    wall_seconds: float | None = None,
    hunks_viewed: int | None = None,
    hunks_seen_of: int | None = None,
    checks: Sequence[str] = (),
    policy_fields: Any = None,
    critique_of: Any = None,
    notice: Any = None,
    **recording: Any,
) -> list[dict[str, Any]]:
    """One verdict on the unit: a record for each of its AI commits, each naming the unit.

    The review is shared out by `core.units.split_unit_review` (the CLI and the TUI both come
    here): each record carries its own commit's lines and hunks, the time in proportion to its
    lines, and the fraction of hunks viewed. `hunks_viewed` is out of `hunks_seen_of` (the
    combined diff's hunks in the TUI; default: the AI commits' hunks together, as
    `--hunks-viewed` counts them); None: all viewed. `recording`: more `record_verdict`
    arguments (reviewer, co_reviewers, clock, warn, extra).
    """
    import uuid

    from reviewq.core.units import split_unit_review, unit_record
    from reviewq.workflow.recording import hunk_count, record_verdict

    if not unit.ai:
        raise ReviewqError(f"{unit.name} holds no AI-authored commit; nothing to record")
    batch = uuid.uuid4().hex
    field_value = unit_record(unit, batch)
    changes = [queue.changes[sha] for sha in unit.ai]
    hunks = [hunk_count(ctx, c) for c in changes]
    out_of = sum(hunks) if hunks_seen_of is None else hunks_seen_of
    if hunks_viewed is not None and not 0 <= hunks_viewed <= out_of:
        raise ReviewqError(f"--hunks-viewed must be between 0 and {out_of}, not {hunks_viewed}")
    shares = split_unit_review(
        [c.stats.lines_changed if c.stats else 0 for c in changes],
        hunks,
        active_seconds=seconds,
        wall_seconds=seconds if wall_seconds is None else wall_seconds,
        hunks_viewed=out_of if hunks_viewed is None else hunks_viewed,
        hunks_seen_of=out_of,
    )
    # Check every commit's checklist before recording anything.
    fields = [policy_fields(c) if policy_fields else ("default", []) for c in changes]
    extra = dict(recording.pop("extra", None) or {})
    stored = []
    for change, share, (domain, ticked) in zip(changes, shares, fields, strict=True):
        stored.append(
            record_verdict(
                ctx,
                change,
                verdict,
                note=note,
                active_seconds=share.active_seconds,
                wall_seconds=share.wall_seconds,
                hunks_total=share.hunks_total,
                hunks_viewed=share.hunks_viewed,
                critique=critique_of(change) if critique_of else None,
                domain=domain,
                extra={"checklist": ticked, **extra, "unit": field_value},
                notice=notice,
                **recording,
            )
        )
    remembered = dict(ctx.cache.get(UNIT_VERDICTS, "latest") or {})
    remembered[unit.ref] = [
        {k: r.get(k) for k in ("id", "sha", "change_id", "reviewer", "at", "unit", "verdict")}
        for r in stored
    ]
    ctx.cache.put(UNIT_VERDICTS, "latest", remembered)
    return stored


def _subjects(ctx: Context, shas: Sequence[str]) -> dict[str, tuple[str, str]]:
    """sha -> (subject, author name) in one `git log --no-walk`."""
    if not shas:
        return {}
    out = ctx.git.run(
        ["log", "--no-walk=unsorted", "--format=%H%x00%s%x00%an%x1e", *shas, "--"], what="log"
    ).decode("utf-8", "replace")
    got: dict[str, tuple[str, str]] = {}
    for entry in out.split("\x1e"):
        parts = entry.strip("\n").split("\x00")
        if len(parts) == 3:
            got[parts[0]] = (parts[1], parts[2])
    return got


def unit_details(ctx: Context, unit: Unit, queue: UnitQueue) -> dict[str, Any]:
    """What `show UNITREF --json` prints: the unit, its commits (each with agent and prompt, or
    marked human), the combined diff from the merge base, and what is new since your verdict."""
    from reviewq.sources.diffs import parse_unified_diff

    diffs = unit_diffs(ctx, unit, queue)
    human = [c for c in unit.commits if c not in queue.changes]
    names = _subjects(ctx, human) if unit.kind not in ("inbox",) else {}
    commits = []
    new = set(unit.new_since_verdict)
    for sha in unit.commits:
        change = queue.changes.get(sha)
        if change is not None:
            auth = change.authorship
            commits.append(
                {
                    "sha": change.sha or change.id,
                    "subject": change.commit.subject,
                    "mark": "ai",
                    "agent": auth.agent,
                    "model": auth.model,
                    "family": auth.family,
                    "prompt": change.prompt.text if change.prompt else None,
                    "new_since_verdict": sha in new,
                }
            )
        else:
            subject, author = names.get(sha, ("", ""))
            commits.append(
                {
                    "sha": sha,
                    "subject": subject,
                    "mark": "human",
                    "author": author,
                    "agent": None,
                    "prompt": None,
                    "new_since_verdict": sha in new,
                }
            )
    parsed = parse_unified_diff(diffs.combined.encode("utf-8"), source="unit")
    stats = parsed.stats
    return {
        "unit": unit.to_json(),
        "name": unit.name,
        "sha": unit.tip,
        "base": diffs.base,
        "commits": commits,
        "human_commits": list(unit.human),
        "new_since_verdict": list(unit.new_since_verdict),
        "reviewed_tip": unit.reviewed_tip,
        "diff": {
            "files": stats.files,
            "additions": stats.additions,
            "deletions": stats.deletions,
            "hunks": parsed.hunk_count,
            "against": "merge base",
        },
        "combined_diff": diffs.combined,
        "since": {"kind": diffs.since_kind, "text": diffs.since, "note": diffs.note or None},
    }
