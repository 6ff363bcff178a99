"""The provenance log: append-only JSON Lines, one writer at a time, fsynced, hash-chained.

Why not TinyDB: it rewrites the whole file on every insert (7 ms at 1,000 records, 380 ms at
50,000). Here an append is: sign (outside the lock), take the lock, read the head, write one line
with O_APPEND, fsync, update the head, release. Nothing in it reads more than the last line, so
its cost does not grow with the log (benchmarks/bench_log.py).

Files, side by side:

- `log.jsonl`: one canonical JSON record per line (reviewq.core.verdict).
- `log.jsonl.lock`: the flock every writer on this machine takes (TUIs and CLIs alike).
- `log.jsonl.head`: records, byte size and last hash as of the last acknowledged append. The chain
  alone cannot see records cut from the end; the head can. It is written after the fsync of the
  record, so it may lag the log (a crash right after the fsync) but never runs ahead of it.
- `log.jsonl.torn`: bytes of interrupted writes that were cut off (kept for the curious).

Crash safety: a record is acknowledged only after fsync. A process killed mid-write can leave a
torn final line without its newline; it was never acknowledged (it lies past the head), so the
next writer cuts it off before appending. A torn line *inside* the acknowledged part means the
file was truncated: the writer refuses and `log verify` says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewq.core import safejson
from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import STRICT_FAST_LOADS, fast_loads, parse_line
from reviewq.core.verdict import (
    BROKEN_LINK,
    EDITED,
    GENESIS,
    SIG_UNSIGNED,
    ChainProblem,
    RecordFinding,
    SignatureCheck,
    VerifyReport,
    line_hash_matches,
    record_line,
    seal,
    signing_payload,
)
from reviewq.errors import ReviewqError

_TAIL_CHUNK = 64 * 1024
HEAD_SIZE = 256
HEAD_VERSION = 1


class LogError(ReviewqError):
    """The log cannot be read or written; nothing already recorded was changed."""


# -- the head ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Head:
    """The log as of the last acknowledged append."""

    records: int
    size: int
    hash: str

    def _check(self) -> str:
        return hashlib.sha256(f"{self.records}:{self.size}:{self.hash}".encode()).hexdigest()[:16]

    def encode(self) -> bytes:
        body = json.dumps(
            {
                "v": HEAD_VERSION,
                "records": self.records,
                "size": self.size,
                "hash": self.hash,
                "check": self._check(),
            },
            separators=(",", ":"),
        ).encode()
        return body.ljust(HEAD_SIZE - 1) + b"\n"

    @classmethod
    def decode(cls, data: bytes) -> Head | None:
        """None when missing or torn (the check catches a half-written head)."""
        try:
            raw = safejson.loads(data.strip() or b"null")
            head = cls(int(raw["records"]), int(raw["size"]), str(raw["hash"]))
            if raw.get("check") != head._check() or head.records < 0 or head.size < 0:
                return None
            return head
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True, slots=True)
class _Tail:
    records: int
    prev: str
    size: int


# -- the log ----------------------------------------------------------------------------------


class ProvenanceLog:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self._sibling(".lock")
        self.head_path = self._sibling(".head")
        self.torn_path = self._sibling(".torn")

    def _sibling(self, suffix: str) -> Path:
        return self.path.with_name(self.path.name + suffix)

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
        sign: Callable[[bytes], str | None] | None = None,
    ) -> dict[str, Any]:
        """Chain `record` after the last one, write it and fsync; returns the stored record.

        `sign(payload) -> signature` signs the record's content digest (`signing_payload`). It
        runs before the lock is taken: an ssh-agent confirmation or a slow key never holds up
        another writer, and the signature does not depend on the record's place in the chain.
        """
        return self.append_many([record], sign=sign)[0]

    def append_many(
        self,
        records: Sequence[Mapping[str, Any]],
        sign: Callable[[bytes], str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Several records under one lock and one fsync (rebuilds); all or nothing."""
        prepared = []
        for record in records:
            body = {k: v for k, v in record.items() if k not in ("prev", "hash")}
            if sign is not None:
                body["signature"] = sign(signing_payload(body))
            body.setdefault("signature", None)
            prepared.append(body)
        if not prepared:
            return []
        with self.locked():
            created = not self.path.exists()
            fd = self._open_for_append()
            try:
                tail = self._tail(fd)
                sealed, chunks, prev = [], [], tail.prev
                for body in prepared:
                    item = seal(body, prev)
                    prev = item["hash"]
                    sealed.append(item)
                    chunks.append(record_line(item))
                data = b"".join(chunks)
                self._write_all(fd, data, tail.size)
            finally:
                os.close(fd)
            if created:
                self._fsync_dir()
            self._write_head(Head(tail.records + len(sealed), tail.size + len(data), prev))
        return sealed

    def _open_for_append(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise LogError(
                f"cannot open the log {self.path} ({exc.strerror}); check --log"
            ) from None

    def _tail(self, fd: int) -> _Tail:
        """Records, last hash and size to append after; cuts an unacknowledged torn tail.

        O(1) when the head matches the file (the normal case): one read of the last line.
        """
        size = os.fstat(fd).st_size
        head = self.read_head()
        if size and self._last_byte(fd, size) != b"\n":
            start = _line_start(fd, size)
            if head is not None and head.size > start:
                raise self._truncated(head, start)
            self._cut_torn_tail(fd, start, size)
            size = start
        if head is not None:
            if head.size > size:
                raise self._truncated(head, size)
            if head.size and self._hash_of_line_ending_at(fd, head.size) != head.hash:
                raise LogError(
                    f"{self.path}: the record at the end of the last acknowledged append is "
                    "not the one written then (the log was rewritten); run `reviewq log verify` "
                    "and see docs/provenance.md (recovery) before recording more"
                )
            if head.size == size:
                return _Tail(head.records, head.hash if head.size else GENESIS, size)
            # Records fsynced after the head was last written (a writer died in between).
            extra, last = self._scan_lines(fd, head.size, size)
            return _Tail(head.records + extra, last or head.hash, size)
        if size == 0:
            return _Tail(0, GENESIS, 0)
        # No head yet (first use of an older log, or it was removed): count once.
        count, last = self._scan_lines(fd, 0, size)
        return _Tail(count, last or GENESIS, size)

    def _truncated(self, head: Head, size: int) -> LogError:
        return LogError(
            f"{self.path} is shorter ({size} bytes) than at its last acknowledged append "
            f"({head.records} records, {head.size} bytes): records were removed or the file was "
            "truncated; run `reviewq log verify`, then see docs/provenance.md (recovery)"
        )

    @staticmethod
    def _last_byte(fd: int, size: int) -> bytes:
        return os.pread(fd, 1, size - 1)

    def _cut_torn_tail(self, fd: int, start: int, size: int) -> None:
        torn = os.pread(fd, size - start, start)
        try:
            with open(self.torn_path, "ab") as keep:
                keep.write(torn + b"\n")
        except OSError:
            pass  # the copy is a courtesy; the bytes were never acknowledged
        os.ftruncate(fd, start)
        os.fsync(fd)

    def _hash_of_line_ending_at(self, fd: int, end: int) -> str | None:
        start = _line_start(fd, end)
        try:
            return str(parse_line(os.pread(fd, end - start, start))["hash"])
        except (ValueError, KeyError, TypeError):
            return None

    def _scan_lines(self, fd: int, start: int, end: int) -> tuple[int, str | None]:
        """(complete lines in [start, end), hash of the last one)."""
        count, pos = 0, start
        while pos < end:
            chunk = os.pread(fd, min(1 << 20, end - pos), pos)
            if not chunk:
                break
            count += chunk.count(b"\n")
            pos += len(chunk)
        if count == 0:
            return 0, None
        last_start = _line_start(fd, end)
        try:
            last = str(parse_line(os.pread(fd, end - last_start, last_start))["hash"])
        except (ValueError, KeyError, TypeError):
            raise LogError(
                f"the last record of {self.path} is unreadable; run `reviewq log verify` "
                "before recording more"
            ) from None
        return count, last

    def _write_all(self, fd: int, data: bytes, size_before: int) -> None:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as exc:
            # Leave no partial line behind: the file is exactly as before the attempt.
            try:
                os.ftruncate(fd, size_before)
                os.fsync(fd)
            except OSError:
                pass  # the next writer cuts a torn tail past the head anyway
            raise LogError(
                f"could not write the verdict to {self.path} ({exc.strerror}); nothing was "
                "recorded. Free disk space or check permissions, then record it again"
            ) from None

    def _write_head(self, head: Head) -> None:
        """Best effort and unsynced: a missing or stale head only weakens truncation checks."""
        try:
            fd = os.open(self.head_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return
        try:
            os.pwrite(fd, head.encode(), 0)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _fsync_dir(self) -> None:
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def read_head(self) -> Head | None:
        try:
            with open(self.head_path, "rb") as fh:
                return Head.decode(fh.read(HEAD_SIZE))
        except OSError:
            return None

    def _open_for_reading(self):
        try:
            return open(self.path, "rb", buffering=0)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LogError(f"cannot read the log {self.path} ({exc.strerror})") from None

    def raw_lines(self) -> _LineReader:
        """Every complete line (without its newline), read in large chunks; afterwards the
        reader knows the unterminated tail, if any."""
        return _LineReader(self)

    def read_lines(self) -> Iterator[tuple[int, bytes]]:
        """(1-based line number, raw line with its newline) for every complete line."""
        for number, line in enumerate(self.raw_lines(), start=1):
            yield number, line + b"\n"

    def iter_records(self) -> Iterator[dict[str, Any]]:
        """Every record in order, streamed (constant memory)."""
        for number, line in enumerate(self.raw_lines(), start=1):
            yield self._parse(number, line)

    def _parse(self, number: int, line: bytes) -> dict[str, Any]:
        try:
            record = parse_line(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise LogError(
                f"{self.path}: line {number} is not a JSON record; run `reviewq log verify`"
            )
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every record in order. Unparseable lines raise: an audit must not skip evidence."""
        try:
            reader = open(self.path, "rb")  # noqa: SIM115 - closed below, inside the gc pause
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LogError(f"cannot read the log {self.path} ({exc.strerror})") from None
        with gc_paused():
            with reader:
                try:
                    # The fast path: one comprehension over the file, no per-line bookkeeping.
                    out = [fast_loads(line) for line in reader]
                except ValueError:
                    out = None
                else:
                    end = reader.tell()
                    if out and os.pread(reader.fileno(), 1, end - 1) != b"\n":
                        out.pop()  # an unterminated last line was never acknowledged
            if out is not None and all(type(r) is dict for r in out):
                return out
            return [self._parse(n, line) for n, line in enumerate(self.raw_lines(), start=1)]

    def intact_records(self) -> tuple[list[dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
        """(records whose line hashes to its own `hash`, (line number, record) of every other).

        What every reader of verdicts reads: a line edited after it was written (`reject` made
        `approve` without recomputing its hash) is evidence of nothing, and `log verify` names
        it. A line that is not a JSON record at all raises, as in `records`.
        """
        intact: list[dict[str, Any]] = []
        edited: list[tuple[int, dict[str, Any]]] = []
        with gc_paused():
            # Lines without their newline (the hash never covers it), parsed on the fast path.
            for number, line in enumerate(self.raw_lines(), start=1):
                strict = STRICT_FAST_LOADS
                try:
                    record = fast_loads(line)
                except ValueError:
                    record = None
                if type(record) is not dict:
                    record = self._parse(number, line)  # raises, naming the line
                    strict = False
                if line_hash_matches(line, record, strict=strict):
                    intact.append(record)
                else:
                    edited.append((number, record))
        return intact, edited

    # -- verifying ----------------------------------------------------------------------------

    def verify(
        self,
        check_signatures: Callable[[list[dict[str, Any]]], list[SignatureCheck]] | None = None,
        notes: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        workers: int | None = None,
        checkpoint: bool = False,
    ) -> VerifyReport:
        """Chain, end of file and (given a checker) signatures; see VerifyReport.

        `notes` (record id -> record from the notes ref) adds a cross-check: a record whose
        team copy says something else was changed on one side. Every line is read, linked and
        rehashed; a large log is split into byte ranges checked on `workers` cores at once
        (default: every usable core; `store.log_verify`), with the same report as one pass.
        With `checkpoint`, bytes a checkpoint sealed with this user's key covers are hashed
        instead, when they are still the bytes it covers (`store.log_checkpoint`), and a clean
        pass writes one; the report is the same.
        """
        report = VerifyReport(path=str(self.path))
        head = self.read_head()
        if not self.path.exists():
            if head is not None and head.records:
                report.tail = ChainProblem(
                    1,
                    None,
                    f"missing, and any after it: the log file is gone but had {head.records} "
                    "record(s) at its last acknowledged append",
                )
            else:
                report.warnings.append(f"no log at {self.path} yet: nothing to verify")
            return report
        # start-up: the ranges checker only for `log verify` (every command opens the log)
        from reviewq.store import log_verify

        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise LogError(f"cannot read the log {self.path} ({exc.strerror})") from None
        complete, partial = self._complete_end(size)
        ranges = log_verify.check_all(
            self.path,
            complete,
            signatures=check_signatures is not None,
            notes=notes,
            head_size=head.size if head is not None else None,
            workers=workers,
            checkpoint=checkpoint,
        )
        head_hash_seen: str | None = None
        head_found = head is None or head.records == 0
        signed: list[tuple[int, bytes]] = []
        missing_from_notes = 0
        prev: str | None = GENESIS
        base = 0  # lines before the range
        for part in ranges:
            if part.first is not None and report.chain is None:
                is_record, first_prev, rid, hash_ok = part.first
                if not is_record:
                    report.chain = ChainProblem(base + 1, None, log_verify.NOT_JSON)
                elif first_prev != prev:
                    report.chain = ChainProblem(base + 1, rid, BROKEN_LINK)
                elif not hash_ok:
                    report.chain = ChainProblem(base + 1, rid, EDITED)
            if part.problem is not None and report.chain is None:
                at, rid, problem = part.problem
                report.chain = ChainProblem(base + at + 1, rid, problem)
            if part.at_head is not None and head is not None:
                at, own = part.at_head
                if base + at + 1 == head.records:
                    head_hash_seen, head_found = own, True
            for kind, at, rid in part.events:
                if kind == "unsigned":
                    report.add_signature(
                        base + at + 1, rid, SignatureCheck(SIG_UNSIGNED, "unsigned")
                    )
                else:
                    report.findings.append(
                        RecordFinding(
                            base + at + 1,
                            rid,
                            "notes-mismatch",
                            "differs from its copy in the notes ref (changed on one side)",
                        )
                    )
            if part.unsigned > 1:
                report.signatures[SIG_UNSIGNED] += part.unsigned - 1
            signed.extend((base + at + 1, raw) for at, raw in part.signed)
            report.notes_in_log |= part.notes_in_log
            missing_from_notes += part.missing_from_notes
            if part.lines:
                prev = part.last_hash
            base += part.lines
        index = base
        if not head_found and head is not None and head.records <= index:
            # The head's record does not end at the head's byte offset (the log was
            # rewritten): find its hash by its number, as the single pass does.
            head_hash_seen = self._hash_of_record(head.records)
        report.records = index
        self._verify_end(report, index, complete, partial, head, head_hash_seen)
        if check_signatures is None:
            report.signatures_checked = False
        elif signed:
            records = [(i, self._parse(i, raw)) for i, raw in signed]
            checks = check_signatures([r for _, r in records])
            signed = records  # type: ignore[assignment]
            for (i, record), check in zip(signed, checks):
                report.add_signature(i, record.get("id"), check)
        if missing_from_notes:
            report.warnings.append(
                f"{missing_from_notes} record(s) are not in the notes ref yet; `reviewq sync` "
                "or `reviewq log rebuild --to-notes` adds them"
            )
        return report

    def _complete_end(self, size: int) -> tuple[int, bytes]:
        """(bytes up to and including the last newline, the unterminated tail after it)."""
        if size == 0:
            return 0, b""
        try:
            with open(self.path, "rb", buffering=0) as fh:
                fd = fh.fileno()
                if os.pread(fd, 1, size - 1) == b"\n":
                    return size, b""
                start = _line_start(fd, size)
                return start, os.pread(fd, size - start, start)
        except OSError as exc:
            raise LogError(f"cannot read the log {self.path} ({exc.strerror})") from None

    def _hash_of_record(self, number: int) -> str | None:
        """The own hash of record `number` (1-based), counted line by line."""
        for index, raw in enumerate(self.raw_lines(), start=1):
            if index == number:
                try:
                    record = parse_line(raw)
                except ValueError:
                    return None
                value = record.get("hash") if isinstance(record, dict) else None
                return value if isinstance(value, str) else None
        return None

    def _verify_end(
        self,
        report: VerifyReport,
        count: int,
        complete: int,
        partial: bytes,
        head: Head | None,
        head_hash_seen: str | None,
    ) -> None:
        if partial:
            if head is None:
                report.warnings.append(
                    f"the last {len(partial)} byte(s) are an incomplete record and there is no "
                    "head file to tell an interrupted write from a truncation"
                )
            elif head.size <= complete:
                report.warnings.append(
                    f"the last {len(partial)} byte(s) are an interrupted write that was never "
                    "acknowledged; the next append removes them"
                )
            else:
                report.tail = ChainProblem(
                    count + 1,
                    None,
                    "incomplete: the file was truncated in the middle of this record",
                )
                return
        if head is None:
            if count:
                report.warnings.append(
                    f"no head file ({self.head_path.name}): records removed from the end "
                    "cannot be detected until the next append writes one"
                )
            return
        if head.records > count:
            report.tail = ChainProblem(
                count + 1,
                None,
                f"missing, and any after it: the log ends after {count} record(s) but had "
                f"{head.records} at its last acknowledged append (truncated)",
            )
            return
        if (head.records and head_hash_seen != head.hash) or head.size > complete:
            report.tail = ChainProblem(
                head.records,
                None,
                "not the record the last acknowledged append ended with (rewritten)",
            )


class _LineReader:
    """Complete lines of a log file, read in 4 MiB chunks (so a million-record log is never
    held twice in memory); `partial` and `complete_bytes` are set once it is exhausted."""

    CHUNK = 4 << 20

    def __init__(self, log: ProvenanceLog) -> None:
        self.log = log
        self.partial = b""
        self.complete_bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        fh = self.log._open_for_reading()
        if fh is None:
            return
        with fh:
            carry = b""
            total = 0
            while True:
                try:
                    chunk = fh.read(self.CHUNK)
                except OSError as exc:
                    raise LogError(
                        f"cannot read the log {self.log.path} ({exc.strerror})"
                    ) from None
                if not chunk:
                    break
                total += len(chunk)
                lines = (carry + chunk).split(b"\n") if carry else chunk.split(b"\n")
                carry = lines.pop()
                yield from lines
            self.partial = carry
            self.complete_bytes = total - len(carry)


def _line_start(fd: int, end: int) -> int:
    """Offset where the line ending at `end` starts (searching backwards in chunks)."""
    pos = end
    skip_final_newline = True
    while pos > 0:
        step = min(_TAIL_CHUNK, pos)
        chunk = os.pread(fd, step, pos - step)
        limit = len(chunk)
        if skip_final_newline and chunk.endswith(b"\n"):
            limit -= 1
        skip_final_newline = False
        cut = chunk.rfind(b"\n", 0, limit)
        if cut >= 0:
            return pos - step + cut + 1
        pos -= step
    return 0


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All records of the log at `path` ([] when there is none yet)."""
    return ProvenanceLog(path).records()
