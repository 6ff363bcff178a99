"""Review-throughput and automation metrics, as pure functions over verdict records and scans.

Every figure is defined once in docs/metrics.md; the names here follow it. Nothing here reads
the clock, git or files: `now`, the time zone, the AI-authored changes, all commits' sizes,
critique severities and thresholds come in as arguments.

Why columns and numpy: a lead's log grows to a million verdicts, and grouping a million dicts
seven ways in a Python loop takes seconds. So records are turned into columns once
(`VerdictTable.from_records`, the only per-record Python work) and every figure is a
vectorised count, sum or sort over those columns.

The figures live in four modules (each under 800 lines): `timeparse` (instants, days, weeks),
`tables` (the inputs as columns: `VerdictTable`, `ChangeTable`, `CommitTable`), `figures`
(per-record judgements and the result types) and `compute` (`compute_stats`,
`combine_repositories`). Every public name is importable from `reviewq.core.metrics`.
"""

from reviewq.core.metrics.compute import (
    CombinedTables,
    RepositoryTables,
    RowThresholds,
    combine_repositories,
    compute_stats,
    tz_name,
)
from reviewq.core.metrics.figures import (
    Flow,
    Period,
    Queue,
    Stats,
    VerdictFigures,
    quantile_sorted,
)
from reviewq.core.metrics.tables import (
    APPROVE,
    CHANGES,
    CODED,
    COLUMNS,
    ESCALATE,
    LABELS,
    MISSING,
    NON_MODEL_CRITICS,
    REJECT,
    SETTLING,
    SEVERE,
    TIME_BINS,
    UNKNOWN_FAMILIES,
    AuthoredChange,
    ChangeTable,
    CommitSize,
    CommitTable,
    LineLabels,
    Thresholds,
    VerdictTable,
    authored_changes,
    labels_among,
    labels_rows,
)
from reviewq.core.metrics.timeparse import (
    day_label,
    local_days,
    parse_instant,
    parse_instants,
    tz_offsets,
    week_label,
    week_of,
    week_start,
)

__all__ = [
    "APPROVE",
    "CHANGES",
    "CODED",
    "COLUMNS",
    "ESCALATE",
    "LABELS",
    "MISSING",
    "NON_MODEL_CRITICS",
    "REJECT",
    "SETTLING",
    "SEVERE",
    "TIME_BINS",
    "UNKNOWN_FAMILIES",
    "AuthoredChange",
    "ChangeTable",
    "CombinedTables",
    "CommitSize",
    "CommitTable",
    "Flow",
    "LineLabels",
    "Period",
    "Queue",
    "RepositoryTables",
    "RowThresholds",
    "Stats",
    "Thresholds",
    "VerdictFigures",
    "VerdictTable",
    "authored_changes",
    "combine_repositories",
    "compute_stats",
    "day_label",
    "labels_among",
    "labels_rows",
    "local_days",
    "parse_instant",
    "parse_instants",
    "quantile_sorted",
    "tz_name",
    "tz_offsets",
    "week_label",
    "week_of",
    "week_start",
]
