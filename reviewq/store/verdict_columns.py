"""The provenance log as metric columns, cached: `stats` reads each record once, ever.

Parsing a million JSON lines takes longer than every figure computed from them, and the log is
append-only. So the columns (`core.metrics.VerdictTable`) of the first N bytes are kept in
`<git dir>/reviewq/verdict-columns.npz` with the `hash` of the record that ends at byte N. When
that record is still there, only the bytes after N are parsed; otherwise (a log replaced,
truncated or rewritten) everything is read again. The hash chain makes the check sound: the
last record's hash covers, through `prev`, every record before it.

It is a cache: deleting it loses nothing, a damaged or foreign one is rebuilt, and a place that
cannot be written (a read-only CI mirror) just means no cache. The npz holds plain arrays and
JSON text only (loaded with `allow_pickle=False`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reviewq.core.metrics import COLUMNS, LABELS, VerdictTable, gc_paused
from reviewq.store.log import LogError, parse_line

CACHE_NAME = "verdict-columns.npz"
#: Bump when VerdictTable's columns or their meaning change.
CACHE_VERSION = 2
#: How far back from the cached end to look for the start of the last cached record.
_TAIL = 1 << 20


@dataclass(frozen=True)
class LogColumns:
    """The log's records as columns, and the sorted ids of every record in it (so records
    arriving from elsewhere, the team's notes, can be told apart without a million-entry set)."""

    table: VerdictTable
    ids: np.ndarray  # sorted, unique, bytes

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
    ids = [
        r["id"].encode("utf-8", "replace")
        for r in records
        if isinstance(r, dict) and isinstance(r.get("id"), str)
    ]
    return np.unique(np.array(ids, dtype=np.bytes_)) if ids else np.zeros(0, dtype="S1")


def load_log_table(log_path: Path, cache_path: Path | None) -> LogColumns:
    """Columns of every complete record of the log at `log_path` (agents not yet filled in)."""
    try:
        size = log_path.stat().st_size
    except FileNotFoundError:
        return LogColumns(VerdictTable.from_records([]), _ids_of([]))
    except OSError as exc:
        raise LogError(f"cannot read the log {log_path} ({exc.strerror})") from None
    cached, meta = _load(cache_path) if cache_path is not None else (None, None)
    start, first_line = 0, 1
    if cached is not None and meta is not None and _still_there(log_path, size, meta):
        start, first_line = int(meta["covered"]), int(meta["lines"]) + 1
    else:
        cached = None
    records, end, last_hash, lines = _read_records(log_path, start, first_line)
    if cached is not None and not records:
        return cached
    fresh = VerdictTable.from_records(records) if records else None
    parts = [t for t in (cached.table if cached else None, fresh) if t is not None]
    table = VerdictTable.concat(parts) if parts else VerdictTable.from_records([])
    ids = _ids_of(records)
    if cached is not None:
        ids = np.union1d(cached.ids, ids)
    result = LogColumns(table, ids)
    if cache_path is not None and end > 0:
        meta = {
            "version": CACHE_VERSION,
            "covered": end,
            "lines": first_line - 1 + lines,
            "last_hash": last_hash if last_hash is not None else (meta or {}).get("last_hash"),
        }
        _store(cache_path, result, meta)
    return result


def _read_records(
    path: Path, start: int, first_line: int
) -> tuple[list[Any], int, str | None, int]:
    """Records of the complete lines from byte `start`: (records, end offset, hash of the last
    record, lines read). A torn last line (a writer died mid-append) is not read."""
    records: list[Any] = []
    end = start
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; the loop raises LogError
    except OSError as exc:
        raise LogError(f"cannot read the log {path} ({exc.strerror})") from None
    with fh, gc_paused():
        fh.seek(start)
        for number, line in enumerate(fh, start=first_line):
            if not line.endswith(b"\n"):
                break
            try:
                records.append(parse_line(line))
            except ValueError:
                raise LogError(
                    f"{path}: line {number} is not valid JSON; run `reviewq log verify`"
                ) from None
            end += len(line)
    last = records[-1] if records else None
    last_hash = str(last.get("hash")) if isinstance(last, dict) and last.get("hash") else None
    return records, end, last_hash, len(records)


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


def _load(path: Path) -> tuple[LogColumns | None, dict[str, Any] | None]:
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            if meta.get("version") != CACHE_VERSION:
                return None, None
            labels = json.loads(bytes(data["labels"]).decode("utf-8"))
            columns = {name: data[name] for name in COLUMNS}
            ids = data["ids"]
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None, None  # missing, damaged or foreign: rebuilt from the log
    try:
        table = VerdictTable(
            **columns,
            **{name: tuple(labels[name]) for name in LABELS},
            invalid=int(meta.get("invalid", 0)),
        )
    except (KeyError, TypeError):
        return None, None
    return LogColumns(table, ids), meta


def _store(path: Path, columns: LogColumns, meta: dict[str, Any]) -> None:
    table = columns.table
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".verdict-columns-", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                meta=np.frombuffer(
                    json.dumps({**meta, "invalid": table.invalid}).encode(), dtype=np.uint8
                ),
                labels=np.frombuffer(
                    json.dumps({k: list(v) for k, v in table.labels().items()}).encode(),
                    dtype=np.uint8,
                ),
                ids=columns.ids,
                **table.columns(),
            )
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
