"""`compute_stats`: every figure of docs/metrics.md from the tables, and several
repositories joined as one (`combine_repositories`) (part of `core.metrics`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from reviewq.core.metrics.figures import (
    Flow,
    Period,
    Queue,
    Stats,
    _by_dimension,
    _Counted,
    _figures,
    _Flags,
    _flags,
    _group_quantiles,
    _quantiles,
)
from reviewq.core.metrics.tables import (
    MISSING,
    SETTLING,
    TIME_BINS,
    AuthoredChange,
    ChangeTable,
    CommitSize,
    CommitTable,
    Thresholds,
    VerdictTable,
    labels_rows,
)
from reviewq.core.metrics.timeparse import (
    _DAY,
    day_label,
    local_days,
    week_label,
    week_of,
    week_start,
)

#: The documented defaults (docs/metrics.md); frozen, so one instance serves every call.
_DEFAULT_THRESHOLDS = Thresholds()


def tz_name(tz: tzinfo | None) -> str:
    if tz is None:
        return "record"
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    return "UTC" if tz.utcoffset(None) == timedelta(0) else str(tz)


def compute_stats(
    table: VerdictTable | Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    changes: ChangeTable | Sequence[AuthoredChange] = (),
    commits: CommitTable | Sequence[CommitSize] | None = None,
    severity: Mapping[str, str] | None = None,
    since: datetime | None = None,
    tz: tzinfo | None = None,
    thresholds: Thresholds | RowThresholds = _DEFAULT_THRESHOLDS,
    days: bool = True,
    change_rows: np.ndarray | None = None,
) -> Stats:
    """Every figure of docs/metrics.md.

    `table`: verdict records (dicts) or their columns. `changes`: the AI-authored changes of the
    history. `commits`: every commit with its size, or None when unknown (the automation share
    is then reported as unknown, not as zero). `severity`: change id -> the highest severity its
    critique found, for the override rate. `since` limits verdicts, commits and changes to
    those at or after it; the queue is always as of `now`. `tz`: None buckets each record by
    the day in its own offset (the reviewer's day); a tzinfo buckets everything in that zone.
    `days=False` leaves `by_day` empty (the report shows weeks; a team report computes a
    hundred repositories' figures and the day rows were half the work).
    `change_rows` (`label_rows`, as kept by a caller): each label of `table.changes` -> its
    row of `changes`, -1 for none; computed here when not given.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    if not isinstance(changes, ChangeTable):
        changes = ChangeTable.from_changes(changes)
    if not isinstance(table, VerdictTable):
        table = VerdictTable.from_records(table)
    if MISSING in table.agents:
        table = table.with_agents(changes.agent_of())
    since_epoch = since.timestamp() if since is not None else None
    now_epoch = now.timestamp()
    # Pickup and settling look at every verdict: a change reviewed before `since` is reviewed.
    if change_rows is not None and len(change_rows) != len(table.changes):
        change_rows = None  # not this table's labels (agents filled in keep them as they are)
    side = _ChangeSide.build(table, changes, since_epoch, now_epoch, tz, change_rows)
    history = _CommitSide.build(commits, changes.position, since_epoch, tz)
    if since_epoch is not None:
        kept = table.epoch >= since_epoch
        table = table.select(kept)
        if isinstance(thresholds, RowThresholds):
            thresholds = thresholds.select(kept)
    # Only what the groupings count: the per-row flags are let go once numbered as `bits`.
    f = _flags(table, thresholds, severity).counted()  # type: ignore[arg-type]
    # Equal values are interchangeable: no need for stable. Row numbers and group codes as
    # int32 where they fit (half the memory held through every grouping; the same figures).
    order = _narrow(np.argsort(table.active), len(table))
    totals = _figures(table, f, np.zeros(len(table), np.int32), 1, ["all"], ["all"], order)[0]

    flow = Flow(
        ai_changes=int(side.in_range.sum()),
        reviewed_changes=int((side.in_range & side.reviewed).sum()),
        pickups=side.queue.pickups,
        pickup_median_seconds=side.queue.pickup_median_seconds,
        pickup_p90_seconds=side.queue.pickup_p90_seconds,
        queue_depth_at_end=side.queue.depth,
    )
    if history is not None:
        ok, ai = history.ok, history.ok & history.ai
        flow.commits, flow.ai_commits = int(ok.sum()), int(ai.sum())
        flow.lines, flow.ai_lines = int(history.lines[ok].sum()), int(history.lines[ai].sum())

    rec_day = local_days(table.epoch, table.offset, tz)
    rec_day = _narrow_days(rec_day)
    has = table.critique == 1
    critic_counts = np.bincount(table.critic_family[has], minlength=len(table.critic_families))
    bounds = np.array([b for _, b in TIME_BINS[:-1]], dtype=np.float64)
    hist = np.bincount(
        np.searchsorted(bounds, table.active, side="right"), minlength=len(TIME_BINS)
    )
    return Stats(
        generated_at=now.isoformat(timespec="seconds"),
        since=since.isoformat(timespec="seconds") if since is not None else None,
        tz=tz_name(tz),
        thresholds=thresholds,
        records=len(table),
        invalid_records=table.invalid,
        totals=totals,
        flow=flow,
        queue=side.queue,
        by_day=_periods("day", table, f, order, rec_day, side, history, tz, now_epoch)
        if days
        else [],
        by_week=_periods("week", table, f, order, rec_day, side, history, tz, now_epoch),
        by_reviewer=_by_dimension(
            table, f, table.reviewer, table.reviewers, table.reviewer_names, order
        ),
        by_agent=_by_dimension(table, f, table.agent, table.agents, table.agents, order),
        by_family=_by_dimension(table, f, table.family, table.families, table.families, order),
        by_domain=_by_dimension(table, f, table.domain, table.domains, table.domains, order),
        coverage_by_family=side.coverage(changes.family, changes.families),
        coverage_by_agent=side.coverage(changes.agent, changes.agents),
        critic_families=dict(
            sorted(
                ((table.critic_families[i], int(n)) for i, n in enumerate(critic_counts) if n),
                key=lambda kv: (-kv[1], kv[0]),
            )
        ),
        review_time_histogram=[(label, int(n)) for (label, _), n in zip(TIME_BINS, hist)],
        automation_known=history is not None,
        critique_findings_known=bool(severity),
    )


@dataclass
class _ChangeSide:
    """The AI-authored changes as arrays: when each arrived, was picked up and was settled."""

    epoch: np.ndarray  # commit time (NaN when unreadable)
    day: np.ndarray  # commit day
    known: np.ndarray
    in_range: np.ndarray  # known and at or after `since`
    first_any: np.ndarray  # first verdict of any kind (NaN: none)
    settled: np.ndarray  # latest verdict up to now is a settling one
    settles: np.ndarray  # sorted instants at which a change became settled
    unsettles: np.ndarray  # sorted instants at which a settled change became pending again
    pick_day: np.ndarray  # day of the first verdict, in its record's offset or tz
    picked: np.ndarray  # has a first verdict, at or after `since`
    usual_offset: int
    queue: Queue

    @property
    def reviewed(self) -> np.ndarray:
        return ~np.isnan(self.first_any)

    @classmethod
    def build(
        cls,
        t: VerdictTable,
        changes: ChangeTable,
        since_epoch: float | None,
        now_epoch: float,
        tz: tzinfo | None,
        change_rows: np.ndarray | None = None,
    ) -> _ChangeSide:
        epoch, offset = changes.epoch, changes.offset
        known = ~np.isnan(epoch)
        in_range = known & (epoch >= since_epoch) if since_epoch is not None else known
        target = _targets(t, changes, change_rows)
        first_any, first_offset = _first_verdicts(t, target, len(changes))
        settled, settles, unsettles = _settling(t, target, len(changes), epoch, now_epoch)
        picked = known & ~np.isnan(first_any)
        if since_epoch is not None:
            picked &= first_any >= since_epoch
        return cls(
            epoch=epoch,
            day=local_days(np.nan_to_num(epoch), offset, tz),
            known=known,
            in_range=in_range,
            first_any=first_any,
            settled=settled,
            settles=settles,
            unsettles=unsettles,
            pick_day=local_days(np.nan_to_num(first_any), first_offset, tz),
            picked=picked,
            usual_offset=_usual_offset(offset[known]),
            queue=_queue(changes, epoch, settled, first_any, picked, now_epoch),
        )

    @property
    def waits(self) -> np.ndarray:
        """Pickup time of each picked-up change (a verdict before the commit time counts 0)."""
        return np.maximum(0.0, self.first_any[self.picked] - self.epoch[self.picked])

    def backlog_at(self, ends: np.ndarray) -> np.ndarray:
        """Changes committed by each instant and not settled at it."""
        arrivals = np.sort(self.epoch[self.known])
        return (
            np.searchsorted(arrivals, ends, side="right")
            - np.searchsorted(self.settles, ends, side="right")
            + np.searchsorted(self.unsettles, ends, side="right")
        )

    def coverage(self, codes: np.ndarray, uniques: Sequence[str]) -> dict[str, tuple[int, int]]:
        """label -> (AI-authored changes in range, of which reviewed), per change label."""
        total = np.bincount(codes[self.in_range], minlength=len(uniques))
        done = np.bincount(codes[self.in_range & self.reviewed], minlength=len(uniques))
        return {u: (int(total[i]), int(done[i])) for i, u in enumerate(uniques) if total[i]}


@dataclass
class _CommitSide:
    """Every commit of the history: when, how many lines, whether AI-authored."""

    day: np.ndarray
    lines: np.ndarray
    ai: np.ndarray
    ok: np.ndarray  # readable time, at or after `since`

    @classmethod
    def build(
        cls,
        commits: CommitTable | Sequence[CommitSize] | None,
        ai_ids: Mapping[str, int],
        since_epoch: float | None,
        tz: tzinfo | None,
    ) -> _CommitSide | None:
        if commits is None:
            return None
        if not isinstance(commits, CommitTable):
            commits = CommitTable.from_sizes(commits)
        ok = ~np.isnan(commits.epoch)
        if since_epoch is not None:
            ok &= commits.epoch >= since_epoch
        return cls(
            day=local_days(np.nan_to_num(commits.epoch), commits.offset, tz),
            lines=commits.lines,
            ai=np.fromiter(map(ai_ids.__contains__, commits.sha), bool, len(commits)),
            ok=ok,
        )


def _periods(
    unit: str,
    table: VerdictTable,
    f: _Flags | _Counted,
    order: np.ndarray,
    rec_day: np.ndarray,
    side: _ChangeSide,
    history: _CommitSide | None,
    tz: tzinfo | None,
    now_epoch: float,
) -> list[Period]:
    """One row per day or ISO week, from the first to the last with any activity, gaps included
    (a trend line must show the quiet weeks)."""

    def to_unit(days: np.ndarray) -> np.ndarray:
        return days if unit == "day" else week_of(days)

    r_units = to_unit(rec_day)
    c_units, p_units = to_unit(side.day), to_unit(side.pick_day)
    m_units = to_unit(history.day) if history is not None else None
    present = [r_units, c_units[side.in_range]]
    if history is not None and m_units is not None:
        present.append(m_units[history.ok])
    present = [u for u in present if len(u)]
    if not present:
        return []
    first = int(min(u.min() for u in present))
    last = int(max(u.max() for u in present))
    span = list(range(first, last + 1))
    groups = len(span)
    keys = [day_label(u) if unit == "day" else week_label(u) for u in span]
    starts = [day_label(u) if unit == "day" else week_start(u) for u in span]
    figs = _figures(table, f, _narrow(r_units - first, groups), groups, keys, keys, order)

    def per_group(
        units: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None
    ) -> np.ndarray:
        return np.bincount(
            (units[mask] - first).astype(np.int64),
            weights=None if weights is None else weights[mask],
            minlength=groups,
        )

    ai_changes = per_group(c_units, side.in_range)
    reviewed = per_group(c_units, side.in_range & side.reviewed)
    pick_codes = (p_units[side.picked] - first).astype(np.int64)
    waits = side.waits
    pickups = np.bincount(pick_codes, minlength=groups)
    pick_med, pick_p90 = _group_quantiles(pick_codes, waits, groups, (0.5, 0.9), np.argsort(waits))
    ends = np.array([_period_end_epoch(u, unit, tz, side.usual_offset, now_epoch) for u in span])
    depth = side.backlog_at(ends)
    zeros = np.zeros(groups)
    n_commits = n_lines = n_ai = n_ai_lines = zeros
    if history is not None and m_units is not None:
        ai = history.ok & history.ai
        n_commits = per_group(m_units, history.ok)
        n_lines = per_group(m_units, history.ok, history.lines)
        n_ai = per_group(m_units, ai)
        n_ai_lines = per_group(m_units, ai, history.lines)
    out = []
    for g in range(groups):
        flow = Flow(
            commits=int(n_commits[g]),
            lines=int(n_lines[g]),
            ai_commits=int(n_ai[g]),
            ai_lines=int(n_ai_lines[g]),
            ai_changes=int(ai_changes[g]),
            reviewed_changes=int(reviewed[g]),
            pickups=int(pickups[g]),
            pickup_median_seconds=None if np.isnan(pick_med[g]) else float(pick_med[g]),
            pickup_p90_seconds=None if np.isnan(pick_p90[g]) else float(pick_p90[g]),
            queue_depth_at_end=int(depth[g]),
        )
        out.append(Period(keys[g], starts[g], figs[g], flow))
    return out


def _narrow(codes: np.ndarray, groups: int) -> np.ndarray:
    """`codes` (row numbers or group codes, 0 <= code < `groups`) as int32 when a grouping's
    keys (a code times at most 1,024 flag combinations, plus one) stay within it; else int64.
    Counted, sorted and indexed the same either way."""
    if groups * 1025 < 2**31:
        return codes.astype(np.int32, copy=False)
    return codes.astype(np.int64, copy=False)


def _narrow_days(days: np.ndarray) -> np.ndarray:
    """Day numbers as int32 when they fit (half the memory held through the periods)."""
    if not len(days) or (int(days.min()) >= -(2**31) and int(days.max()) < 2**31):
        return days.astype(np.int32)
    return days


def label_rows(labels: Sequence[str], changes: ChangeTable) -> np.ndarray:
    """Row of `changes` of each change label (a VerdictTable's `changes`), -1 for none."""
    return labels_rows(labels, changes.position)


def _targets(t: VerdictTable, changes: ChangeTable, rows: np.ndarray | None = None) -> np.ndarray:
    """Row of `changes` each record belongs to, -1 for records of other changes."""
    if not len(changes) or not len(t):
        return np.full(len(t), -1, dtype=np.int64)
    label_to_change = label_rows(t.changes, changes) if rows is None else rows
    return label_to_change[t.change]


def _first_verdicts(t: VerdictTable, target: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per change (`target`: each record's change row, -1 for none): epoch of its first verdict
    of any kind, and the UTC offset it was recorded in (NaN and 0 without one). Record order
    never matters."""
    first_any = np.full(n, np.inf)
    first_offset = np.zeros(n, dtype=np.int64)
    hit = target >= 0
    np.minimum.at(first_any, target[hit], t.epoch[hit])
    # The offset of the record that holds the minimum (ties: any of them, same instant).
    at_first = np.nonzero(hit)[0]
    at_first = at_first[t.epoch[at_first] == first_any[target[at_first]]]
    first_offset[target[at_first]] = t.offset[at_first]
    first_any[np.isinf(first_any)] = np.nan
    return first_any, first_offset


def _settling(
    t: VerdictTable, target: np.ndarray, n: int, commit_epoch: np.ndarray, now_epoch: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """When each change was settled, by the rule of `core.verdict.SettledIndex`: the latest
    verdict decides, approve, reject and changes settle, escalate reopens.

    Returns (settled now, per change), and the sorted instants at which changes became settled
    and became pending again; a transition before the commit time counts at the commit time.
    """
    settled = np.zeros(n, dtype=bool)
    idx = np.nonzero((target >= 0) & (t.epoch <= now_epoch))[0]
    if not len(idx):
        return settled, np.zeros(0), np.zeros(0)
    idx = idx[np.lexsort((t.epoch[idx], target[idx]))]  # by change, then time
    row, when = target[idx], t.epoch[idx]
    state = np.isin(t.verdict[idx], SETTLING)
    first = np.r_[True, row[1:] != row[:-1]]
    last = np.r_[row[1:] != row[:-1], True]
    before = np.r_[False, state[:-1]] & ~first
    moved = state != before
    when = np.maximum(when, commit_epoch[row])
    settled[row[last]] = state[last]
    return settled, np.sort(when[moved & state]), np.sort(when[moved & ~state])


def _usual_offset(offsets: np.ndarray) -> int:
    """The most common UTC offset among the commits: the team's usual zone (UTC when none)."""
    if not len(offsets):
        return 0
    values, counts = np.unique(offsets, return_counts=True)
    return int(values[np.argmax(counts)])


def _period_end_epoch(
    unit_index: int, unit: str, tz: tzinfo | None, record_offset: int, now_epoch: float
) -> float:
    """The instant a day or week ends, capped at now. Bucketing by each record's own offset
    has no single end of day, so the backlog is counted at the end of the day in the usual
    offset of the commits."""
    last_day = unit_index if unit == "day" else unit_index * 7 - 3 + 6
    local_end = (last_day + 1) * _DAY
    if tz is None:
        off = record_offset
    else:
        probe = datetime.fromtimestamp(local_end, UTC).replace(tzinfo=None)
        delta = tz.utcoffset(probe)
        off = int(delta.total_seconds()) if delta is not None else 0
    return min(float(local_end - off), now_epoch)


def _queue(
    changes: ChangeTable,
    change_epoch: np.ndarray,
    settled: np.ndarray,
    first_any: np.ndarray,
    picked: np.ndarray,
    now_epoch: float,
) -> Queue:
    """The backlog as of now (`since` does not shrink it) and the pickup times in range."""
    arrived = ~np.isnan(change_epoch) & (change_epoch <= now_epoch)
    pending = arrived & ~settled
    queue = Queue(depth=int(pending.sum()))
    if queue.depth:
        idx = np.nonzero(pending)[0]
        oldest = int(idx[np.argmin(change_epoch[idx])])
        queue.oldest_pending_id = changes.ids[oldest]
        queue.oldest_pending_seconds = float(now_epoch - change_epoch[oldest])
    waits = np.maximum(0.0, first_any[picked] - change_epoch[picked])
    queue.pickups = int(picked.sum())
    queue.pickup_median_seconds, queue.pickup_p90_seconds = _quantiles(waits)
    return queue


# -- several repositories as one ---------------------------------------------------------------


@dataclass(frozen=True)
class RowThresholds:
    """Rubber-stamp thresholds per verdict row: a team's table joins repositories whose
    `[metrics]` settings differ, and each row is judged by its own repository's thresholds.
    `_flags` reads the same three names, so arrays broadcast where numbers stood."""

    max_lines_per_hour: np.ndarray
    min_active_seconds: np.ndarray
    min_hunks_viewed_share: np.ndarray
    #: The repositories' own thresholds, in order (what the report shows).
    each: tuple[Thresholds, ...] = ()

    def select(self, mask: np.ndarray) -> RowThresholds:
        return RowThresholds(
            self.max_lines_per_hour[mask],
            self.min_active_seconds[mask],
            self.min_hunks_viewed_share[mask],
            self.each,
        )

    def to_json(self) -> None:
        return None  # no one set: each repository's own (the report lists them per repository)


@dataclass(frozen=True)
class RepositoryTables:
    """One repository's metric inputs, as `compute_stats` takes them."""

    table: VerdictTable
    changes: ChangeTable
    commits: CommitTable | None
    severity: Mapping[str, str]
    thresholds: Thresholds


@dataclass(frozen=True)
class CombinedTables:
    table: VerdictTable
    changes: ChangeTable
    commits: CommitTable | None
    severity: dict[str, str]
    thresholds: Thresholds | RowThresholds


def combine_repositories(parts: Sequence[RepositoryTables]) -> CombinedTables:
    """Every row of every repository in one set of tables, so a team's totals are computed from
    rows exactly as one repository's are (never averages of averages).

    Change ids (and the shas of AI-authored commits) are namespaced by the repository's
    position (`3:<sha>`): two clones of one project hold the same shas and must count twice,
    and a verdict belongs to its own repository's change. Reviewers stay one person across
    repositories (by email).
    """

    def tag(i: int, values: Iterable[str]) -> list[str]:
        prefix = f"{i}:"
        return [prefix + v for v in values]

    tables, change_parts, commit_parts = [], [], []
    severity: dict[str, str] = {}
    for i, part in enumerate(parts):
        t = part.table
        tables.append(
            VerdictTable(
                **t.columns(),
                **{**t.labels(), "changes": tuple(tag(i, t.changes))},
                invalid=t.invalid,
            )
        )
        change_parts.append(part.changes)
        if part.commits is not None:
            # Only a commit's membership in its repository's changes matters: AI-authored
            # commits get the namespaced id of their change; the others keep their sha, which
            # no namespaced id (it has a colon) can equal. A million new strings fewer.
            prefix, own = f"{i}:", part.changes.position
            commit_parts.append(
                CommitTable(
                    sha=[prefix + s if s in own else s for s in part.commits.sha],
                    epoch=part.commits.epoch,
                    offset=part.commits.offset,
                    lines=part.commits.lines,
                )
            )
        severity.update(zip(tag(i, part.severity), part.severity.values()))
    table = VerdictTable.concat(tables) if tables else VerdictTable.from_records([])
    families: dict[str, int] = {}
    agents: dict[str, int] = {}
    ids: list[str] = []
    fam_codes, agent_codes = [], []
    for i, c in enumerate(change_parts):
        ids += tag(i, c.ids)
        fmap = np.array([families.setdefault(f, len(families)) for f in c.families], np.int32)
        amap = np.array([agents.setdefault(a, len(agents)) for a in c.agents], np.int32)
        fam_codes.append(fmap[c.family] if len(c) else np.zeros(0, np.int32))
        agent_codes.append(amap[c.agent] if len(c) else np.zeros(0, np.int32))

    def cat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype)

    changes = ChangeTable(
        ids=ids,
        epoch=cat([c.epoch for c in change_parts], np.float64),
        offset=cat([c.offset for c in change_parts], np.int64),
        family=cat(fam_codes, np.int32),
        agent=cat(agent_codes, np.int32),
        families=tuple(families),
        agents=tuple(agents),
        position=dict(zip(ids, range(len(ids)))),
    )
    commits = None
    if parts and len(commit_parts) == len(parts):
        commits = CommitTable(
            sha=[s for c in commit_parts for s in c.sha],
            epoch=cat([c.epoch for c in commit_parts], np.float64),
            offset=cat([c.offset for c in commit_parts], np.int64),
            lines=cat([c.lines for c in commit_parts], np.float64),
        )
    each = tuple(p.thresholds for p in parts)
    thresholds: Thresholds | RowThresholds
    if len(set(each)) <= 1:
        thresholds = each[0] if each else Thresholds()
    else:
        sizes = [len(p.table) for p in parts]
        thresholds = RowThresholds(
            *(
                np.repeat(np.array([getattr(th, name) for th in each], np.float64), sizes)
                for name in ("max_lines_per_hour", "min_active_seconds", "min_hunks_viewed_share")
            ),
            each=each,
        )
    return CombinedTables(table, changes, commits, severity, thresholds)
