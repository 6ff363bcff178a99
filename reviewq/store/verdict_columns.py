"""The provenance log as columns, cached: `stats` reads each record once, ever.

Parsing a million JSON lines takes longer than every figure computed from them, and the log is
append-only. So the columns (`core.metrics.VerdictTable`) of the first N bytes are kept in
`<git dir>/reviewq/verdict-columns.arrays` with the `hash` of the record that ends at byte N. When
that record is still there, only the bytes after N are parsed; otherwise (a log replaced,
truncated or rewritten) everything is read again. The hash chain makes the check sound: the
last record's hash covers, through `prev`, every record before it.

Beside the columns sits a key index: a 64-bit fingerprint of every record's `sha`, `patch_id`
and `change_id`, with the byte offset of the record's line. The queue needs only the records
about its pending changes (`records_about`): a queue of 10,000 over a million-record log parses
those few lines, not the million (docs/reliability.md, "Load").

The same catch-up keeps a second cache, `log-records.arrays`: every field of every record as
`core.record_columns.RecordColumns`, for readers that need whole records (`log --since`)
without a dict per record. Each kind is a `_Codec`; `_caught_up` is the one loop for both.

It is a cache: deleting it loses nothing, a damaged or foreign one is rebuilt, and a place that
cannot be written (a read-only CI mirror) just means no cache. Each file is a file of arrays
(`store/flat_arrays.py`): plain numbers and bytes and a JSON header, each array read on its own
and checked by its CRC-32 (no pickle, no zip).
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from itertools import compress, groupby, pairwise, repeat
from itertools import count as numbers_from
from operator import attrgetter, eq, methodcaller, ne
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

import numpy as np

from reviewq import heap
from reviewq.core import safejson
from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import (
    STRICT_FAST_LOADS,
    fast_loads,
    parse_line,
    parse_line_strictly,
    strict_utf8,
)
from reviewq.core.metrics import COLUMNS, LABELS, LineLabels, VerdictTable
from reviewq.core.metrics.tables import (
    CODED,
    TABLE_FIELDS,
    _factorize,
    _Labels,
    fields_from_columns,
)
from reviewq.core.record_columns import RecordColumns
from reviewq.core.verdict import has_canonical_form, line_hash_matches
from reviewq.files import replace_file
from reviewq.store.flat_arrays import FlatArrays, open_arrays, write_arrays
from reviewq.store.log import LogError

CACHE_NAME = "verdict-columns.arrays"
#: Every field of every record (`load_log_records`), beside the metric columns.
RECORDS_CACHE_NAME = "log-records.arrays"
#: What the caches were called while they were npz files: removed when a cache is stored.
LEGACY_NAMES = {CACHE_NAME: ("verdict-columns.npz",), RECORDS_CACHE_NAME: ("log-records.npz",)}
#: Bump when VerdictTable's columns or their meaning change.
CACHE_VERSION = 5
#: How far back from the cached end to look for the start of the last cached record.
_TAIL = 1 << 20


T = TypeVar("T")

#: The record fields the key index covers: what a verdict is matched to a change by.
KEY_FIELDS = ("sha", "patch_id", "change_id")


def key_fingerprint(key: str) -> int:
    """64 bits standing for a record key: a hex id's own first 16 digits (shas, patch-ids),
    else a hash. Collisions only add candidates; `records_about` compares the keys exactly."""
    head = key[:16]
    if len(head) == 16 and _HEX.fullmatch(head):
        return int(head, 16)
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


_HEX = re.compile(r"[0-9a-fA-F]*")


def _fingerprints(values: list[str]) -> np.ndarray:
    """`key_fingerprint` of each value; hex ids (nearly every key) converted in one call."""
    joined = "".join([v[:16] for v in values])
    if len(joined) == 16 * len(values) and _HEX.fullmatch(joined):
        return np.frombuffer(bytes.fromhex(joined), dtype=">u8").astype(np.uint64)
    return np.array([key_fingerprint(v) for v in values], dtype=np.uint64)


def _key_index(records: list[Any], starts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprints, line offsets) of every distinct key of every record, by fingerprint."""
    rows = [(r, at) for r, at in zip(records, starts) if type(r) is dict]
    return _key_arrays(_key_pairs(rows))


