"""A first build's column cache written in a thread (`STORE_IN_BACKGROUND`, what `stats`
sets): the same file as a store in the caller's thread, every read of a cache waits for it, a
failure in the thread is raised where the caller waits, and `stats` leaves the cache written
when it ends."""

from __future__ import annotations

import dataclasses
import json
import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from reviewq.core.metrics import COLUMNS, LABELS
from reviewq.store import flat_arrays, verdict_columns
from reviewq.store.flat_arrays import read_all, write_arrays
from reviewq.store.log import ProvenanceLog
from reviewq.store.verdict_columns import (
    CACHE_NAME,
    STORE_IN_BACKGROUND,
    load_log_table,
    load_table_after_cache,
    wait_stored,
)
from tests.verdict_kit import make_record


def _log(path: Path, count: int) -> ProvenanceLog:
    log = ProvenanceLog(path)
    log.append_many(
        [make_record(i, verdict="approve" if i % 3 else "reject") for i in range(count)]
    )
    return log


def _same(a, b) -> None:
    assert len(a.table) == len(b.table)
    for name in COLUMNS:
        assert np.array_equal(getattr(a.table, name), getattr(b.table, name)), name
    for name in LABELS:
        assert list(getattr(a.table, name)) == list(getattr(b.table, name)), name
    assert np.array_equal(a.ids, b.ids)
    assert np.array_equal(a.keys, b.keys)
    assert np.array_equal(a.key_lines, b.key_lines)


def _building_in_background(log: ProvenanceLog, cache: Path):
    """`load_log_table` with its cache written in a thread, not waited for."""
    token = STORE_IN_BACKGROUND.set(True)
    try:
        return load_log_table(log.path, cache)
    finally:
        STORE_IN_BACKGROUND.reset(token)


def _built(log: ProvenanceLog, cache: Path, background: bool):
    try:
        return (
            _building_in_background(log, cache) if background else load_log_table(log.path, cache)
        )
    finally:
        wait_stored()


def _without_generation(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k != "generation"}


def test_a_cache_written_in_a_thread_is_the_same_file(tmp_path: Path):
    log = _log(tmp_path / "log.jsonl", 300)
    here, there = tmp_path / "here.arrays", tmp_path / "there.arrays"
    _same(_built(log, here, False), _built(log, there, True))
    arrays_here, meta_here = read_all(here)
    arrays_there, meta_there = read_all(there)
    assert _without_generation(meta_here) == _without_generation(meta_there)
    assert list(arrays_here) == list(arrays_there)
    for name in arrays_here:
        assert arrays_here[name].dtype == arrays_there[name].dtype, name
        assert np.array_equal(arrays_here[name], arrays_there[name]), name
    # Read back, both give what a plain read of the log gives.
    _same(load_log_table(log.path, there), load_log_table(log.path, None))


def test_write_arrays_consuming_its_dict_writes_the_same_arrays(tmp_path: Path):
    """Each array written and let go in turn, the header (with the CRCs) written last in the
    room kept for it: every reader reads the same arrays and meta, and a byte changed in an
    array or the header is still caught."""
    arrays = {
        "a": np.arange(1000, dtype=np.int64),
        "b": np.array([b"x", b"yz"], dtype="S2"),
        "c": np.zeros(0, dtype=np.float64),
        "d": np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2],  # not contiguous
        "e": np.array([True, False, True]),
    }
    meta = {"m": 1, "text": "é" * 300}
    kept, consumed = tmp_path / "kept", tmp_path / "consumed"
    with open(kept, "wb") as fh:
        write_arrays(fh, dict(arrays), meta)
    given = dict(arrays)
    with open(consumed, "wb") as fh:
        write_arrays(fh, given, meta, consume=True)
    assert given == {}
    plain, plain_meta = read_all(kept)
    back, back_meta = read_all(consumed)
    assert back_meta == plain_meta == meta
    assert list(back) == list(plain) == list(arrays)
    for name in arrays:
        assert back[name].dtype == plain[name].dtype and np.array_equal(back[name], plain[name])
    data = bytearray(consumed.read_bytes())
    base = 24 + int.from_bytes(data[8:16], "little")  # where the arrays start
    for at in (30, base + 8):  # in the header, in the first array
        broken = bytearray(data)
        broken[at] ^= 1
        consumed.write_bytes(bytes(broken))
        with pytest.raises(ValueError):
            read_all(consumed)
    with open(consumed, "wb") as fh, pytest.raises(ValueError):
        write_arrays(fh, {"o": np.array([object()])}, {}, consume=True)


