"""Per-record judgements (rubber stamps, second family, overrides) and the result types:
figures per group, flow, periods, queue, `Stats` (part of `core.metrics`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reviewq.core.metrics.tables import (
    APPROVE,
    CHANGES,
    ESCALATE,
    NON_MODEL_CRITICS,
    REJECT,
    SETTLING,
    SEVERE,
    UNKNOWN_FAMILIES,
    Thresholds,
    VerdictTable,
    labels_rows,
)
from reviewq.core.model import VERDICTS

# -- per-record judgements -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Flags:
    """Per-row booleans every grouping reuses (computed once)."""

    approve: np.ndarray
    decisive: np.ndarray
    too_fast: np.ndarray
    too_short: np.ndarray
    hunks_unviewed: np.ndarray
    critique_unopened: np.ndarray
    rubber: np.ndarray
    second_family: np.ndarray
    same_family: np.ndarray
    severe: np.ndarray
    override: np.ndarray
    timed: np.ndarray
    critiqued: np.ndarray
    #: every row's active time is 0 or more (none NaN): the active seconds of the rows with
    #: active time (the review rate's denominator) sum as `active` does
    active_all_timed: bool
    #: each row's combination of counted flags, numbered among the combinations that occur
    #: (int16: at most 1,024 of them; added to int32 or int64 group codes, it takes theirs)
    bits: np.ndarray
    #: combos[k, i]: flag i (of _COUNTED) is set in combination k (combination counts @ combos
    #: = flag counts)
    combos: np.ndarray

    def counted(self) -> _Counted:
        """What `_figures` reads, without the per-row flags (a million bytes each) that made
        `bits`: all a computation needs to hold through every grouping."""
        return _Counted(self.timed, self.active_all_timed, self.bits, self.combos)


@dataclass(frozen=True)
class _Counted:
    """The part of `_Flags` that `_figures` reads (`_Flags.counted`)."""

    timed: np.ndarray
    active_all_timed: bool
    bits: np.ndarray
    combos: np.ndarray


#: VerdictFigures field -> _Flags field, for the flags counted per group.
_COUNTED = (
    ("rubber_stamps", "rubber"),
    ("too_fast", "too_fast"),
    ("too_short", "too_short"),
    ("hunks_unviewed", "hunks_unviewed"),
    ("critique_unopened", "critique_unopened"),
    ("critiqued", "critiqued"),
    ("second_family", "second_family"),
    ("same_family", "same_family"),
    ("severe", "severe"),
    ("overrides", "override"),
)
_COMBOS = 1 << len(_COUNTED)
#: _BITS[m, i] is bit i of flag combination m: combination counts @ _BITS = flag counts.
_BITS = (np.arange(_COMBOS)[:, None] >> np.arange(len(_COUNTED))[None, :]) & 1


def _flags(t: VerdictTable, th: Thresholds, severity: Mapping[str, str] | None) -> _Flags:
    approve = t.verdict == APPROVE
    decisive = np.isin(t.verdict, SETTLING)
    # Faster than the limit: lines / (active / 3600) > limit, written without dividing by zero.
    too_fast = approve & (t.lines * 3600.0 > th.max_lines_per_hour * t.active)
    too_short = approve & (t.active < th.min_active_seconds)
    hunks_unviewed = (
        approve & (t.hunks_total > 0) & (t.hunks_viewed < th.min_hunks_viewed_share * t.hunks_total)
    )
    critique_unopened = approve & (t.critique == 1) & ~t.critique_opened
    rubber = too_fast | too_short | hunks_unviewed | critique_unopened

    author_unknown = (
        np.array([f in UNKNOWN_FAMILIES for f in t.families], dtype=bool)[t.family]
        if len(t.families)
        else np.zeros(len(t), dtype=bool)
    )
    cfam = list(t.critic_families)
    critic_rules = np.array([f in NON_MODEL_CRITICS for f in cfam], dtype=bool)[t.critic_family]
    critic_unknown = np.array([f in ("", "unknown") for f in cfam], dtype=bool)[t.critic_family]
    # Compare families by label: author and critic codes live in different tables.
    fam_to_critic = np.array(
        [cfam.index(f) if f in cfam else -1 for f in t.families], dtype=np.int32
    )
    same_label = (
        fam_to_critic[t.family] == t.critic_family
        if len(t.families)
        else np.zeros(len(t), dtype=bool)
    )
    has = t.critique == 1
    second_family = has & (critic_rules | (~critic_unknown & ~author_unknown & ~same_label))
    same_family = has & (t.same_family_allowed | (same_label & ~author_unknown))

    if severity:
        # Looked up in the labels (a million change ids kept as text stay text).
        severe_ids = {c: 1 for c, level in severity.items() if level in SEVERE}
        change_severe = labels_rows(t.changes, severe_ids) >= 0
        severe = change_severe[t.change] if len(t.changes) else np.zeros(len(t), dtype=bool)
    else:
        severe = np.zeros(len(t), dtype=bool)
    flags = {
        "approve": approve,
        "decisive": decisive,
        "too_fast": too_fast,
        "too_short": too_short,
        "hunks_unviewed": hunks_unviewed,
        "critique_unopened": critique_unopened,
        "rubber": rubber,
        "second_family": second_family,
        "same_family": same_family,
        "severe": severe & decisive,
        "override": severe & approve,
        "timed": t.active > 0,
        "critiqued": has,
    }
    packed = np.zeros(len(t), dtype=np.uint16)  # bit i = _COUNTED[i]
    for i, (_, name) in enumerate(_COUNTED):
        packed |= flags[name].astype(np.uint16) << i
    # Only the combinations that occur (a handful of the 1,024): each grouping counts (group,
    # combination) pairs over these, not over a 1,024-wide row per group (a day table of
    # 1,000 days was a million counts and a 17 ms product).
    present = np.flatnonzero(np.bincount(packed, minlength=_COMBOS))
    number = np.zeros(_COMBOS, dtype=np.int16)
    number[present] = np.arange(len(present))
    return _Flags(
        **flags,
        # Then a row left out of the timed active seconds adds 0.0 where `active` adds ±0.0:
        # the same sum.
        active_all_timed=bool((t.active >= 0).all()),
        bits=number[packed],
        combos=_BITS[present],
    )


# -- results ---------------------------------------------------------------------------------------


def _rate(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass
class VerdictFigures:
    """Verdict figures of one group of records (everything, a week, a reviewer, ...)."""

    key: str
    label: str
    approve: int = 0
    reject: int = 0
    changes: int = 0
    escalate: int = 0
    active_median_seconds: float | None = None
    active_p90_seconds: float | None = None
    lines_reviewed: int = 0
    active_seconds: float = 0.0
    lines_per_hour: float | None = None
    rubber_stamps: int = 0
    too_fast: int = 0
    too_short: int = 0
    hunks_unviewed: int = 0
    critique_unopened: int = 0
    critiqued: int = 0
    second_family: int = 0
    same_family: int = 0
    severe: int = 0
    overrides: int = 0

    @property
    def verdicts(self) -> int:
        return self.approve + self.reject + self.changes + self.escalate

    @property
    def decisive(self) -> int:
        return self.approve + self.reject + self.changes

    @property
    def acceptance_rate(self) -> float | None:
        return _rate(self.approve, self.decisive)

    @property
    def rejection_rate(self) -> float | None:
        return _rate(self.reject, self.decisive)

    @property
    def changes_rate(self) -> float | None:
        return _rate(self.changes, self.decisive)

    @property
    def rubber_stamp_rate(self) -> float | None:
        return _rate(self.rubber_stamps, self.approve)

    @property
    def second_family_rate(self) -> float | None:
        return _rate(self.second_family, self.verdicts)

    @property
    def override_rate(self) -> float | None:
        return _rate(self.overrides, self.severe)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "verdicts": self.verdicts,
            "approve": self.approve,
            "reject": self.reject,
            "changes": self.changes,
            "escalate": self.escalate,
            "acceptance_rate": _round(self.acceptance_rate),
            "rejection_rate": _round(self.rejection_rate),
            "changes_rate": _round(self.changes_rate),
            "active_median_seconds": _round(self.active_median_seconds, 1),
            "active_p90_seconds": _round(self.active_p90_seconds, 1),
            "lines_reviewed": self.lines_reviewed,
            "active_seconds": round(self.active_seconds, 1),
            "lines_per_hour": _round(self.lines_per_hour, 1),
            "rubber_stamps": self.rubber_stamps,
            "rubber_stamp_rate": _round(self.rubber_stamp_rate),
            "rubber_stamp_reasons": {
                "too_fast": self.too_fast,
                "too_short": self.too_short,
                "hunks_unviewed": self.hunks_unviewed,
                "critique_unopened": self.critique_unopened,
            },
            "critiqued": self.critiqued,
            "second_family": self.second_family,
            "second_family_rate": _round(self.second_family_rate),
            "same_family_overrides": self.same_family,
            "severe_findings_verdicts": self.severe,
            "overrides": self.overrides,
            "override_rate": _round(self.override_rate),
        }


@dataclass
class Flow:
    """Commit-side figures of one period: what arrived, what was reviewed, what waits."""

    commits: int = 0
    lines: int = 0
    ai_commits: int = 0
    ai_lines: int = 0
    ai_changes: int = 0
    reviewed_changes: int = 0
    pickups: int = 0
    pickup_median_seconds: float | None = None
    pickup_p90_seconds: float | None = None
    queue_depth_at_end: int = 0

    @property
    def commit_share(self) -> float | None:
        return _rate(self.ai_commits, self.commits)

    @property
    def line_share(self) -> float | None:
        return _rate(self.ai_lines, self.lines)

    @property
    def coverage(self) -> float | None:
        return _rate(self.reviewed_changes, self.ai_changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "commits": self.commits,
            "lines": self.lines,
            "ai_commits": self.ai_commits,
            "ai_lines": self.ai_lines,
            "automation_commit_share": _round(self.commit_share),
            "automation_line_share": _round(self.line_share),
            "ai_changes": self.ai_changes,
            "reviewed_changes": self.reviewed_changes,
            "review_coverage": _round(self.coverage),
            "pickups": self.pickups,
            "pickup_median_seconds": _round(self.pickup_median_seconds, 1),
            "pickup_p90_seconds": _round(self.pickup_p90_seconds, 1),
            "queue_depth_at_end": self.queue_depth_at_end,
        }


@dataclass
class Period:
    key: str
    start: str
    verdicts: VerdictFigures
    flow: Flow

    def to_json(self) -> dict[str, Any]:
        data = {"period": self.key, "start": self.start}
        data.update({k: v for k, v in self.verdicts.to_json().items() if k not in ("key", "label")})
        data.update(self.flow.to_json())
        return data


@dataclass
class Queue:
    depth: int = 0
    oldest_pending_id: str | None = None
    oldest_pending_seconds: float | None = None
    pickups: int = 0
    pickup_median_seconds: float | None = None
    pickup_p90_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "depth": self.depth,
            "oldest_pending_id": self.oldest_pending_id,
            "oldest_pending_seconds": _round(self.oldest_pending_seconds, 0),
            "pickups": self.pickups,
            "pickup_median_seconds": _round(self.pickup_median_seconds, 1),
            "pickup_p90_seconds": _round(self.pickup_p90_seconds, 1),
        }


@dataclass
class Stats:
    """Everything `stats`, the stats screen and the report show."""

    generated_at: str
    since: str | None
    tz: str
    thresholds: Thresholds
    records: int
    invalid_records: int
    totals: VerdictFigures
    flow: Flow
    queue: Queue
    by_day: list[Period] = field(default_factory=list)
    by_week: list[Period] = field(default_factory=list)
    by_reviewer: list[VerdictFigures] = field(default_factory=list)
    by_agent: list[VerdictFigures] = field(default_factory=list)
    by_family: list[VerdictFigures] = field(default_factory=list)
    by_domain: list[VerdictFigures] = field(default_factory=list)
    #: family -> (AI-authored changes, of which reviewed); agent likewise.
    coverage_by_family: dict[str, tuple[int, int]] = field(default_factory=dict)
    coverage_by_agent: dict[str, tuple[int, int]] = field(default_factory=dict)
    critic_families: dict[str, int] = field(default_factory=dict)
    #: (bin label, count) of active review time over all verdicts.
    review_time_histogram: list[tuple[str, int]] = field(default_factory=list)
    #: None: no commit history was given (automation share unknown, not zero).
    automation_known: bool = False
    critique_findings_known: bool = False

    def to_json(self) -> dict[str, Any]:
        def with_cov(rows: list[VerdictFigures], cov: dict[str, tuple[int, int]]):
            out = []
            for row in rows:
                data = row.to_json()
                if cov:
                    total, reviewed = cov.get(row.key, (0, 0))
                    data.update(
                        ai_changes=total,
                        reviewed_changes=reviewed,
                        review_coverage=_round(_rate(reviewed, total)),
                    )
                out.append(data)
            return out

        flow = self.flow.to_json()
        return {
            "generated_at": self.generated_at,
            "since": self.since,
            "tz": self.tz,
            "thresholds": self.thresholds.to_json(),
            "records": self.records,
            "invalid_records": self.invalid_records,
            "totals": self.totals.to_json(),
            "queue": self.queue.to_json(),
            "coverage": {
                "ai_changes": self.flow.ai_changes,
                "reviewed_changes": self.flow.reviewed_changes,
                "rate": flow["review_coverage"],
            },
            "automation": {
                "known": self.automation_known,
                "commits": self.flow.commits,
                "ai_commits": self.flow.ai_commits,
                "lines": self.flow.lines,
                "ai_lines": self.flow.ai_lines,
                "commit_share": flow["automation_commit_share"],
                "line_share": flow["automation_line_share"],
            },
            "critique_findings_known": self.critique_findings_known,
            "critic_families": dict(self.critic_families),
            "review_time_histogram": [
                {"bin": label, "verdicts": count} for label, count in self.review_time_histogram
            ],
            "by_week": [p.to_json() for p in self.by_week],
            "by_day": [p.to_json() for p in self.by_day],
            "by_reviewer": [r.to_json() for r in self.by_reviewer],
            "by_agent": with_cov(self.by_agent, self.coverage_by_agent),
            "by_family": with_cov(self.by_family, self.coverage_by_family),
            "by_domain": [r.to_json() for r in self.by_domain],
        }


# -- grouping ----------------------------------------------------------------------------------------


def quantile_sorted(values: Sequence[float] | np.ndarray, q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, "type 7") of sorted values."""
    n = len(values)
    if n == 0:
        return None
    pos = q * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    return float(values[lo] + (pos - lo) * (values[hi] - values[lo]))


