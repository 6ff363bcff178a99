"""Small local state in TinyDB: scan cursor and results, critiques, viewed marks, drafts.

Everything here can be rebuilt from git and the provenance log, so the rules are simple: the
file is replaced atomically (never half-written), an unreadable file is discarded and rebuilt,
and a read-only location (a CI mirror) just means no cache.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import MemoryStorage, Storage

from reviewq.core.alloc import gc_paused
from reviewq.core.digest import sha256_type
from reviewq.core.jsonio import dump_json, parse_line
from reviewq.files import replace_file
from reviewq.store.cache_digests import DIGESTS_SUFFIX, file_stamp

CACHE_VERSION = 1


class AtomicJSONStorage(Storage):
    """TinyDB storage that writes a temp file and renames it over the old one; `digested`:
    tables whose digest is kept beside the file after each write (`table_digest`)."""

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
        if not isinstance(data, dict) or data.get("_meta", {}).get("1", {}).get("version") not in (
            None,
            CACHE_VERSION,
        ):
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

    def close(self) -> None:
        pass


class Cache:
    """Key -> JSON value tables over one TinyDB file (or memory when `path` is None).

    Each operation holds the cache's own lock: TinyDB is not thread-safe, and the TUI's
    workers (a critique being computed, a draft being saved, a verdict being recorded) use one
    cache at once. Holding it per operation, not around a caller's long work (a model critic
    waiting on the network), is what lets a verdict be recorded while a critic is busy.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, *, digested: Iterable[str] = ()
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.RLock()
        if self.path is None:
            self._db = TinyDB(storage=MemoryStorage)
            return
        storage_cls = CachingMiddleware(AtomicJSONStorage)
        self._db = TinyDB(self.path, digested=tuple(digested), storage=storage_cls)
        inner = self._db.storage.storage  # type: ignore[attr-defined]
        self._db.tables()  # first read
        if inner.broken:
            print(
                f"reviewq: the cache at {self.path} was unreadable and is being rebuilt",
                file=sys.stderr,
            )
            self._db.drop_tables()
            self.flush()

    def get(self, table: str, key: str) -> Any:
        with self._lock:
            row = self._db.table(table).get(Query().k == key)
        return None if row is None else row.get("v")

    def put(self, table: str, key: str, value: Any) -> None:
        with self._lock:
            self._db.table(table).upsert({"k": key, "v": value}, Query().k == key)

    def delete(self, table: str, key: str) -> None:
        with self._lock:
            self._db.table(table).remove(Query().k == key)

    def items(self, table: str) -> list[tuple[str, Any]]:
        with self._lock:
            return [(row["k"], row.get("v")) for row in self._db.table(table).all()]

    def flush(self) -> None:
        with self._lock:
            storage = self._db.storage
            if hasattr(storage, "flush"):
                storage.flush()

    def close(self) -> None:
        with self._lock:
            self.flush()
            self._db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
