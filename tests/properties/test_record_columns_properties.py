"""Property: the log as `RecordColumns` gives back exactly what parsing its lines gives.

Exactly means types too: `1`, `1.0` and `true` compare equal in Python but are three different
records, so records are compared through their JSON text (key order included). Lines are the
contract's canonical records (kept in columns) mixed with every kind of odd line a log may
meet: later versions' extra fields, integers where seconds are floats, keys out of order, lone
surrogates, integers beyond 64 bits, JSON that is not an object (kept verbatim).
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.jsonio import parse_line
from reviewq.core.record_columns import FIELDS, RecordColumns
from reviewq.core.verdict import record_line, record_order, seal
from tests.properties.strategies import at_most, json_value, verdict_records
from tests.verdict_kit import make_record

pytestmark = pytest.mark.property


def _canonical_line(record: dict) -> bytes:
    return record_line(seal(record, "0" * 64))


@st.composite
def odd_lines(draw) -> bytes:
    """A line that parses, but not into a canonical record."""
    record = seal(draw(verdict_records()), "0" * 64)
    kind = draw(
        st.sampled_from(
            ["int_seconds", "unsorted", "surrogate", "huge", "missing", "null", "not_object"]
        )
    )
    if kind == "int_seconds":
        record["active_seconds"] = draw(st.integers(0, 10**6))
    elif kind == "unsorted":
        return json.dumps(dict(reversed(list(record.items())))).encode()
    elif kind == "surrogate":
        record[draw(st.sampled_from(["note", "agent", "reviewer"]))] = "a\ud800b"
        return json.dumps(record, sort_keys=True).encode()  # ASCII escapes carry it
    elif kind == "huge":
        record[draw(st.sampled_from(["lines_changed", "v", "note"]))] = 2**70
    elif kind == "missing":
        record.pop(draw(st.sampled_from(sorted(record))))
    elif kind == "null":
        record[draw(st.sampled_from(["lines_changed", "active_seconds", "hash"]))] = None
    else:
        return json.dumps(draw(json_value)).encode()
    return json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8")


lines_strategy = st.lists(
    st.one_of(verdict_records().map(_canonical_line), odd_lines()), max_size=8
)


def _written_as(record: dict, line: bytes) -> bool:
    """Is `line` what `record_line` writes for `record`?"""
    try:
        return record_line(record).rstrip(b"\n") == line.rstrip(b"\n")
    except UnicodeEncodeError:  # a lone surrogate: record_line cannot write it
        return False


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


@at_most(1_000)
@given(lines_strategy, st.data())
def test_columns_give_back_every_record_exactly(lines: list[bytes], data) -> None:
    parsed = [parse_line(line) for line in lines]
    table = RecordColumns.build(parsed, lines)
    assert len(table) == len(parsed)
    assert _text(table.rows()) == _text(parsed)
    # Any selection, in any order, row by row or at once.
    if parsed:
        picks = data.draw(st.lists(st.integers(0, len(parsed) - 1), max_size=6))
        assert _text(table.rows(picks)) == _text([parsed[i] for i in picks])
        assert _text([table.row(i) for i in picks]) == _text([parsed[i] for i in picks])
    for name in ("at", "reviewer", "lines_changed", "active_seconds", "note", "v"):
        expected = [r.get(name) if type(r) is dict else None for r in parsed]
        assert _text(table.column(name)) == _text(expected)
    expected_epoch = [record_order(r)[0] if type(r) is dict else 0.0 for r in parsed]
    assert table.epoch.tolist() == expected_epoch
    # Every record as `record_line` writes it lives in the columns (odd ones may too, when
    # their values fit: a lone surrogate in a note).
    canonical = {
        i
        for i, r in enumerate(parsed)
        if type(r) is dict and tuple(r) == FIELDS and _written_as(r, lines[i])
    }
    assert not set(table.raw_rows.tolist()) & canonical


@at_most(1_000)
@given(lines_strategy, st.lists(st.integers(0, 8), max_size=3))
def test_chunks_joined_and_stored_equal_one_build(lines: list[bytes], cuts: list[int]) -> None:
    parsed = [parse_line(line) for line in lines]
    bounds = sorted({0, len(lines), *(min(c, len(lines)) for c in cuts)})
    parts = [RecordColumns.build(parsed[a:b], lines[a:b]) for a, b in pairwise(bounds)]
    joined = RecordColumns.concat(parts)
    stored = RecordColumns.from_arrays(joined.to_arrays().__getitem__)
    for table in (joined, stored):
        assert _text(table.rows()) == _text(parsed)
        assert np.array_equal(table.epoch, RecordColumns.build(parsed, lines).epoch)


def test_rows_are_fresh_objects() -> None:
    """A caller that edits one row's reviewer must not edit every row that shares it."""
    line = _canonical_line(make_record(1))
    table = RecordColumns.build([parse_line(line)] * 2, [line] * 2)
    first, second = table.rows()
    first["reviewer"]["name"] = "changed"
    assert second["reviewer"]["name"] != "changed"
    assert table.row(1)["reviewer"]["name"] != "changed"


def test_arrays_that_do_not_fit_are_refused() -> None:
    line = _canonical_line(make_record(1))
    arrays = RecordColumns.build([parse_line(line)], [line]).to_arrays()
    arrays["t_note_offsets"] = arrays["t_note_offsets"][:1]
    with pytest.raises(ValueError):
        RecordColumns.from_arrays(arrays.__getitem__)
    del arrays["n"]
    with pytest.raises(ValueError):
        RecordColumns.from_arrays(arrays.__getitem__)
