"""Properties: the log's fast readers give what the plain ones give, on random logs.

- the metric columns caught up from a cache across appends (the short-tail join that every
  reader pays right after a verdict) equal columns built from `intact_records()` in one go,
  figure for figure, id for id and key for key, with edited lines (failing their own hash)
  among the appended ones and a cache left by an older version;
- `log verify` split into byte ranges (on several processes) reports exactly what one pass
  reports, whatever the ranges' boundaries cut: edited lines, broken links, lines that are not
  JSON, records in the notes ref with another content, unsigned and signed records, a head
  that does not match, a torn tail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewq.core.metrics import CODED, COLUMNS, VerdictTable
from reviewq.core.verdict import SIG_GOOD, SignatureCheck, record_line, seal
from reviewq.store import log_verify, verdict_columns
from reviewq.store.flat_arrays import read_all, write_arrays
from reviewq.store.log import Head, ProvenanceLog
from reviewq.store.verdict_columns import load_log_table
from tests.properties.strategies import at_most, scratch_dir, verdict_records
from tests.verdict_kit import rehashed

pytestmark = pytest.mark.property


def _edited(line: bytes) -> bytes:
    """The line with its verdict changed and its hash not recomputed (or, failing that, its
    note): what every reader must ignore."""
    for a, b in ((b'"verdict":"approve"', b'"verdict":"reject"'),):
        if a in line:
            return line.replace(a, b, 1)
    return line.replace(b'"v":1', b'"v":2', 1)


def _lines(records: list[dict], edits: set[int], prev: str) -> tuple[list[bytes], str]:
    out = []
    for i, record in enumerate(records):
        sealed = seal(record, prev)
        prev = sealed["hash"]
        line = record_line(sealed)
        out.append(_edited(line) if i in edits else line)
    return out, prev


def _plain(path: Path) -> verdict_columns.LogColumns:
    return load_log_table(path, None)


def _rows(table: VerdictTable) -> list[tuple]:
    """Every row with its codes turned back into labels: what every figure is computed from
    (two tables may number their labels differently; the rows may not differ)."""
    columns = table.columns()
    labels = {name: np.array(values, dtype=object) for name, values in table.labels().items()}
    names = dict(zip(table.reviewers, table.reviewer_names))
    out = []
    for name in COLUMNS:
        column = columns[name]
        label = CODED.get(name)
        if label is not None and len(column):
            column = labels[label][column]
        out.append([repr(v) for v in column.tolist()])
    out.append([names[r] for r in labels["reviewers"][columns["reviewer"]]] if len(table) else [])
    return list(zip(*out))


def _same(fast: verdict_columns.LogColumns, plain: verdict_columns.LogColumns, path: Path):
    intact = ProvenanceLog(path).intact_records()[0]
    assert _rows(fast.table) == _rows(VerdictTable.from_records(intact))
    assert _rows(fast.table) == _rows(plain.table)
    assert fast.table.invalid == plain.table.invalid
    assert fast.ids.tolist() == sorted({r["id"].encode() for r in intact})
    assert np.array_equal(fast.keys, plain.keys)
    assert np.array_equal(fast.key_lines, plain.key_lines)


@at_most(40)
@given(
    st.lists(verdict_records(), min_size=1, max_size=12),
    st.lists(st.lists(verdict_records(), min_size=1, max_size=3), min_size=1, max_size=4),
    st.sets(st.integers(0, 30), max_size=4),
    st.booleans(),
)
def test_columns_caught_up_across_appends_equal_a_plain_read(
    first: list[dict], batches: list[list[dict]], edits: set[int], old_cache: bool
) -> None:
    with scratch_dir() as tmp:
        path, cache = Path(tmp) / "log.jsonl", Path(tmp) / "cols.npz"
        lines, prev = _lines(first, edits, "0" * 64)
        path.write_bytes(b"".join(lines))
        load_log_table(path, cache)  # stored: the cache now covers `first`
        if old_cache:
            # A cache from an older version: same file name, another version number.
            arrays, meta = read_all(cache)
            meta["version"] = verdict_columns.CACHE_VERSION - 1
            with open(cache, "wb") as fh:
                write_arrays(fh, arrays, meta)
        done = len(first)
        for batch in batches:
            more, prev = _lines(batch, {e - done for e in edits if e >= done}, prev)
            done += len(batch)
            with open(path, "ab") as fh:
                fh.write(b"".join(more))
            _same(load_log_table(path, cache), _plain(path), path)


# -- log verify in ranges ------------------------------------------------------------------------


def _checker(records: list[dict]) -> list[SignatureCheck]:
    return [
        SignatureCheck(SIG_GOOD if r["signature"].startswith("good") else "bad", "checked")
        for r in records
    ]


def _report(path: Path, notes, workers: int) -> dict:
    report = ProvenanceLog(path).verify(check_signatures=_checker, notes=notes, workers=workers)
    out = asdict(report)
    out["notes_in_log"] = sorted(out["notes_in_log"])
    return out


damage = st.sampled_from(["edit", "unlink", "not_json", "not_object", "signed", "badsig"])
#: Lines only a whole parse judges rightly, each with its own hash right: bytes that are not
#: UTF-8 in a string (refused), an encoded surrogate (json accepts it), chain fields of other
#: types, a duplicate member (the last counts), deep nesting, `NaN`.
odd_line = st.sampled_from(
    ["not_utf8", "surrogate", "odd_types", "duplicate", "deep", "nan", "not_object"]
)


_ODD = {
    "not_utf8": (b'"aa":"\xc0\x80",', b""),
    "surrogate": (b'"aa":"\xed\xa0\x80",', b""),
    "odd_types": (b'"id":7,"prev":1.0,"signature":false,', b""),
    "duplicate": (b'"prev":"' + b"0" * 64 + b'",', b',"signature":"x","signature":null'),
    "deep": (b'"aa":' + b"[" * 3000 + b"]" * 3000 + b",", b""),
    "nan": (b'"aa":NaN,', b""),
}


def _damaged_log(
    path: Path,
    records: list[dict],
    damaged: dict[int, str],
    head_kind: str,
    torn: bool,
    in_notes: list[int],
) -> dict:
    """A log of `records` with the lines named in `damaged` damaged, its head as `head_kind`
    says, a torn tail or not; returns the notes ref's copies of the records in `in_notes`."""
    lines: list[bytes] = []
    sealed_all: list[dict] = []
    prev = "0" * 64
    for i, record in enumerate(records):
        kind = damaged.get(i)
        if kind in ("signed", "badsig"):
            record = {**record, "signature": "good-sig" if kind == "signed" else "forged"}
        sealed = seal(record, prev)
        sealed_all.append(sealed)
        line = record_line(sealed)
        if kind == "edit":
            line = _edited(line)
        elif kind == "unlink":
            line = record_line({**sealed, "prev": "f" * 64})
        elif kind == "not_json":
            line = line[: len(line) // 2] + b"\n"
        elif kind == "not_object":
            line = b"[1,2]\n"
        elif kind in _ODD:
            line = rehashed(line, *_ODD[kind])
        prev = sealed["hash"]
        lines.append(line)
    data = b"".join(lines)
    path.write_bytes(data + (b'{"torn":' if torn else b""))
    log = ProvenanceLog(path)
    n = len(sealed_all)
    if head_kind == "ok":
        log._write_head(Head(n, len(data), sealed_all[-1]["hash"]))
    elif head_kind == "short":
        log._write_head(
            Head(max(1, n - 1), len(b"".join(lines[:-1])), sealed_all[-2 if n > 1 else 0]["hash"])
        )
    elif head_kind == "long":
        log._write_head(Head(n + 2, len(data) + 50, "e" * 64))
    elif head_kind == "rewritten":
        log._write_head(Head(n, len(data) - 1, sealed_all[-1]["hash"]))
    notes = {}
    for i in in_notes:
        if i < n:
            copy = dict(sealed_all[i])
            if i % 2:
                copy["note"] = "changed on the other side"
            notes[copy["id"]] = copy
    return notes


@at_most(40)
@given(
    st.lists(verdict_records(), min_size=1, max_size=14),
    st.dictionaries(st.integers(0, 13), damage, max_size=4),
    st.sampled_from(["ok", "short", "long", "none", "rewritten"]),
    st.booleans(),
    st.lists(st.integers(0, 13), max_size=3),
    st.integers(2, 5),
)
def test_verify_in_ranges_reports_what_one_pass_reports(
    records: list[dict],
    damaged: dict[int, str],
    head_kind: str,
    torn: bool,
    in_notes: list[int],
    workers: int,
) -> None:
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        notes = _damaged_log(path, records, damaged, head_kind, torn, in_notes)
        one = _report(path, notes or None, 1)
        assert _report(path, notes or None, workers) == one
        assert _report(path, None, workers) == _report(path, None, 1)


@at_most(40)
@given(
    st.lists(verdict_records(), min_size=1, max_size=10),
    st.dictionaries(st.integers(0, 9), st.one_of(damage, odd_line), max_size=4),
    st.sampled_from(["ok", "short", "none"]),
    st.lists(st.integers(0, 9), max_size=4),
    st.booleans(),
)
def test_reading_only_the_chain_fields_reports_what_parsing_whole_lines_reports(
    records: list[dict],
    damaged: dict[int, str],
    head_kind: str,
    in_notes: list[int],
    signatures: bool,
) -> None:
    """The pass reads each line's id, hash, prev and signature alone when its range is large
    (`log_verify._heads`), and parses whole lines otherwise: the same report either way,
    whatever the lines hold (odd ones included: each goes the whole way when the decoder
    might read it otherwise)."""
    with scratch_dir() as tmp:
        path = Path(tmp) / "log.jsonl"
        notes = _damaged_log(path, records, damaged, head_kind, False, in_notes)
        checker = _checker if signatures else None
        reports = []
        for heads_bytes in (0, 1 << 62):
            with _heads_from(heads_bytes):
                report = ProvenanceLog(path).verify(
                    check_signatures=checker, notes=notes or None, workers=1
                )
            out = asdict(report)
            out["notes_in_log"] = sorted(out["notes_in_log"])
            reports.append(out)
        assert reports[0] == reports[1]


@contextmanager
def _heads_from(size: int) -> Iterator[None]:
    """`log_verify.HEADS_BYTES` set to `size` for the block (0: every range reads the heads)."""
    before = log_verify.HEADS_BYTES
    log_verify.HEADS_BYTES = size
    try:
        yield
    finally:
        log_verify.HEADS_BYTES = before