def _key_arrays(
    by_field: list[tuple[Sequence[str], Sequence[int]]], *, ordered: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprints, line offsets) of the keys; by key, then line unless not `ordered` (a
    block of a first build: its range's index is put in order once, `_finish`)."""
    fingerprints, offsets = [], []
    for values, lines in by_field:
        if values:
            fingerprints.append(_fingerprints(list(values)))
            offsets.append(np.array(lines, dtype=np.int64))
    if not fingerprints:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    keys, lines = np.concatenate(fingerprints), np.concatenate(offsets)
    if not ordered:
        return keys, lines
    # By key, then line: one order whichever way the index was put together (in blocks,
    # ranges, or a cache and its tail), so every reader's index is the same array.
    order = np.lexsort((lines, keys))
    return keys[order], lines[order]


def _key_pairs(rows: list[tuple[Any, int]]) -> list[tuple[Sequence[str], Sequence[int]]]:
    """(keys, line offsets) of each key field: the rule, spelled out. A record's change_id is
    usually its sha: each distinct key of a record once."""
    by_field = (
        [(v, at) for r, at in rows if type(v := r.get("sha")) is str and v],
        [
            (v, at)
            for r, at in rows
            if type(v := r.get("patch_id")) is str and v and v != r.get("sha")
        ],
        [
            (v, at)
            for r, at in rows
            if type(v := r.get("change_id")) is str
            and v
            and v != r.get("sha")
            and v != r.get("patch_id")
        ],
    )
    return [tuple(zip(*pairs)) if pairs else ((), ()) for pairs in by_field]  # type: ignore[misc]


@dataclass(frozen=True)
class LogColumns:
    """The log's records as columns, the sorted ids of every record in it (so records
    arriving from elsewhere, the team's notes, can be told apart without a million-entry set),
    and the key index (`lines_about`)."""

    table: VerdictTable
    ids: np.ndarray  # sorted, unique, bytes
    keys: np.ndarray  # sorted uint64 fingerprints of every record's sha, patch_id, change_id
    key_lines: np.ndarray  # int64: byte offset of the line of the record each key belongs to

    def lines_about(self, keys: Iterable[str]) -> np.ndarray:
        """Sorted, unique byte offsets of the lines of every record that may have one of
        `keys` as its sha, patch_id or change_id (a superset: fingerprints may collide)."""
        probe = np.unique(np.array([key_fingerprint(k) for k in keys if k], dtype=np.uint64))
        if not len(probe) or not len(self.keys):
            return np.zeros(0, dtype=np.int64)
        left = np.searchsorted(self.keys, probe, side="left")
        right = np.searchsorted(self.keys, probe, side="right")
        hits = right > left
        if not hits.any():
            return np.zeros(0, dtype=np.int64)
        ranges = [self.key_lines[a:b] for a, b in zip(left[hits], right[hits])]
        return np.unique(np.concatenate(ranges))

    def lacks(self, ids: list[str]) -> np.ndarray:
        """Which of `ids` are not in the log."""
        if not ids:
            return np.zeros(0, dtype=bool)
        probe = np.array([i.encode("utf-8", "replace") for i in ids], dtype=np.bytes_)
        if not len(self.ids):
            return np.ones(len(ids), dtype=bool)
        at = np.minimum(np.searchsorted(self.ids, probe), len(self.ids) - 1)
        return self.ids[at] != probe


def _ids_of(records: list[Any]) -> np.ndarray:
    return _ids_of_values(list(map(_get_id, records)))


def _ids_of_values(ids: list[Any]) -> np.ndarray:
    """Sorted unique UTF-8 bytes of the `id` values that are strings."""
    if set(map(type, ids)) == {str}:
        try:  # ASCII ids (every id reviewq writes): one C-level conversion
            return np.unique(np.array(ids, dtype=np.bytes_))
        except UnicodeEncodeError:
            pass
    ids = [i.encode("utf-8", "replace") for i in ids if type(i) is str]
    return np.unique(np.array(ids, dtype=np.bytes_)) if ids else np.zeros(0, dtype="S1")


def _get_id(record: Any) -> Any:
    return record.get("id") if isinstance(record, dict) else None


#: Told (bytes read, bytes to read) after each chunk while the column cache is built or caught
#: up: a front end sets it around a load that may have to read a large log the first time (a
#: million records take ~15 s once; the TUI says so instead of a bare spinner). Per thread.
BUILD_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar(
    "verdict_columns_build_progress", default=None
)


def load_log_table(
    log_path: Path, cache_path: Path | None, *, chunk: int | None = None
) -> LogColumns:
    """Columns of every complete record of the log at `log_path` (agents not yet filled in).

    Records are parsed `chunk` (default `CHUNK_RECORDS`) at a time."""
    return _caught_up(_METRIC_COLUMNS, log_path, cache_path, chunk or CHUNK_RECORDS)


def load_log_records(
    log_path: Path, cache_path: Path | None, *, chunk: int | None = None
) -> RecordColumns:
    """Every complete record of the log at `log_path`, every field, as `RecordColumns`
    (cached beside the metric columns in `RECORDS_CACHE_NAME`, caught up the same way)."""
    return _caught_up(_RECORD_COLUMNS, log_path, cache_path, chunk or CHUNK_RECORDS)


@dataclass(frozen=True)
class _Codec(Generic[T]):
    """How one kind of column cache is built from records, joined, stored and loaded."""

    version: int
    build: Callable[[list[Any], list[int], list[bytes]], T]
    concat: Callable[[list[T]], T]
    empty: Callable[[], T]
    to_arrays: Callable[[T], tuple[dict[str, np.ndarray], dict[str, Any]]]
    #: The stored arrays and meta back into columns; ValueError/KeyError when they do not fit.
    from_arrays: Callable[[Any, dict[str, Any]], T]
    #: (log, start, size, first line number, records per chunk) -> the columns of the lines
    #: after `start`, or None when there are none; without it, `codec.build` of parsed chunks
    #: (`_read_records`).
    read_range: Callable[[Path, int, int, int, int], _Built[T] | None] | None = None
    #: (columns, generation) -> None: the columns being stored are told the generation they
    #: are stored under, as a read of the stored file would name them (`_named_labels`).
    named: Callable[[T, str], None] | None = None


def _caught_up(codec: _Codec[T], log_path: Path, cache_path: Path | None, chunk: int) -> T:
    """The cached columns of the log's first N bytes, plus the records after N, stored again."""
    try:
        size = log_path.stat().st_size
    except FileNotFoundError:
        return codec.empty()
    except OSError as exc:
        raise LogError(f"cannot read the log {log_path} ({exc.strerror})") from None
    wait_stored()  # a cache still being written (`STORE_IN_BACKGROUND`) is read whole
    cached, meta = _load(codec, cache_path) if cache_path is not None else (None, None)
    start, first_line = 0, 1
    if cached is not None and meta is not None and _still_there(log_path, size, meta):
        start, first_line = int(meta["covered"]), int(meta["lines"]) + 1
    else:
        cached = None
    if codec.read_range is not None:
        built = codec.read_range(log_path, start, size, first_line, chunk)
    else:
        built = _read_records(codec, log_path, start, size, first_line, chunk)
    if cached is not None and built is None:
        return cached
    parts = [cached] if cached is not None else []
    if built is not None:
        parts.append(built.columns)
    result = codec.concat(parts) if parts else codec.empty()
    end = built.end if built is not None else start
    lines = built.lines if built is not None else 0
    last_hash = built.last_hash if built is not None else None
    # Storing rewrites the whole file (hundreds of MiB at a million records), so a short
    # tail is only parsed, again next time, until it reaches STORE_FRACTION of what is cached.
    worth_storing = cached is None or (end - start) >= start * STORE_FRACTION
    if cache_path is not None and end > 0 and worth_storing:
        meta = {
            "version": codec.version,
            "covered": end,
            "lines": first_line - 1 + lines,
            "last_hash": last_hash if last_hash is not None else (meta or {}).get("last_hash"),
        }
        _store(codec, cache_path, result, meta, soon=STORE_IN_BACKGROUND.get())
    return result


@dataclass
class _Built(Generic[T]):
    """The columns of the complete lines of a byte range, and what the cache's meta needs."""

    columns: T
    end: int  # the offset after the last complete line read
    lines: int
    last_hash: str | None  # of the last line read (None when it has none)


def _read_records(
    codec: _Codec[T], log_path: Path, start: int, size: int, first_line: int, chunk: int
) -> _Built[T] | None:
    """The columns of the records after byte `start`, parsed `chunk` at a time (None: none)."""
    parts: list[T] = []
    end, last_hash, lines = start, None, 0
    progress = BUILD_PROGRESS.get()
    # In chunks: a million parsed records at once would hold gigabytes; a chunk's columns
    # are a few megabytes, and its records are dropped before the next is parsed. The gc stays
    # paused throughout: the records make no cycles, and a collection between chunks would
    # walk every object of the chunk still alive (1.7 s of a million-record build).
    with gc_paused():
        for records, starts, raw, chunk_end in _read_chunks(log_path, start, first_line, chunk):
            parts.append(codec.build(records, starts, raw))
            end, lines = chunk_end, lines + len(records)
            if progress is not None:
                progress(end - start, size - start)
            last = records[-1]
            last_hash = (
                str(last.get("hash")) if isinstance(last, dict) and last.get("hash") else None
            )
            del records, starts, raw
    if not parts:
        return None
    return _Built(codec.concat(parts), end, lines, last_hash)


def _concat(parts: list[LogColumns], room: Mapping[str, Any] | None = None) -> LogColumns:
    """`room`: the first part's columns as read with room after them (`VerdictTable.concat`)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and (
        len(parts[1].keys) * 8 < len(parts[0].keys) or len(parts[1].ids) * 8 < len(parts[0].ids)
    ):
        return _extended(*parts, room=room)
    keys = np.concatenate([p.keys for p in parts])
    key_lines = np.concatenate([p.key_lines for p in parts])
    order = np.lexsort((key_lines, keys))  # by key, then line (`_key_arrays`)
    return LogColumns(
        VerdictTable.concat([p.table for p in parts], room=room),
        np.unique(np.concatenate([p.ids for p in parts])),
        keys[order],
        key_lines[order],
    )


def _extended(
    cached: LogColumns, tail: LogColumns, room: Mapping[str, Any] | None = None
) -> LogColumns:
    """`cached` and a short `tail` joined as `_concat` joins them, without sorting the whole
    key index and ids again: the tail's few entries are inserted where they belong (what
    every reader pays right after a verdict, until the cache is stored again)."""
    keys, key_lines = cached.keys, cached.key_lines
    if len(tail.keys):
        # side="right": a key already indexed keeps its earlier lines first, as ordering the
        # joined index by key, then line, gives (the tail's lines all come after).
        at = np.searchsorted(keys, tail.keys, side="right")
        keys = np.insert(keys, at, tail.keys)
        key_lines = np.insert(key_lines, at, tail.key_lines)
    ids = cached.ids
    if len(tail.ids):
        new = tail.ids
        if new.dtype.itemsize > ids.dtype.itemsize:
            ids = ids.astype(new.dtype)  # np.insert would cut longer ids to the old width
        if len(ids):
            at = np.searchsorted(ids, new)
            seen = ids[np.minimum(at, len(ids) - 1)] == new
            new, at = new[~seen], at[~seen]
            ids = np.insert(ids, at, new) if len(new) else ids
        else:
            ids = new
    table = VerdictTable.concat([cached.table, tail.table], room=room)
    return LogColumns(table, ids, keys, key_lines)


def _empty() -> LogColumns:
    return LogColumns(
        VerdictTable.from_records([]),
        _ids_of([]),
        np.zeros(0, dtype=np.uint64),
        np.zeros(0, dtype=np.int64),
    )


#: A cache is stored again once the records appended since it reach this share of its bytes:
#: the rewrite is then paid for by a hundred times as many parsed bytes saved.
STORE_FRACTION = 0.01

#: Records parsed at a time when the columns are built. Parsed records are ~30 objects each
#: and are what a first build's memory peaks at: 100,000 at a time held 530 MB at 200,000
#: records, 20,000 hold 230 MB, for the same CPU time (the joins are numpy concatenations).
CHUNK_RECORDS = 20_000


def _read_chunks(path: Path, start: int, first_line: int, chunk: int):
    """(records, the byte offset of each one's line, the lines, end offset) for the lines from
    byte `start`, `chunk` at a time. A torn last line (a writer died mid-append) is not read."""
    records: list[Any] = []
    starts: list[int] = []
    raw: list[bytes] = []
    end = start
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; the loop raises LogError
    except OSError as exc:
        raise LogError(f"cannot read the log {path} ({exc.strerror})") from None
    with fh:
        fh.seek(start)
        number = first_line - 1
        while True:
            with gc_paused():
                for line in fh:
                    number += 1
                    if not line.endswith(b"\n"):
                        break
                    try:
                        records.append(parse_line(line))
                    except ValueError:
                        raise LogError(
                            f"{path}: line {number} is not valid JSON; run `reviewq log verify`"
                        ) from None
                    starts.append(end)
                    raw.append(line)
                    end += len(line)
                    if len(records) >= chunk:
                        break
            if not records:
                return
            yield records, starts, raw, end
            done = len(records) < chunk
            records, starts, raw = [], [], []
            if done:
                return


def _still_there(log_path: Path, size: int, meta: dict[str, Any]) -> bool:
    """Does the record that ended the cached part still end at the same byte, same hash?"""
    covered = int(meta.get("covered", 0))
    if covered <= 0 or covered > size or not meta.get("last_hash"):
        return False
    try:
        with open(log_path, "rb") as fh:
            back = min(covered, _TAIL)
            fh.seek(covered - back)
            chunk = fh.read(back)
    except OSError:
        return False
    if not chunk.endswith(b"\n"):
        return False
    line_start = chunk.rfind(b"\n", 0, len(chunk) - 1) + 1
    if line_start == 0 and back < covered:
        return False  # the record is longer than we looked back: do not guess
    try:
        last = parse_line(chunk[line_start:])
    except ValueError:
        return False
    return isinstance(last, dict) and last.get("hash") == meta["last_hash"]


def _load(codec: _Codec[T], path: Path, spare: int = 0) -> tuple[T | None, dict[str, Any] | None]:
    """The stored columns and their meta, or (None, None): missing, damaged or foreign (then
    rebuilt from the log). `spare`: rows of room to leave after each column read
    (`FlatArrays.buffer`)."""
    try:
        with open_arrays(path, spare) as data:
            meta = data.meta
            if not isinstance(meta, dict) or meta.get("version") != codec.version:
                return None, None
            return codec.from_arrays(data, meta), meta
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None, None


#: Set (by a command that reads the columns and then computes from them: `stats`) to let a
#: built cache be written in a thread while the caller goes on: the write is CRC-32s and file
#: writes (~0.3 s at a million records), neither of which holds the GIL, so it runs on the
#: second core beside the figures. The caller then calls `wait_stored` before it ends; every
#: read of a cache here waits for it first. Per thread (a context variable).
STORE_IN_BACKGROUND: ContextVar[bool] = ContextVar("verdict_columns_store_soon", default=False)

#: Cache writes running in threads (`STORE_IN_BACKGROUND`), and what went wrong in one.
_STORING: list[Any] = []
_STORE_FAILED: list[BaseException] = []
_STORING_LOCK = threading.Lock()


def wait_stored() -> None:
    """Wait for the caches being written in threads (`STORE_IN_BACKGROUND`); an error one of
    them ran into (other than the OSError and ValueError a store ignores) is raised here."""
    with _STORING_LOCK:
        pending = list(_STORING)
    # Each joined before it is forgotten: a reader in another thread waiting at the same
    # time waits for it too, instead of finding the list empty while the write goes on.
    for thread in pending:
        thread.join()
    with _STORING_LOCK:
        for thread in pending:
            with contextlib.suppress(ValueError):
                _STORING.remove(thread)
        failed = _STORE_FAILED[:1]
        _STORE_FAILED.clear()
    if failed:
        raise failed[0]


def _store(
    codec: _Codec[T], path: Path, columns: T, meta: dict[str, Any], *, soon: bool = False
) -> None:
    """A place that cannot be written (a read-only CI mirror) just means no cache. `soon`:
    written in a thread (`STORE_IN_BACKGROUND`), each array let go once written."""
    arrays, more_meta = codec.to_arrays(columns)
    # Each stored cache has its own generation: what is kept about its labels elsewhere (the
    # metric summary's change rows) names the generation it was computed from.
    generation = uuid.uuid4().hex
    if codec.named is not None:
        codec.named(columns, generation)
    del columns
    meta = {**meta, **more_meta, "generation": generation}
    if not soon:
        _write_cache(path, arrays, meta)
        return
    # Not a daemon: the interpreter waits for it at exit whatever the caller does.
    thread = threading.Thread(
        target=_write_soon, args=(path, arrays, meta), name="reviewq-store-columns"
    )
    # Listed only once started (under the lock): a reader in another thread (a team's
    # repositories are read in parallel) joins what it finds listed, and a thread not yet
    # started cannot be joined.
    with _STORING_LOCK:
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: written here, as without `soon`
            thread = None
        else:
            _STORING.append(thread)
    if thread is None:
        _write_cache(path, arrays, meta, consume=True)


def _write_soon(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    try:
        _write_cache(path, arrays, meta, consume=True)
    except BaseException as exc:  # raised by `wait_stored`, in the caller's thread
        with _STORING_LOCK:
            _STORE_FAILED.append(exc)


def _write_cache(
    path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], *, consume: bool = False
) -> None:
    # ValueError: an array of a kind a file of arrays does not hold (no cache, never a crash).
    with contextlib.suppress(OSError, ValueError):
        replace_file(
            path,
            lambda fh: _write_arrays(fh, arrays, meta, consume=consume),
            prefix=f".{path.stem}-",
            suffix=path.suffix,
        )
        # The npz an earlier reviewq kept under the old name (hundreds of MiB at 1M records).
        for legacy in LEGACY_NAMES.get(path.name, ()):
            (path.parent / legacy).unlink(missing_ok=True)


#: A cache at least this large is written past the page cache (`store.direct_file`).
DIRECT_BYTES = 32 << 20


def _write_arrays(
    fh: BinaryIO, arrays: dict[str, np.ndarray], meta: dict[str, Any], *, consume: bool
) -> None:
    """`write_arrays` into the new file `fh`: through `DirectFile` when the arrays come to
    `DIRECT_BYTES` or more (a first build's cache, ~180 MB at a million records)."""
    if sum(a.nbytes for a in arrays.values()) < DIRECT_BYTES:
        write_arrays(fh, arrays, meta, consume=consume)
        return
    from reviewq.store.direct_file import DirectFile  # start-up: only for a large cache

    sink = DirectFile(fh.fileno())
    write_arrays(sink, arrays, meta, consume=consume)  # type: ignore[arg-type]
    sink.finish()


# -- the two kinds of columns -------------------------------------------------------------------


def _intact(
    records: list[Any], starts: list[int], lines: list[bytes]
) -> tuple[list[Any], list[int], list[bytes]]:
    """Only the records whose line hashes to its own `hash`: a line edited after it was
    written counts in no column (every reader of verdicts ignores it; `log verify` names it)."""
    keep = [i for i, (r, line) in enumerate(zip(records, lines)) if _hash_ok(line, r)]
    if len(keep) == len(records):
        return records, starts, lines
    return [records[i] for i in keep], [starts[i] for i in keep], [lines[i] for i in keep]


def _hash_ok(line: bytes, record: Any) -> bool:
    return type(record) is dict and line_hash_matches(line, record)


def _metric_part(records: list[Any], starts: list[int], lines: list[bytes]) -> LogColumns:
    records, starts, lines = _intact(records, starts, lines)
    keys, key_lines = _key_index(records, starts)
    return LogColumns(VerdictTable.from_records(records), _ids_of(records), keys, key_lines)


def _metric_arrays(columns: LogColumns) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    table = columns.table
    extra: dict[str, np.ndarray] = {}
    lines = table.changes
    if isinstance(lines, LineLabels) and not lines.added:
        # Lines of text already (a first build's, or a cache's): stored as they are.
        labels = {k: list(v) for k, v in table.labels().items() if k != "changes"}
        extra["changes_text"] = np.frombuffer(lines.text, dtype=np.uint8)
        extra["changes_count"] = np.array([lines.base_count], dtype=np.int64)
        changes: list[Any] = []
    else:
        labels = {k: list(v) for k, v in table.labels().items()}
        changes = labels["changes"]
    if (
        "changes" in labels
        and set(map(type, changes)) <= {str}
        and not any("\n" in c for c in changes)
    ):
        # A million change ids as lines of text: split in one call where JSON would be a
        # parse of each (what every `stats` pays to load the cache).
        del labels["changes"]
        text = "\n".join(changes).encode("utf-8", "surrogatepass")
        extra["changes_text"] = np.frombuffer(text, dtype=np.uint8)
        extra["changes_count"] = np.array([len(changes)], dtype=np.int64)
    # The key index and the ids first: a first build's caller keeps neither through the
    # figures (`load_table_and_ids` drops the index; `workflow.stats` the ids once it has
    # the notes' records the log lacks), so a cache written in a thread (`_store`) lets
    # them go before the figures' own arrays are made beside the write.
    arrays = {
        "keys": columns.keys,
        "key_lines": columns.key_lines,
        "ids": columns.ids,
        "labels": np.frombuffer(json.dumps(labels).encode(), dtype=np.uint8),
        **extra,
        **table.columns(),
    }
    return arrays, {"invalid": table.invalid}


def _named_labels(columns: LogColumns, generation: str) -> None:
    """The change ids of columns being stored as they are (`_metric_arrays`: lines of text
    with nothing appended) are named by the generation stored, as `_table_only` names those
    it reads: the figures worked out right after a first build keep their change rows for
    that cache (`workflow.stats._kept_rows`) instead of the next reader working out a million
    of them again."""
    lines = columns.table.changes
    if isinstance(lines, LineLabels) and not lines.added:
        lines.source = generation


def _labels_of(data: Any) -> dict[str, Any]:
    """The stored labels (`_metric_arrays`): JSON, the change ids as lines when they fit."""
    labels = safejson.loads(bytes(data["labels"]).decode("utf-8"))
    if "changes" not in labels:
        count = int(data["changes_count"][0])
        text = data["changes_text"].tobytes().decode("utf-8", "surrogatepass")
        labels["changes"] = text.split("\n") if count else []
        if len(labels["changes"]) != count:
            raise ValueError("the change labels do not fit")
    return labels


def _metric_columns(data: Any, meta: dict[str, Any]) -> LogColumns:
    labels = _labels_of(data)
    table = VerdictTable(
        **{name: data[name] for name in COLUMNS},
        **{name: tuple(labels[name]) for name in LABELS},
        invalid=int(meta.get("invalid", 0)),
    )
    keys, key_lines = data["keys"], data["key_lines"]
    if keys.dtype != np.uint64 or key_lines.dtype != np.int64 or len(keys) != len(key_lines):
        raise ValueError("the key index does not fit")
    return LogColumns(table, data["ids"], keys, key_lines)


def _empty_table() -> VerdictTable:
    return VerdictTable.from_records([])


def _keys_only(data: Any, meta: dict[str, Any]) -> LogColumns:
    """The stored key index alone (no table, no ids): what `records_about` reads."""
    keys, key_lines = data["keys"], data["key_lines"]
    if keys.dtype != np.uint64 or key_lines.dtype != np.int64 or len(keys) != len(key_lines):
        raise ValueError("the key index does not fit")
    return LogColumns(_empty_table(), _ids_of([]), keys, key_lines)


def _text_of(data: Any, name: str) -> bytes:
    """A stored byte array as bytes (read straight into them from a file of arrays)."""
    read = getattr(data, "read_bytes", None)
    return read(name) if read is not None else data[name].tobytes()


def _table_only(data: Any, meta: dict[str, Any]) -> LogColumns:
    """The stored table alone (no ids, no key index): what a figure over the table reads.
    The change ids stored as lines stay text (`LineLabels`, split only if a figure walks
    them), named by the cache's generation."""
    labels = safejson.loads(bytes(data["labels"]).decode("utf-8"))
    if "changes" not in labels:
        count = int(data["changes_count"][0])
        text = _text_of(data, "changes_text")
        if count and text.count(b"\n") != count - 1:
            raise ValueError("the change labels do not fit")
        generation = meta.get("generation")
        labels["changes"] = LineLabels(
            text, count, generation if isinstance(generation, str) else None
        )
    table = VerdictTable(
        **{name: data[name] for name in COLUMNS},
        **{
            name: labels[name]
            if name == "changes" and not isinstance(labels[name], list)
            else tuple(labels[name])
            for name in LABELS
        },
        invalid=int(meta.get("invalid", 0)),
    )
    return LogColumns(table, _ids_of([]), np.zeros(0, dtype=np.uint64), np.zeros(0, np.int64))


def _table_and_ids(data: Any, meta: dict[str, Any]) -> LogColumns:
    """The stored table and ids, without the key index: what the metrics read."""
    table = _table_only(data, meta).table
    return LogColumns(table, data["ids"], np.zeros(0, dtype=np.uint64), np.zeros(0, np.int64))


def _partial(
    log_path: Path, cache_path: Path | None, read: Callable[[Any, dict[str, Any]], LogColumns]
) -> LogColumns | None:
    found = _partial_at(log_path, cache_path, read)
    return None if found is None else found[0]


def load_table_after_cache(
    log_path: Path, cache_path: Path | None
) -> tuple[LogColumns, int] | None:
    """The table (as `load_verdict_table`) with the ids of the records after the cached end
    only, and that end; None when the cache cannot be read that way (the full load is due)."""
    return _partial_at(log_path, cache_path, _table_only)


def _partial_at(
    log_path: Path, cache_path: Path | None, read: Callable[[Any, dict[str, Any]], LogColumns]
) -> tuple[LogColumns, int] | None:
    """Some of the cached arrays (`read` picks them: each array is read on its own) and the
    same part of the records after the cached end, or None when the full load is due: no
    cache, one that no longer fits the log, or a tail long enough that `load_log_table` would
    store the cache again (so the cache is still caught up by the one loop that stores it).

    The tail is parsed first, so that each cached column is read into an array with room for
    the tail's rows after it: the join writes the tail there instead of copying every column
    (~70 MB at a million records) once more."""
    if cache_path is None:
        return None
    wait_stored()
    try:
        size = log_path.stat().st_size
        fd = os.open(cache_path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            data = FlatArrays(fd)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        meta = data.meta
        if not isinstance(meta, dict) or meta.get("version") != CACHE_VERSION:
            return None
        if not _still_there(log_path, size, meta):
            return None
        start, first_line = int(meta["covered"]), int(meta["lines"]) + 1
        if size - start >= start * STORE_FRACTION:
            return None
        parts: list[LogColumns] = []
        with gc_paused():
            for records, starts, raw, _end in _read_chunks(
                log_path, start, first_line, CHUNK_RECORDS
            ):
                parts.append(_metric_part(records, starts, raw))
        tail = _concat(parts) if parts else None
        data.spare = len(tail.table) if tail is not None else 0
        try:
            cached = read(data, meta)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        room = {name: data.buffer(name) for name in COLUMNS}
    finally:
        os.close(fd)
    if tail is None:
        return cached, start
    return _concat([cached, tail], room), start


def load_key_index(log_path: Path, cache_path: Path | None) -> LogColumns:
    """`load_log_table`'s key index (`lines_about`); its table and ids are left out when the
    cache has the index (a fraction of the cache's bytes are read)."""
    return _partial(log_path, cache_path, _keys_only) or load_log_table(log_path, cache_path)


def load_table_and_ids(log_path: Path, cache_path: Path | None) -> LogColumns:
    """`load_log_table`'s table and ids (`lacks`), without reading the key index the cache
    also holds (a sixth of its bytes); its `keys` are then those of the tail alone, not for
    `lines_about`."""
    found = _partial(log_path, cache_path, _table_and_ids)
    if found is not None:
        return found
    # Built or caught up: the key index is stored; it is not kept here.
    built = load_log_table(log_path, cache_path)
    return LogColumns(built.table, built.ids, _empty_keys(), np.zeros(0, np.int64))


def _empty_keys() -> np.ndarray:
    return np.zeros(0, dtype=np.uint64)


def load_verdict_table(log_path: Path, cache_path: Path | None) -> VerdictTable:
    """`load_log_table`'s table, without reading the ids and key index the cache also holds."""
    columns = _partial(log_path, cache_path, _table_only)
    return (columns or load_log_table(log_path, cache_path)).table


# -- the metric columns from the log's bytes: blocks, few Python steps a record, every core -----

#: Bytes read at a time by the metric columns' reader: ~4,800 records of the writer's ~875
#: bytes, decoded and dropped before the next block is read (16 MiB blocks held ~90 MB more at
#: once in each process of a million-record first build, for no less CPU time).
BLOCK_BYTES = 4 << 20
#: A first build of a log smaller than this runs in this process only (a worker process costs
#: more than it saves).
PARALLEL_BYTES = 48 << 20


def _blocks(path: Path, start: int, end: int, most: int) -> Iterator[tuple[list[bytes], int]]:
    """(the complete lines of a block, without newlines; the byte offset of its first line) for
    the bytes in [start, end), `BLOCK_BYTES` and at most `most` lines at a time. An
    unterminated last line (a writer died mid-append) is not a record yet and is left out."""
    try:
        fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below; the loop raises LogError
    except OSError as exc:
        raise LogError(f"cannot read the log {path} ({exc.strerror})") from None
    with fh:
        fh.seek(start)
        pos, carry = start, b""
        while pos < end:
            chunk = fh.read(min(BLOCK_BYTES, end - pos))
            if not chunk:
                break
            pos += len(chunk)
            base = pos - len(chunk) - len(carry)
            # The block's lines; what follows its last newline starts the next block's first
            # line (the carry: joined to this block's first piece, not the block copied).
            lines = chunk.split(b"\n")
            del chunk
            if carry:
                lines[0] = carry + lines[0]
            carry = lines.pop()
            if lines:
                if len(lines) <= most:
                    yield lines, base
                    continue
                for i in range(0, len(lines), most):
                    part = lines[i : i + most]
                    yield part, base
                    base += sum(map(len, part)) + len(part)


def _parsed(lines: list[bytes], path: Path, first_line: int) -> tuple[list[Any], bool]:
    """Each line's JSON value as `parse_line` gives it, and whether `fast_loads` read them all
    (`STRICT_FAST_LOADS`: then each has a canonical form); LogError naming a line that is not
    JSON."""
    try:
        return list(map(fast_loads, lines)), STRICT_FAST_LOADS
    except ValueError:
        pass  # orjson refused one (a huge integer, a lone surrogate, not JSON): one at a time
    out = []
    for number, line in enumerate(lines, start=first_line):
        try:
            out.append(parse_line(line))
        except ValueError:
            raise LogError(
                f"{path}: line {number} is not valid JSON; run `reviewq log verify`"
            ) from None
    return out, False


def _intact_rows(records: list[Any], lines: list[bytes], strict: bool = False) -> list[int]:
    """Indexes of the lines `line_hash_matches` keeps (`records`: each line's JSON value, read
    by a `strict` parser or not; a property test compares them): in C-level loops for the lines
    where the member sits after another, as the writer puts it, because a first build makes a
    million of them."""
    n = len(lines)
    hashes = [_get(r, "hash") for r in records]
    if set(map(type, hashes)) != {str}:
        return [i for i in range(n) if _hash_ok(lines[i], records[i])]
    needles = [b',"hash":"' + h.encode("ascii", "replace") + b'"' for h in hashes]
    bodies = list(map(bytes.replace, lines, needles, repeat(b""), repeat(1)))
    cut = list(map(ne, map(len, bodies), map(len, lines)))
    digests = map(_hexdigest, map(hashlib.sha256, bodies))
    found = list(map(eq, digests, hashes))
    keep = [i for i in compress(range(n), found) if cut[i] and len(hashes[i]) == 64]
    if len(keep) < n:
        # The rest, one at a time: the member first, a line without it, a hash of another length.
        done = set(keep)
        keep = [i for i in range(n) if i in done or (not cut[i] and _hash_ok(lines[i], records[i]))]
    return keep if strict else [i for i in keep if has_canonical_form(lines[i], records[i])]


_hexdigest = methodcaller("hexdigest")


def _block_columns(lines: list[bytes], offsets: np.ndarray, path: Path, first_line: int):
    """`_metric_part` of the records on `lines` (their lines' byte offsets `offsets`), and the
    hash of the last one (None when it has none): the same columns, with only the fields the
    columns read decoded (`_decoded`) when every line allows (`_fast_part`); any other block
    goes `_metric_part`'s way."""
    fast = _fast_part(lines, offsets)
    if fast is not None:
        return fast
    # Every field of every record (an edited line, a value that is not a plain string, ...).
    starts = offsets.tolist()
    records, strict = _parsed(lines, path, first_line)
    last = records[-1]
    last_hash = str(last.get("hash")) if type(last) is dict and last.get("hash") else None
    keep = _intact_rows(records, lines, strict)
    records = [records[i] for i in keep]
    starts = [starts[i] for i in keep]
    keys, key_lines = _key_index(records, starts)
    table = VerdictTable.from_records(records)
    return LogColumns(table, _ids_of(records), keys, key_lines), last_hash


def _fast_part(lines: list[bytes], offsets: np.ndarray) -> tuple[_Part, str] | None:
    """(`_Part` of the records on `lines`, the last one's hash) when every line is a record
    the decoder reads (`_decoded`), hashes to its own `hash` with the member where the writer
    puts it (`_all_intact`), and has keys and a change id an S array keeps exactly; else None
    (the block goes the plain way: the same columns, every field of every record parsed)."""
    if not strict_utf8(lines):  # else the decoder may read a line `parse_line` refuses
        return None
    records = _decoded_records(lines)
    if records is None:
        return None
    hashes = list(map(_HASH, records))
    if not _all_intact(hashes, lines):
        return None
    profiles = _profile_codes(list(map(_PROFILE_KEY, records)))
    if profiles is None:
        return None
    # The profile fields are read above, as keys: not as columns again.
    columns = [[] if name in _PROFILE_FIELDS else _column(records, name) for name in TABLE_FIELDS]
    ids = _id_bytes(_column(records, "id"))
    del records
    fields = fields_from_columns(columns, profiles=[])
    sha, patch = columns[TABLE_FIELDS.index("sha")], columns[TABLE_FIELDS.index("patch_id")]
    del columns
    changes = _label_bytes(fields.change_ids)
    if changes is None:
        return None
    index = _key_columns(sha, patch, fields.change_ids, changes, offsets)
    if index is None:
        return None
    rows = np.arange(len(lines), dtype=np.int32)
    table = VerdictTable.from_fields(fields, change_codes=(rows, ()), profile_codes=profiles)
    return _Part(table, changes, ids, *index), hashes[-1]


def _all_intact(hashes: list[Any], lines: list[bytes]) -> bool:
    """Does every line hash to its own `hash` (`hashes`: each record's, as decoded), with the
    member after another (`,"hash":"…"`, where the writer puts it)? Then `line_hash_matches`
    keeps every line: each hash a string of 64 ASCII characters, the first `,"hash":"<it>"`
    of the line removed, the SHA-256 of the rest in lowercase hex equal to it (a property
    test compares them). In C-level loops: the members to remove made as one array, the
    digests compared as one string. False for any other block (`_intact_rows` sorts it out)."""
    n = len(lines)
    try:
        joined = "".join(hashes).encode("ascii")
    except (TypeError, UnicodeEncodeError):  # a hash missing, not a string, not ASCII
        return False
    if len(joined) != 64 * n or set(map(len, hashes)) != {64}:
        return False
    members = np.empty((n, 74), dtype=np.uint8)
    members[:, :9] = _MEMBER_HEAD
    members[:, 9:73] = np.frombuffer(joined, dtype=np.uint8).reshape(n, 64)
    members[:, 73] = 34  # the closing quote: no NUL at the end, `tolist` keeps every byte
    needles = members.view("S74").ravel().tolist()
    del members
    bodies = list(map(bytes.replace, lines, needles, repeat(b""), repeat(1)))
    del needles
    removed = np.fromiter(map(len, lines), np.int64, n) - np.fromiter(map(len, bodies), np.int64, n)
    if not (removed == 74).all():  # a line without the member after another
        return False
    digests = b"".join(map(_digest, map(hashlib.sha256, bodies)))
    return binascii.hexlify(digests) == joined


_MEMBER_HEAD = np.frombuffer(b',"hash":"', dtype=np.uint8)
_digest = methodcaller("digest")


#: A decoded record's profile key (`_profile_codes`), its hash, one of its fields.
_PROFILE_FIELDS = ("verdict", "reviewer", "author_family", "agent", "domain", "critique")
_PROFILE_KEY = attrgetter(*_PROFILE_FIELDS)
_HASH = attrgetter("hash")


def _column(records: list[Any], name: str) -> list[Any]:
    return list(map(attrgetter(name), records))


def _profile_codes(keys: list[tuple[Any, ...]]) -> tuple[np.ndarray, list[tuple[Any, ...]]] | None:
    """`_factorize` of the records' profiles (`core.metrics.tables._profiles`), worked out
    from `keys`, each record's (verdict, reviewer, author family, agent, domain, critique)
    with the reviewer and critique as the decoder's structs (equal when their members are):
    the same codes and labels, each distinct key spelled out once (`_profiles_of`) instead of
    once a record. None when a member is not hashable (the block goes the plain way)."""
    n = len(keys)
    first: dict[Any, int] = {}
    try:  # each key's first row, one lookup a row: numbered in order of first appearance below
        seen = np.fromiter(map(first.setdefault, keys, numbers_from()), dtype=np.int64, count=n)
    except TypeError:
        return None
    del keys
    rows = np.fromiter(first.values(), dtype=np.int64, count=len(first))
    number = np.empty(n, dtype=np.int32)
    number[rows] = np.arange(len(rows), dtype=np.int32)
    codes = number[seen]
    distinct = list(first)
    spelled = _profiles_of(
        [
            [k[0] for k in distinct],
            [k[1] for k in distinct],
            [k[2] for k in distinct],
            [k[3] for k in distinct],
            [k[4] for k in distinct],
            [k[5] for k in distinct],
        ],
        names=_PROFILE_FIELDS,
    )
    # Two keys that differ may spell equal profiles (a missing reviewer and one whose name
    # is false; then `1` and `true` elsewhere in them are equal too, and the first record's
    # spelling counts for both, as `_factorize` of the profiles has it): numbered again.
    again, labels = _factorize(spelled)
    return again[codes], labels


#: A hex digit's value, 255 for any other byte.
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", dtype=np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16)


def _key_columns(
    sha: list[Any], patch: list[Any], change: list[Any], changes: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_key_arrays(_key_pairs(...), ordered=False)` with numpy: `sha` and `patch` (strings
    or None, as the decoder reads them), the change keys `change` and the same as an S array
    (`changes`). Each key column becomes an S array (`_label_bytes`: ASCII, no NUL or
    newline, so equal arrays mean equal strings; a missing key the empty one, never a key),
    compared and fingerprinted a column at a time. None for any other value."""
    arrays, present = [], []
    for values in (sha, patch):
        here = np.fromiter(map(bool, values), dtype=bool, count=len(values))
        array = _label_bytes(values if here.all() else [v or "" for v in values])
        if array is None:
            return None
        arrays.append(array)
        present.append(here)
    sha_a, patch_a = arrays
    has_sha, has_patch = present
    has_change = np.fromiter(map(bool, change), dtype=bool, count=len(change))
    new_patch = has_patch & (patch_a != sha_a)
    new_change = has_change & (changes != sha_a) & (changes != patch_a)
    keys = np.concatenate(
        [
            _array_fingerprints(sha_a, sha, has_sha),
            _array_fingerprints(patch_a, patch, new_patch),
            _array_fingerprints(changes, change, new_change),
        ]
    )
    lines = np.concatenate([offsets[has_sha], offsets[new_patch], offsets[new_change]])
    return keys, lines


def _array_fingerprints(array: np.ndarray, values: list[str], rows: np.ndarray) -> np.ndarray:
    """`_fingerprints` of the `values` at `rows` (a mask), `array` being the values as an S
    array: the first 16 hex digits read with a table when each of them starts with 16."""
    if rows.all():
        picked = array
    else:
        picked = array[rows]
        values = list(compress(values, rows.tolist()))
    n, width = len(picked), picked.dtype.itemsize
    if not n:
        return np.zeros(0, dtype=np.uint64)
    if width >= 16:
        digits = _NIBBLE[picked.view(np.uint8).reshape(n, width)[:, :16]]
        if not (digits == 255).any():
            packed = (digits[:, 0::2] << 4) | digits[:, 1::2]
            return np.ascontiguousarray(packed).view(">u8").ravel().astype(np.uint64)
    return _fingerprints(list(values))


def _get(record: Any, key: str) -> Any:
    return record.get(key) if type(record) is dict else None


@functools.cache
def _decoder() -> Any:
    """A decoder of exactly the fields the metric columns read (TABLE_FIELDS, `hash`, `id`;
    None when missing, as `dict.get` gives it), skipping every other field without making it
    a Python object. The reviewer and the critique are read as frozen structs of the members
    the columns read (no dict a record; equal when their members are); the text fields as
    strings or null, the counts as numbers within 2**53 (beyond it orjson, what `parse_line`
    uses, and msgspec may read an integer differently) or null. A record with any other value
    there fails the decoder: its block goes the plain way, which reads every value."""
    # start-up: msgspec only when the columns are built
    from typing import Annotated

    import msgspec

    reviewer = msgspec.defstruct(
        "MetricReviewer", [(name, Any, None) for name in _REVIEWER], gc=False, frozen=True
    )
    critique = msgspec.defstruct(
        "MetricCritique", [(name, Any, None) for name in _CRITIQUE], gc=False, frozen=True
    )
    limit = (1 << 53) - 1
    count = Annotated[int, msgspec.Meta(ge=-limit, le=limit)] | float | None
    types: dict[str, Any] = {
        "reviewer": reviewer | None,
        "critique": critique | None,
        **{name: count for name in _COUNTS},
    }
    fields = [(name, types.get(name, str | None), None) for name in _DECODED]
    record = msgspec.defstruct("MetricRecord", fields, gc=False)
    return msgspec.json.Decoder(record).decode


#: The members of a record's reviewer and critique objects the columns read.
_REVIEWER = ("email", "name")
_CRITIQUE = ("family", "opened_before_verdict", "same_family_allowed")
#: The fields the decoder reads as numbers.
_COUNTS = ("active_seconds", "lines_changed", "hunks_total", "hunks_viewed")


def _decoded(lines: list[bytes]) -> list[list[Any]] | None:
    """The columns TABLE_FIELDS, `hash` and `id` of the records on `lines`, or None when a
    line is not such a record for the decoder (`_decoder`: then a value might read
    differently than `parse_line` reads it). The reviewer and critique columns hold the
    decoder's structs (or None); `_profiles_of` reads them."""
    records = _decoded_records(lines)
    if records is None:
        return None
    return [_column(records, name) for name in _DECODED]


def _decoded_records(lines: list[bytes]) -> list[Any] | None:
    """`_decoder`'s record of each line, or None when a line is not one."""
    try:
        return list(map(_decoder(), lines))
    except (ValueError, RecursionError):  # msgspec's errors are ValueErrors; deep nesting
        return None


#: The fields `_decoded` reads, in its columns' order.
_DECODED = (*TABLE_FIELDS, "hash", "id")


def _profiles_of(
    columns: list[list[Any]], names: Sequence[str] = TABLE_FIELDS
) -> list[tuple[Any, ...]]:
    """`core.metrics.tables._profiles` of `_decoded` columns (named by `names`), whose
    reviewer and critique are the decoder's structs or None (null or missing: what is not a
    dict there)."""
    at = {name: columns[i] for i, name in enumerate(names)}
    reviewer, critique = at["reviewer"], at["critique"]
    get = attrgetter
    if None not in reviewer and None not in critique:
        return list(
            zip(
                at["verdict"],
                map(get("email"), reviewer),
                map(get("name"), reviewer),
                at["author_family"],
                at["agent"],
                at["domain"],
                map(get("family"), critique),
                map(get("opened_before_verdict"), critique),
                map(get("same_family_allowed"), critique),
                repeat(True),
            )
        )
    # As `_profiles` spells it for a value that is not an object.
    return [
        (
            v,
            None if rv is None else rv.email,
            False if rv is None else rv.name,
            fam,
            ag,
            dom,
            None if c is None else c.family,
            False if c is None else c.opened_before_verdict,
            False if c is None else c.same_family_allowed,
            c is not None,
        )
        for v, rv, fam, ag, dom, c in zip(
            at["verdict"], reviewer, at["author_family"], at["agent"], at["domain"], critique
        )
    ]


def _metric_range(
    path: Path,
    start: int,
    end: int,
    first_line: int,
    chunk: int,
    progress: Callable[[int, int], None] | None = None,
    *,
    join: bool = True,
) -> _Built[Any] | None:
    """The metric columns of the complete lines in [start, end): `_metric_part` of their
    records, read a block at a time (None when there is no complete line). `progress` is
    told (bytes read, bytes to read) after each block. Not `join`: the blocks' columns as a
    list, in order (joined with what comes after them, once)."""
    parts: list[LogColumns] = []
    count, last_hash, at = 0, None, start
    if end - start >= PARALLEL_BYTES:
        heap.blocks_reuse_memory()
    # The gc stays paused: parsed records make no cycles, and a collection would walk every
    # object of the block still alive.
    with gc_paused():
        for lines, base in _blocks(path, start, end, chunk):
            offsets = np.zeros(len(lines) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, lines), np.int64, len(lines)) + 1, out=offsets[1:])
            starts = offsets[:-1] + base
            columns, last_hash = _block_columns(lines, starts, path, first_line + count)
            parts.append(columns)
            count += len(lines)
            at = base + int(offsets[-1])
            del lines, starts
            if progress is not None:
                progress(at - start, end - start)
    if not parts:
        return None
    if end - start >= PARALLEL_BYTES:
        heap.big_arrays_mapped()
    heap.trim()
    return _Built(_joined(parts) if join else parts, at, count, last_hash)


#: The log, the byte ranges and the chunk a forked worker builds (inherited, never pickled).
_RANGES: tuple[Path, list[tuple[int, int]], int] | None = None


def _range_worker(index: int) -> _Built[Any] | None:
    assert _RANGES is not None
    path, bounds, chunk = _RANGES
    with heap.small_pages():
        built = _metric_range(path, *bounds[index], 1, chunk)
        if built is not None and isinstance(built.columns, _Part):
            built.columns = _settle(built.columns)  # sorted here, on this core, not after
            with contextlib.suppress(OSError):  # no room for the file: the part is pickled
                built.columns = _Spilled(*_spill(built.columns))
    return built


def _drop_spilled(futures: list[Any]) -> None:
    """The temporary files of the workers' parts that will not be read."""
    for future in futures:
        with contextlib.suppress(Exception):
            built = future.result()
            if built is not None and isinstance(built.columns, _Spilled):
                os.unlink(built.columns.name)


def _received(built: _Built[Any] | None) -> _Built[Any] | None:
    if built is not None and isinstance(built.columns, _Spilled):
        # A new _Built: the future keeps its result, which must not hold the arrays.
        columns = _unspill(built.columns.name, built.columns.meta)
        return _Built(columns, built.end, built.lines, built.last_hash)
    return built


def _metric_columns_after(
    path: Path, start: int, size: int, first_line: int, chunk: int
) -> _Built[LogColumns] | None:
    """`_metric_range` of everything after `start`; a large first build is split into byte
    ranges at line boundaries, one per usable core, each built by its own forked process and
    joined in order (the columns of the lines of each range, concatenated, are the columns of
    all of them: `_concat` is what joins a block to the next).

    The blocks' columns are plain arrays (`_Part`) until the end: this process's blocks and
    each worker's range (handed back through a temporary file, `_spill`) are joined once,
    column by column (`_merge`), then the change ids are numbered, the ids sorted and the key
    index ordered once for the whole log (`_finish`). Neither a million change ids nor a
    million record ids become Python strings."""
    global _RANGES
    # start-up: the range splitter and worker processes only for a large first build
    from reviewq.store.log_verify import split, workers_for

    count = workers_for(size) if start == 0 and size >= PARALLEL_BYTES else 1
    bounds = split(path, size, count) if count > 1 else [(start, size)]
    progress = BUILD_PROGRESS.get()
    if len(bounds) == 1:
        return _finished(_metric_range(path, start, size, first_line, chunk, progress))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _RANGES = (path, bounds, chunk)
    rest: list[Any] = []
    try:
        with ProcessPoolExecutor(
            max_workers=len(bounds) - 1, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            rest = [pool.submit(_range_worker, i) for i in range(1, len(bounds))]
            # This process reads the first range; the others go as fast: told as the whole.
            scaled = None
            if progress is not None:
                tell, parts = progress, len(bounds)
                scaled = lambda done, total: tell(min(done * parts, size), size)  # noqa: E731
            mine = _metric_range(path, *bounds[0], first_line, chunk, scaled)
            if mine is not None and isinstance(mine.columns, _Part):
                mine.columns = _settle(mine.columns)  # while the workers finish theirs
            built = [mine]
            del mine
            built += [_received(future.result()) for future in rest]
    except LogError:
        _drop_spilled(rest)
        # A line that is not JSON: one pass names it by its number in the whole log.
        return _finished(_metric_range(path, start, size, first_line, chunk))
    finally:
        _RANGES = None
    done = [b for b in built if b is not None]
    if not done:
        return None
    end, lines, last_hash = done[-1].end, sum(b.lines for b in done), done[-1].last_hash
    # This process's blocks, then each worker's range: joined once (`_merge` lets each go).
    columns = [c for b in done for c in (b.columns if isinstance(b.columns, list) else [b.columns])]
    del built, done
    with heap.small_pages():
        joined = _as_columns(_joined(columns))
    return _Built(joined, end, lines, last_hash)


@dataclass
class _Part:
    """The metric columns of some blocks of a first build, not joined into `LogColumns` yet:
    plain arrays (cheap to hand back from a worker process, cheap to join). `table`'s change
    column holds, for each row, the index in `changes` of its record's change id (its
    `changes` labels are empty); `changes` has the change id of every intact record, `ids`
    their ids, and the key index is in record order. `_settle` numbers the change ids, sorts
    the ids and the index of a part (each range's in its own process); `_merge` joins
    settled parts without sorting again (`_finish` makes the result `LogColumns`)."""

    table: VerdictTable
    changes: np.ndarray  # S: ASCII, no newline, no NUL (`_label_bytes`); settled: distinct
    ids: np.ndarray  # S, unsorted; settled: sorted, unique
    keys: np.ndarray  # uint64, unsorted; settled: by key, then line
    key_lines: np.ndarray  # int64
    #: Settled: the change column holds codes into `changes` (the distinct change ids in
    #: order of first appearance, `_first_seen`), and `label_hashes` their `_row_hashes`;
    #: `label_order` sorts those (stable argsort, made in each range's own process: the join
    #: looks one part's hashes up among another's in that order).
    settled: bool = False
    label_hashes: np.ndarray | None = None
    label_order: np.ndarray | None = None


def _label_bytes(values: list[Any]) -> np.ndarray | None:
    """`values` as an S array when each is a string that such an array keeps exactly and that
    can be a line of the stored labels (ASCII, no newline, no NUL); else None."""
    if not values or set(map(type, values)) != {str}:
        return None
    joined = "\n".join(values)
    if not joined.isascii() or "\x00" in joined or joined.count("\n") != len(values) - 1:
        return None
    return _ascii_array(values, joined)


def _ascii_array(values: list[str], joined: str | None = None) -> np.ndarray:
    """`np.array(values, dtype=np.bytes_)` of ASCII strings: when every one has the same
    length (shas, patch ids, change ids, record ids: nearly always), the strings joined a
    line each, encoded once and cut into rows (each row's newline where it must be and no
    other: every value has that length), instead of a string converted a row at a time.
    The same array (a property test compares them): with no NUL at the end of a value (the
    callers' values have none) an S array keeps each value as it is. `joined`: the values
    joined by newlines, if the caller has it."""
    n, width = len(values), len(values[0]) if values else 0
    if width:
        # Each value and a newline: rows of width + 1 bytes, each ending in the only newlines.
        text = (("\n".join(values) if joined is None else joined) + "\n").encode("ascii")
        if len(text) == n * (width + 1) and text.count(b"\n") == n:
            rows = np.frombuffer(text, dtype=np.uint8).reshape(n, width + 1)
            if (rows[:, width] == 10).all():
                return rows[:, :width].copy().view(f"S{width}").ravel()
    return np.array(values, dtype=np.bytes_)


def _id_bytes(ids: list[Any]) -> np.ndarray:
    """The UTF-8 bytes of the `id` values that are strings (`_ids_of_values`, unsorted)."""
    if set(map(type, ids)) == {str}:
        joined = "\n".join(ids)
        if joined.isascii():  # every id reviewq writes
            return _ascii_array(ids, joined)
        try:  # ASCII ids (every id reviewq writes): one C-level conversion
            return np.array(ids, dtype=np.bytes_)
        except UnicodeEncodeError:
            pass
    ids = [i.encode("utf-8", "replace") for i in ids if type(i) is str]
    return np.array(ids, dtype=np.bytes_) if ids else np.zeros(0, dtype="S1")


def _merge(parts: list[_Part]) -> _Part:
    """Consecutive parts as one, joined as `VerdictTable.concat` joins tables (the first
    part's codes as they are, the others' renumbered into the labels joined in order), the
    change column's row indexes shifted past the parts before. `parts` is emptied and each
    source array let go as soon as its column is joined: a first build's memory peaks here,
    and the join then holds one column twice, not every record's columns."""
    if len(parts) == 1:
        return parts.pop()
    if any(p.settled for p in parts):
        parts[:] = [_settle(p) for p in parts]
        return _merge_settled(parts)
    merged, remaps = _table_labels(parts)
    invalid = sum(p.table.invalid for p in parts)
    bases = np.cumsum([0] + [len(p.changes) for p in parts[:-1]]).tolist()
    sources = [{name: getattr(p.table, name) for name in COLUMNS} for p in parts]
    rest = [[p.changes, p.ids, p.keys, p.key_lines] for p in parts]
    parts.clear()
    columns = _joined_columns(
        sources, remaps, lambda i, column: column.astype(np.int64) + bases[i], trim=True
    )
    table = VerdictTable(
        **columns,
        **merged,
        changes=(),
        invalid=invalid,
    )
    joined = []
    for field in range(4):
        joined.append(np.concatenate([r[field] for r in rest]))
        for r in rest:
            r[field] = None
    heap.trim()
    return _Part(table, *joined)


def _joined_columns(
    sources: list[dict[str, np.ndarray]],
    remaps: list[dict[str, np.ndarray]],
    change_column: Callable[[int, np.ndarray], np.ndarray],
    *,
    trim: bool,
) -> dict[str, np.ndarray]:
    """Each column of the parts' tables (`sources`, emptied as they are joined) joined in part
    order: a coded column's codes renumbered into the joined labels (`remaps`, from
    `_table_labels`), the change column as `change_column(part index, column)` gives it. With
    `trim`, the C heap gives back what each joined column freed (`heap.trim`)."""
    columns: dict[str, np.ndarray] = {}
    for name in COLUMNS:
        pieces = []
        for i, source in enumerate(sources):
            column = source.pop(name)
            if name == "change":
                column = change_column(i, column)
            elif name in CODED and i and len(column):
                column = remaps[i][CODED[name]][column]
            pieces.append(column)
        columns[name] = np.concatenate(pieces)
        del pieces
        if trim:
            heap.trim()
    return columns


def _table_labels(parts: list[_Part]) -> tuple[dict[str, Any], list[dict[str, np.ndarray]]]:
    """The parts' tables' labels joined in order (`VerdictTable.concat`'s way, change ids
    aside) and, for each part after the first, its codes' new numbers by label name."""
    tables = [p.table for p in parts]
    merged: dict[str, Any] = {}
    remaps: list[dict[str, np.ndarray]] = [{} for _ in tables]
    for name in LABELS:
        if name in ("reviewer_names", "changes"):
            continue
        later = sum(len(getattr(t, name)) for t in tables[1:])
        labels = _Labels(tuple(getattr(tables[0], name)), later)
        for i, t in enumerate(tables[1:], start=1):
            remaps[i][name] = labels.codes(getattr(t, name))
        merged[name] = labels.all()
    names: dict[str, str] = {}
    for t in tables:
        for key, name in zip(t.reviewers, t.reviewer_names):
            names.setdefault(key, name)
    merged["reviewer_names"] = tuple(names[k] for k in merged["reviewers"])
    return merged, remaps


def _settle(part: _Part) -> _Part:
    """`part` with its change ids numbered (`_first_seen`), its ids sorted and unique and its
    key index by key, then line: what `_finish` did once for the whole log, done for each
    range in its own process (joining settled parts, `_merge_settled`, sorts nothing again)."""
    if part.settled:
        return part
    order = np.lexsort((part.key_lines, part.keys))
    keys, key_lines = part.keys[order], part.key_lines[order]
    del order
    ids = _sorted_unique(part.ids)
    codes, labels, hashes, order = _first_seen_hashed(part.changes)
    rows = part.table.change
    change = codes[rows].astype(np.int32) if len(rows) else rows.astype(np.int32)
    del codes, rows
    table = replace(part.table, change=change)
    return _Part(table, labels, ids, keys, key_lines, True, hashes, order)


def _merge_settled(parts: list[_Part]) -> _Part:
    """Settled parts, in log order, as one settled part: `_merge` of them, then `_settle`.
    The sorted key indexes and ids merged as sorted runs (equal keys keep their parts' order,
    which is their lines' order), the change codes renumbered into the change ids joined in
    order of first appearance (`_joined_labels`). One kind of array at a time, each part's
    let go once joined: the memory of a first build peaks here. `parts` is emptied."""
    merged, remaps = _table_labels(parts)
    invalid = sum(p.table.invalid for p in parts)
    runs = [(p.keys, p.key_lines) for p in parts]
    _let_go(parts, "keys", "key_lines")
    keys, key_lines = _merged_runs(runs)
    ids = [p.ids for p in parts]
    _let_go(parts, "ids")
    joined_ids = _emptied_into(ids)
    joined_ids.sort(kind="stable")  # sorted runs: merged in place
    joined_ids = _unique_sorted(joined_ids)
    changes = [p.changes for p in parts]
    hashes = [p.label_hashes for p in parts]
    orders = [p.label_order for p in parts]
    _let_go(parts, "changes", "label_hashes", "label_order")
    labels, maps, label_hashes = _joined_labels(changes, hashes, orders)
    del changes, hashes, orders
    sources = [{name: getattr(p.table, name) for name in COLUMNS} for p in parts]
    parts.clear()

    def change_column(i: int, column: np.ndarray) -> np.ndarray:
        mapped = maps[i][column] if maps[i] is not None and len(column) else column
        return mapped.astype(np.int32)

    columns = _joined_columns(sources, remaps, change_column, trim=False)
    table = VerdictTable(**columns, **merged, changes=(), invalid=invalid)
    del columns
    heap.trim()
    return _Part(table, labels, joined_ids, keys, key_lines, True, label_hashes)


def _let_go(parts: list[_Part], *names: str) -> None:
    """Drop the parts' arrays named `names` (their joined copies are made next). A helper, not
    a loop in the caller: a loop variable would keep the last part, and every array it still
    has, alive through the rest of the join (a worker's whole range at a first build)."""
    for part in parts:
        for name in names:
            setattr(part, name, None)


def _merged_runs(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Key indexes, each by key, then line, whose lines come after the ones before (`runs`
    is emptied): one index by key, then line. Each run's entries go after the equal keys
    of the runs before it (searchsorted, side right), into arrays made once."""
    keys, lines = runs.pop(0)
    while runs:
        more, more_lines = runs.pop(0)
        at = np.searchsorted(keys, more, side="right")
        at += np.arange(len(more), dtype=at.dtype)  # where each lands once the others are in
        theirs = np.zeros(len(keys) + len(more), dtype=bool)
        theirs[at] = True
        del at
        ours = ~theirs
        # Each source let go as soon as it is copied (the new arrays' pages count only once
        # written): the two runs and the joined one are never all in memory at once.
        out_keys = np.empty(len(theirs), dtype=np.uint64)
        out_keys[theirs] = more
        del more
        out_keys[ours] = keys
        del keys
        out_lines = np.empty(len(theirs), dtype=np.int64)
        out_lines[theirs] = more_lines
        del more_lines
        out_lines[ours] = lines
        del lines, ours, theirs
        keys, lines = out_keys, out_lines
    return keys, lines


def _emptied_into(arrays: list[np.ndarray]) -> np.ndarray:
    """`np.concatenate(arrays)`, each source let go once copied (`arrays` is emptied)."""
    width = max(a.dtype.itemsize for a in arrays)
    dtype = arrays[0].dtype if arrays[0].dtype.kind != "S" else np.dtype(f"S{width}")
    out = np.empty(sum(len(a) for a in arrays), dtype=dtype)
    at = 0
    while arrays:
        source = arrays.pop(0)
        out[at : at + len(source)] = source
        at += len(source)
        del source
    return out


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted `values` without repeats (the array itself when it has none)."""
    if len(values) < 2:
        return values
    repeats = values[1:] == values[:-1]
    if not repeats.any():
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.logical_not(repeats, out=keep[1:])
    return values[keep]


def _joined_labels(
    labels: list[np.ndarray], hashes: list[Any], orders: list[Any] | None = None
) -> tuple[np.ndarray, list[np.ndarray | None], np.ndarray]:
    """Parts' distinct change ids (each in order of first appearance) joined: (the distinct
    ones of all, in order of first appearance; for each part, its codes' new numbers, None
    when they stay; their hashes). A part's ids are looked up among those before it by their
    64-bit hashes (`_row_hashes`), and the bytes of each found one compared; any hash shared
    by two different ids, and they are numbered exactly by bytes (`_first_seen`). `orders`:
    each part's stable argsort of its hashes, where known (`_settle`; None: sorted here): the
    first part's is not sorted again, and a part's hashes are looked up in their order (a
    million lookups in order cost a tenth of a million in no order)."""
    width = max(x.dtype.itemsize for x in labels)
    if any(x.dtype.itemsize != width for x in labels):
        # A hash is of the bytes padded to the array's width: one width for all.
        labels = [x.astype(f"S{width}") for x in labels]
        hashes = [_row_hashes(x) for x in labels]
        orders = None
    if orders is None:
        orders = [None] * len(labels)
    done, done_hashes = labels[0], hashes[0]
    maps: list[np.ndarray | None] = [None]
    last = len(labels) - 1
    for at_part in range(1, len(labels)):
        part, part_hashes = labels[at_part], hashes[at_part]
        known = orders[0] if at_part == 1 else None
        order = known if known is not None else np.argsort(done_hashes, kind="stable")
        ordered = done_hashes[order]
        if len(ordered) > 1 and (ordered[1:] == ordered[:-1]).any():
            return _joined_labels_exactly(labels)
        if len(ordered):
            mine = orders[at_part]
            if mine is not None:  # looked up in order, put back in row order
                at = np.empty(len(part_hashes), dtype=np.intp)
                at[mine] = np.searchsorted(ordered, part_hashes[mine])
            else:
                at = np.searchsorted(ordered, part_hashes)
            at = np.minimum(at, len(ordered) - 1)
            found = ordered[at] == part_hashes
            where = order[at[found]]
        else:
            found = np.zeros(len(part), dtype=bool)
            where = np.zeros(0, dtype=np.int64)
        del order, ordered
        if not np.array_equal(done[where], part[found]):
            return _joined_labels_exactly(labels)  # one hash, two change ids
        new = ~found
        numbers = np.empty(len(part), dtype=np.int64)
        numbers[found] = where
        numbers[new] = len(done) + np.arange(int(new.sum()), dtype=np.int64)
        maps.append(numbers)
        count, before = int(new.sum()), len(done)
        grown = np.empty(before + count, dtype=done.dtype)
        grown[:before] = done
        if at_part == last:
            # No exact numbering of all of them can be due any more: each source let go as
            # soon as it is copied (the new array's pages count only once written).
            labels[0] = labels[at_part] = None  # type: ignore[call-overload]
        del done
        np.compress(new, part, out=grown[before:])
        del part
        done = grown
        done_hashes = np.concatenate([done_hashes, part_hashes[new]])
    return done, maps, done_hashes


def _joined_labels_exactly(
    labels: list[np.ndarray],
) -> tuple[np.ndarray, list[np.ndarray | None], np.ndarray]:
    """`_joined_labels` by `_first_seen` of all the parts' change ids."""
    codes, done = _first_seen(np.concatenate(labels))
    bounds = np.cumsum([0] + [len(x) for x in labels]).tolist()
    maps: list[np.ndarray | None] = [codes[a:b] for a, b in pairwise(bounds)]
    return done, maps, _row_hashes(done)


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each value's code, the distinct values): codes in order of first appearance, as
    `_factorize` numbers them. The values are told apart by a 64-bit hash of their bytes
    (sorting a million of those, not a million byte strings), then checked against the first
    value of their hash: any two that differ under one hash, and the byte strings are
    sorted instead."""
    return _first_seen_hashed(values)[:2]


def _first_seen_hashed(
    values: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_first_seen`, and the distinct values' `_row_hashes` and their stable argsort: read
    off the sort of the hashes that numbered them (no hash a value twice, no second sort),
    unless two values shared a hash."""
    if not len(values):
        return (
            np.zeros(0, dtype=np.int64),
            values,
            np.zeros(0, dtype=np.uint64),
            np.zeros(0, dtype=np.intp),
        )
    hashed = _row_hashes(values)
    # One stable sort of the hashes numbers them, as `np.unique` would (a run of equal hashes
    # starts at the first row that has it); when every hash differs (a first build's change
    # ids, nearly always), it is the answer's argsort itself and nothing else is sorted.
    by_hash = np.argsort(hashed, kind="stable")
    ordered = hashed[by_hash]
    starts = np.empty(len(values), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    if starts.all():  # no hash twice, so no two values under one: each value its own code
        return np.arange(len(values), dtype=np.int64), values, hashed, by_hash
    del hashed
    uniq, first = ordered[starts], by_hash[starts]
    inverse = np.empty(len(values), dtype=np.intp)
    inverse[by_hash] = np.cumsum(starts) - 1
    del ordered, starts, by_hash
    exact = _all_first(values, first, inverse)
    if not exact:  # a collision: exactly, by bytes
        _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    labels = values[first[order]]
    if exact:
        # The distinct values' hashes are `uniq` (sorted, distinct) in first-seen order:
        # `rank` puts them back in sorted order, the one stable argsort of distinct values.
        return rank[inverse], labels, uniq[order], rank.astype(np.intp, copy=False)
    hashes = _row_hashes(labels)
    return rank[inverse], labels, hashes, np.argsort(hashes, kind="stable")


def _all_first(values: np.ndarray, first: np.ndarray, inverse: np.ndarray) -> bool:
    """Is each value the first value of its hash (compared a slice at a time)?"""
    step = 1 << 16
    for at in range(0, len(values), step):
        if not np.array_equal(values[first[inverse[at : at + step]]], values[at : at + step]):
            return False
    return True


def _row_hashes(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each byte string of an S array (its bytes, NUL-padded to 8)."""
    n, width = len(values), values.dtype.itemsize
    words = -(-width // 8)
    raw = values.view(np.uint8).reshape(n, width)
    if width != words * 8:
        padded = np.zeros((n, words * 8), dtype=np.uint8)
        padded[:, :width] = raw
        raw = padded
    grid = np.ascontiguousarray(raw).view(np.uint64)
    out = np.zeros(n, dtype=np.uint64)
    mix = np.uint64(0x9E3779B97F4A7C15)
    for i in range(words):
        out *= mix
        out ^= grid[:, i]
        out ^= out >> np.uint64(29)
    return out


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (its hashing way is slower for byte strings)."""
    out = np.sort(values)
    if len(out) > 1:
        keep = np.empty(len(out), dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


def _finish(part: _Part) -> LogColumns:
    """`LogColumns` of a part: settled (`_settle`: the change ids numbered, the ids sorted
    and unique, the key index by key, then line), the change ids kept as lines of text
    (`LineLabels`). The part is used up (its arrays let go one by one)."""
    heap.trim()
    part = _settle(part)
    keys, key_lines, ids = part.keys, part.key_lines, part.ids
    labels = part.changes
    part.changes = part.label_hashes = None  # type: ignore[assignment]
    text = _lines(labels)
    count = len(labels)
    del labels
    table = replace(part.table, changes=LineLabels(text, count))
    part.table = None  # type: ignore[assignment]
    heap.trim()
    return LogColumns(table, ids, keys, key_lines)


def _lines(labels: np.ndarray) -> bytes:
    """`labels` (`_label_bytes`) one a line: without a Python object a label when every one
    fills the array's width (a million change ids of 40 hex digits)."""
    n, width = len(labels), labels.dtype.itemsize
    raw = labels.view(np.uint8).reshape(n, width)
    if n and raw[:, width - 1].all():  # no label shorter (no NUL padding: labels have none)
        # Written in place into the text itself (a bytearray): no second copy of it.
        text = bytearray(n * (width + 1))
        grid = np.frombuffer(text, dtype=np.uint8).reshape(n, width + 1)
        grid[:, :width] = raw
        grid[:, width] = 10
        del grid, raw
        del text[-1]
        return text  # type: ignore[return-value]
    return b"\n".join(labels.tolist())


def _spill(part: _Part) -> tuple[str, dict[str, Any]]:
    """A worker's part written to a temporary file, read back by `_unspill`: a pickled part
    would be every array twice in the reading process at once (the pickle and the arrays).
    Each array's bytes as they are, at an aligned offset; their dtypes, shapes and offsets
    go in the meta."""
    arrays = _part_arrays(part)
    fd, name = _spill_file(sum(a.nbytes for a in arrays) + 64 * len(arrays))
    layout = []
    try:
        with os.fdopen(fd, "wb") as fh:
            at = 0
            for array in arrays:
                array = np.ascontiguousarray(array)
                layout.append((array.dtype.str, list(array.shape), at))
                if array.nbytes:
                    fh.write(memoryview(array).cast("B"))
                at += array.nbytes
                pad = -at % 64
                fh.write(b"\0" * pad)
                at += pad
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    labels = {k: tuple(v) for k, v in part.table.labels().items() if k != "changes"}
    meta = {
        "labels": labels,
        "invalid": part.table.invalid,
        "settled": part.settled,
        "ordered": part.label_order is not None,
    }
    return name, {**meta, "layout": layout}


#: A directory in memory (tmpfs) on Linux, where `_spill_file` hands a worker's part over.
SPILL_DIR = "/dev/shm"


def _spill_file(nbytes: int) -> tuple[int, str]:
    """A new file (`tempfile.mkstemp`'s fd and name) for a worker's part of about `nbytes`:
    in `SPILL_DIR` when it is there with room for twice that, else where tempfile puts its
    files. The file lives for a second, between two processes: on the measuring machine the
    first write of 100 MB to a disk file's page cache (/tmp) took 20-800 ms, to tmpfs 40 ms.
    A temporary directory the user names (TMPDIR, TEMP, TMP: what tempfile reads) is where
    they want such files: used instead."""
    name = {"prefix": ".reviewq-columns-", "suffix": ".bin"}
    if not any(os.environ.get(var) for var in ("TMPDIR", "TEMP", "TMP")):
        try:
            room = os.statvfs(SPILL_DIR)
            if room.f_bavail * room.f_frsize >= 2 * nbytes:
                return tempfile.mkstemp(**name, dir=SPILL_DIR)
        except OSError:  # no such directory, not writable: the usual place
            pass
    return tempfile.mkstemp(**name)


def _part_arrays(part: _Part) -> list[np.ndarray]:
    hashes = part.label_hashes if part.label_hashes is not None else np.zeros(0, np.uint64)
    order = part.label_order if part.label_order is not None else np.zeros(0, np.intp)
    return [
        *(getattr(part.table, name) for name in COLUMNS),
        part.changes,
        part.ids,
        part.keys,
        part.key_lines,
        hashes,
        order,
    ]


def _unspill(name: str, meta: dict[str, Any]) -> _Part:
    """The part `_spill` wrote, its arrays mapped from the file (copy on write), not read:
    each one's pages are read when the join first reads it and let go with it (`_merge`
    lets each source go once joined), so the worker's columns are never all in memory
    beside the joined ones. The file is unlinked at once (its mappings keep it)."""
    try:
        arrays = [
            np.memmap(name, dtype=np.dtype(dtype), mode="c", offset=at, shape=tuple(shape))
            if np.prod(shape) and np.dtype(dtype).itemsize
            else np.zeros(tuple(shape), dtype=np.dtype(dtype))
            for dtype, shape, at in meta["layout"]
        ]
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    # Plain arrays over the mappings (a memmap's results are memmaps too, that nothing needs).
    arrays = [a.view(np.ndarray) for a in arrays]
    table = VerdictTable(
        **dict(zip(COLUMNS, arrays)), **meta["labels"], changes=(), invalid=meta["invalid"]
    )
    changes, ids, keys, key_lines, hashes, order = arrays[len(COLUMNS) :]
    settled = bool(meta.get("settled"))
    return _Part(
        table,
        changes,
        ids,
        keys,
        key_lines,
        settled,
        hashes if settled else None,
        order if settled and meta.get("ordered") else None,
    )


@dataclass(frozen=True)
class _Spilled:
    """A worker's `_Part` in a temporary file (`_spill`)."""

    name: str
    meta: dict[str, Any]


def _as_columns(columns: LogColumns | _Part) -> LogColumns:
    return _finish(columns) if isinstance(columns, _Part) else columns


def _joined(parts: list[Any]) -> LogColumns | _Part:
    """Blocks' or ranges' columns (`_Part` or `LogColumns`), in log order, as one: a `_Part`
    when every one is, else `LogColumns` (`_concat`)."""
    if all(isinstance(p, _Part) for p in parts):
        return _merge(parts)
    runs = [
        _finish(_merge(list(run))) if fast else list(run)
        for fast, run in groupby(parts, key=lambda p: isinstance(p, _Part))
    ]
    flat = [c for r in runs for c in (r if isinstance(r, list) else [r])]
    return _concat(flat)


def _finished(built: _Built[Any] | None) -> _Built[LogColumns] | None:
    if built is None:
        return None
    return _Built(_as_columns(built.columns), built.end, built.lines, built.last_hash)


_METRIC_COLUMNS: _Codec[LogColumns] = _Codec(
    version=CACHE_VERSION,
    build=_metric_part,
    concat=_concat,
    empty=_empty,
    to_arrays=_metric_arrays,
    from_arrays=_metric_columns,
    read_range=_metric_columns_after,
    named=_named_labels,
)

_RECORD_COLUMNS: _Codec[RecordColumns] = _Codec(
    version=2,
    build=lambda records, starts, lines: RecordColumns.build(*_intact(records, starts, lines)[::2]),
    concat=RecordColumns.concat,
    empty=RecordColumns.empty,
    to_arrays=lambda columns: (columns.to_arrays(), {}),
    from_arrays=lambda data, _meta: RecordColumns.from_arrays(data.__getitem__),
)


def records_about(
    log_path: Path, cache_path: Path | None, keys: Collection[str]
) -> list[dict[str, Any]]:
    """The log's records whose sha, patch_id or change_id is one of `keys`, in log order.

    With a cache, only the lines the key index points at are read and parsed. Without one (an
    explicit --log), or if a line is not where the index says (the file changed under us),
    the whole log is read and filtered: the same answer, just slower.
    """
    wanted = {k for k in keys if k}
    if not wanted:
        return []
    if cache_path is not None:
        columns = load_key_index(log_path, cache_path)
        found = _read_lines_at(log_path, columns.lines_about(wanted))
        if found is not None:
            return [r for r in found if _is_about(r, wanted)]
    from reviewq.store.log import ProvenanceLog

    intact = ProvenanceLog(log_path).intact_records()[0]
    return [r for r in intact if _is_about(r, wanted)]


def _is_about(record: Any, wanted: set[str]) -> bool:
    return type(record) is dict and any(record.get(f) in wanted for f in KEY_FIELDS)


def _read_lines_at(path: Path, offsets: np.ndarray) -> list[Any] | None:
    """The records on the lines starting at `offsets`, or None when one is not a whole
    record there (the log was replaced or rewritten since the index was checked)."""
    if not len(offsets):
        return []
    out: list[Any] = []
    try:
        with open(path, "rb") as fh:
            for offset in offsets.tolist():
                fh.seek(offset)
                line = fh.readline()
                if not line.endswith(b"\n"):
                    return None
                try:
                    record, strict = parse_line_strictly(line)
                except ValueError:
                    return None
                if type(record) is not dict:
                    return None
                if line_hash_matches(line, record, strict=strict):  # edited: counts nowhere
                    out.append(record)
    except OSError:
        return None
    return out
