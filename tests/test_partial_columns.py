"""The queue's open reads only the cached arrays each reader needs: the key index for
`records_about`, the table for `my_progress`. What they get equals the full load's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reviewq.core.metrics import COLUMNS, LABELS
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import (
    _keys_only,
    _partial,
    _table_only,
    load_key_index,
    load_log_table,
    load_verdict_table,
    records_about,
)
from tests.verdict_kit import make_record


def _same_table(a, b) -> None:
    for name in COLUMNS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in LABELS:
        assert getattr(a, name) == getattr(b, name), name
    assert a.invalid == b.invalid


def _same_index(a, b) -> None:
    """The same (key, line) pairs (lines of one key may be listed in another order)."""
    assert np.array_equal(a.keys, b.keys)
    at, bt = np.lexsort((a.key_lines, a.keys)), np.lexsort((b.key_lines, b.keys))
    assert np.array_equal(a.key_lines[at], b.key_lines[bt])


def test_partial_loads_equal_the_full_load_with_and_without_a_tail(tmp_path: Path) -> None:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i) for i in range(300)])
    cache = tmp_path / "cols.npz"
    load_log_table(log.path, cache)  # builds the cache
    for extra in range(300, 302):  # a short tail after the cached end
        # Read through the cache, not rebuilt: the partial path is the one taken.
        assert _partial(log.path, cache, _keys_only) is not None
        assert _partial(log.path, cache, _table_only) is not None
        full = load_log_table(log.path, cache)
        index = load_key_index(log.path, cache)
        assert np.array_equal(index.key_lines, full.key_lines)  # the very same order
        _same_index(index, full)
        _same_table(load_verdict_table(log.path, cache), full.table)
        wanted = {f"{i:040x}" for i in (0, 7, 150, 299, extra - 1, 999)}
        plain = records_about(log.path, None, wanted)
        assert records_about(log.path, cache, wanted) == plain
        assert {r["sha"] for r in plain} >= {f"{299:040x}", f"{extra - 1:040x}"}
        log.append(make_record(extra))


def test_no_cache_a_stale_one_or_a_long_tail_take_the_full_load(tmp_path: Path) -> None:
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i) for i in range(20)])
    cache = tmp_path / "cols.npz"
    assert _partial(log.path, cache, _keys_only) is None  # no cache yet
    load_log_table(log.path, cache)
    log.append_many([make_record(i) for i in range(20, 30)])  # a long tail: stored again
    assert _partial(log.path, cache, _keys_only) is None
    _same_index(load_key_index(log.path, cache), load_log_table(log.path, None))
    _same_table(load_verdict_table(log.path, cache), load_log_table(log.path, None).table)
    # A log replaced by another: the cache no longer fits, nothing is read from it.
    log.path.unlink()
    log.head_path.unlink()
    fresh = ProvenanceLog(tmp_path / "log.jsonl")
    fresh.append_many([make_record(i, note="new") for i in range(3)])
    assert _partial(fresh.path, cache, _table_only) is None
    assert len(load_verdict_table(fresh.path, cache)) == 3
    assert [r["note"] for r in records_about(fresh.path, cache, {f"{1:040x}"})] == ["new"]
