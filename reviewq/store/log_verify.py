"""`log verify`'s pass over the lines: every line checked, on every core.

There is no checkpoint: every run parses every line, checks its link to the one before and
rehashes it, so an edit anywhere in the log is found by every run, and nothing on disk besides
the log and its head is trusted. The speed comes from doing only that per line (one parse, a
few dict reads, one hash) and from splitting a large log at line boundaries into one byte range
per core: each range is checked by its own process (forked, so nothing is pickled on the way
in), and the parent joins the ranges in order. A range cannot check its first line's link (it
does not know the hash before it); the parent does, with the previous range's last hash. What a
range reports is what the single pass would have found in those lines, so the joined report is
the one the single pass gives (tests/test_log_verify_parallel.py compares them).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import fast_loads, parse_line
from reviewq.core.verdict import BROKEN_LINK, EDITED, content_digest, line_hash_matches

#: A log smaller than this is checked in one pass (a process costs more than it saves).
PARALLEL_BYTES = 32 << 20
#: At most this many ranges (processes, the parent's own included).
MAX_WORKERS = 4
_CHUNK = 4 << 20
NOT_JSON = "not a JSON record (edited or corrupted)"


@dataclass
class Range:
    """What one byte range of the log holds, as the single pass would have seen it."""

    lines: int = 0
    #: The first line: (is a record, its `prev`, its id, its own hash check passed).
    first: tuple[bool, Any, str | None, bool] | None = None
    #: The first problem from the second line on: (index in the range, id, problem).
    problem: tuple[int, str | None, str] | None = None
    last_hash: str | None = None
    #: (index in the range, own hash) of the line ending at the head's byte offset.
    at_head: tuple[int, str | None] | None = None
    #: In line order: ("unsigned" | "notes-mismatch", index in the range, id).
    events: list[tuple[str, int, str | None]] = field(default_factory=list)
    unsigned: int = 0
    signed: list[tuple[int, bytes]] = field(default_factory=list)
    notes_in_log: set[str] = field(default_factory=set)
    missing_from_notes: int = 0


@dataclass(frozen=True)
class _Job:
    path: Path
    signatures: bool
    notes: Mapping[str, Mapping[str, Any]] | None
    head_size: int | None


#: The job a forked worker reads (inherited from the parent, never pickled).
_JOB: _Job | None = None


def _batches(path: Path, start: int, end: int) -> Iterator[list[bytes]]:
    """The complete lines in [start, end), without their newlines, a few MiB at a time; `end`
    is a line boundary or the file's size (an unterminated tail is left out)."""
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        pos, carry = start, b""
        while pos < end:
            chunk = fh.read(min(_CHUNK, end - pos))
            if not chunk:
                break
            pos += len(chunk)
            parts = (carry + chunk).split(b"\n") if carry else chunk.split(b"\n")
            carry = parts.pop()
            yield parts


def _hash_ok(raw: bytes, value: Any) -> bool:
    """`line_hash_matches(raw, {"hash": value})`, with one search fewer per line."""
    if type(value) is not str or len(value) != 64:
        return line_hash_matches(raw, {"hash": value})
    member = b'"hash":"' + value.encode("ascii", "replace") + b'"'
    body = raw.replace(b"," + member, b"", 1)
    if len(body) == len(raw):
        body = raw.replace(member + b",", b"", 1)
        if len(body) == len(raw):
            return False
    return sha256(body).hexdigest() == value


