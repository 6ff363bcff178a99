"""The rows of the stats tables, built once for `reviewq stats` and the stats screen.

A breakdown (by reviewer, family, agent, domain) shows the same columns in the same words in
the terminal table and on the screen; durations read as the report prints them
(`core.times.duration`). The CLI keeps its upper-case, narrower headers.
"""

from __future__ import annotations

from typing import Any

from reviewq.core.metrics import VerdictFigures
from reviewq.core.report import fmt_int, fmt_pct
from reviewq.core.times import duration

#: (screen header, terminal header) of each figure of a breakdown row, in order.
BREAKDOWN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Verdicts", "VERDICTS"),
    ("Approve", "APPROVE"),
    ("Reject", "REJECT"),
    ("Changes", "CHANGES"),
    ("Escalate", "ESC"),
    ("Median", "MEDIAN"),
    ("P90", "P90"),
    ("Lines/h", "LOC/H"),
    ("Stamps", "STAMPS"),
    ("2nd family", "2ND FAMILY"),
)


def breakdown_cells(row: VerdictFigures) -> list[Any]:
    """One breakdown row's figures, under `BREAKDOWN_COLUMNS`."""
    return [
        row.verdicts,
        row.approve,
        row.reject,
        row.changes,
        row.escalate,
        duration(row.active_median_seconds),
        duration(row.active_p90_seconds),
        fmt_int(row.lines_per_hour),
        fmt_pct(row.rubber_stamp_rate, 0),
        fmt_pct(row.second_family_rate, 0),
    ]
