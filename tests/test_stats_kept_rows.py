"""`stats`' warm path reads no million change ids: the column cache's change ids stay text
(`LineLabels`) and the metric summary keeps each cached label's row of the AI-authored changes,
named by the column cache's generation. Every figure equals the plain path's (no caches)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reviewq.store.verdict_columns as columns
from reviewq.core.metrics import AuthoredChange, ChangeTable, LineLabels, compute_stats
from reviewq.core.metrics.compute import label_rows
from reviewq.core.model import Identity
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import load_log_table, load_table_and_ids
from reviewq.workflow.stats import _kept_rows
from tests.verdict_kit import make_record

NOW = datetime(2026, 12, 1, tzinfo=UTC)
label = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=6)


@given(st.lists(label, unique=True, max_size=12), st.lists(label, max_size=4), label)
def test_line_labels_behave_as_the_tuple(base: list[str], more: list[str], probe: str) -> None:
    text = "\n".join(base).encode("utf-8", "surrogatepass")
    lazy = LineLabels(text, len(base), "g") + tuple(more)
    plain = tuple(base) + tuple(more)
    assert len(lazy) == len(plain)
    for x in {*plain, probe}:
        if x in plain:
            assert lazy.index(x) == plain.index(x)
        else:
            with pytest.raises(ValueError):
                lazy.index(x)
    assert tuple(lazy) == plain and lazy == plain and list(lazy[1:]) == list(plain[1:])


def _changes(ids: list[str]) -> ChangeTable:
    return ChangeTable.from_changes(
        [
            AuthoredChange(
                id=c,
                committed_at="2026-11-18T09:00:00+01:00",
                family="anthropic",
                agent="claude-code",
            )
            for c in ids
        ]
    )


#: One append: (record number naming its change, verdict, reviewer email, unit batch or None).
append = st.tuples(
    st.integers(0, 12),
    st.sampled_from(["approve", "reject", "changes", "escalate"]),
    st.sampled_from(["a@x.example", "b@x.example"]),
    st.sampled_from([None, "unit-1"]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 12),
    st.lists(st.lists(append, min_size=1, max_size=3), min_size=1, max_size=3),
    st.sets(st.integers(0, 14), max_size=10),
)
def test_kept_rows_give_the_plain_figures(
    tmp_path_factory, first: int, rounds: list, ai: set[int]
) -> None:
    """Records on changes of the history and others, second verdicts on one change, other
    reviewers, unit records; the kept rows of one run are reused by the next after each
    append, and every figure equals the plain computation from the records."""
    # A tail is read after the cached end, never stored (a small log's tail would be): the
    # path of one verdict after a long log.
    with mock.patch.object(columns, "STORE_FRACTION", 1000.0):
        reused = _appends(tmp_path_factory.mktemp("kept"), first, rounds, ai)
    assert reused == len(rounds) - 1


def _appends(tmp: Path, first: int, rounds: list, ai: set[int]) -> int:
    reused = 0
    log = ProvenanceLog(tmp / "log.jsonl")
    records = [
        log.append(make_record(i, at=f"2026-11-{10 + i % 9}T10:00:00+01:00")) for i in range(first)
    ]
    cache = tmp / "cols.npz"
    load_log_table(log.path, cache)  # the column cache, with its generation
    changes = _changes([f"{i:040x}" for i in sorted(ai)])
    kept, kept_of = None, None
    n = first
    for batch in rounds:
        for target, verdict, email, unit in batch:
            extra = {"unit": {"batch": unit, "kind": "branch"}} if unit else {}
            rec = make_record(
                target,
                record_id=f"rec-{n:06d}",
                verdict=verdict,
                reviewer=Identity(email.split("@")[0], email),
                at=f"2026-11-2{n % 9}T1{n % 10}:00:00+01:00",
            )
            log.append({**rec, **extra})
            n += 1
        records = [r for r in _read(log.path)]
        table = load_table_and_ids(log.path, cache).table
        rows, of, fresh = _kept_rows(table.changes, changes, kept, kept_of)
        assert np.array_equal(rows, label_rows(tuple(table.changes), changes))
        if kept is not None and of == kept_of:
            assert not fresh  # reused, only the new labels looked up
            reused += 1
        if of is not None:
            kept, kept_of = rows[: of["count"]], of
        fast = compute_stats(table, now=NOW, changes=changes, change_rows=rows)
        plain = compute_stats(records, now=NOW, changes=changes)
        assert fast.to_json() == plain.to_json()
    return reused


def _read(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_rows_of_another_generation_are_not_used(tmp_path: Path) -> None:
    """The column cache stored again (a long tail, a rebuild) has a new generation: rows kept
    for the old one are worked out afresh, even when the label count matches."""
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i) for i in range(6)])
    cache = tmp_path / "cols.npz"
    load_log_table(log.path, cache)
    changes = _changes([f"{i:040x}" for i in (1, 4)])
    labels = load_table_and_ids(log.path, cache).table.changes
    assert isinstance(labels, LineLabels) and labels.source
    _rows, of, fresh = _kept_rows(labels, changes, None, None)
    assert fresh and of == {"generation": labels.source, "count": 6}
    wrong = np.full(6, -1, dtype=np.int32)  # forged or stale: every label "of no change"
    cache.unlink()
    load_log_table(log.path, cache)  # rebuilt: same labels, another generation
    again = load_table_and_ids(log.path, cache).table.changes
    assert again.source != labels.source
    rows2, _of2, fresh2 = _kept_rows(again, changes, wrong, of)
    assert fresh2 and np.array_equal(rows2, label_rows(tuple(again), changes))
    assert sorted(rows2[rows2 >= 0].tolist()) == [0, 1]


def test_stats_without_a_summary_splits_no_change_label(demo_repo: Path, cli, monkeypatch) -> None:
    """No metric summary (a first `stats`, or one after the history moved): which changes are
    reviewed and each label's row are found in the column cache's text, never a string a
    change id; the figures are the plain run's (no cache at all, labels split)."""
    import json

    from tests.metrics_support import record_demo_verdicts

    record_demo_verdicts(demo_repo)
    state = demo_repo / ".git" / "reviewq"

    def run(*drop: str) -> dict:
        for name in drop:
            for found in state.rglob(name):
                found.unlink()
        proc = cli("stats", "--json", cwd=demo_repo)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        doc.pop("generated_at")
        doc["queue"].pop("oldest_pending_seconds")
        return doc

    plain = run("metric-summary.npz", columns.CACHE_NAME)  # stores the column cache

    def no_split(self):
        raise AssertionError("the change labels were split into strings")

    with monkeypatch.context() as m:
        m.setattr(LineLabels, "_all", no_split)
        fast = run("metric-summary.npz")
    assert fast == plain and fast["totals"]["verdicts"] > 0


def test_a_first_build_names_its_labels_by_the_generation_it_stores(tmp_path: Path) -> None:
    """The labels a first build returns are those its cache stores, text as it is: named by the
    stored generation, as a read of the cache names them (rows worked out on them are the
    cache's); labels stored joined anew (a tail appended) are not named by it."""
    log = ProvenanceLog(tmp_path / "log.jsonl")
    log.append_many([make_record(i) for i in range(6)])
    cache = tmp_path / "cols.npz"
    built = load_log_table(log.path, cache).table.changes
    read = load_table_and_ids(log.path, cache).table.changes
    assert isinstance(built, LineLabels) and isinstance(read, LineLabels)
    assert built.source is not None and built.source == read.source
    from dataclasses import replace

    loaded = load_table_and_ids(log.path, cache)
    grown = LineLabels(read.text, read.base_count, None, ("x" * 40,))
    table = replace(loaded.table, changes=grown)
    columns._named_labels(columns.LogColumns(table, loaded.ids, loaded.keys, loaded.key_lines), "g")
    assert grown.source is None
