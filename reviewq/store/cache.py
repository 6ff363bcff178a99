"""Small local state: scan cursor and results, critiques, viewed marks, drafts.

Everything here can be rebuilt from git and the provenance log, so the rules are simple: the
file is replaced atomically (never half-written), an unreadable file is discarded and rebuilt,
and a read-only location (a CI mirror) just means no cache.

The file keeps TinyDB's layout (`{table: {document id: {"k": key, "v": value}}}`), which the
cache was first written in, so a file an earlier reviewq wrote reads alike and the other way
round. It is read and written here as a dict of tables with an index of keys per table:
TinyDB's import (and `typing` with it) cost every command that opens the cache ~5 ms, and its
queries walked a whole table for each key.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from reviewq.core.alloc import gc_paused
from reviewq.core.digest import sha256_type
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.files import replace_file
from reviewq.store.cache_digests import DIGESTS_SUFFIX, file_stamp

# Not `typing.TYPE_CHECKING`: the table's process never imports `typing` (docs/architecture.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CACHE_VERSION = 1
#: Writes kept in memory before the file is written anyway (TinyDB's `CachingMiddleware` had
#: the same bound): a long TUI session loses at most these on a crash.
WRITES_BEFORE_FLUSH = 1000


class CacheFile:
    """The cache's file, written as a temp file renamed over the old one; `digested`: tables
    whose digest is kept beside the file after each write (`table_digest`)."""

    def __init__(self, path: str | os.PathLike[str], digested: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.digested = tuple(digested)
        self.broken = False

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            self.broken = True
            return None
        if not raw.strip():
            return None
        try:
            with gc_paused():  # orjson when it can: a rescan reads the whole cache
                data = parse_line(raw)
        except ValueError:
            self.broken = True
            return None
        if not _is_cache(data):
            self.broken = True
            return None
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        data.setdefault("_meta", {})["1"] = {"version": CACHE_VERSION}
        # One encode of the whole table (orjson: a rescan after one new commit rewrites it).
        text = dump_json(data)
        # A cache that cannot be written is no cache; the work is redone next time.
        with contextlib.suppress(OSError):
            replace_file(self.path, lambda fh: fh.write(text), prefix=".cache-")
            if self.digested:
                self._write_digests(data)

    def _write_digests(self, data: dict[str, dict[str, Any]]) -> None:
        """The watched tables' digests, naming the file just written (its stamp): written
        after it, so a reader between the two sees digests of another file and keys on the
        whole file instead (never a digest of a table the file does not hold)."""
        stamp = file_stamp(self.path)
        if stamp is None:
            return
        sha256 = sha256_type()  # not `hashlib`: a scan writes this file (core.digest)
        tables = {name: sha256(dump_json(data.get(name, {}))).hexdigest() for name in self.digested}
        kept = dump_json({"file": stamp, "tables": tables})
        replace_file(
            Path(f"{self.path}{DIGESTS_SUFFIX}"), lambda fh: fh.write(kept), prefix=".cache-"
        )


def _is_cache(data: Any) -> bool:
    """Is `data` a cache file's value: tables of documents (dicts), of this version?"""
    if not isinstance(data, dict) or not all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values())
        for table in data.values()
    ):
        return False
    meta = data.get("_meta", {}).get("1", {})
    return isinstance(meta, dict) and meta.get("version") in (None, CACHE_VERSION)


class Cache:
    """Key -> JSON value tables in one file (or in memory when `path` is None).

    Each operation holds the cache's own lock: the TUI's workers (a critique being computed, a
    draft being saved, a verdict being recorded) use one cache at once. Holding it per
    operation, not around a caller's long work (a model critic waiting on the network), is what
    lets a verdict be recorded while a critic is busy. Writes are kept in memory until `flush`
    (or `close`, or `WRITES_BEFORE_FLUSH` of them), then the whole file is written at once.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, *, digested: Iterable[str] = ()
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        self._file = CacheFile(self.path, digested) if self.path is not None else None
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        #: table -> key -> the id of its document (the first, as a walk of the table finds it)
        self._keys: dict[str, dict[Any, str]] = {}
        self._last_ids: dict[str, int] = {}
        self._unwritten = 0
        if self._file is None:
            return
        data = self._file.read()
        if self._file.broken:
            print(
                f"reviewq: the cache at {self.path} was unreadable and is being rebuilt",
                file=sys.stderr,
            )
            self._unwritten = 1  # the emptied cache is written now
            self.flush()
        elif data is not None:
            self._tables = data

    def _index(self, table: str) -> dict[Any, str]:
        """The table's key -> document id, made on its first use. A key written twice (by
        another tool: the cache never writes one twice) is the first document's, as a walk of
        the table finds it; the later ones, which no `get` could reach, are dropped."""
        keys = self._keys.get(table)
        if keys is None:
            keys = self._keys[table] = {}
            docs = self._tables.get(table, {})
            unreachable = []
            for doc_id, doc in docs.items():
                with contextlib.suppress(KeyError, TypeError):  # no key, or not hashable
                    if keys.setdefault(doc["k"], doc_id) != doc_id:
                        unreachable.append(doc_id)
            for doc_id in unreachable:
                del docs[doc_id]
        return keys

    def get(self, table: str, key: str) -> Any:
        with self._lock:
            doc_id = self._index(table).get(key)
            return None if doc_id is None else self._tables[table][doc_id].get("v")

    def put(self, table: str, key: str, value: Any) -> None:
        with self._lock:
            keys = self._index(table)
            docs = self._tables.setdefault(table, {})
            doc_id = keys.get(key)
            if doc_id is None:
                doc_id = keys[key] = self._next_id(table, docs)
                docs[doc_id] = {"k": key, "v": value}
            else:
                docs[doc_id]["v"] = value
            self._written()

    def _next_id(self, table: str, docs: dict[str, Any]) -> str:
        """One more than the table's largest document id, as TinyDB numbers them."""
        last = self._last_ids.get(table)
        if last is None:
            # Ids another tool wrote may be anything: only short ASCII numerals count (`int`
            # refuses `²`, which `isdigit` accepts, and numerals past 4,300 digits).
            last = max(
                (int(i) for i in docs if i.isascii() and i.isdigit() and len(i) < 19), default=0
            )
        self._last_ids[table] = last + 1
        return str(last + 1)

    def delete(self, table: str, key: str) -> None:
        with self._lock:
            doc_id = self._index(table).pop(key, None)
            if doc_id is not None:
                del self._tables[table][doc_id]
                self._written()

    def items(self, table: str) -> list[tuple[str, Any]]:
        with self._lock:
            self._index(table)  # a key written twice is listed once, as `get` reads it
            return [
                (doc["k"], doc.get("v"))
                for doc in self._tables.get(table, {}).values()
                if "k" in doc
            ]

    def _written(self) -> None:
        self._unwritten += 1
        if self._unwritten >= WRITES_BEFORE_FLUSH:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if self._file is not None and self._unwritten:
                self._file.write(self._tables)
                self._unwritten = 0

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
