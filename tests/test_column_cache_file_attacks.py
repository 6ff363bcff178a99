"""The column caches are files of arrays (`store/flat_arrays.py`): uncompressed, each array read
on its own, checked by its CRC-32. What someone with a local shell, or a crash, gets by
changing one: the cache is not trusted and is rebuilt from the log; every reader still sees
exactly what a plain read of the log gives. (A file rewritten consistently, fresh checksums
and all, is not detected: `test_key_index_attacks.py` and docs/provenance.md.)"""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from reviewq.core.metrics import APPROVE, COLUMNS, LABELS
from reviewq.store import verdict_columns
from reviewq.store.flat_arrays import MAGIC, open_arrays, read_all, write_arrays
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import (
    CACHE_NAME,
    RECORDS_CACHE_NAME,
    load_log_records,
    load_log_table,
    load_table_after_cache,
    load_table_and_ids,
    load_verdict_table,
)
from tests.verdict_kit import make_record


def _log(path: Path, count: int, verdict: str = "changes", first: int = 0) -> ProvenanceLog:
    log = ProvenanceLog(path)
    log.append_many([make_record(first + i, verdict=verdict) for i in range(count)])
    return log


def _same_table(a, b) -> None:
    assert len(a) == len(b)
    for name in COLUMNS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name in LABELS:
        assert list(getattr(a, name)) == list(getattr(b, name)), name


def _every_reader_is_plain(log: ProvenanceLog, cache: Path) -> None:
    plain = load_log_table(log.path, None)
    _same_table(load_verdict_table(log.path, cache), plain.table)
    _same_table(load_table_and_ids(log.path, cache).table, plain.table)
    found = load_table_after_cache(log.path, cache)
    if found is not None:
        _same_table(found[0].table, plain.table)
    full = load_log_table(log.path, cache)
    _same_table(full.table, plain.table)
    assert np.array_equal(full.ids, plain.ids)


@pytest.fixture
def log(tmp_path: Path) -> ProvenanceLog:
    return _log(tmp_path / "log.jsonl", 300)


def _stored(log: ProvenanceLog, tmp_path: Path) -> Path:
    cache = tmp_path / CACHE_NAME
    load_log_table(log.path, cache)
    assert cache.read_bytes().startswith(MAGIC)
    return cache


def test_the_cache_is_a_file_of_arrays_and_the_fast_reads_use_it(log, tmp_path: Path) -> None:
    cache = _stored(log, tmp_path)
    # A short tail: read through the cache (not rebuilt), with the tail joined after it.
    log.append(make_record(300, verdict="approve"))
    found = load_table_after_cache(log.path, cache)
    assert found is not None and found[1] < log.path.stat().st_size
    _every_reader_is_plain(log, cache)


def test_a_cache_with_every_row_made_an_approval_is_rebuilt(log, tmp_path: Path) -> None:
    cache = _stored(log, tmp_path)
    with open_arrays(cache) as data:
        at, size = data.span("verdict")
    body = bytearray(cache.read_bytes())
    body[at : at + size] = bytes([APPROVE]) * size
    cache.write_bytes(bytes(body))
    assert load_table_after_cache(log.path, cache) is None  # not read: the full load is due
    assert int((load_verdict_table(log.path, cache).verdict == APPROVE).sum()) == 0
    _every_reader_is_plain(log, cache)


@pytest.mark.parametrize("keep", [0, 10, 30, 200, -1])
def test_a_truncated_cache_is_rebuilt(log, tmp_path: Path, keep: int) -> None:
    cache = _stored(log, tmp_path)
    body = cache.read_bytes()
    cache.write_bytes(body[:keep] if keep >= 0 else body[:-1])
    assert load_table_after_cache(log.path, cache) is None
    _every_reader_is_plain(log, cache)
    assert load_table_after_cache(log.path, cache) is not None  # stored again, whole


def test_an_edited_header_is_rebuilt(log, tmp_path: Path) -> None:
    """The meta claims more of the log is covered than was (its checksum not recomputed)."""
    cache = _stored(log, tmp_path)
    body = cache.read_bytes()
    at = body.index(b'"lines": 300')
    cache.write_bytes(body[:at] + b'"lines": 100' + body[at + 12 :])
    assert load_table_after_cache(log.path, cache) is None
    _every_reader_is_plain(log, cache)


