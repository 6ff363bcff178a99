"""Per-group figures: quantiles when every code is the same (the totals' one group: the sort by
code is skipped) are those of the sorted path, bit for bit; flag counts over the combinations
that occur are the plain per-group sums."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.metrics import VerdictTable, figures
from reviewq.core.metrics.tables import Thresholds
from tests.properties.strategies import at_most, verdict_records


def _sorted_path(codes, values, groups, qs, order):
    """The computation with the sort by code always done (what the shortcut must equal)."""
    real = figures.np.ndarray.min

    class _Never(np.ndarray):  # codes whose min never equals their max: the sort runs
        def min(self, *a, **k):
            return real(np.asarray(self), *a, **k) - 1

    return figures._group_quantiles(codes.view(_Never), values, groups, qs, order)


@given(
    st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_subnormal=False),
        max_size=60,
    ),
    st.integers(0, 3),
    st.integers(1, 5),
)
def test_one_code_everywhere_gives_the_sorted_paths_quantiles(values, code, extra):
    groups = code + extra
    array = np.array(values, dtype=np.float64)
    codes = np.full(len(array), code, dtype=np.int64)
    order = np.argsort(array)
    fast = figures._group_quantiles(codes, array, groups, (0.5, 0.9), order)
    slow = _sorted_path(codes, array, groups, (0.5, 0.9), order)
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b, equal_nan=True)


@given(st.lists(verdict_records(), max_size=40), st.sampled_from(["reviewer", "family", "verdict"]))
def test_flag_counts_per_group_are_the_plain_sums(records, by):
    """Each group's count of each flag (counted over the flag combinations that occur) equals
    summing that flag over the group's rows."""
    table = VerdictTable.from_records(records)
    flags = figures._flags(table, Thresholds(), None)
    codes = getattr(table, by).astype(np.int64)
    groups = int(codes.max()) + 1 if len(codes) else 1
    keys = [str(g) for g in range(groups)]
    rows = figures._figures(table, flags, codes, groups, keys, keys, np.argsort(table.active))
    for field, name in figures._COUNTED:
        plain = np.bincount(codes, weights=getattr(flags, name).astype(np.int64), minlength=groups)
        assert [getattr(r, field) for r in rows] == [int(x) for x in plain], field


@given(
    st.lists(
        st.one_of(
            st.just(0.0),
            st.just(-0.0),
            st.floats(min_value=0, max_value=1e7, allow_nan=False),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(1, 4),
)
def test_the_timed_active_sum_is_the_sum_over_timed_rows_bit_for_bit(actives, groups):
    """Where no active time is negative or NaN, `active`'s sum per group stands for the sum over
    the timed rows: the same float, bit for bit (else it is summed on its own)."""
    active = np.array(actives, dtype=np.float64)
    codes = np.arange(len(active), dtype=np.int64) % groups
    timed = np.where(active > 0, active, 0.0)
    plain = np.bincount(codes, weights=timed, minlength=groups)
    if (active >= 0).all():
        assert np.bincount(codes, weights=active, minlength=groups).tobytes() == plain.tobytes()


@given(st.lists(verdict_records(), max_size=40))
def test_figures_with_and_without_the_timed_active_shortcut_are_equal(records):
    table = VerdictTable.from_records(records)
    flags = figures._flags(table, Thresholds(), None)
    codes = table.reviewer.astype(np.int64)
    groups = int(codes.max()) + 1 if len(codes) else 1
    keys = [str(g) for g in range(groups)]
    order = np.argsort(table.active)
    fast = figures._figures(table, flags, codes, groups, keys, keys, order)
    plain = figures._figures(
        table, replace(flags, active_all_timed=False), codes, groups, keys, keys, order
    )
    assert fast == plain


@given(st.lists(verdict_records(), max_size=40), st.sampled_from(["reviewer", "family", "verdict"]))
def test_figures_from_the_counted_part_of_the_flags_are_the_figures_from_all_of_them(records, by):
    """`compute_stats` keeps only `_Flags.counted()` (the per-row flags let go once numbered):
    the same figures, for int32 group codes (the dimensions') and int64 ones (the periods')."""
    table = VerdictTable.from_records(records)
    flags = figures._flags(table, Thresholds(), None)
    order = np.argsort(table.active)
    for codes in (getattr(table, by).astype(np.int32), getattr(table, by).astype(np.int64)):
        groups = int(codes.max()) + 1 if len(codes) else 1
        keys = [str(g) for g in range(groups)]
        whole = figures._figures(table, flags, codes, groups, keys, keys, order)
        counted = figures._figures(table, flags.counted(), codes, groups, keys, keys, order)
        assert counted == whole


@at_most(15)
@given(
    st.lists(verdict_records(), max_size=40),
    st.sampled_from([None, "UTC"]),
)
def test_stats_with_narrow_codes_and_days_are_the_stats_with_int64_ones(records, zone):
    """`compute_stats` holds row numbers, group codes and day numbers as int32 where they fit
    (`_narrow`, `_narrow_days`): every figure is the one int64 arrays give (weeks: the days
    group the same way, and a span of years of days is slow to compare)."""
    from datetime import UTC, datetime
    from unittest import mock

    from reviewq.core.metrics import compute

    now = datetime(2026, 6, 1, tzinfo=UTC)
    tz = UTC if zone else None
    table = VerdictTable.from_records(records)
    narrow = compute.compute_stats(table, now=now, tz=tz, days=False)
    with (
        mock.patch.object(compute, "_narrow", lambda codes, groups: codes.astype(np.int64)),
        mock.patch.object(compute, "_narrow_days", lambda days: days.astype(np.int64)),
    ):
        wide = compute.compute_stats(table, now=now, tz=tz, days=False)
    assert narrow.to_json() == wide.to_json()
