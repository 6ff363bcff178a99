"""`log verify`'s pass over the lines: every line checked, on every core, or a checkpoint.

The full pass parses every line, checks its link to the one before and rehashes it. Its speed
comes from doing only that per line (the four fields it needs read, one hash: a large range's
lines go through a decoder of those fields alone, `_heads`, and only a line it cannot read for
sure is parsed whole) and from splitting a large log at line boundaries into one byte range per
core: each range is checked by its own
process (forked, so nothing is pickled on the way in), and the parent joins the ranges in order.
A range cannot check its first line's link (it does not know the hash before it); the parent
does, with the previous range's last hash. What a range reports is what the single pass would
have found in those lines, so the joined report is the one the single pass gives
(tests/properties/test_log_fast_paths_properties.py compares them).

With `checkpoint=True` (`log verify` without `--full`) a full pass also records what it found in
a checkpoint beside the log, bound by SHA-256 digests to the bytes it read
(`store.log_checkpoint`, which states what a checkpoint proves and whom it stops). A later run
hashes those bytes, one segment per core, instead of checking each line; when they are the same
bytes it takes the recorded result for them, redoes the signatures and the notes ref cross-check
from the recorded offsets, and checks the lines after them in full. When they are not, or the
checkpoint is missing or not sealed with this user's key, the run is a full pass: an edit
anywhere is reported as the full pass reports it, with the same message.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import threading
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from hashlib import sha256
from operator import attrgetter
from pathlib import Path
from typing import Any

from reviewq.core.alloc import gc_paused
from reviewq.core.jsonio import parse_line, parse_line_strictly, strict_utf8
from reviewq.core.verdict import (
    BROKEN_LINK,
    CHAIN_FIELDS,
    EDITED,
    GENESIS,
    content_digest_or_none,
    has_canonical_form,
    line_hash_matches,
)
from reviewq.store import log_checkpoint

try:  # orjson is a dependency; without it the notes cross-check compares digests only
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None  # type: ignore[assignment]

#: A range at least this large reads each line's chain fields alone (`_head_decoder`).
HEADS_BYTES = 1 << 20
#: A log smaller than this is checked in one pass (a process costs more than it saves).
PARALLEL_BYTES = 32 << 20
#: At most this many ranges (processes, the parent's own included).
MAX_WORKERS = 4
_CHUNK = 4 << 20
NOT_JSON = "not a JSON record (edited or corrupted)"
#: A checkpoint's digests each cover about this many bytes (so several cores can check them).
SEGMENT = 64 << 20
#: A checkpoint is moved forward once the lines after it are at least this many bytes.
REFRESH_BYTES = 8 << 20


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
    #: For a checkpoint (`_Job.index`): what the range holds, whatever the job checks.
    index: _Index | None = None


@dataclass
class _Index:
    """What a checkpoint records of a range: line positions by id, signatures, digests."""

    #: `log_checkpoint.ENTRY`s of the lines whose id is 32 hex digits (line index in the range),
    #: sorted by id (`log_checkpoint.index_entries`).
    entries: bytes | bytearray = b""
    odd: list[tuple[str, int, int, int]] = field(default_factory=list)
    unsigned: int = 0
    first_unsigned: tuple[int, str | None] | None = None
    signed: list[tuple[int, int, int]] = field(default_factory=list)
    #: (start, end, sha256 hex) of the bytes read, in order.
    segments: list[tuple[int, int, str]] = field(default_factory=list)
    #: False when a line was not a record: the lines and the table no longer line up (such a
    #: range is never clean, so no checkpoint is written from it anyway).
    whole: bool = True


@dataclass(frozen=True)
class _Job:
    path: Path
    signatures: bool
    notes: Mapping[str, Mapping[str, Any]] | None
    head_size: int | None
    index: bool = False


#: The job a forked worker reads (inherited from the parent, never pickled).
_JOB: _Job | None = None


def _batches(
    path: Path, start: int, end: int, segments: list[tuple[int, int, str]] | None = None
) -> Iterator[list[bytes]]:
    """The complete lines in [start, end), without their newlines, a few MiB at a time; `end`
    is a line boundary or the file's size (an unterminated tail is left out). Given
    `segments`, the SHA-256 of the bytes read is appended to it, a segment per `SEGMENT`:
    the very bytes split into the lines yielded, hashed as they are read (a second read could
    see other bytes). The last segment is appended only when every byte read up to `end` was in
    a complete line: bytes read as an unterminated tail were parsed by no one (the file changed
    after `end` was taken as a line boundary), so no digest may vouch for them."""
    digest = sha256() if segments is not None else None
    seg_start = start
    with open(path, "rb", buffering=0) as fh:
        fh.seek(start)
        pos, carry = start, b""
        while pos < end:
            chunk = fh.read(min(_CHUNK, end - pos))
            if not chunk:
                break  # the file is shorter now: the last segment is never appended
            pos += len(chunk)
            parts = (carry + chunk).split(b"\n") if carry else chunk.split(b"\n")
            carry = parts.pop()
            if digest is not None and segments is not None:
                digest.update(chunk)
                if pos >= end:
                    if not carry:
                        segments.append((seg_start, pos, digest.hexdigest()))
                elif pos - seg_start >= SEGMENT:
                    segments.append((seg_start, pos, digest.hexdigest()))
                    digest, seg_start = sha256(), pos
            yield parts


def _same_content(copy: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """True only when `content_digest` of both is surely the same without computing it: every
    field but the chain's is the same value of the same type (1 and 1.0, or 0.0 and -0.0, are
    equal in Python but not in JSON: they answer False, as anything unusual does, and the
    caller then compares the digests)."""
    if copy.keys() != record.keys():
        return False
    return all(k in CHAIN_FIELDS or _same(v, record[k]) for k, v in copy.items())


def _same(a: Any, b: Any) -> bool:
    t = type(a)
    if t is not type(b):
        return False
    if t is str or t is bool or a is None or t is int:
        return a == b
    if t is dict:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if t is list:
        return len(a) == len(b) and all(map(_same, a, b))
    if t is float:  # equal floats print the same, but for 0.0 and -0.0 (nan is never equal)
        return a == b and (a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))
    return False  # anything else: let the digests decide


def _serialises_to(copy: Mapping[str, Any], raw: bytes) -> bool:
    """True when `copy`, written with sorted keys, is exactly the line `raw`: then `raw` parses
    to `copy` (same values, same types: JSON text tells 1 from 1.0 and 0.0 from -0.0), so the
    two have the same content and signature. False says nothing (the caller compares)."""
    if _orjson is None:
        return False
    try:
        return _orjson.dumps(copy, option=_orjson.OPT_SORT_KEYS) == raw
    except TypeError:  # a huge integer or the like: let the caller compare
        return False


def _notes_differ(copy: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    if copy.get("signature") != record.get("signature"):
        return True
    if _same_content(copy, record):
        return False
    ours = content_digest_or_none(record)
    return ours is None or ours != content_digest_or_none(copy)


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


def _intact(raw: bytes, value: Any, record: Mapping[str, Any] | None, strict: bool) -> bool:
    """`line_hash_matches(raw, record, strict=strict)`: `_hash_ok`, and the record has a
    canonical form. One a strict parser read has (`strict`: orjson, or the head decoder, which
    refuses NaN, infinities and lone surrogates, and to which `strict_utf8` lets no encoded
    surrogate through)."""
    return _hash_ok(raw, value) and (strict or has_canonical_form(raw, record or {}))


@functools.cache
def _head_decoder() -> Any:
    """A decoder of the four fields the pass reads of each line (`_HEAD`: None when missing,
    as `dict.get` gives it) into a struct. It makes no Python object of any other field: a
    quarter of what parsing the whole record costs (`check_range` reads a large range's lines
    with it, `_heads`)."""
    # start-up: msgspec only for a range large enough to pay for its import (~7 ms)
    import msgspec

    head = msgspec.defstruct("LineHead", [(name, Any, None) for name in _HEAD], gc=False)
    return msgspec.json.Decoder(head).decode


_HEAD = ("id", "hash", "prev", "signature")
_HEAD_OF = attrgetter(*_HEAD)


def _heads(decode: Any, batch: list[bytes]) -> list[tuple[Any, Any, Any, Any] | None]:
    """Each line's (id, hash, prev, signature) as `parse_line` reads them, or None for a line
    the pass must parse whole: not a JSON object the decoder reads, or not `strict_utf8` (a
    property test compares both ways, tests/properties/test_log_fast_paths_properties.py)."""
    if strict_utf8(batch):
        try:
            return list(map(_HEAD_OF, map(decode, batch)))
        except (ValueError, RecursionError):  # msgspec's errors are ValueErrors
            pass
    out: list[tuple[Any, Any, Any, Any] | None] = []
    for raw in batch:
        try:
            out.append(_HEAD_OF(decode(raw)) if strict_utf8([raw]) else None)
        except (ValueError, RecursionError):
            out.append(None)
    return out


def check_range(job: _Job, start: int, end: int) -> Range:
    """Every complete line in [start, end) of the log, checked as `ProvenanceLog.verify` does."""
    out = Range()
    notes, signatures = job.notes, job.signatures
    prev: Any = None
    index = -1
    events = out.events
    ix = out.index = _Index() if job.index else None
    # For the checkpoint: each line's id, in line order, packed a batch at a time, and the
    # lines' lengths (the table is built after the loop, in bulk: per line, one list append is
    # all a checkpoint costs the full pass).
    ids: list[str | None] = []
    packed: list[bytes | list[str | None]] = []
    lengths = array("Q")
    offset = start
    decode = _head_decoder() if end - start >= HEADS_BYTES else None
    with gc_paused():
        for batch in _batches(job.path, start, end, ix.segments if ix is not None else None):
            if ix is not None:
                lengths.extend(map(len, batch))
            heads = _heads(decode, batch) if decode is not None else itertools.repeat(None)
            for raw, head in zip(batch, heads):
                index += 1
                line_at, offset = offset, offset + len(raw) + 1
                if head is not None:
                    record = None  # parsed whole only if the notes ref's copy needs it
                    strict = True  # the decoder refuses what has no canonical form
                    rid, own_hash, link, signature = head
                else:
                    try:  # orjson, and json for what it refuses (`strict` says which read it)
                        record, strict = parse_line_strictly(raw)
                    except ValueError:
                        record = None
                    if not isinstance(record, dict):
                        if index == 0:
                            out.first = (False, None, None, False)
                        elif out.problem is None:
                            out.problem = (index, None, NOT_JSON)
                        if ix is not None:
                            ix.whole = False
                        prev = None
                        continue
                    rid, own_hash = record.get("id"), record.get("hash")
                    link, signature = record.get("prev"), record.get("signature")
                if not isinstance(rid, str):
                    rid = None
                if index == 0:
                    out.first = (True, link, rid, _intact(raw, own_hash, record, strict))
                elif out.problem is None:
                    if link != prev:
                        out.problem = (index, rid, BROKEN_LINK)
                    elif not _intact(raw, own_hash, record, strict):
                        out.problem = (index, rid, EDITED)
                prev = own_hash if isinstance(own_hash, str) else None
                if ix is not None:
                    ids.append(rid)
                    if not signatures:  # else the signatures' own counts below serve
                        if signature in (None, ""):
                            ix.unsigned += 1
                            if ix.unsigned == 1:
                                ix.first_unsigned = (index, rid)
                        else:
                            ix.signed.append((index, line_at, len(raw)))
                if signatures:
                    if signature in (None, ""):
                        out.unsigned += 1
                        if out.unsigned == 1:
                            events.append(("unsigned", index, rid))
                    else:
                        out.signed.append((index, raw))
                        if ix is not None:
                            ix.signed.append((index, line_at, len(raw)))
                if notes is not None:
                    copy = notes.get(str(rid))
                    if copy is None:
                        out.missing_from_notes += 1
                        continue
                    out.notes_in_log.add(str(rid))
                    if not _serialises_to(copy, raw):
                        if record is None:
                            record = parse_line(raw)  # read by the decoder: JSON for sure
                        if _notes_differ(copy, record):
                            events.append(("notes-mismatch", index, rid))
            if ix is not None:
                packed.append(log_checkpoint.pack_ids(ids))
                ids = []
    out.lines = index + 1
    out.last_hash = prev
    if ix is not None and ix.whole:
        if signatures:
            ix.unsigned = out.unsigned
            ix.first_unsigned = next(((i, r) for k, i, r in events if k == "unsigned"), None)
        try:
            ix.entries, ix.odd = log_checkpoint.index_entries(packed, lengths, start)
        except ValueError:  # not one id per line: no table, so no checkpoint
            ix.whole = False
    if job.head_size is not None and start < job.head_size <= end:
        if job.head_size == offset and index >= 0:
            # The head at the last line read (every append puts it there): that line's own
            # hash is `prev` already, as `_known_range` takes it from a checkpoint; reading
            # the range again to count its lines cost the last range ~0.2 s at 1M records.
            out.at_head = (index, prev)
        else:
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


def split(path: Path, size: int, parts: int, start: int = 0) -> list[tuple[int, int]]:
    """`parts` byte ranges of [start, size) of about equal size, each starting at the
    beginning of a line (`start` is one)."""
    cuts = [start]
    with open(path, "rb", buffering=0) as fh:
        for k in range(1, parts):
            at = max(start + (size - start) * k // parts, cuts[-1])
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
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a] or [(start, size)]


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
    checkpoint: bool = False,
) -> list[Range]:
    """Every range of the log, checked, in file order. With `checkpoint`, a valid checkpoint
    stands for the bytes it covers (its range comes first) and a clean pass writes or moves one
    forward (`store.log_checkpoint`); any doubt about it means the full pass."""
    key = log_checkpoint.load_key(create=True) if checkpoint and size else None
    known: log_checkpoint.Checkpoint | None = None
    if key is not None:
        known = log_checkpoint.read(path, key, size)
        if known is not None and not log_checkpoint.bytes_match(path, known.segments, _cores()):
            known = None
    start = known.size if known is not None else 0
    index = (
        key is not None
        and (known is None or size - start >= REFRESH_BYTES)
        and os.access(path.parent, os.W_OK)
    )
    ranges: list[Range] = []
    if known is not None:
        ranges.append(_known_range(path, known, signatures, notes, head_size))
    if start < size or known is None:
        job = _Job(path, signatures, notes, head_size, index)
        ranges.extend(_check_ranges(job, start, size, workers))
    if index and key is not None and _clean(ranges):
        written = _merged(known, ranges[1:] if known is not None else ranges, size)
        if written is not None:
            log_checkpoint.write(path, written, key)
    return ranges


def _check_ranges(job: _Job, start: int, end: int, workers: int | None) -> list[Range]:
    """[start, end) of the log checked line by line, split in ranges on several processes."""
    global _JOB
    count = workers if workers is not None else workers_for(end - start)
    bounds = split(job.path, end, count, start) if count > 1 else [(start, end)]
    if len(bounds) == 1:
        return [check_range(job, *bounds[0])]
    # start-up: worker processes only for a log split in ranges
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if job.index:  # each range builds its table with numpy: loaded once, before the fork
        import numpy  # noqa: F401

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


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _clean(ranges: list[Range]) -> bool:
    """True when the joined ranges hold an unbroken chain from the genesis link."""
    prev: Any = GENESIS
    for part in ranges:
        if not part.lines:
            continue
        if part.first is None or part.problem is not None:
            return False
        is_record, first_prev, _rid, hash_ok = part.first
        if not is_record or first_prev != prev or not hash_ok or part.last_hash is None:
            return False
        prev = part.last_hash
    return True


def _known_range(
    path: Path,
    known: log_checkpoint.Checkpoint,
    signatures: bool,
    notes: Mapping[str, Mapping[str, Any]] | None,
    head_size: int | None,
) -> Range:
    """The range a full pass over the checkpoint's bytes would report (they are the same bytes:
    their digests matched), with this run's signatures flag and notes ref."""
    out = Range(lines=known.lines, last_hash=known.last_hash)
    out.first = (True, GENESIS, known.first_id, True)
    events: list[tuple[int, int, str, str | None]] = []
    with open(path, "rb", buffering=0) as fh:
        fd = fh.fileno()
        if signatures:
            out.unsigned = known.unsigned
            if known.first_unsigned is not None:
                at, rid = known.first_unsigned
                events.append((at, 0, "unsigned", rid))
            out.signed = [(at, os.pread(fd, n, offset)) for at, offset, n in known.signed]
        if notes is not None:
            matched = 0
            for key, copy in notes.items():
                for at, offset, n in known.lookup(str(key)):
                    matched += 1
                    out.notes_in_log.add(str(key))
                    raw = os.pread(fd, n, offset)
                    if _serialises_to(copy, raw):
                        continue  # the same record, byte for byte
                    try:
                        record = parse_line(raw)
                    except ValueError:
                        record = None
                    if not isinstance(record, dict):  # the bytes changed since they were hashed
                        record = {}
                    rid = record.get("id")
                    if _notes_differ(copy, record):
                        events.append(
                            (at, 1, "notes-mismatch", rid if isinstance(rid, str) else None)
                        )
            out.missing_from_notes = known.lines - matched
    events.sort(key=lambda e: (e[0], e[1]))
    out.events = [(kind, at, rid) for at, _, kind, rid in events]
    if head_size is not None and 0 < head_size <= known.size:
        if head_size == known.size:
            out.at_head = (known.lines - 1, known.last_hash)
        else:
            out.at_head = _line_ending_at(path, 0, head_size)
    return out