def check_range(job: _Job, start: int, end: int) -> Range:
    """Every complete line in [start, end) of the log, checked as `ProvenanceLog.verify` does."""
    out = Range()
    notes, signatures = job.notes, job.signatures
    prev: Any = None
    index = -1
    events = out.events
    with gc_paused():
        for batch in _batches(job.path, start, end):
            for raw in batch:
                index += 1
                try:
                    record = fast_loads(raw)
                except ValueError:
                    record = None
                if type(record) is not dict:
                    try:
                        record = parse_line(raw)  # what orjson refuses, json may accept
                    except ValueError:
                        record = None
                    if not isinstance(record, dict):
                        if index == 0:
                            out.first = (False, None, None, False)
                        elif out.problem is None:
                            out.problem = (index, None, NOT_JSON)
                        prev = None
                        continue
                rid = record.get("id")
                if not isinstance(rid, str):
                    rid = None
                own_hash = record.get("hash")
                if index == 0:
                    out.first = (True, record.get("prev"), rid, _hash_ok(raw, own_hash))
                elif out.problem is None:
                    if record.get("prev") != prev:
                        out.problem = (index, rid, BROKEN_LINK)
                    elif not _hash_ok(raw, own_hash):
                        out.problem = (index, rid, EDITED)
                prev = own_hash if isinstance(own_hash, str) else None
                if signatures:
                    if record.get("signature") in (None, ""):
                        out.unsigned += 1
                        if out.unsigned == 1:
                            events.append(("unsigned", index, rid))
                    else:
                        out.signed.append((index, raw))
                if notes is not None:
                    copy = notes.get(str(rid))
                    if copy is None:
                        out.missing_from_notes += 1
                        continue
                    out.notes_in_log.add(str(rid))
                    if content_digest(copy) != content_digest(record) or copy.get(
                        "signature"
                    ) != record.get("signature"):
                        events.append(("notes-mismatch", index, rid))
    out.lines = index + 1
    out.last_hash = prev
    if job.head_size is not None and start < job.head_size <= end:
        out.at_head = _line_ending_at(job.path, start, job.head_size)
    return out


def _line_ending_at(path: Path, start: int, at: int) -> tuple[int, str | None] | None:
    """(index in the range from `start`, own hash) of the line that ends at byte `at`, or None
    when no line ends there."""
    with open(path, "rb", buffering=0) as fh:
        fh.seek(at - 1)
        if fh.read(1) != b"\n":
            return None
        fh.seek(start)
        newlines, pos = 0, start
        while pos < at:
            block = fh.read(min(_CHUNK, at - pos))
            if not block:
                return None
            newlines += block.count(b"\n")
            pos += len(block)
        line_start = _start_of_line(fh, at)
        fh.seek(line_start)
        raw = fh.read(at - line_start - 1)
    try:
        record = parse_line(raw)
    except ValueError:
        return newlines - 1, None
    value = record.get("hash") if isinstance(record, dict) else None
    return newlines - 1, value if isinstance(value, str) else None


def _start_of_line(fh: Any, end: int) -> int:
    """Offset where the line ending (with its newline) at `end` starts."""
    pos = end - 1
    while pos > 0:
        step = min(1 << 16, pos)
        fh.seek(pos - step)
        cut = fh.read(step).rfind(b"\n")
        if cut >= 0:
            return pos - step + cut + 1
        pos -= step
    return 0


def _run_range(bounds: tuple[int, int]) -> Range:
    assert _JOB is not None
    return check_range(_JOB, *bounds)


def split(path: Path, size: int, parts: int) -> list[tuple[int, int]]:
    """`parts` byte ranges of about equal size, each starting at the beginning of a line."""
    cuts = [0]
    with open(path, "rb", buffering=0) as fh:
        for k in range(1, parts):
            at = max(size * k // parts, cuts[-1])
            fh.seek(at)
            # The range starts after the next newline at or past `at`.
            while True:
                block = fh.read(1 << 16)
                if not block:
                    at = size
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    at += nl + 1
                    break
                at += len(block)
            cuts.append(min(at, size))
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a] or [(0, size)]


def workers_for(size: int) -> int:
    """How many ranges to check at once: one per usable core, for a large log, in a process
    that may fork (no other threads: a forked copy of a threaded process can deadlock)."""
    if size < PARALLEL_BYTES or threading.active_count() > 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def check_all(
    path: Path,
    size: int,
    *,
    signatures: bool,
    notes: Mapping[str, Mapping[str, Any]] | None,
    head_size: int | None,
    workers: int | None = None,
) -> list[Range]:
    """Every range of the log, checked, in file order."""
    global _JOB
    job = _Job(path, signatures, notes, head_size)
    count = workers if workers is not None else workers_for(size)
    bounds = split(path, size, count) if count > 1 else [(0, size)]
    if len(bounds) == 1:
        return [check_range(job, *bounds[0])]
    # start-up: worker processes only for a log split in ranges
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _JOB = job
    try:
        with ProcessPoolExecutor(
            max_workers=len(bounds) - 1, mp_context=multiprocessing.get_context("fork")
        ) as pool:
            rest = [pool.submit(_run_range, b) for b in bounds[1:]]
            first = check_range(job, *bounds[0])
            return [first, *(f.result() for f in rest)]
    finally:
        _JOB = None
