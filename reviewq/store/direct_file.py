"""A new file written past the page cache (O_DIRECT where the file system takes it), for the
one large file a first build writes: the log's column cache (~180 MB at a million records).

Why: a buffered write copies every byte into page-cache pages taken fresh from the kernel. On
the measuring machine (a VM whose free memory goes back to its host in 2 MiB blocks) the first
write of 180 MB that way took 0.06-1.36 s, depending on what memory the kernel had at hand;
written directly, 0.06-0.08 s every time. The cache is written in a thread while `stats`
works out its figures, and the command waits for it before it ends.

`DirectFile` takes the writes `flat_arrays.write_arrays` makes: one seek forward past the
header's room, then writes in order, then the header at the start. The first block (more, for
a header longer than that) is held until `finish` (the header goes there); the rest goes out a
block at a time from an aligned buffer, the last block padded and the file cut back to its size. Where O_DIRECT is
refused (tmpfs, other systems), the same writes go through the page cache as before.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
from typing import Any

#: Bytes a direct write goes out in: a multiple of any block size a device asks for.
BLOCK = 4 << 20
#: What a direct write's offset and length are rounded to (the largest logical block size).
_SECTOR = 4096


def _rounded_up(n: int, to: int) -> int:
    return -(-n // to) * to


class DirectFile:
    """A writer of a new, empty file open at `fd` (see the module docstring). Each write's
    bytes are copied into aligned buffers (`mmap`s: page-aligned, as a direct write needs);
    `finish` writes what is held and sets the size. `direct`: whether the writes so far went
    past the page cache."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.direct = _set_direct(fd, True)
        self._head = mmap.mmap(-1, BLOCK)
        self._block = mmap.mmap(-1, BLOCK)
        self._block_at = len(self._head)  # the file offset of `_block`'s first byte
        self._block_fill = 0
        self._pos = 0
        self._size = 0

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        target = self._size + offset if whence == os.SEEK_END else offset
        if not self._size and target >= len(self._head):
            # The first seek passes the header's room: the head holds all of it (and more).
            self._head.close()
            self._head = mmap.mmap(-1, _rounded_up(target + 1, BLOCK))
            self._block_at = len(self._head)
        if target > self._size:
            self._zeros_to(target)
        elif target < self._size and target + 1 > len(self._head):
            raise ValueError("a direct file is rewritten only within its held head")
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        n = len(view)
        if self._pos < self._size:  # a rewrite: within the head only (`seek` checked it)
            if self._pos + n > min(self._size, len(self._head)):
                raise ValueError("a rewrite runs past the held head of a direct file")
            self._head[self._pos : self._pos + n] = view
            self._pos += n
            return n
        done = 0
        while done < n:
            if self._pos < len(self._head):
                step = min(n - done, len(self._head) - self._pos)
                self._head[self._pos : self._pos + step] = view[done : done + step]
            else:
                step = min(n - done, BLOCK - self._block_fill)
                at = self._block_fill
                self._block[at : at + step] = view[done : done + step]
                self._block_fill += step
                if self._block_fill == BLOCK:
                    self._flush_block(BLOCK)
            done += step
            self._pos += step
            self._size = max(self._size, self._pos)
        return n

    def finish(self) -> None:
        """Write the held head and the last block, then cut the file to its size."""
        head = min(len(self._head), self._size)
        if head:
            self._write_at(self._head, _rounded_up(head, _SECTOR), 0)
        if self._block_fill:
            # The rest of the block is whatever it held before: cut off below.
            self._flush_block(_rounded_up(self._block_fill, _SECTOR))
        os.ftruncate(self._fd, self._size)
        self._head.close()
        self._block.close()

    def _zeros_to(self, target: int) -> None:
        zeros = bytes(min(BLOCK, target - self._size))
        self._pos = self._size
        while self._size < target:
            self.write(zeros[: target - self._size])

    def _flush_block(self, length: int) -> None:
        self._write_at(self._block, length, self._block_at)
        self._block_at += BLOCK
        self._block_fill = 0

    def _write_at(self, buffer: mmap.mmap, length: int, offset: int) -> None:
        view = memoryview(buffer)[:length]
        try:
            written = os.pwrite(self._fd, view, offset)
        except OSError as exc:
            # A file system that took the flag but not these writes: through the page cache.
            if not self.direct or exc.errno != errno.EINVAL:
                raise
            self.direct = _set_direct(self._fd, False)
            written = os.pwrite(self._fd, view, offset)
        finally:
            view.release()
        if written != length:
            raise OSError(errno.EIO, f"short write: {written} of {length} bytes")


def _set_direct(fd: int, on: bool) -> bool:
    """O_DIRECT on (or off) for `fd`; whether it is on now."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    import fcntl  # start-up: only for a first build's cache

    with contextlib.suppress(OSError):
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | flag) if on else (flags & ~flag))
        return on
    return False