def _merged(
    known: log_checkpoint.Checkpoint | None, parts: list[Range], size: int
) -> log_checkpoint.Checkpoint | None:
    """The checkpoint for the first `size` bytes: `known` (when there is one) and the indexed
    ranges after it; None when the ranges' digests do not cover every byte read."""
    base = known.lines if known is not None else 0
    tables: list[tuple[bytes | bytearray, int]] = [(known.entries, 0)] if known is not None else []
    odd = list(known.odd) if known is not None else []
    signed = list(known.signed) if known is not None else []
    segments = list(known.segments) if known is not None else []
    unsigned = known.unsigned if known is not None else 0
    first_unsigned = known.first_unsigned if known is not None else None
    first_id = known.first_id if known is not None else None
    last_hash = known.last_hash if known is not None else None
    for n, part in enumerate(parts):
        ix = part.index
        if ix is None or not ix.whole:
            return None
        if n == 0 and known is None and part.first is not None:
            first_id = part.first[2]
        tables.append((ix.entries, base))
        ix.entries = b""  # the merged table is the one kept (a million entries are 40 MB)
        odd.extend((k, base + i, o, ln) for k, i, o, ln in ix.odd)
        signed.extend((base + i, o, ln) for i, o, ln in ix.signed)
        segments.extend(ix.segments)
        if first_unsigned is None and ix.first_unsigned is not None:
            first_unsigned = (base + ix.first_unsigned[0], ix.first_unsigned[1])
        unsigned += ix.unsigned
        if part.lines:
            last_hash = part.last_hash
        base += part.lines
    ends = [0] + [b for _, b, _ in segments]
    if ends[-1] != size or ends[:-1] != [a for a, _, _ in segments] or last_hash is None:
        return None
    return log_checkpoint.Checkpoint(
        size=size,
        lines=base,
        first_id=first_id,
        last_hash=last_hash,
        unsigned=unsigned,
        first_unsigned=first_unsigned,
        signed=signed,
        odd=odd,
        segments=segments,
        entries=log_checkpoint.sort_entries(tables),
    )