def _small(codes: np.ndarray) -> np.ndarray:
    """Codes in the narrowest unsigned type: numpy's stable sort is a radix sort up to 16 bits."""
    top = int(codes.max()) if len(codes) else 0
    if top < 2**8:
        return codes.astype(np.uint8)
    if top < 2**16:
        return codes.astype(np.uint16)
    return codes


def _group_quantiles(
    codes: np.ndarray, values: np.ndarray, groups: int, qs: Sequence[float], order: np.ndarray
) -> list[np.ndarray]:
    """Per-group quantiles. `order` sorts `values`; a stable sort by code keeps that inside groups."""
    # Codes all equal (the totals' one group): a stable sort by code keeps `order` as it is.
    same = not len(codes) or codes.min() == codes.max()
    by_group = order if same else order[np.argsort(_small(codes)[order], kind="stable")]
    sorted_values = values[by_group]
    del by_group  # a million rows: not held through the quantiles below
    counts = np.bincount(codes, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if groups else np.zeros(0, np.int64)
    out = []
    for q in qs:
        pos = q * np.maximum(counts - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(counts - 1, 0))
        frac = pos - lo
        if len(sorted_values):
            a = sorted_values[np.minimum(starts + lo, len(sorted_values) - 1)]
            b = sorted_values[np.minimum(starts + hi, len(sorted_values) - 1)]
            res = a + frac * (b - a)
        else:
            res = np.zeros(groups)
        out.append(np.where(counts > 0, res, np.nan))
    return out


def _figures(
    t: VerdictTable,
    f: _Flags | _Counted,
    codes: np.ndarray,
    groups: int,
    keys: Sequence[str],
    labels: Sequence[str],
    active_order: np.ndarray,
) -> list[VerdictFigures]:
    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=groups)

    kinds = len(VERDICTS)
    per_verdict = np.bincount(codes * kinds + t.verdict, minlength=groups * kinds)
    per_verdict = per_verdict.reshape(groups, kinds)
    median, p90 = _group_quantiles(codes, t.active, groups, (0.5, 0.9), active_order)
    all_lines, all_active = total(t.lines), total(t.active)
    # The review rate's terms, the rows with active time only: made here for the sum, not
    # kept beside the flags through every grouping (two columns of a million rows).
    timed_lines = total(np.where(f.timed, t.lines, 0.0))
    timed_active = all_active if f.active_all_timed else total(np.where(f.timed, t.active, 0.0))
    # One count of flag combinations per group instead of one pass per flag.
    width = len(f.combos)
    combos = np.bincount(codes * width + f.bits, minlength=groups * width)
    counted = combos.reshape(groups, width) @ f.combos
    columns = {name: counted[:, i] for i, (name, _) in enumerate(_COUNTED)}
    out = []
    for g in range(groups):
        row = VerdictFigures(
            key=keys[g],
            label=labels[g],
            approve=int(per_verdict[g, APPROVE]),
            reject=int(per_verdict[g, REJECT]),
            changes=int(per_verdict[g, CHANGES]),
            escalate=int(per_verdict[g, ESCALATE]),
            active_median_seconds=None if np.isnan(median[g]) else float(median[g]),
            active_p90_seconds=None if np.isnan(p90[g]) else float(p90[g]),
            lines_reviewed=int(all_lines[g]),
            active_seconds=float(all_active[g]),
            lines_per_hour=_rate(float(timed_lines[g]), float(timed_active[g]) / 3600.0),
            **{k: int(v[g]) for k, v in columns.items()},
        )
        out.append(row)
    return out


def _by_dimension(
    t: VerdictTable,
    f: _Flags | _Counted,
    codes: np.ndarray,
    keys: Sequence[str],
    labels: Sequence[str],
    active_order: np.ndarray,
) -> list[VerdictFigures]:
    """Figures per label that occurs, most verdicts first (ties by key)."""
    rows = _figures(t, f, codes, len(keys), keys, labels, active_order)
    return sorted((r for r in rows if r.verdicts), key=lambda r: (-r.verdicts, r.key))


def _quantiles(values: np.ndarray) -> tuple[float | None, float | None]:
    ordered = np.sort(values)
    return quantile_sorted(ordered, 0.5), quantile_sorted(ordered, 0.9)


# -- the whole computation ---------------------------------------------------------------------------
