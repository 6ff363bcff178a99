"""Properties: the pieces of the column cache's first build that work on plain arrays (issue
18) give what the plain Python steps give.

- change ids numbered by a 64-bit hash of their bytes (`_first_seen`) are numbered as
  `_factorize` numbers them, also when every hash collides (the bytes are then sorted);
- ids sorted and made unique by sorting (`_sorted_unique`) are `np.unique`'s;
- change ids as lines of text without a Python object each (`_lines`) are the joined lines;
- the reviewer and critique read as the decoder's structs (`_profiles_of`) give the profiles
  `_profiles` gives of the parsed dicts: objects, null, missing, members missing or odd;
- change ids an S array cannot keep exactly (not ASCII, a newline, a NUL, not a string) leave
  the block to the plain way, and a first build with them equals parsing every record;
- a worker's part handed back through a temporary file comes back whole, and no file is left.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.jsonio import parse_line
from reviewq.core.metrics.tables import TABLE_FIELDS, _factorize, _field, _profiles
from reviewq.store import verdict_columns
from reviewq.store.verdict_columns import load_log_table
from tests.properties.strategies import at_most, scratch_dir, verdict_records
from tests.properties.test_log_fast_paths_properties import _rows
from tests.properties.test_stats_fast_paths_properties import (
    _built_under,
    _log_lines,
    _patched,
    _reference,
    _same,
)

pytestmark = pytest.mark.property

labels = st.lists(
    st.sampled_from(["a", "bb", "", "0" * 40, "f" * 40, "abcdefgh", "abcdefghi", "x" * 17]),
    max_size=30,
)


@at_most(150)
@given(labels, st.booleans())
def test_first_seen_numbers_as_factorize(values: list[str], collide: bool) -> None:
    array = np.array(values, dtype=np.bytes_) if values else np.zeros(0, dtype="S1")
    with mock.patch.object(
        verdict_columns,
        "_row_hashes",
        (lambda a: np.zeros(len(a), dtype=np.uint64)) if collide else verdict_columns._row_hashes,
    ):
        codes, distinct = verdict_columns._first_seen(array)
    expected_codes, expected = _factorize(values)
    assert codes.tolist() == expected_codes.tolist()
    assert distinct.tolist() == [v.encode() for v in expected]


@at_most(100)
@given(labels)
def test_sorted_unique_is_np_unique(values: list[str]) -> None:
    array = np.array(values, dtype=np.bytes_) if values else np.zeros(0, dtype="S1")
    assert verdict_columns._sorted_unique(array).tolist() == np.unique(array).tolist()


@at_most(100)
@given(st.lists(st.sampled_from(["a", "bb", "", "0" * 40, "abc"]), min_size=1, max_size=12))
def test_labels_as_lines_are_the_joined_labels(values: list[str]) -> None:
    array = np.array(values, dtype=np.bytes_)
    assert verdict_columns._lines(array) == "\n".join(values).encode()


def test_labels_of_one_width_as_lines() -> None:
    """The fast way (every label fills the width) and a label shorter than the rest."""
    same = np.array(["ab" * 20, "cd" * 20, "ab" * 20], dtype=np.bytes_)
    assert verdict_columns._lines(same) == b"\n".join(same.tolist())
    mixed = np.array(["ab" * 20, "c"], dtype=np.bytes_)
    assert verdict_columns._lines(mixed) == b"ab" * 20 + b"\nc"


nested = st.one_of(
    st.just("absent"),
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "email": st.sampled_from(["r@x", "R@X ", "", None, 3]),
            "name": st.sampled_from(["R", "", None, True]),
            "family": st.sampled_from(["openai", "", None, 5]),
            "opened_before_verdict": st.sampled_from([True, False, None, 1, "true"]),
            "same_family_allowed": st.sampled_from([True, False, None, 0]),
            "other": st.just([1, {"a": 2}]),
        },
    ),
)


@at_most(150)
@given(st.lists(st.tuples(verdict_records(), nested, nested), min_size=1, max_size=8))
def test_profiles_of_structs_equal_profiles_of_dicts(rows: list[tuple]) -> None:
    lines = []
    for record, reviewer, critique in rows:
        body = dict(record)
        for name, value in (("reviewer", reviewer), ("critique", critique)):
            if value == "absent":
                body.pop(name, None)
            else:
                body[name] = value
        lines.append(json.dumps(body, separators=(",", ":")).encode())
    columns = verdict_columns._decoded(lines)
    assert columns is not None
    dicts = [parse_line(line) for line in lines]
    fields = {name: _field(dicts, name) for name in TABLE_FIELDS}
    expected = _profiles(
        fields["verdict"],
        fields["reviewer"],
        fields["author_family"],
        fields["agent"],
        fields["domain"],
        fields["critique"],
    )
    assert verdict_columns._profiles_of(columns) == expected


def test_a_reviewer_that_is_not_an_object_fails_the_decoder() -> None:
    """A string, a list or a number where the reviewer object belongs: the block goes the plain
    way (the decoder reads objects and null only)."""
    for value in ('"someone"', "[1]", "7"):
        line = b'{"verdict":"approve","reviewer":' + value.encode() + b"}"
        assert verdict_columns._decoded([line]) is None


def test_a_count_past_2_53_or_a_number_where_text_belongs_fails_the_decoder() -> None:
    """Integers past 2**53 may read differently (orjson, what `parse_line` uses, and msgspec),
    and a number where a string belongs is read by the plain way only: the block goes there."""
    assert verdict_columns._decoded([b'{"lines_changed":9007199254740991}']) is not None
    assert verdict_columns._decoded([b'{"lines_changed":-9007199254740991,"at":null}'])
    for line in (
        b'{"lines_changed":9007199254740992}',
        b'{"active_seconds":-9007199254740992}',
        b'{"hunks_total":true}',
        b'{"change_id":7}',
        b'{"agent":1.5}',
        b'{"hash":["x"]}',
    ):
        assert verdict_columns._decoded([line]) is None, line


odd_ids = st.sampled_from(["é", "a\nb", "a\x00", "\x00", "", 7, None, "ok" * 20, "x"])


@at_most(60)
@given(
    st.lists(st.tuples(verdict_records(), odd_ids), min_size=1, max_size=10),
    st.integers(64, 2048),
    st.integers(1, 3),
)
def test_a_first_build_with_change_ids_an_array_cannot_keep_equals_parsing_every_record(
    rows: list[tuple], block: int, workers: int
) -> None:
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        records = []
        for record, change_id in rows:
            records.append({**record, "change_id": change_id})
        path.write_bytes(b"".join(_log_lines(records, ["canonical"], 0, "0" * 64)))
        plain, _meta = _reference(path)
        patches = _patched(block, workers)
        built = _built_under(patches, path, 5)
        assert built is not None
        _same(built.columns, plain)
        # Stored and loaded back: the same columns again.
        cache = Path(tmp) / "cols.npz"
        first = load_log_table(path, cache)
        again = load_log_table(path, cache)
        assert _rows(first.table) == _rows(again.table) == _rows(plain.table)


def test_a_workers_part_comes_back_through_a_file_and_leaves_none(tmp_path: Path) -> None:
    records = [
        {
            "id": f"{i:032x}",
            "verdict": "approve",
            "at": "2026-01-01T00:00:00+01:00",
            "sha": f"{i:040x}",
            "patch_id": f"{i + 1:040x}",
            "change_id": f"{i:040x}",
            "reviewer": {"email": "r@x", "name": "R"},
            "critique": None,
            "active_seconds": 3,
            "lines_changed": 1,
            "hunks_total": 1,
            "hunks_viewed": 1,
        }
        for i in range(40)
    ]
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"".join(_log_lines(records, ["canonical"], 0, "0" * 64)))
    plain, _meta = _reference(path)
    spills = tmp_path / "spills"
    spills.mkdir()
    patches = [*_patched(512, 3), mock.patch.object(tempfile, "tempdir", str(spills))]
    for p in patches:
        p.start()
    try:
        built = verdict_columns._metric_columns_after(path, 0, path.stat().st_size, 1, 7)
        part = verdict_columns._metric_range(path, 0, path.stat().st_size, 1, 7)
        assert part is not None and isinstance(part.columns, verdict_columns._Part)
        name, meta = verdict_columns._spill(part.columns)
        back = verdict_columns._unspill(name, meta)
    finally:
        for p in patches:
            p.stop()
    assert built is not None
    _same(built.columns, plain)
    assert list(spills.iterdir()) == []
    for a, b in zip(verdict_columns._part_arrays(part.columns), verdict_columns._part_arrays(back)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert back.table.labels() == part.columns.table.labels()
