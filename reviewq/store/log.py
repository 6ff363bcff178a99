"""The provenance log: append-only JSON Lines, one writer at a time, fsynced, hash-chained.

Why not TinyDB: it rewrites the whole file on every insert (7 ms at 1,000 records, 380 ms at
50,000). Here an append is: take the lock, read the last line (a seek from the end, not a scan),
write one line with O_APPEND, fsync, release. Cost does not grow with the log.

Crash safety: a record is acknowledged only after fsync. A process killed mid-write can leave a
torn final line without its newline; it was never acknowledged, so the next writer cuts it off
(keeping a copy in `<log>.torn` for the curious) before appending.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reviewq.core.verdict import GENESIS, seal
from reviewq.errors import ReviewqError

_TAIL_CHUNK = 64 * 1024


class LogError(ReviewqError):
    """The log cannot be read or written; nothing already recorded was changed."""


class ProvenanceLog:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    # -- writing ------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive lock shared by every reviewq process on this machine (TUIs and CLIs)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LogError(
                f"cannot open the log lock {self.lock_path} ({exc.strerror}); check permissions"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(
        self,
        record: Mapping[str, Any],
        sign: Callable[[str], str | None] | None = None,
    ) -> dict[str, Any]:
        """Chain `record` after the last one, write it and fsync; returns the stored record.

        `sign(hash) -> signature` runs under the lock so the signed hash is the stored one.
        """
        with self.locked():
            fd = self._open_for_append()
            try:
                prev = self._last_hash(fd)
                sealed = seal(record, prev)
                if sign is not None:
                    sealed["signature"] = sign(sealed["hash"])
                line = (
                    json.dumps(sealed, ensure_ascii=False, separators=(",", ":")) + "\n"
                ).encode("utf-8")
                self._write_all(fd, line)
            finally:
                os.close(fd)
        return sealed

    def _open_for_append(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise LogError(
                f"cannot open the log {self.path} ({exc.strerror}); check --log"
            ) from None
        self._cut_torn_tail(fd)
        return fd

    def _cut_torn_tail(self, fd: int) -> None:
        size = os.fstat(fd).st_size
        if size == 0:
            return
        os.lseek(fd, size - 1, os.SEEK_SET)
        if os.read(fd, 1) == b"\n":
            return
        start = self._last_line_start(fd, size)
        os.lseek(fd, start, os.SEEK_SET)
        torn = os.read(fd, size - start)
        with open(self.path.with_name(self.path.name + ".torn"), "ab") as keep:
            keep.write(torn + b"\n")
        os.ftruncate(fd, start)
        os.fsync(fd)

    @staticmethod
    def _last_line_start(fd: int, end: int) -> int:
        """Offset where the line ending at `end` starts (searching backwards in chunks)."""
        pos = end
        while pos > 0:
            step = min(_TAIL_CHUNK, pos)
            os.lseek(fd, pos - step, os.SEEK_SET)
            chunk = os.read(fd, step)
            cut = chunk.rfind(
                b"\n", 0, len(chunk) - (1 if pos == end and chunk.endswith(b"\n") else 0)
            )
            if cut >= 0:
                return pos - step + cut + 1
            pos -= step
        return 0

    def _last_hash(self, fd: int) -> str:
        size = os.fstat(fd).st_size
        if size == 0:
            return GENESIS
        start = self._last_line_start(fd, size)
        os.lseek(fd, start, os.SEEK_SET)
        line = os.read(fd, size - start)
        try:
            last = json.loads(line)
            return str(last["hash"])
        except (ValueError, KeyError, TypeError):
            raise LogError(
                f"the last record of {self.path} is unreadable; run `reviewq log verify` "
                "before recording more"
            ) from None

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            raise LogError(
                f"could not write the verdict ({exc.strerror}); nothing was recorded. "
                "Free disk space or check permissions, then record it again"
            ) from None

    # -- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def read_lines(self) -> Iterator[tuple[int, bytes]]:
        """(1-based line number, raw line) for every complete line."""
        try:
            fh = open(self.path, "rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise LogError(f"cannot read the log {self.path} ({exc.strerror})") from None
        with fh:
            for number, line in enumerate(fh, start=1):
                if line.endswith(b"\n"):
                    yield number, line

    def records(self) -> list[dict[str, Any]]:
        """Every record in order. Unparseable lines raise: an audit must not skip evidence."""
        out = []
        for number, line in self.read_lines():
            try:
                record = json.loads(line)
            except ValueError:
                raise LogError(
                    f"{self.path}: line {number} is not valid JSON; run `reviewq log verify`"
                ) from None
            out.append(record)
        return out


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of the log at `path` ([] when there is none yet)."""
    return ProvenanceLog(path).records()