def _slow_writes(monkeypatch: pytest.MonkeyPatch, started: threading.Event) -> None:
    real = flat_arrays.write_arrays

    def slow(fh, arrays, meta, **kw):
        started.set()
        time.sleep(0.3)
        return real(fh, arrays, meta, **kw)

    monkeypatch.setattr(verdict_columns, "write_arrays", slow)


def test_a_read_while_the_cache_is_written_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without the wait, the second read finds no cache yet and builds it all again (and a
    reader of the table alone finds none)."""
    log = _log(tmp_path / "log.jsonl", 200)
    cache = tmp_path / CACHE_NAME
    started = threading.Event()
    _slow_writes(monkeypatch, started)
    first = _building_in_background(log, cache)
    assert started.wait(5)
    builds = []
    real_after = verdict_columns._metric_columns_after

    def counted(*args, **kw):
        builds.append(args[1])
        return real_after(*args, **kw)

    monkeypatch.setattr(
        verdict_columns,
        "_METRIC_COLUMNS",
        dataclasses.replace(verdict_columns._METRIC_COLUMNS, read_range=counted),
    )
    found = load_table_after_cache(log.path, cache)
    assert found is not None  # the cache, written whole before it was read
    again = load_log_table(log.path, cache)
    assert builds == [log.path.stat().st_size]  # the tail after the cache: nothing rebuilt
    _same(again, first)
    wait_stored()


def test_a_failure_in_the_thread_is_raised_where_the_caller_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    log = _log(tmp_path / "log.jsonl", 50)

    def broken(fh, arrays, meta, **kw):
        raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(verdict_columns, "write_arrays", broken)
    _building_in_background(log, tmp_path / CACHE_NAME)
    with pytest.raises(RuntimeError, match="a bug in the writer"):
        wait_stored()
    wait_stored()  # raised once
    assert not (tmp_path / CACHE_NAME).exists()
    assert not list(tmp_path.glob(".verdict-columns-*"))  # no temporary file left


def test_a_place_that_cannot_be_written_is_no_cache_in_a_thread_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    log = _log(tmp_path / "log.jsonl", 50)

    def full(fh, arrays, meta, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(verdict_columns, "write_arrays", full)
    built = _built(log, tmp_path / CACHE_NAME, True)  # waits: nothing raised
    assert not (tmp_path / CACHE_NAME).exists()
    _same(built, load_log_table(log.path, None))


def test_stats_leaves_the_cache_written(demo_repo: Path, cli, monkeypatch):
    """`stats` writes a first build's cache in a thread; it is there, whole, once the
    command is done (and the next `stats` reads it, building nothing)."""
    state = demo_repo / ".git" / "reviewq"
    _log(state / "log.jsonl", 120)
    assert not (state / CACHE_NAME).exists()
    started = threading.Event()
    _slow_writes(monkeypatch, started)
    first = cli("stats", "--json", cwd=demo_repo)
    assert started.is_set()
    assert (state / CACHE_NAME).exists()
    assert not list(state.glob(".verdict-columns-*"))
    log = state / "log.jsonl"
    _same(load_log_table(log, state / CACHE_NAME), load_log_table(log, None))
    second = cli("stats", "--json", cwd=demo_repo)
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout)["totals"] == json.loads(second.stdout)["totals"]


def test_the_full_path_writes_the_cache_before_the_history_is_scanned(
    demo_repo: Path, cli, monkeypatch: pytest.MonkeyPatch
):
    """With no figures summary (the full path), the history's changes are made after the
    cache is written: its arrays are not held beside them (a first build's memory)."""
    import reviewq.workflow.stats as workflow_stats

    state = demo_repo / ".git" / "reviewq"
    _log(state / "log.jsonl", 80)
    (state / "metric-summary.npz").unlink(missing_ok=True)
    started = threading.Event()
    _slow_writes(monkeypatch, started)
    seen = []
    real = workflow_stats.scan_history

    def scan(*args, **kw):
        seen.append(((state / CACHE_NAME).exists(), list(verdict_columns._STORING)))
        return real(*args, **kw)

    monkeypatch.setattr(workflow_stats, "scan_history", scan)
    assert cli("stats", "--json", cwd=demo_repo).returncode == 0
    assert started.is_set()
    assert seen == [(True, [])]


def test_a_spilled_part_is_mapped_back_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`_unspill` maps the worker's arrays (copy on write) instead of reading them: the same
    arrays, empty ones too, the file gone at once, and a write to one changes no other."""
    monkeypatch.setattr(verdict_columns, "SPILL_DIR", str(tmp_path))
    log = _log(tmp_path / "log.jsonl", 60)
    built = verdict_columns._metric_range(log.path, 0, log.path.stat().st_size, 1, 25)
    assert built is not None and isinstance(built.columns, verdict_columns._Part)
    part = verdict_columns._settle(built.columns)
    empty = dataclasses.replace(
        part,
        keys=np.zeros(0, dtype=np.uint64),
        key_lines=np.zeros(0, dtype=np.int64),
        ids=np.zeros(0, dtype="S1"),
    )
    for given in (part, empty):
        name, meta = verdict_columns._spill(given)
        back = verdict_columns._unspill(name, meta)
        assert not Path(name).exists()
        arrays = verdict_columns._part_arrays(given)
        for a, b in zip(arrays, verdict_columns._part_arrays(back), strict=True):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
            assert type(b) is np.ndarray
        assert back.table.labels() == given.table.labels()
        assert back.settled == given.settled
    again = verdict_columns._unspill(*verdict_columns._spill(part))
    again.keys[:] = 0  # copy on write: the mapping's own pages only
    assert not np.array_equal(again.keys, part.keys) or not part.keys.any()
    assert not list(tmp_path.glob(".reviewq-columns-*"))


def _spill_place(tmp_path: Path) -> Path:
    """Where `_spill` puts a small settled part now (the file is read back and gone after)."""
    log = _log(tmp_path / "log.jsonl", 12)
    built = verdict_columns._metric_range(log.path, 0, log.path.stat().st_size, 1, 5)
    assert built is not None
    name, meta = verdict_columns._spill(verdict_columns._settle(built.columns))
    try:
        return Path(name).parent
    finally:
        verdict_columns._unspill(name, meta)
        assert not Path(name).exists()


@pytest.mark.parametrize("named", ["TMPDIR", "TEMP", "TMP"])
def test_a_spilled_part_goes_to_memory_unless_a_temporary_directory_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: str
):
    """A worker's part is handed over through `SPILL_DIR` (tmpfs: a disk file's first write
    of fresh pages was the slow part of the hand-over); a directory the user names for
    temporary files wins, and so does tempfile's own place when `SPILL_DIR` has no room for
    twice the part or is not there."""
    import os
    import tempfile

    memory, named_dir = tmp_path / "shm", tmp_path / "named"
    memory.mkdir()
    named_dir.mkdir()
    monkeypatch.setattr(verdict_columns, "SPILL_DIR", str(memory))
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    assert _spill_place(tmp_path) == memory
    monkeypatch.setenv(named, str(named_dir))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read the environment again
    assert _spill_place(tmp_path) == named_dir
    monkeypatch.delenv(named)
    monkeypatch.setattr(tempfile, "tempdir", str(named_dir))
    real = os.statvfs

    def cramped(path):
        got = real(path)
        return os.statvfs_result((*got[:4], 0, *got[5:])) if path == str(memory) else got

    monkeypatch.setattr(os, "statvfs", cramped)  # f_bavail: no room
    assert _spill_place(tmp_path) == named_dir
    monkeypatch.setattr(os, "statvfs", real)
    monkeypatch.setattr(verdict_columns, "SPILL_DIR", str(tmp_path / "gone"))
    assert _spill_place(tmp_path) == named_dir
    assert not list(tmp_path.rglob(".reviewq-columns-*"))


def test_a_worker_whose_hand_over_file_cannot_be_written_sends_its_part_pickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """No room for the worker's file (a full /dev/shm or /tmp): its part comes back in the
    pool's answer instead, the same columns as through the file."""
    import errno

    log = _log(tmp_path / "log.jsonl", 40)
    size = log.path.stat().st_size
    monkeypatch.setattr(verdict_columns, "_RANGES", (log.path, [(0, size // 2), (0, size)], 7))
    monkeypatch.setattr(verdict_columns, "SPILL_DIR", str(tmp_path))
    through_file = verdict_columns._received(verdict_columns._range_worker(1))

    def full(nbytes):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verdict_columns, "_spill_file", full)
    built = verdict_columns._range_worker(1)
    assert isinstance(built.columns, verdict_columns._Part)
    pickled = verdict_columns._received(pickle.loads(pickle.dumps(built)))
    for a, b in zip(
        verdict_columns._part_arrays(through_file.columns),
        verdict_columns._part_arrays(pickled.columns),
        strict=True,
    ):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert through_file.columns.table.labels() == pickled.columns.table.labels()
    assert not list(tmp_path.glob(".reviewq-columns-*"))


def test_a_range_worker_builds_with_small_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The worker's sorts and joins run with numpy's huge-page marking off (`heap.small_pages`),
    and the setting is back as it was once the worker's range is built."""
    from reviewq import heap

    switch = heap._huge_page_switch()
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    seen = []

    def range_(*args, **kwargs):
        seen.append(switch(False))  # the call answers the setting it replaces
        return None

    log = _log(tmp_path / "log.jsonl", 5)
    monkeypatch.setattr(verdict_columns, "_metric_range", range_)
    monkeypatch.setattr(verdict_columns, "_RANGES", (log.path, [(0, 1), (1, 2)], 5))
    before = switch(True)
    try:
        assert verdict_columns._range_worker(1) is None
        assert seen == [False]
        assert switch(True) is True
    finally:
        switch(before)


def test_only_export_keeps_the_changes_themselves(demo_repo: Path):
    """`gather` keeps the history's changes (`change_list`) for `export` alone: `stats` and
    `report` do not hold them through the figures (a first build's memory peaks there)."""
    from reviewq.context import Context
    from reviewq.workflow.stats import gather

    _log(demo_repo / ".git" / "reviewq" / "log.jsonl", 30)
    ctx = Context.open(demo_repo)
    try:
        (ctx.state_dir / "metric-summary.npz").unlink(missing_ok=True)
        assert gather(ctx).change_list is None
        full = gather(ctx, full=True).change_list
        assert full and all(hasattr(c, "authorship") for c in full)
    finally:
        ctx.close()


def test_two_threads_waiting_both_wait_for_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A reader in another thread waiting at the same time (the table prefetch's, say) does
    not make this one's wait return before the cache is written."""
    log = _log(tmp_path / "log.jsonl", 40)
    cache = tmp_path / CACHE_NAME
    started = threading.Event()
    _slow_writes(monkeypatch, started)
    _building_in_background(log, cache)
    assert started.wait(5)
    seen = {}

    def other() -> None:
        wait_stored()
        seen["other"] = cache.exists()

    waiter = threading.Thread(target=other)
    waiter.start()
    time.sleep(0.05)  # the other thread is waiting first
    wait_stored()
    seen["this"] = cache.exists()
    waiter.join()
    assert seen == {"other": True, "this": True}


def test_a_reader_waiting_while_a_write_starts_never_joins_an_unstarted_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A team's repositories are read in parallel threads: one waits for the written caches
    (`wait_stored`) at the very moment another starts its write. Before, the write was listed
    before its thread started, and that wait raised "cannot join thread before it is
    started" (seen in `test_team_report.py`)."""
    log = _log(tmp_path / "log.jsonl", 40)
    cache = tmp_path / CACHE_NAME
    real_start = threading.Thread.start
    errors: list[BaseException] = []

    def waiter() -> None:
        try:
            wait_stored()
        except BaseException as exc:  # what the other thread ran into
            errors.append(exc)

    def start_late(self) -> None:
        if self.name == "reviewq-store-columns":
            other = threading.Thread(target=waiter)
            real_start(other)
            other.join(0.3)  # it waits now, while this write is not started yet
            real_start(self)
            other_threads.append(other)
        else:
            real_start(self)

    other_threads: list[threading.Thread] = []
    monkeypatch.setattr(threading.Thread, "start", start_late)
    _building_in_background(log, cache)
    monkeypatch.setattr(threading.Thread, "start", real_start)
    wait_stored()
    for other in other_threads:
        other.join(5)
    assert other_threads and errors == []
    assert cache.exists()


def test_no_thread_to_be_had_writes_the_cache_where_it_was_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    log = _log(tmp_path / "log.jsonl", 40)
    cache = tmp_path / CACHE_NAME
    real_start = threading.Thread.start

    def refuse(self) -> None:
        if self.name == "reviewq-store-columns":
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", refuse)
    _same(_built(log, cache, True), load_log_table(log.path, None))
    assert cache.exists()
    _same(load_log_table(log.path, cache), load_log_table(log.path, None))


def test_joining_ranges_keeps_no_part_alive_while_its_columns_are_joined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A first build's memory peaks where the ranges' table columns are joined: by then every
    part must be let go, so that each source column is freed as soon as it is copied. (A loop
    variable kept the last part, a worker's whole range, alive through the join: 36 MB more
    at a million records, the peak at 296-307 MB.)"""
    import weakref

    log = _log(tmp_path / "log.jsonl", 90)
    size = log.path.stat().st_size
    lines = log.path.read_bytes().split(b"\n")
    middle = sum(len(line) + 1 for line in lines[:45])
    parts = []
    for start, end in ((0, middle), (middle, size)):
        built = verdict_columns._metric_range(log.path, start, end, 1, 25)
        assert built is not None
        parts.append(verdict_columns._settle(built.columns))
    alive = [weakref.ref(part) for part in parts]
    seen: list[list[bool]] = []
    join = verdict_columns._joined_columns

    def watched(*args, **kwargs):
        seen.append([ref() is not None for ref in alive])
        return join(*args, **kwargs)

    monkeypatch.setattr(verdict_columns, "_joined_columns", watched)
    merged = verdict_columns._merge(parts)
    assert seen == [[False, False]]
    expected = verdict_columns._metric_range(log.path, 0, size, 1, 25)
    assert expected is not None
    _same(verdict_columns._finish(merged), verdict_columns._finish(expected.columns))


def test_a_first_build_written_in_a_thread_lets_the_index_and_ids_go_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The figures are worked out beside the cache's write, and their arrays count on top of
    whatever the write still holds: the arrays no caller keeps (the key index, the ids, which
    `workflow.stats` lets go once it has the notes' records) are written, and let go, before
    any the table still holds (the change ids' text, the columns)."""
    import weakref

    log = _log(tmp_path / "log.jsonl", 40)
    built = verdict_columns.load_log_table(log.path, None)
    arrays, meta = verdict_columns._metric_arrays(built)
    dropped = {name: weakref.ref(arrays[name]) for name in ("keys", "key_lines", "ids")}
    kept = {id(a) for name, a in arrays.items() if name not in dropped}
    del built
    alive_when_kept_written: list[list[str]] = []
    crc = flat_arrays._crc

    def watched(data):
        if isinstance(data, memoryview) and id(data.obj) in kept:
            alive_when_kept_written.append([n for n, ref in dropped.items() if ref() is not None])
        return crc(data)

    monkeypatch.setattr(flat_arrays, "_crc", watched)
    verdict_columns._write_cache(tmp_path / CACHE_NAME, arrays, meta, consume=True)
    assert alive_when_kept_written and not any(alive_when_kept_written)
    assert len(load_log_table(log.path, tmp_path / CACHE_NAME).table) == 40
