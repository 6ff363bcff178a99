"""Named numpy arrays in one flat file, each read on its own straight into its array.

An npz is a zip: reading an array back copies it out of the archive in pieces and checks its
CRC as it goes (a million-record column cache cost `stats` ~0.2 s that way). Here each array's
bytes lie uncompressed at a 64-byte-aligned offset named by a JSON header, and are read with
one `readinto` into the array that holds them, then checked against their own CRC-32 (kept in
the header, itself covered by a CRC-32): a byte changed anywhere in the file, a file cut short
or the header or an array taken from another file fails the read (ValueError), and the caller
rebuilds the cache. Only the arrays asked for are read.

    magic (8 bytes) | header length (8, little endian) | header CRC-32 (8) | header JSON | arrays

The header is `{"meta": ..., "arrays": [{"name", "dtype", "shape", "offset", "crc"}, ...],
"size": bytes after the header}` (a file cut short or grown is refused whole);
dtypes are plain numbers, booleans or fixed-width bytes (never objects: no pickle, ever).

A CRC is a checksum, not a seal: someone with a shell here who writes a consistent file (fresh
CRCs) is not detected, as with the npz before (docs/provenance.md, "The caches and the gate").
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO

import numpy as np

from reviewq.core import safejson

MAGIC = b"RVQARR1\n"
_PREFIX = len(MAGIC) + 16
_ALIGN = 64
#: Array kinds a file may hold: booleans, integers, floats, fixed-width bytes.
_KINDS = frozenset("biufS")


def _crc(data: Any) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def write_arrays(
    fh: BinaryIO, arrays: Mapping[str, np.ndarray], meta: Any, *, consume: bool = False
) -> None:
    """`arrays` (one-dimensional or not, any layout) and the JSON-able `meta` into `fh` (a new
    file, seekable). Each array's CRC is taken as it is written; the header, whose CRCs are
    known only then, is written last, at the front, in the room kept for it (its length with
    every CRC at its widest, the rest spaces, as any header is padded). `consume`: `arrays` (a
    dict) is emptied, each array let go once written."""
    entries = []
    offset = 0
    for name in list(arrays):
        array = np.ascontiguousarray(arrays[name])
        if array.dtype.kind not in _KINDS or array.dtype.hasobject:
            raise ValueError(f"{name}: arrays of {array.dtype} are not stored")
        entries.append(
            {
                "name": name,
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "offset": offset,
                "crc": _WIDEST_CRC,
            }
        )
        offset += array.nbytes
        offset += -offset % _ALIGN
        del array
    widest = json.dumps({"meta": meta, "arrays": entries, "size": offset}).encode("utf-8")
    room = len(widest) + (-(_PREFIX + len(widest)) % _ALIGN)
    fh.seek(_PREFIX + room)
    at = 0
    for entry in entries:
        name = entry["name"]
        array = np.ascontiguousarray(arrays.pop(name) if consume else arrays[name])  # type: ignore[attr-defined]
        view = memoryview(array).cast("B") if array.nbytes else b""
        entry["crc"] = _crc(view)
        if entry["offset"] > at:
            fh.write(b"\0" * (entry["offset"] - at))
            at = entry["offset"]
        fh.write(view)
        at += len(view)
        del array, view
    if offset > at:
        fh.write(b"\0" * (offset - at))
    header = json.dumps({"meta": meta, "arrays": entries, "size": offset}).encode("utf-8")
    header += b" " * (room - len(header))
    fh.seek(0)
    fh.write(MAGIC + len(header).to_bytes(8, "little") + _crc(header).to_bytes(8, "little"))
    fh.write(header)
    fh.seek(0, os.SEEK_END)


#: The widest CRC-32 (10 digits): the room a header is given before its CRCs are known.
_WIDEST_CRC = 0xFFFFFFFF


class FlatArrays:
    """An open file of `write_arrays`: `meta`, `files` (names), `name in`, `[name]`."""

    def __init__(self, fd: int, spare: int = 0) -> None:
        self._fd = fd
        #: Rows of room left after each one-dimensional array read (`buffer`): a caller that
        #: appends a few rows writes them there instead of copying the whole array again.
        self.spare = spare
        self._buffers: dict[str, np.ndarray] = {}
        size = os.fstat(fd).st_size
        prefix = os.pread(fd, _PREFIX, 0)
        if len(prefix) != _PREFIX or prefix[: len(MAGIC)] != MAGIC:
            raise ValueError("not a file of arrays")
        length = int.from_bytes(prefix[len(MAGIC) : len(MAGIC) + 8], "little")
        crc = int.from_bytes(prefix[len(MAGIC) + 8 :], "little")
        if length > size - _PREFIX:
            raise ValueError("the header runs past the end of the file")
        header = os.pread(fd, length, _PREFIX)
        if len(header) != length or _crc(header) != crc:
            raise ValueError("the header does not match its checksum")
        parsed = safejson.loads(header.decode("utf-8"))
        if not isinstance(parsed, dict) or not isinstance(parsed.get("arrays"), list):
            raise ValueError("not a file of arrays")
        self.meta = parsed.get("meta")
        base = _PREFIX + length
        if parsed.get("size") != size - base:
            raise ValueError("the file is not as long as its header says (cut or grown)")
        self._entries: dict[str, tuple[np.dtype, tuple[int, ...], int, int]] = {}
        for entry in parsed["arrays"]:
            dtype = np.dtype(str(entry["dtype"]))
            if dtype.kind not in _KINDS or dtype.hasobject:
                raise ValueError(f"arrays of {dtype} are not read")
            shape = tuple(int(n) for n in entry["shape"])
            if any(n < 0 for n in shape):
                raise ValueError("a negative shape")
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            offset = base + int(entry["offset"])
            if int(entry["offset"]) < 0 or offset + nbytes > size:
                raise ValueError(f"{entry['name']} runs past the end of the file")
            self._entries[str(entry["name"])] = (dtype, shape, offset, int(entry["crc"]))

    @property
    def files(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> np.ndarray:
        """The array, read and checked now (KeyError: no such array; ValueError: damaged)."""
        dtype, shape, offset, crc = self._entries[name]
        room = self.spare if len(shape) == 1 else 0
        buffer = np.empty((shape[0] + room,) if room else shape, dtype=dtype)
        array = buffer[: shape[0]] if room else buffer
        view = memoryview(array).cast("B") if array.nbytes else memoryview(b"")
        done = 0
        while done < len(view):
            n = os.preadv(self._fd, [view[done:]], offset + done)
            if n <= 0:
                raise ValueError(f"{name} is cut short")
            done += n
        if _crc(view) != crc:
            raise ValueError(f"{name} does not match its checksum")
        if room:
            self._buffers[name] = buffer
        return array

    def read_bytes(self, name: str) -> bytes:
        """A one-dimensional byte array's contents as bytes, read and checked now."""
        dtype, shape, offset, crc = self._entries[name]
        if dtype.itemsize != 1 or len(shape) != 1:
            raise ValueError(f"{name} is not bytes")
        data = os.pread(self._fd, shape[0], offset)
        if len(data) != shape[0]:
            raise ValueError(f"{name} is cut short")
        if _crc(data) != crc:
            raise ValueError(f"{name} does not match its checksum")
        return data

    def span(self, name: str) -> tuple[int, int]:
        """Where the array `name` lies in the file: (byte offset, byte length)."""
        dtype, shape, offset, _ = self._entries[name]
        return offset, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize

    def buffer(self, name: str) -> np.ndarray | None:
        """The array `name` as read with `spare` rows of room after it (None: not read so)."""
        return self._buffers.get(name)


@contextmanager
def open_arrays(path: os.PathLike[str] | str, spare: int = 0) -> Iterator[FlatArrays]:
    """The file of arrays at `path` (OSError: none; ValueError: not one, or damaged)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        yield FlatArrays(fd, spare)
    finally:
        os.close(fd)


def read_all(path: os.PathLike[str] | str) -> tuple[dict[str, np.ndarray], Any]:
    """Every array of the file at `path`, and its meta."""
    with open_arrays(path) as data:
        return {name: data[name] for name in data.files}, data.meta