def test_an_array_swapped_in_from_another_cache_is_rebuilt(log, tmp_path: Path) -> None:
    """The `verdict` bytes of another log's cache (all approvals) put in place of this one's."""
    cache = _stored(log, tmp_path)
    other = _log(tmp_path / "other" / "log.jsonl", 300, verdict="approve", first=1000)
    other_cache = tmp_path / "other" / CACHE_NAME
    load_log_table(other.path, other_cache)
    with open_arrays(other_cache) as data:
        at, size = data.span("verdict")
    theirs = other_cache.read_bytes()[at : at + size]
    with open_arrays(cache) as data:
        at, size = data.span("verdict")
    assert len(theirs) == size
    body = bytearray(cache.read_bytes())
    body[at : at + size] = theirs
    cache.write_bytes(bytes(body))
    assert load_table_after_cache(log.path, cache) is None
    assert int((load_verdict_table(log.path, cache).verdict == APPROVE).sum()) == 0
    _every_reader_is_plain(log, cache)


def test_a_cache_from_another_log_is_not_used(log, tmp_path: Path) -> None:
    """A whole cache file of another log (consistent in itself) copied over this one's."""
    cache = _stored(log, tmp_path)
    other = _log(tmp_path / "other" / "log.jsonl", 60, verdict="approve", first=1000)
    load_log_table(other.path, tmp_path / "other" / CACHE_NAME)
    shutil.copyfile(tmp_path / "other" / CACHE_NAME, cache)
    assert load_table_after_cache(log.path, cache) is None
    assert int((load_verdict_table(log.path, cache).verdict == APPROVE).sum()) == 0
    _every_reader_is_plain(log, cache)


def test_an_object_array_is_never_read(log, tmp_path: Path) -> None:
    """A header naming an object dtype (a pickle, were it loaded as one) fails the read."""
    cache = _stored(log, tmp_path)
    arrays, meta = read_all(cache)
    with open(cache, "wb") as fh:
        write_arrays(fh, arrays, meta)
    body = cache.read_bytes()
    length = int.from_bytes(body[len(MAGIC) : len(MAGIC) + 8], "little")
    header = json.loads(body[len(MAGIC) + 16 : len(MAGIC) + 16 + length])
    header["arrays"][0]["dtype"] = "|O"
    forged = json.dumps(header).encode()
    forged += b" " * (length - len(forged))
    prefix = MAGIC + length.to_bytes(8, "little") + zlib.crc32(forged).to_bytes(8, "little")
    cache.write_bytes(prefix + forged + body[len(MAGIC) + 16 + length :])
    with pytest.raises(ValueError, match="not read"), open_arrays(cache) as data:
        data[data.files[0]]
    _every_reader_is_plain(log, cache)
    with pytest.raises(ValueError), open(tmp_path / "x", "wb") as fh:
        write_arrays(fh, {"o": np.array([object()])}, {})


def test_the_records_cache_is_checked_the_same_way(log, tmp_path: Path) -> None:
    cache = tmp_path / RECORDS_CACHE_NAME
    plain = load_log_records(log.path, None)
    load_log_records(log.path, cache)
    with open_arrays(cache) as data:
        name = next(n for n in data.files if n.startswith("n_"))
        at, size = data.span(name)
    body = bytearray(cache.read_bytes())
    body[at : at + size] = b"\x07" * size
    cache.write_bytes(bytes(body))
    again = load_log_records(log.path, cache)
    assert again.to_arrays().keys() == plain.to_arrays().keys()
    for key, value in plain.to_arrays().items():
        assert np.array_equal(again.to_arrays()[key], value), key


def test_the_npz_of_an_earlier_version_is_removed_when_the_cache_is_stored(
    log, tmp_path: Path
) -> None:
    old = tmp_path / "verdict-columns.npz"
    old.write_bytes(b"PK an old cache")
    _stored(log, tmp_path)
    assert not old.exists()
    assert verdict_columns.LEGACY_NAMES[CACHE_NAME] == ("verdict-columns.npz",)


def test_columns_a_file_of_arrays_cannot_hold_mean_no_cache(log, tmp_path: Path, monkeypatch):
    real = verdict_columns._metric_arrays

    def with_objects(columns):
        arrays, meta = real(columns)
        return {**arrays, "odd": np.array([object()])}, meta

    monkeypatch.setattr(
        verdict_columns,
        "_METRIC_COLUMNS",
        verdict_columns.replace(verdict_columns._METRIC_COLUMNS, to_arrays=with_objects),
    )
    cache = tmp_path / CACHE_NAME
    _same_table(load_log_table(log.path, cache).table, load_log_table(log.path, None).table)
    assert not cache.exists() and not list(tmp_path.glob(".verdict-columns-*"))
