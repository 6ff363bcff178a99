"""`log verify`'s checkpoint: what a full check of the log's first bytes found, bound to them.

A checkpoint (`log.jsonl.verified`, beside the log) says: "the first `size` bytes of the log,
whose SHA-256 digests (one per segment) are these, were read line by line by `log verify` and
the chain held: `lines` records from the genesis link to `last_hash`, this many unsigned, these
signed ones at these offsets, these record ids at these lines". A later run hashes those bytes
(at memory speed, one segment per core) instead of parsing, linking and rehashing each line; when
every digest matches, the bytes are the ones that were checked, so the per-line result is the one
a full pass would give again. What depends on more than the bytes is redone every run: the
signatures (the allowed signers may have changed), the notes ref cross-check (the team's copies),
the head (`log.jsonl.head`) and every line after the checkpoint.

Fail closed: a checkpoint that is missing, unreadable, of another version, not sealed with this
user's key, not matching the bytes it covers, or describing a log longer than the file is not
used: the run checks every line, as `--full` does. A checkpoint is written only for a prefix whose
chain held from its first line; a broken log is checked in full every time.

Its digests are taken by the full pass itself, of the very bytes it splits into lines (a second
read could see other bytes), and only for bytes that were in complete, checked lines: a log
rewritten while the pass reads it (after its size or the ranges' cuts were taken) leaves bytes
read as an unterminated tail, which get no digest, so no checkpoint (`log_verify._batches`).

The seal: HMAC-SHA256 over the checkpoint with a key made once per user
(`$XDG_STATE_HOME/reviewq/verify-key`, mode 0600). Someone who can write the log's directory but
cannot read that key (a pusher whose files land beside a `--log` in a work tree, another account,
a copied repository) cannot make a checkpoint this user's runs accept. Someone with this user's
shell can, but the same shell can already rewrite the log and recompute every hash and the head;
only signatures and the team's notes ref stand against that, and both are rechecked every run.
`log verify --full` reads no checkpoint and writes none.

Pure file format and lookups; `store.log_verify` decides when to use or write one.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import mmap
import os
import re
import struct
from array import array
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from reviewq.core import safejson
from reviewq.files import replace_file

VERSION = 1
SUFFIX = ".verified"
KEY_NAME = "verify-key"
#: One index entry: a record id of 32 lower-case hex digits as 16 bytes, its line index (from
#: 0) and the byte offset and length of its line. Sorted by id, so an id is found by bisection.
ENTRY = struct.Struct("<16sQQQ")
_HEX_ID = re.compile(r"[0-9a-f]{32}")
#: How much of the log is mapped at a time while hashing (per thread).
_WINDOW = 32 << 20


def path_for(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + SUFFIX)


def _key_path() -> Path:
    from reviewq.xdg import state_home

    return state_home() / "reviewq" / KEY_NAME


def load_key(create: bool) -> bytes | None:
    """This user's checkpoint key; made (0600) when `create` and missing. None when there is
    none or it cannot be read or made: then no checkpoint is used or written."""
    path = _key_path()
    try:
        with open(path, "rb") as fh:
            key = fh.read(64)
        return key if len(key) >= 32 else None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    except FileExistsError:
        pass  # another run made it first
    except OSError:
        return None
    return load_key(create=False)


def id_key(rid: str) -> bytes | None:
    """The 16-byte index key of an id of 32 lower-case hex digits, else None."""
    if len(rid) == 32 and _HEX_ID.fullmatch(rid):
        return bytes.fromhex(rid)
    return None


@dataclass
class Checkpoint:
    """A checkpoint as read (its seal and digests still to be checked against the log)."""

    size: int
    lines: int
    first_id: str | None
    last_hash: str
    unsigned: int
    #: (line index, id) of the first unsigned record, when there is one.
    first_unsigned: tuple[int, str | None] | None
    #: (line index, offset, length) of each signed record.
    signed: list[tuple[int, int, int]]
    #: (key, line index, offset, length) of each line whose `str(id)` is not 32 hex digits.
    odd: list[tuple[str, int, int, int]]
    #: (start, end, sha256 hex) of consecutive byte ranges from 0 to `size`.
    segments: list[tuple[int, int, str]]
    entries: bytes | bytearray

    def header(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "size": self.size,
            "lines": self.lines,
            "first_id": self.first_id,
            "last_hash": self.last_hash,
            "unsigned": self.unsigned,
            "first_unsigned": list(self.first_unsigned) if self.first_unsigned else None,
            "signed": [list(s) for s in self.signed],
            "odd": [list(o) for o in self.odd],
            "segments": [list(s) for s in self.segments],
            "entries": len(self.entries) // ENTRY.size,
            "entries_sha256": hashlib.sha256(self.entries).hexdigest(),
        }

    def lookup(self, key: str) -> Iterator[tuple[int, int, int]]:
        """(line index, offset, length) of every line whose `str(id)` is `key`."""
        packed = id_key(key)
        if packed is None:
            for k, index, offset, length in self.odd:
                if k == key:
                    yield index, offset, length
            return
        keys = _Keys(self.entries)
        at = bisect.bisect_left(keys, packed)
        while at < len(keys) and keys[at] == packed:
            _, index, offset, length = ENTRY.unpack_from(self.entries, at * ENTRY.size)
            yield index, offset, length
            at += 1


class _Keys(Sequence[bytes]):
    """The ids of a sorted entry table, as a sequence `bisect` can search."""

    def __init__(self, entries: bytes) -> None:
        self.entries = entries
        self.count = len(entries) // ENTRY.size

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):  # type: ignore[override]
        at = i * ENTRY.size
        return self.entries[at : at + 16]


def _mac(key: bytes, header: dict[str, Any]) -> str:
    body = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def write(log_path: Path, checkpoint: Checkpoint, key: bytes) -> bool:
    """Replace the checkpoint beside the log (atomically); False when it cannot be written."""
    header = checkpoint.header()
    header["mac"] = _mac(key, header)
    line = json.dumps(header, separators=(",", ":")).encode() + b"\n"

    def fill(fh: BinaryIO) -> None:
        fh.write(line)
        fh.write(checkpoint.entries)

    # A new file of an unpredictable name, opened exclusively (`replace_file`): a name made
    # from the pid could be planted beforehand as a link to another file, which the write
    # would then have overwritten.
    try:
        replace_file(path_for(log_path), fill, prefix=".checkpoint-", suffix=".tmp")
        return True
    except OSError:
        return False


def read(log_path: Path, key: bytes, complete: int) -> Checkpoint | None:
    """The checkpoint beside the log when it is sealed with `key`, well formed and covers no
    more than the `complete` bytes of the log; else None. Its digests are not checked here."""
    try:
        with open(path_for(log_path), "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    cut = data.find(b"\n")
    if cut < 0:
        return None
    try:
        header = safejson.loads(data[:cut])
        mac = header.pop("mac")
        if not isinstance(mac, str) or not hmac.compare_digest(mac, _mac(key, header)):
            return None
        entries = data[cut + 1 :]
        if header["v"] != VERSION:
            return None
        if hashlib.sha256(entries).hexdigest() != header["entries_sha256"]:
            return None
        if len(entries) != header["entries"] * ENTRY.size:
            return None
        fu = header["first_unsigned"]
        cp = Checkpoint(
            size=int(header["size"]),
            lines=int(header["lines"]),
            first_id=header["first_id"],
            last_hash=str(header["last_hash"]),
            unsigned=int(header["unsigned"]),
            first_unsigned=(int(fu[0]), fu[1]) if fu else None,
            signed=[(int(i), int(o), int(n)) for i, o, n in header["signed"]],
            odd=[(str(k), int(i), int(o), int(n)) for k, i, o, n in header["odd"]],
            segments=[(int(a), int(b), str(d)) for a, b, d in header["segments"]],
            entries=entries,
        )
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not 0 < cp.size <= complete or cp.lines != header["entries"] + len(cp.odd):
        return None
    ends = [0] + [b for _, b, _ in cp.segments]
    starts = [a for a, _, _ in cp.segments] + [cp.size]
    if ends != starts or any(b <= a for a, b, _ in cp.segments):
        return None  # the segments must cover [0, size) in order, each non-empty
    return cp


def bytes_match(log_path: Path, segments: list[tuple[int, int, str]], workers: int) -> bool:
    """True when every segment of the log hashes to its digest (one thread per core: hashing
    releases the GIL; the file is mapped a window at a time, not copied)."""
    try:
        with open(log_path, "rb", buffering=0) as fh:
            return _segments_match(fh.fileno(), segments, workers)
    except (OSError, ValueError):
        return False


def _segments_match(fd: int, segments: list[tuple[int, int, str]], workers: int) -> bool:
    if not segments or segments[-1][1] > os.fstat(fd).st_size:
        return False

    def one(segment: tuple[int, int, str]) -> bool:
        start, end, digest = segment
        h = hashlib.sha256()
        while start < end:
            base = start - start % mmap.ALLOCATIONGRANULARITY
            stop = min(end, base + _WINDOW)
            with mmap.mmap(fd, stop - base, prot=mmap.PROT_READ, offset=base) as mm:
                if hasattr(mm, "madvise"):
                    mm.madvise(mmap.MADV_SEQUENTIAL)
                with memoryview(mm) as view:
                    h.update(view[start - base :])
            start = stop
        return hmac.compare_digest(h.hexdigest(), digest)

    if workers <= 1 or len(segments) == 1:
        return all(one(s) for s in segments)
    with ThreadPoolExecutor(max_workers=min(workers, len(segments))) as pool:
        return all(pool.map(one, segments))


#: `ENTRY` as a numpy record (the tables are built and sorted with numpy, imported only then).
_DTYPE_FIELDS = [("k", "V16"), ("i", "<u8"), ("o", "<u8"), ("n", "<u8")]


def pack_ids(ids: list[str | None]) -> bytes | list[str | None]:
    """Some lines' ids (None for an id that is not a string), in line order: their 16-byte
    keys one after another when every id is 32 lower-case hex digits, else the list itself
    (`index_entries` then takes it one id at a time, as `id_key` says). In bulk: the ids
    joined (a None fails the join), every one 32 characters (their total is 32 each and none
    is longer), ASCII with no upper-case letter, and `bytes.fromhex` of the whole takes 16
    bytes from each (it skips whitespace and refuses any other non-hex character: 16 bytes per
    id means 32 hex digits per id, nothing else)."""
    if not ids:
        return b""
    try:
        joined = "".join(ids)  # type: ignore[arg-type]
    except TypeError:
        return ids
    if len(joined) != 32 * len(ids) or max(map(len, ids)) != 32:  # type: ignore[arg-type]
        return ids
    if not joined.isascii() or any(c in joined for c in "ABCDEF"):
        return ids
    try:
        keys = bytes.fromhex(joined)
    except ValueError:
        return ids
    return keys if len(keys) == 16 * len(ids) else ids


def index_entries(
    packed: list[bytes | list[str | None]], lengths: Sequence[int], start: int
) -> tuple[bytearray, list[tuple[str, int, int, int]]]:
    """The entry table of a range's lines, sorted by id, and the lines whose `str(id)` is not
    32 lower-case hex digits (key, line, offset, length). `packed` holds `pack_ids` of the
    lines' ids, batch after batch; `lengths` each line's length without its newline; the
    first line starts at byte `start`."""
    import numpy as np

    sizes = np.frombuffer(lengths, dtype=np.uint64) if isinstance(lengths, array) else None
    if sizes is None:
        sizes = np.array(lengths, dtype=np.uint64)
    count = len(sizes)
    starts = np.empty(count, dtype=np.uint64)
    if count:
        starts[0] = start
        np.cumsum(sizes[:-1] + np.uint64(1), out=starts[1:])
        starts[1:] += np.uint64(start)
    odd: list[tuple[str, int, int, int]] = []
    if all(type(p) is bytes for p in packed):
        keys = b"".join(packed)  # type: ignore[arg-type]
        rows = np.arange(count, dtype=np.uint64)
    else:  # some id is not 32 hex digits: one at a time, as `id_key` says
        keep, kept, line = [], [], 0
        for part in packed:
            if type(part) is bytes:
                n = len(part) // 16
                keep.append(part)
                kept.extend(range(line, line + n))
                line += n
                continue
            for rid in part:  # type: ignore[union-attr]
                key = str(rid)
                value = id_key(key)
                if value is None:
                    odd.append((key, line, int(starts[line]), int(sizes[line])))
                else:
                    keep.append(value)
                    kept.append(line)
                line += 1
        keys = b"".join(keep)
        rows = np.array(kept, dtype=np.uint64)
    if len(keys) != 16 * len(rows) or len(rows) + len(odd) != count:
        raise ValueError("one id per line")
    table = np.empty(len(rows), dtype=np.dtype(_DTYPE_FIELDS))
    table["k"] = np.frombuffer(keys, dtype="V16")
    del keys
    table["i"] = rows
    if len(rows) == count:  # every line: no gather (a million lines: 16 MB less to touch)
        table["o"] = starts
        table["n"] = sizes
    else:
        picked = rows.astype(np.intp)
        table["o"] = starts[picked]
        table["n"] = sizes[picked]
    del starts, rows
    return _sorted(table), odd


def _sorted(table: Any) -> bytearray:
    """A table's entries sorted by id, lines with the same id in the table's order (stable:
    tables already sorted in runs, as the ranges' are, merge in linear time), gathered straight
    into the bytes returned (a million entries are 40 MB: no copy more than needed)."""
    import numpy as np

    keys = table["k"].view("S16")  # byte strings of one width compare as the bytes do
    order = np.argsort(keys, kind="stable")
    out = bytearray(len(table) * ENTRY.size)
    if len(table):
        np.take(table.view(f"V{ENTRY.size}"), order, out=np.frombuffer(out, f"V{ENTRY.size}"))
    return out


def sort_entries(parts: list[tuple[bytes | bytearray, int]]) -> bytearray:
    """Entry tables (each sorted by id, with the line index its indexes count from) as one
    table sorted by id, lines with the same id in line order (numpy: a million entries;
    imported here only, when a checkpoint is written). `parts` is emptied as it is read.

    Each entry goes straight to its place in the bytes returned: the tables' ids are sorted
    together (stable: sorted runs merge in linear time, and equal ids keep the tables'
    order, which is their lines'), and each table is scattered by the inverse of that order.
    No joined copy of the tables first (a million entries are 40 MB: its fresh pages cost
    more than the sort)."""
    import numpy as np

    dtype = np.dtype(_DTYPE_FIELDS)
    tables = []
    parts.reverse()
    while parts:
        blob, base = parts.pop()
        table = np.frombuffer(blob, dtype=dtype, count=len(blob) // ENTRY.size)
        if base:
            if not table.flags.writeable:
                table = table.copy()
            table["i"] += np.uint64(base)
        tables.append(table)
        del blob
    count = sum(len(t) for t in tables)
    out = bytearray(count * ENTRY.size)
    if not count:
        return out
    keys = np.concatenate([t["k"] for t in tables]).view("S16")  # as `_sorted` compares them
    order = np.argsort(keys, kind="stable")
    del keys
    place = np.empty(count, dtype=np.intp)
    place[order] = np.arange(count, dtype=np.intp)
    del order
    rows = np.frombuffer(out, dtype=f"V{ENTRY.size}")
    at = 0
    for table in tables:
        rows[place[at : at + len(table)]] = table.view(f"V{ENTRY.size}")
        at += len(table)
    return out
